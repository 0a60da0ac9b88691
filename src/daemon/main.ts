import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Command } from 'commander';
import { newId } from '../common/ids.js';
import { writeFileAtomic } from '../common/atomic-file.js';
import { createLogger, type Logger } from '../common/logger.js';
import { BerthError, errnoCode, invalidParameter, isKind } from '../common/errors.js';
import { ContentStore } from '../storage/content-store.js';
import { LayerStore } from '../storage/layer-store.js';
import { ImageArchiveService } from '../engine/images/image-archive-service.js';
import { storageDriverFactory, storageDriverNames } from '../storage/driver.js';
import '../storage/drivers/index.js';
import { ensureCgroupsUsable } from '../runtime/cgroups.js';
import { ConmonRuntimeSet } from '../runtime/conmon-runtime-set.js';
import { findInit } from '../runtime/executables.js';
import { ImageStore } from '../engine/images/image-store.js';
import { ImageService } from '../engine/images/image-service.js';
import { DistributionService } from '../engine/distribution/distribution-service.js';
import { EventBus } from '../engine/events/event-bus.js';
import { ContainerStore } from '../engine/containers/store.js';
import { ContainerService } from '../engine/containers/service.js';
import { ContainerUpdates } from '../engine/containers/container-update.js';
import { ExecService } from '../engine/containers/exec-service.js';
import { UsageService } from '../engine/containers/usage-service.js';
import { ContainerArchiveService } from '../engine/containers/archive-service.js';
import { SystemInfo } from '../engine/system/system-info.js';
import { NetworkService } from '../engine/networks/network-service.js';
import { DEFAULT_ADDRESS_POOLS } from '../engine/networks/ipam.js';
import { AARDVARK_PATHS, NETAVARK_PATHS } from '../engine/networks/netavark.js';
import { CommitService } from '../engine/images/commit-service.js';
import { DiskUsage } from '../engine/system/disk-usage.js';
import { VolumeService } from '../engine/volumes/volume-service.js';
import { VolumeMounts } from '../engine/volumes/container-volumes.js';
import { DEFAULT_PLUGIN_DIRS, pluginLookup } from '../engine/volumes/plugin-driver.js';
import { createApiServer } from '../api/server.js';
import { Builder, type EnsureImageOptions } from '../engine/build/builder.js';
import { credentialsForImage } from '../engine/distribution/registry-auth.js';
import { DEFAULT_CONFIG_FILE, mergeConfig, parseAddressPool, readConfigFile, socketPath, type DaemonConfig } from './config.js';
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
    .option('-b, --bridge <name>', 'name of the default bridge (default: berth0)')
    .option('--bip <cidr>', "default bridge's address and subnet, e.g. 10.1.0.1/24")
    .option('--default-address-pool <pool...>', 'subnets for networks: base=10.10.0.0/16,size=24')
    .option('--mtu <bytes>', 'MTU of the default bridge (default: 1500)')
    .option('--icc <bool>', 'containers on the default bridge may talk to each other (default: true)')
    .option('--published-ports-obey-host-firewall', "relay published ports through berthd's sockets so that the host's INPUT rules apply to them")
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
  if (opts.bridge) flags.bridge = opts.bridge;
  if (opts.bip) flags.bip = opts.bip;
  if (opts.defaultAddressPool) flags.defaultAddressPools = (opts.defaultAddressPool as string[]).map(parseAddressPool);
  if (opts.mtu) flags.mtu = Number(opts.mtu);
  if (opts.icc) flags.icc = opts.icc !== 'false';
  if (opts.publishedPortsObeyHostFirewall) flags.publishedPortsObeyHostFirewall = true;
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


/** netavark and aardvark-dns where Debian (or another distribution) puts them. */
function networkBinaries(warnings: string[]): { netavark: string; aardvark: string } {
  const netavark = NETAVARK_PATHS.find((p) => existsSync(p));
  const aardvark = AARDVARK_PATHS.find((p) => existsSync(p));
  if (!netavark || !aardvark) warnings.push('netavark or aardvark-dns is not installed (apt-get install netavark aardvark-dns): containers on networks other than none and host cannot start');
  return { netavark: netavark ?? NETAVARK_PATHS[0], aardvark: aardvark ?? AARDVARK_PATHS[0] };
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
  const networks = await NetworkService.open({
    dataRoot: config.dataRoot,
    execRoot: config.execRoot,
    bridge: { bridge: config.bridge, bip: config.bip, mtu: config.mtu, icc: config.icc, pools: config.defaultAddressPools ?? DEFAULT_ADDRESS_POOLS },
    binaries: networkBinaries(warnings),
    publishedPortsObeyHostFirewall: config.publishedPortsObeyHostFirewall,
    events,
    logger,
  });
  // Docker's plugin folders; BERTH_PLUGIN_DIRS (colon-separated) replaces them (tests use their own).
  const pluginDirs = process.env.BERTH_PLUGIN_DIRS?.split(':').filter(Boolean) ?? DEFAULT_PLUGIN_DIRS;
  const volumes = await VolumeService.open({ root: join(config.dataRoot, 'volumes'), events, logger, plugins: pluginLookup(pluginDirs) });
  const volumeMounts = new VolumeMounts({ volumes, events, logger, findContainer: (idOrName) => store.resolve(idOrName), dataRoot: config.dataRoot, stagingRoot: join(config.execRoot, 'bind-sources') });
  const containers = new ContainerService({
    volumes: volumeMounts,
    store,
    images,
    layers,
    runtimes,
    events,
    logger,
    runSpecHost: { initPath: findInit(config.initPath), peers: (idOrName) => store.resolve(idOrName) },
    networking: networks.attacher,
  });
  networks.bindContainers({
    resolve: (idOrName) => store.resolve(idOrName),
    get: (id) => store.get(id),
    all: () => store.all(),
    exclusive: (record, job) => containers.exclusive(record, job),
    save: (record) => store.save(record),
    settled: (id) => containers.settled(id),
  });
  await containers.start();
  await networks.attacher.sweep((id) => store.get(id)?.state.Running === true);
  await volumes.unmountIdle((name) => volumeMounts.mountedByARun(name));
  await volumeMounts.sweepStages();
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
    volumes: () => volumes.dfEntries(),
    buildCache: () => builder.dfEntries(),
  });
  const imageArchives = new ImageArchiveService(images, content, layers, events);
  const distribution = await DistributionService.open(join(config.dataRoot, 'distribution'), { content, layers, images, events }, {
    insecureRegistries: config.insecureRegistries,
    registryMirrors: config.registryMirrors,
    certsDir: config.registryCertsDir,
    maxConcurrentDownloads: config.maxConcurrentDownloads,
    maxConcurrentUploads: config.maxConcurrentUploads,
    stallTimeoutMs: Number(process.env.BERTH_REGISTRY_STALL_TIMEOUT_MS ?? 30_000),
  });
  const buildDir = join(config.dataRoot, 'builder');
  // A FROM (or COPY --from) of an absent image is pulled as the classic builder does, with the
  // client's login for its registry; `--pull` pulls a FROM's image even when it is here.
  const ensureImage = async (reference: string, how: EnsureImageOptions) => {
    if (!how.pull) {
      try {
        return images.resolve(reference);
      } catch (err) {
        if (!isKind(err, 'not-found')) throw err;
      }
    }
    const credentials = credentialsForImage(reference, how.registryCredentials);
    const [pulled] = await distribution.pull({ fromImage: reference, credentials }, () => {}, how.signal);
    return pulled ?? images.resolve(reference);
  };
  const builder = await Builder.open({ images, layers, containers, events, dir: buildDir, ensureImage });
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
    const server = createApiServer({ containers, updates, execs, usage, archives, volumes, images: imageService, imageArchives, distribution, commits, diskUsage, system, events, networks, storageDriverName: driver.name, builder, detachKeys: config.detachKeys }, logger);
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
    await networks.attacher.releaseBridge().catch((err) => logger.warn('releasing the default bridge', { err }));
    networks.close();
    distribution.close();
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
