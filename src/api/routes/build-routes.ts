/**
 * POST /build: the classic builder's API. The body is the context tar; the answer is Docker's
 * JSON message stream, written as the build goes. A failure before anything was written is an
 * ordinary HTTP error (as moby, whose stream is not flushed yet); after that it ends the stream
 * as `errorDetail`, with the exit code of a failed RUN. A client that goes away cancels the build.
 */
import type { StepHostConfig } from '../../engine/build/builder-run.js';
import { checkPlatform } from '../../engine/build/platform.js';
import { decodeRegistryConfig } from './distribution-routes.js';
import type { ServerResponse } from 'node:http';
import { BerthError, invalidParameter } from '../../common/errors.js';
import type { Builder, BuildMessage } from '../../engine/build/builder.js';
import type { Handler, RouteTable } from '../router.js';
import { sendJson, type Query } from '../http.js';
import type { BuildCachePruneResponse } from '../../wire/image-meta.js';
import { messageOf } from '../errors.js';
import { parseFilters } from '../../engine/filters.js';
import { goTimestamp } from '../../common/go-timestamp.js';

type ErrorMessage = { errorDetail: { code?: number; message: string }; error: string };

function jsonMap<T>(query: Query, name: string): Record<string, T> {
  const value = query.json<unknown>(name);
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(`${name} must be a JSON object`);
  return value as Record<string, T>;
}

class MessageStream {
  private started = false;

  constructor(private readonly res: ServerResponse) {}

  write(message: BuildMessage | ErrorMessage): void {
    if (!this.started) {
      this.res.writeHead(200, { 'Content-Type': 'application/json' });
      this.started = true;
    }
    this.res.write(`${JSON.stringify(message)}\r\n`);
  }

  get written(): boolean {
    return this.started;
  }
}

/** Docker's `until` filter: a timestamp or a duration before now, as the image filters take it. */
function untilTime(value: string): number {
  const nanos = goTimestamp(value);
  if (nanos === undefined) throw invalidParameter(`failed to parse value as time or duration: "${value}"`);
  return Number(nanos / 1_000_000n);
}

/** The build's resources, cgroup parent and extra hosts for its RUN steps' containers, as moby reads them. */
function stepHostConfig(query: Query): StepHostConfig {
  const other: Record<string, unknown> = {};
  const numbers = { memory: 'Memory', memswap: 'MemorySwap', cpushares: 'CpuShares', cpuperiod: 'CpuPeriod', cpuquota: 'CpuQuota' } as const;
  for (const [name, field] of Object.entries(numbers)) {
    const value = query.int(name);
    if (value !== undefined && value !== 0) other[field] = value;
  }
  const texts = { cpusetcpus: 'CpusetCpus', cpusetmems: 'CpusetMems', cgroupparent: 'CgroupParent' } as const;
  for (const [name, field] of Object.entries(texts)) {
    const value = query.string(name);
    if (value) other[field] = value;
  }
  const ulimits = query.json<unknown[]>('ulimits');
  if (Array.isArray(ulimits) && ulimits.length > 0) other.Ulimits = ulimits;
  // The docker CLI sends the hosts as one comma-separated value; other clients repeat the parameter.
  const hosts = query.all('extrahosts').flatMap((value) => value.split(',')).filter((host) => host !== '');
  if (hosts.length > 0) other.ExtraHosts = hosts;
  const shmSize = query.int('shmsize');
  if (shmSize !== undefined && shmSize < 0) throw invalidParameter('shmsize must be greater than 0');
  return { ...(shmSize ? { ShmSize: shmSize } : {}), other };
}

export function buildRoutes(routes: RouteTable<Handler>, builder: Builder): void {
  routes.add('POST', '/build/prune', async ({ res, query }) => {
    const filters = parseFilters(query.string('filters'), ['until']);
    const until = filters.until?.[0];
    if (query.int('min-free-space')) throw invalidParameter("min-free-space is not supported by berthd's build cache: use reserved-space or max-used-space");
    const limits = ['reserved-space', 'keep-storage', 'max-used-space'].map((name) => query.int(name)).filter((bytes): bytes is number => bytes !== undefined && bytes > 0);
    const { deleted, spaceReclaimed } = await builder.prune({
      all: query.bool('all'),
      until: until === undefined ? undefined : untilTime(until),
      keepBytes: limits.length > 0 ? Math.min(...limits) : undefined,
    });
    sendJson(res, 200, { CachesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: spaceReclaimed } satisfies BuildCachePruneResponse);
  });

  routes.add('POST', '/build', async ({ req, res, query, signal }) => {
    const networkMode = query.string('networkmode') ?? '';
    if (networkMode !== '' && networkMode !== 'default' && networkMode !== 'none' && networkMode !== 'host' && networkMode !== 'bridge') {
      throw invalidParameter(`network mode ${JSON.stringify(networkMode)} is not supported by berthd's builder: use none, host or bridge`);
    }
    // The host's platform only (no emulation): another is refused before the context is read.
    const platform = query.string('platform');
    if (platform) checkPlatform(platform);
    const stream = new MessageStream(res);
    try {
      await builder.build(
        {
          context: req,
          dockerfile: query.string('dockerfile') || undefined,
          tags: query.all('t').filter((tag) => tag !== ''),
          buildArgs: jsonMap<string | null>(query, 'buildargs'),
          labels: jsonMap<string>(query, 'labels'),
          target: query.string('target') || undefined,
          noCache: query.bool('nocache'),
          remove: query.bool('rm', true) || query.bool('forcerm'),
          quiet: query.bool('q'),
          networkMode: networkMode === 'default' ? '' : networkMode,
          stepHostConfig: stepHostConfig(query),
          pull: query.bool('pull'),
          registryCredentials: decodeRegistryConfig(req.headers['x-registry-config']),
          signal,
        },
        (message) => stream.write(message),
      );
    } catch (err) {
      if (!stream.written) throw err;
      const exitCode = err instanceof BerthError ? err.exitCode : undefined;
      const message = messageOf(err);
      stream.write({ errorDetail: { ...(exitCode !== undefined ? { code: exitCode } : {}), message }, error: message });
    }
    res.end();
  });
}
