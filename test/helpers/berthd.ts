import { after, before } from 'node:test';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, rmdir, readFile, writeFile } from 'node:fs/promises';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const BERTH = join(REPO_ROOT, 'bin/berth');
export const BERTHD = join(REPO_ROOT, 'bin/berthd');

/**
 * A default bridge and address pool of its own for each test daemon, so that daemons running at
 * once (or left over) never share a bridge or a subnet: a /20 of 10.200.0.0–10.254.255.255 picked
 * at random, its first /24 for the default bridge, the rest for networks made without --subnet.
 */
export function testNetwork(): { bridge: string; bip: string; pool: string; block: string } {
  const a = 200 + Math.floor(Math.random() * 55);
  const b = 16 * Math.floor(Math.random() * 16);
  const bridge = `bt${Math.random().toString(16).slice(2, 10)}`;
  return { bridge, bip: `10.${a}.${b}.1/24`, pool: `base=10.${a}.${b}.0/20,size=24`, block: `10.${a}.${b}.0/20` };
}

export interface TestDaemon {
  /** Its default bridge's name and its /20 of addresses (networks a test makes with --subnet take theirs from it). */
  network: { bridge: string; bip: string; pool: string; block: string };
  socket: string;
  dataRoot: string;
  execRoot: string;
  /** Its own cgroup parent (e.g. /berth-it-AbC123), so that what it leaks is told apart from others'. */
  cgroupParent: string;
  /** DOCKER_HOST / BERTH_HOST value. */
  host: string;
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  /** Runs the berth CLI against this daemon. */
  berth(args: string[], options?: { input?: string | Buffer; allowFailure?: boolean }): Promise<{ stdout: string; stderr: string; code: number }>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const STARTED = '"msg":"berthd started"';
const occurrences = (text: string, what: string) => text.split(what).length - 1;

/**
 * Resolves once this launch of berthd has logged that it started: its socket then exists with its
 * final mode and owner, and reconciliation is done. `startsBefore` is how many starts the
 * (appended) log held before this launch.
 */
async function waitForStart(child: ChildProcess, log: () => Promise<string>, startsBefore: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (occurrences(await log(), STARTED) > startsBefore) return;
    if (child.exitCode !== null) throw new Error(`berthd exited with ${child.exitCode}:\n${await log()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`berthd did not start:\n${await log()}`);
}

/**
 * Starts a real berthd as root on temporary data/exec roots and socket. stop() stops it, then
 * removes every container it made (so no conmon, mount or cgroup stays behind) and the roots.
 */
export interface DaemonOptions {
  storageDriver?: string;
  defaultRuntime?: string;
  /** Called with the temporary base folder before berthd first starts (e.g. to mount a small tmpfs). */
  prepare?: (base: string) => Promise<void>;
  /** Added to berthd's environment (e.g. BERTH_BODY_IDLE_TIMEOUT_MS). */
  env?: NodeJS.ProcessEnv;
  /** Further berthd flags. */
  args?: string[];
  /** daemon.json's settings (written before berthd first starts; `{}` when absent). */
  daemonJson?: Record<string, unknown>;
  /** The CLI's DOCKER_CONFIG folder (registry credentials); the caller's when absent. */
  dockerConfig?: string;
}

export async function startDaemon(options: DaemonOptions = {}): Promise<TestDaemon> {
  const base = await mkdtemp(join(tmpdir(), 'berth-it-'));
  await options.prepare?.(base);
  const dataRoot = join(base, 'data');
  const execRoot = join(base, 'exec');
  const cgroupParent = `/${basename(base)}`;
  const socket = join(base, 'berth.sock');
  const network = testNetwork();
  const logPath = join(base, 'berthd.log');
  const host = `unix://${socket}`;
  const env = { ...process.env, BERTH_HOST: host, DOCKER_HOST: host, ...(options.dockerConfig ? { DOCKER_CONFIG: options.dockerConfig } : {}) };
  const args = [
    '--host', host,
    '--data-root', dataRoot,
    '--exec-root', execRoot,
    '--cgroup-parent', cgroupParent,
    '--pidfile', join(base, 'berthd.pid'),
    '--config-file', join(base, 'daemon.json'),
    '--storage-driver', options.storageDriver ?? 'overlay',
    '--default-runtime', options.defaultRuntime ?? 'crun',
    '--log-level', 'debug',
    '--bridge', network.bridge,
    '--bip', network.bip,
    '--default-address-pool', network.pool,
    ...(options.args ?? []),
  ];
  await writeFile(join(base, 'daemon.json'), JSON.stringify(options.daemonJson ?? {}));
  const launch = async () => {
    await rm(socket, { force: true }); // a killed daemon leaves its socket behind
    const log = () => readFile(logPath, 'utf8').catch(() => '');
    const startsBefore = occurrences(await log(), STARTED);
    const fd = openSync(logPath, 'a');
    // Started as its users start it, bin/berthd itself: its first line gives node's flags.
    const child = spawn(BERTHD, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...options.env } });
    closeSync(fd); // the daemon holds its own copy
    await waitForStart(child, log, startsBefore);
    return child;
  };

  const daemon: TestDaemon = {
    network,
    socket,
    dataRoot,
    execRoot,
    cgroupParent,
    host,
    env,
    process: await launch(),
    async berth(argv, opts = {}) {
      try {
        const child = run(process.execPath, [BERTH, ...argv], { env, maxBuffer: 64 << 20 });
        // The CLI may exit before it has read all its input (EPIPE is expected then).
        child.child.stdin!.on('error', () => {});
        if (opts.input !== undefined) {
          child.child.stdin!.end(opts.input);
        } else {
          child.child.stdin!.end();
        }
        const { stdout, stderr } = await child;
        return { stdout, stderr, code: 0 };
      } catch (err) {
        const e = err as { stdout: string; stderr: string; code: number };
        if (!opts.allowFailure) throw new Error(`berth ${argv.join(' ')} failed (${e.code}): ${e.stderr}`);
        return { stdout: e.stdout, stderr: e.stderr, code: e.code };
      }
    },
    async restart() {
      await terminate(daemon.process);
      daemon.process = await launch();
    },
    async stop() {
      try {
        if (daemon.process.exitCode === null) {
          const ids = (await daemon.berth(['ps', '-aq', '--no-trunc'], { allowFailure: true })).stdout.split('\n').filter(Boolean);
          if (ids.length > 0) await daemon.berth(['rm', '-f', ...ids], { allowFailure: true });
          const images = (await daemon.berth(['images', '-q'], { allowFailure: true })).stdout.split('\n').filter(Boolean);
          if (images.length > 0) await daemon.berth(['rmi', '-f', ...new Set(images)], { allowFailure: true });
        }
      } finally {
        await terminate(daemon.process);
        await unmountUnder(base);
        await removeEmptyCgroupParent(cgroupParent);
        await rm(base, { recursive: true, force: true });
      }
    },
  };
  return daemon;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Last resort after a failed test: nothing mounted under the test's roots may stay. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((target) => target && target.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const target of mounts) await run('umount', ['-l', target]).catch(() => {});
}

/** The daemon's own cgroup parent, in every hierarchy, once its containers have gone. */
async function removeEmptyCgroupParent(parent: string): Promise<void> {
  const root = '/sys/fs/cgroup';
  const hierarchies = await readdir(root).catch(() => [] as string[]);
  await Promise.all(['', ...hierarchies].map((h) => rmdir(join(root, h, parent)).catch(() => {})));
}

/**
 * For a test suite: a berthd with the busybox image, started before the suite's tests (handed to
 * `use`) and stopped after them.
 */
export function useBusyboxDaemon(use: (daemon: TestDaemon) => void, options: DaemonOptions = {}): void {
  let daemon: TestDaemon | undefined;
  before(async () => {
    daemon = await startDaemon(options);
    use(daemon);
    await daemon.berth(['image', 'busybox']);
  });
  after(async () => {
    await daemon?.stop();
  });
}
