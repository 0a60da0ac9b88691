import { Command } from 'commander';
import type { ContainerSummary, Port } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { timeAgo } from '../format/duration.js';
import { humanSize } from '../format/size.js';
import { renderTable } from '../format/table.js';
import { ellipsis, goQuote, shortId } from '../format/text.js';
import { collect, filterOptions, integer } from '../option-values.js';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  noTrunc?: boolean;
  last?: number;
  latest?: boolean;
  size?: boolean;
  filter?: string[];
}

export function psCommand(ctx: CliContext): Command {
  return new Command('ps')
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('-n, --last <n>', 'Show n last created containers (includes all states)', integer)
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('-s, --size', 'Display total file sizes')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .action(async (flags: PsFlags) => {
      const limit = flags.latest ? 1 : flags.last;
      const filters = filterOptions(flags.filter);
      const containers = await ctx.client().listContainers({ all: flags.all, limit, size: flags.size, filters });
      const truncate = !flags.noTrunc;
      if (flags.quiet) {
        for (const container of containers) ctx.stdout.write(`${truncate ? shortId(container.Id) : container.Id}\n`);
        return;
      }
      ctx.stdout.write(psTable(containers, { truncate, size: flags.size ?? false }));
    });
}

export function psTable(containers: ContainerSummary[], options: { truncate: boolean; size: boolean }, now = new Date()) {
  const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
  if (options.size) header.push('SIZE');
  const rows = containers.map((container) => {
    const row = [
      options.truncate ? shortId(container.Id) : container.Id,
      container.Image,
      goQuote(options.truncate ? ellipsis(container.Command, 20) : container.Command),
      timeAgo(container.Created, now),
      container.Status,
      formatPorts(container.Ports ?? []),
      containerNames(container.Names),
    ];
    if (options.size) row.push(containerSize(container));
    return row;
  });
  return renderTable(header, rows);
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
