/**
 * Makes the registry clients of one operation: the endpoints for the reference's registry, the
 * caller's credentials, the shared keep-alive agents and the transport's timeouts.
 */
import { unauthorized } from '../../common/errors.js';
import type { Reference } from '../images/reference.js';
import type { Credentials } from './registry-auth.js';
import { RegistryAgents, RegistryClient, type TransportOptions } from './registry-client.js';
import { DOCKER_HUB, RegistryHosts } from './registry-hosts.js';
import { RegistryStatusError } from './registry-errors.js';

export class RegistrySessions {
  private readonly agents = new RegistryAgents();

  constructor(
    readonly hosts: RegistryHosts,
    private readonly transport: TransportOptions,
  ) {}

  async client(ref: Pick<Reference, 'domain' | 'path'>, purpose: 'pull' | 'push', credentials: Credentials, signal?: AbortSignal): Promise<RegistryClient> {
    return new RegistryClient(await this.hosts.endpoints(ref.domain, purpose), ref.path, credentials, this.agents, this.transport, signal);
  }

  /**
   * POST /auth: checks credentials against a registry's /v2/ (answering its challenge); resolves
   * when they are accepted. `serverAddress` is what `docker login` names: a host, host:port or URL.
   */
  async login(serverAddress: string, credentials: Credentials): Promise<void> {
    const registry = registryHost(serverAddress);
    const client = new RegistryClient(await this.hosts.endpoints(registry, 'login'), '', credentials, this.agents, this.transport);
    try {
      await client.ping();
    } catch (err) {
      const base = client.endpoint.base;
      if (err instanceof RegistryStatusError && err.status === 401) {
        throw unauthorized(err.source === 'token' ? err.message : `login attempt to ${base}/v2/ failed with status: 401 Unauthorized`, err);
      }
      throw err;
    }
  }

  close(): void {
    this.agents.close();
  }
}

/** The registry a login names: "https://index.docker.io/v1/" and empty are Docker Hub. */
export function registryHost(serverAddress: string): string {
  const trimmed = serverAddress.trim();
  if (trimmed === '' || /^(https?:\/\/)?(index\.)?docker\.io(\/|$)/.test(trimmed) || /^(https?:\/\/)?registry-1\.docker\.io/.test(trimmed)) return DOCKER_HUB;
  return trimmed.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
}
