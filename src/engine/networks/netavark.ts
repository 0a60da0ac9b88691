/**
 * netavark (Podman's network backend) driven directly: one call per attachment, its options as
 * JSON on stdin, its status (or `{"error": …}`) as JSON on stdout. netavark remembers nothing, so
 * a teardown must be given exactly the options of its setup; the caller keeps them. Its callers
 * serialise the calls (bridge-plumbing.ts): they edit the same firewall chains and the same
 * aardvark-dns configuration.
 * ../shared/notes/netavark.md records what was tried and the traps.
 */
import { spawn } from 'node:child_process';
import { BerthError, unavailable } from '../../common/errors.js';

export const NETAVARK_PATHS = ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'];
export const AARDVARK_PATHS = ['/usr/lib/podman/aardvark-dns', '/usr/libexec/podman/aardvark-dns'];

export interface NetavarkSubnet {
  subnet: string;
  gateway: string;
}

export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: NetavarkSubnet[];
  ipv6_enabled: false;
  internal: boolean;
  dns_enabled: boolean;
  options: Record<string, string>;
}

export interface NetavarkPortMapping {
  host_ip: string;
  host_port: number;
  container_port: number;
  protocol: 'tcp' | 'udp';
  range: 1;
}

/** What one setup (and the teardown that undoes it) is given. */
export interface NetavarkOptions {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; static_mac: string; aliases: string[] }>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings?: NetavarkPortMapping[];
}

export type NetavarkStatus = Record<string, { interfaces: Record<string, { mac_address: string; subnets?: Array<{ ipnet: string; gateway?: string }> }> }>;

// netavark execs iptables from $PATH: a fixed one, so the daemon's environment cannot pick another.
const CHILD_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', AARDVARK_NO_PROXY: '1' };

export class Netavark {
  constructor(
    private readonly paths: { binary: string; aardvark: string; configDir: string },
  ) {}

  async setup(netnsPath: string, options: NetavarkOptions): Promise<NetavarkStatus> {
    return JSON.parse(await this.call('setup', netnsPath, options)) as NetavarkStatus;
  }

  /** Undoes a setup given its options; an error means part of it was already gone (the caller checks what is left). */
  async teardown(netnsPath: string, options: NetavarkOptions): Promise<void> {
    await this.call('teardown', netnsPath, options);
  }

  private call(command: 'setup' | 'teardown', netnsPath: string, options: NetavarkOptions): Promise<string> {
    return run(this.paths, command, netnsPath, JSON.stringify(options));
  }
}

function run(paths: { binary: string; aardvark: string; configDir: string }, command: string, netnsPath: string, input: string): Promise<string> {
  const args = ['--config', paths.configDir, '--rootless', 'false', '--aardvark-binary', paths.aardvark, command, netnsPath];
  return new Promise((resolve, reject) => {
    const child = spawn(paths.binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env: CHILD_ENV });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {}); // it may exit before reading everything
    child.stdin.end(input);
    child.on('error', (e) => reject(unavailable(`netavark ${command}: ${e.message}`)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString().trim();
      if (code === 0) return resolve(stdout);
      // Its errors are JSON on stdout; a panic is text on stderr.
      let message = Buffer.concat(err).toString().trim().split('\n').filter((l) => !l.includes('syslog')).join(' ');
      try {
        message = (JSON.parse(stdout) as { error: string }).error;
      } catch {
        // not JSON: keep stderr
      }
      reject(new BerthError('internal', `netavark ${command}: ${message || `exit status ${code}`}`));
    });
  });
}
