import { cpus, hostname, release, totalmem } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { ContainerService } from '../containers/service.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerStore } from '../../storage/layer-store.js';
import { knownRuntimes } from '../../runtime/runtime.js';

export const BERTH_VERSION = '0.1.0';

export interface SystemInfoOptions {
  id: string;
  dataRoot: string;
  defaultRuntime: string;
  warnings: string[];
}

async function osName(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return text.match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? 'Linux';
}

/** Data for /version and /info: what this daemon is and what it holds. */
export class SystemInfo {
  constructor(
    private readonly options: SystemInfoOptions,
    private readonly containers: ContainerService,
    private readonly images: ImageStore,
    private readonly layers: LayerStore,
  ) {}

  get kernelVersion(): string {
    return release();
  }

  async info() {
    const all = this.containers.list();
    const running = all.filter((c) => c.state.Running).length;
    const runtimes = Object.fromEntries(knownRuntimes().map((r) => [r.name, { path: r.path }]));
    return {
      ID: this.options.id,
      Containers: all.length,
      ContainersRunning: running,
      ContainersPaused: 0,
      ContainersStopped: all.length - running,
      Images: this.images.count,
      Driver: this.layers.driverName,
      DriverStatus: await this.layers.status(),
      Plugins: { Volume: [], Network: ['none'], Authorization: null, Log: ['k8s-file'] },
      MemoryLimit: true,
      SwapLimit: false,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: false,
      Debug: false,
      NFd: 0,
      OomKillDisable: true,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'k8s-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '1',
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: await osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: this.options.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: runtimes,
      DefaultRuntime: this.options.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: '' },
      InitCommit: { ID: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      Warnings: this.options.warnings.length > 0 ? this.options.warnings : null,
    };
  }
}
