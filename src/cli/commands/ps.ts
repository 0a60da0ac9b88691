import { Command } from 'commander';
import type { ContainerSummary, Port } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { goTime, timeAgo } from '../format/duration.js';
import { humanSize } from '../format/size.js';
import { defaultTable, renderList } from '../format/list-format.js';
import { ellipsis, goQuote, shortId } from '../format/text.js';
import { collect, filterOptions, integer } from '../option-values.js';
import { terminalWidth } from '../terminal.js';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  noTrunc?: boolean;
  last?: number;
  latest?: boolean;
  size?: boolean;
  filter?: string[];
  format?: string;
}

export function psCommand(ctx: CliContext, name = 'ps'): Command {
  return new Command(name)
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('-n, --last <n>', 'Show n last created containers (includes all states)', integer)
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('-s, --size', 'Display total file sizes')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', "Format output using a Go template ('table …', '{{.Names}}', 'json')")
    .action(async (flags: PsFlags) => {
      const limit = flags.latest ? 1 : flags.last;
      const filters = filterOptions(flags.filter);
      const containers = await ctx.client().listContainers({ all: flags.all, limit, size: flags.size, filters });
      const truncate = !flags.noTrunc;
      if (flags.quiet) {
        for (const container of containers) ctx.stdout.write(`${truncate ? shortId(container.Id) : container.Id}\n`);
        return;
      }
      // As docker: no --format means config.json's psFormat, if any.
      const format = flags.format || ctx.config().psFormat;
      // On a terminal the table fits its width, unless --no-trunc asked for every character.
      const maxWidth = truncate ? terminalWidth(ctx.stdout) : undefined;
      ctx.stdout.write(psTable(containers, { truncate, size: flags.size ?? false, format, maxWidth }));
    });
}

const PS_TITLES: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
};
const PS_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** One container as the docker CLI's `ps` formatter sees it (the fields --format can name). */
function psRow(container: ContainerSummary, truncate: boolean, now: Date): Record<string, string> {
  return {
    ID: truncate ? shortId(container.Id) : container.Id,
    Image: container.Image,
    Command: goQuote(truncate ? ellipsis(container.Command, 20) : container.Command),
    CreatedAt: goTime(container.Created),
    RunningFor: timeAgo(container.Created, now),
    Ports: formatPorts(container.Ports ?? []),
    State: container.State,
    Status: container.Status,
    Size: containerSize(container),
    Names: containerNames(container.Names),
    Labels: Object.entries(container.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: '',
    Networks: Object.keys(container.NetworkSettings?.Networks ?? {}).join(','),
  };
}

export function psTable(
  containers: ContainerSummary[],
  options: { truncate: boolean; size: boolean; format?: string; maxWidth?: number },
  now = new Date(),
): string {
  const table = options.size ? `${PS_TABLE}\t{{.Size}}` : PS_TABLE;
  return renderList(defaultTable(options.format, table), containers.map((container) => psRow(container, options.truncate, now)), PS_TITLES, options.maxWidth);
}

/** Names without the leading "/"; names with more slashes are links, which docker leaves out. */
function containerNames(names: string[]): string {
  return names
    .map((name) => name.replace(/^\//, ''))
    .filter((name) => !name.includes('/'))
    .join(',');
}

function containerSize(container: ContainerSummary): string {
  const writable = humanSize(container.SizeRw ?? 0);
  return container.SizeRootFs ? `${writable} (virtual ${humanSize(container.SizeRootFs)})` : writable;
}

/** "0.0.0.0:8080->80/tcp" for published ports, "80/tcp" for exposed ones. */
export function formatPorts(ports: Port[]): string {
  return ports
    .map((port) =>
      port.PublicPort
        ? `${port.IP ?? '0.0.0.0'}:${port.PublicPort}->${port.PrivatePort}/${port.Type}`
        : `${port.PrivatePort}/${port.Type}`,
    )
    .join(', ');
}
