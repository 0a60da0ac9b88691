import { cpus, hostname, release, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { ContainerService } from '../containers/service.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerStore } from '../../storage/layer-store.js';
import type { EventBus } from '../events/event-bus.js';
import type { RuntimeSet } from '../../runtime/container-runtime.js';
import type { CgroupInfo } from '../../runtime/cgroups.js';
import { goArch } from '../images/image-config.js';

export const BERTH_VERSION = '0.1.0';

export interface SystemInfoOptions {
  id: string;
  dataRoot: string;
  warnings: string[];
}

export interface SystemInfoDeps {
  containers: ContainerService;
  images: ImageStore;
  layers: LayerStore;
  events: EventBus;
  /** The OCI runtimes (daemon.json's included) and the cgroup layout they detected. */
  runtimes: RuntimeSet;
}

/** What this daemon is and what it holds; api/views turns it into /info. */
export interface SystemReport {
  id: string;
  containers: { total: number; running: number; paused: number; stopped: number };
  images: number;
  storageDriver: { name: string; status: Array<[string, string]> };
  cgroup: CgroupInfo;
  eventListeners: number;
  kernelVersion: string;
  operatingSystem: string;
  /** uname's machine name: "x86_64", "aarch64". */
  architecture: string;
  ncpu: number;
  memTotal: number;
  hostname: string;
  dataRoot: string;
  serverVersion: string;
  runtimes: Array<{ name: string; path: string }>;
  defaultRuntime: string;
  warnings: string[];
  systemTime: Date;
}

/** What /version shows about the daemon build and host. */
export interface VersionReport {
  version: string;
  /** GOARCH-style name: "amd64". */
  arch: string;
  kernelVersion: string;
  runtimeVersion: string;
}

async function osName(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return text.match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? 'Linux';
}

const UNAME_MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

export class SystemInfo {
  constructor(
    private readonly options: SystemInfoOptions,
    private readonly deps: SystemInfoDeps,
  ) {}

  version(): VersionReport {
    return { version: BERTH_VERSION, arch: goArch(), kernelVersion: release(), runtimeVersion: process.version };
  }

  async info(): Promise<SystemReport> {
    const all = this.deps.containers.list();
    // As moby's state counter: a restarting container counts as stopped.
    const running = all.filter((c) => c.state.Status === 'running').length;
    const paused = all.filter((c) => c.state.Paused).length;
    return {
      id: this.options.id,
      containers: { total: all.length, running, paused, stopped: all.length - running - paused },
      images: this.deps.images.count,
      storageDriver: { name: this.deps.layers.driverName, status: await this.deps.layers.status() },
      cgroup: this.deps.runtimes.cgroupInfo(),
      eventListeners: this.deps.events.listenerCount,
      kernelVersion: release(),
      operatingSystem: await osName(),
      architecture: UNAME_MACHINE[process.arch] ?? process.arch,
      ncpu: cpus().length,
      memTotal: totalmem(),
      hostname: hostname(),
      dataRoot: this.options.dataRoot,
      serverVersion: BERTH_VERSION,
      runtimes: this.deps.runtimes.all().map(({ name, path }) => ({ name, path })),
      defaultRuntime: this.deps.runtimes.defaultName,
      warnings: this.options.warnings,
      systemTime: new Date(),
    };
  }
}
