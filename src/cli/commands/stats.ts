import { Command } from 'commander';
import type { EngineClient, StatsResponse } from '../../client/index.js';
import { CliExit, describeError } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { defaultTable, renderList } from '../format/list-format.js';
import { binarySize, humanSize } from '../format/size.js';
import { shortId } from '../format/text.js';
import { terminalWidth } from '../terminal.js';

interface StatsFlags {
  all?: boolean;
  format?: string;
  stream: boolean;
  trunc: boolean;
}

const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
const STATS_TITLES: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};
/** How often a live table is redrawn (the docker CLI's ticker). */
const REDRAW_MS = 500;

/** The figures the docker CLI derives from one stats answer (its stats_helpers.go, for a Linux daemon). */
export function statsFigures(s: StatsResponse): { cpuPercent: number; memory: number; memoryLimit: number; memoryPercent: number; rx: number; tx: number; blockRead: number; blockWrite: number; pids: number } {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || (s.cpu_stats.cpu_usage.percpu_usage?.length ?? 0);
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
  // Memory without the page cache that could be dropped: v1 total_inactive_file, v2 inactive_file.
  const usage = s.memory_stats.usage ?? 0;
  const stats = s.memory_stats.stats ?? {};
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const memory = inactive < usage ? usage - inactive : usage;
  const memoryLimit = s.memory_stats.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const network of Object.values(s.networks ?? {})) {
    rx += network.rx_bytes;
    tx += network.tx_bytes;
  }
  let blockRead = 0;
  let blockWrite = 0;
  for (const entry of s.blkio_stats.io_service_bytes_recursive ?? []) {
    const op = entry.op[0]?.toLowerCase();
    if (op === 'r') blockRead += entry.value;
    else if (op === 'w') blockWrite += entry.value;
  }
  return {
    cpuPercent,
    memory,
    memoryLimit,
    memoryPercent: memoryLimit !== 0 ? (memory / memoryLimit) * 100 : 0,
    rx,
    tx,
    blockRead,
    blockWrite,
    pids: s.pids_stats.current ?? 0,
  };
}

/** One row as the docker CLI's stats formatter shows it; `--` until a figure has come. */
export function statsRow(target: string, id: string, stats: StatsResponse | undefined, truncate: boolean): Record<string, string> {
  const row = { Container: target, ID: truncate ? shortId(id) : id, Name: stats?.name.replace(/^\//, '') || '--' };
  if (!stats) return { ...row, CPUPerc: '--', MemUsage: '-- / --', MemPerc: '--', NetIO: '--', BlockIO: '--', PIDs: '--' };
  const f = statsFigures(stats);
  const percent = (value: number) => `${value.toFixed(2)}%`;
  return {
    ...row,
    CPUPerc: percent(f.cpuPercent),
    MemUsage: `${binarySize(f.memory)} / ${binarySize(f.memoryLimit)}`,
    MemPerc: percent(f.memoryPercent),
    NetIO: `${humanSize(f.rx)} / ${humanSize(f.tx)}`,
    BlockIO: `${humanSize(f.blockRead)} / ${humanSize(f.blockWrite)}`,
    PIDs: String(f.pids),
  };
}

interface Watched {
  target: string;
  id: string;
  latest?: StatsResponse;
  error?: unknown;
}

/**
 * `docker stats`: the named containers, or every running one (all with -a). With --no-stream one
 * answer each (asked for together) and one table; otherwise a table redrawn in place twice a
 * second from each container's stream, until interrupted.
 */
export function statsCommand(ctx: CliContext): Command {
  return new Command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--format <format>', "Format output using a Go template ('table …', '{{.Name}}', 'json')")
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', 'Do not truncate output')
    .argument('[container...]')
    .action(async (names: string[], flags: StatsFlags) => {
      const client = ctx.client();
      const watched: Watched[] =
        names.length > 0
          ? names.map((name) => ({ target: name, id: name }))
          : (await client.listContainers({ all: flags.all })).map((c) => ({ target: c.Id, id: c.Id }));
      const format = defaultTable(flags.format || ctx.config().statsFormat, STATS_TABLE);
      const maxWidth = flags.trunc ? terminalWidth(ctx.stdout) : undefined;
      const render = () => renderList(format, watched.map((w) => statsRow(w.target, w.latest?.id ?? w.id, w.latest, flags.trunc)), STATS_TITLES, maxWidth);
      if (!flags.stream) {
        await Promise.all(watched.map((w) => firstAnswer(client, w)));
        failOnErrors(ctx, watched);
        ctx.stdout.write(render());
        return;
      }
      await followStreams(ctx, client, watched, render);
    });
}

async function firstAnswer(client: EngineClient, watched: Watched): Promise<void> {
  try {
    for await (const stats of client.containerStats(watched.id, { stream: false })) watched.latest = stats;
  } catch (err) {
    watched.error = err;
  }
}

/** A container that cannot be read (a wrong name) ends the command, as docker's first-result check does. */
function failOnErrors(ctx: CliContext, watched: Watched[]): void {
  const failed = watched.filter((w) => w.error !== undefined);
  for (const w of failed) ctx.stderr.write(`${describeError(w.error)}\n`);
  if (failed.length > 0) throw new CliExit(1);
}

async function followStreams(ctx: CliContext, client: EngineClient, watched: Watched[], render: () => string): Promise<void> {
  const first = watched.map(
    (w) =>
      new Promise<void>((resolve) => {
        void (async () => {
          try {
            for await (const stats of client.containerStats(w.id, { stream: true })) {
              w.latest = stats;
              resolve();
            }
          } catch (err) {
            w.error ??= err;
          }
          resolve();
        })();
      }),
  );
  await Promise.all(first);
  failOnErrors(ctx, watched.filter((w) => w.latest === undefined));
  for (;;) {
    // Home, each line erased to its end, and whatever an earlier, longer table left below erased.
    const lines = render().split('\n').slice(0, -1);
    ctx.stdout.write(`\x1b[H${lines.map((line) => `${line}\x1b[K\n`).join('')}\x1b[J`);
    await new Promise((resolve) => setTimeout(resolve, REDRAW_MS));
  }
}
