import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Command } from 'commander';
import { newId } from '../common/ids.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { createLogger, type Logger } from '../common/logger.js';
import { BerthError, errnoCode, invalidParameter } from '../common/errors.js';
import { ContentStore } from '../storage/content-store.js';
import { LayerStore } from '../storage/layer-store.js';
import { storageDriverFactory, storageDriverNames } from '../storage/driver.js';
import '../storage/drivers/index.js';
import { ensureCgroupsUsable } from '../runtime/cgroups.js';
import { ConmonRuntimeSet } from '../runtime/conmon-runtime-set.js';
import { findInit } from '../runtime/executables.js';
import { ImageStore } from '../engine/images/image-store.js';
import { ImageService } from '../engine/images/image-service.js';
import { EventBus } from '../engine/events/event-bus.js';
import { ContainerStore } from '../engine/containers/store.js';
import { ContainerService } from '../engine/containers/service.js';
import { ContainerUpdates } from '../engine/containers/container-update.js';
import { ExecService } from '../engine/containers/exec-service.js';
import { UsageService } from '../engine/containers/usage-service.js';
import { ContainerArchiveService } from '../engine/containers/archive-service.js';
import { SystemInfo } from '../engine/system/system-info.js';
import { CommitService } from '../engine/images/commit-service.js';
import { DiskUsage } from '../engine/system/disk-usage.js';
import { createApiServer } from '../api/server.js';
import { Builder } from '../engine/build/builder.js';
import { DEFAULT_CONFIG_FILE, mergeConfig, readConfigFile, socketPath, type DaemonConfig } from './config.js';
import { claimPidfile } from './pidfile.js';
import { lockDataRoot } from './data-root-lock.js';
import { listenUnix, socketGroupId } from './unix-socket.js';

async function parseArgs(argv: string[]): Promise<DaemonConfig> {
  const program = new Command('berthd')
    .description('Berth container engine daemon: serves the Docker Engine API on a unix socket')
    .option('-H, --host <address...>', 'socket to listen on (unix:///path)')
    .option('--data-root <dir>', 'root of persistent state')
    .option('--exec-root <dir>', 'root of runtime state')
    .option('-s, --storage-driver <name>', `storage driver (${storageDriverNames().join(', ')})`)
    .option('--default-runtime <name>', 'OCI runtime for containers that do not choose one')
    .option('-p, --pidfile <path>', 'path of the pid file')
    .option('-l, --log-level <level>', 'debug, info, warn or error')
    .option('-G, --group <group>', 'group that may use the API socket (default: berth, when that group exists)')
    .option('--cgroup-parent <path>', 'parent cgroup of all containers (default: /berth)')
    .option('--init-path <path>', 'init binary for containers run with --init (default: docker-init, tini-static or catatonit on PATH)')
    .option('--config-file <path>', 'daemon configuration file', DEFAULT_CONFIG_FILE)
    .version('0.1.0');
  program.parse(argv);
  const opts = program.opts();
  const flags: Partial<DaemonConfig> = {};
  if (opts.host) flags.hosts = opts.host;
  if (opts.dataRoot) flags.dataRoot = opts.dataRoot;
  if (opts.execRoot) flags.execRoot = opts.execRoot;
  if (opts.storageDriver) flags.storageDriver = opts.storageDriver;
  if (opts.defaultRuntime) flags.defaultRuntime = opts.defaultRuntime;
  if (opts.pidfile) flags.pidfile = opts.pidfile;
  if (opts.logLevel) flags.logLevel = opts.logLevel;
  if (opts.group) flags.group = opts.group;
  if (opts.cgroupParent) flags.cgroupParent = opts.cgroupParent;
  if (opts.initPath) flags.initPath = opts.initPath;
  const file = await readConfigFile(opts.configFile, program.getOptionValueSource('configFile') === 'cli');
  return mergeConfig(file, flags);
}

/** The engine id `docker info` shows; made once per data root. */
async function engineId(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'engine-id');
  const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  const id = newId();
  await writeFileAtomic(path, id);
  return id;
}

/**
 * Creates a state root, or takes away from an existing one any permission beyond `mode`: a data
 * root made 0755 by hand must not let other users read container configs (their environment).
 */
async function privateDir(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  const current = (await stat(path)).mode & 0o7777;
  if ((current & ~mode) !== 0) await chmod(path, current & mode);
}


async function run(config: DaemonConfig, logger: Logger): Promise<void> {
  await privateDir(config.dataRoot, 0o710);
  await privateDir(config.execRoot, 0o700);
  const unlockDataRoot = await lockDataRoot(config.dataRoot);
  const releasePidfile = await claimPidfile(config.pidfile);
  const socketGid = await socketGroupId(config.group);
  const warnings: string[] = [];
  for (const note of await ensureCgroupsUsable()) {
    logger.warn(note);
    warnings.push(note);
  }
  // Checks default-runtime and daemon.json's runtimes, and detects the host's cgroup version.
  const runtimes = await ConmonRuntimeSet.open({
    execRoot: config.execRoot,
    defaultRuntime: config.defaultRuntime,
    runtimes: config.runtimes,
    cgroupParent: config.cgroupParent,
    logger,
  });
  logger.info('cgroups', { ...runtimes.cgroupInfo() });
  const events = new EventBus();
  const factory = storageDriverFactory(config.storageDriver);
  if (!factory) {
    throw invalidParameter(`unknown storage driver "${config.storageDriver}" (available: ${storageDriverNames().join(', ')})`);
  }
  const driver = await factory(join(config.dataRoot, config.storageDriver));
  const content = await ContentStore.open(join(config.dataRoot, 'content'));
  const layers = await LayerStore.open(join(config.dataRoot, 'layers'), driver, logger);
  const images = await ImageStore.open(join(config.dataRoot, 'image'), content, layers);
  const store = await ContainerStore.open(join(config.dataRoot, 'containers'));
  const containers = new ContainerService({
    store,
    images,
    layers,
    runtimes,
    events,
    logger,
    runSpecHost: { initPath: findInit(config.initPath), peers: (idOrName) => store.resolve(idOrName) },
  });
  await containers.start();
  const updates = new ContainerUpdates(store, containers.lifecycleForServices(), runtimes);
  const execs = new ExecService({ containers, logger });
  const usage = new UsageService(containers);
  const archives = new ContainerArchiveService(containers, layers);
  const imageService = new ImageService(images, events, (id) => containers.usersOfImage(id));
  const commits = new CommitService(containers, images, layers, events);
  const diskUsage = new DiskUsage({
    images: () => imageService.list({}, { all: true }),
    layerSize: (chainId) => layers.get(chainId).size,
    containers: () => containers.list({ all: true, filters: {} }),
    containerSizes: (record) => containers.sizes(record),
  });
  const buildDir = join(config.dataRoot, 'builder');
  // The seam the registry pull plugs into: a FROM of an absent image is pulled there.
  const builder = await Builder.open({ images, layers, containers, events, dir: buildDir, ensureImage: async (reference) => images.resolve(reference) });
  const system = new SystemInfo(
    {
      id: await engineId(config.dataRoot),
      dataRoot: config.dataRoot,
      warnings,
    },
    { containers, images, layers, events, runtimes },
  );
  const servers: Server[] = [];
  for (const host of config.hosts) {
    const server = createApiServer({ containers, updates, execs, usage, archives, images: imageService, commits, diskUsage, system, events, storageDriverName: driver.name, builder, detachKeys: config.detachKeys }, logger);
    await listenUnix(server, socketPath(host), socketGid);
    servers.push(server);
    logger.info('API listening', { host });
  }
  logger.info('berthd started', {
    pid: process.pid,
    dataRoot: config.dataRoot,
    execRoot: config.execRoot,
    storageDriver: driver.name,
    defaultRuntime: config.defaultRuntime,
  });

  // Containers live on under conmon; shutting down only stops serving and releases our state.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
    await containers.close();
    runtimes.close();
    await releasePidfile();
    await unlockDataRoot();
    for (const host of config.hosts) await rm(socketPath(host), { force: true });
    logger.info('berthd stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function main(): Promise<void> {
  let logger = createLogger('info');
  try {
    const config = await parseArgs(process.argv);
    logger = createLogger(config.logLevel);
    await run(config, logger);
  } catch (err) {
    // A refusal (bad flag, data root in use) is its message; anything else is logged with its stack.
    if (err instanceof BerthError && err.kind !== 'internal') logger.error('berthd failed to start', { error: err.message });
    else logger.error('berthd failed to start', { err, code: errnoCode(err) });
    process.exit(1);
  }
}

await main();
