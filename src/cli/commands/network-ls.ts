import { Command } from 'commander';
import type { Network } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { goTime } from '../format/duration.js';
import { renderList } from '../format/list-format.js';
import { shortId } from '../format/text.js';
import { collect, filterOptions } from '../option-values.js';

interface LsFlags {
  filter?: string[];
  format?: string;
  quiet?: boolean;
  trunc: boolean;
}

const TITLES: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv4: 'IPV4',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  CreatedAt: 'CREATED AT',
  Labels: 'LABELS',
};
const TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';

/** `network ls`: sorted by name, as docker prints them. */
export function networkLsCommand(ctx: CliContext): Command {
  return new Command('ls')
    .alias('list')
    .description('List networks')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'driver=bridge')", collect)
    .option('--format <string>', "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(async (flags: LsFlags) => {
      const networks = (await ctx.client().listNetworks(filterOptions(flags.filter))).sort((a, b) => a.Name.localeCompare(b.Name));
      if (flags.quiet) {
        for (const n of networks) ctx.stdout.write(`${flags.trunc ? shortId(n.Id) : n.Id}\n`);
        return;
      }
      ctx.stdout.write(networksTable(networks, flags.trunc, flags.format));
    });
}

export function networksTable(networks: Network[], truncate: boolean, format = TABLE): string {
  const rows = networks.map((n) => ({
    ID: truncate ? shortId(n.Id) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv4: String(n.EnableIPv4),
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    CreatedAt: goTime(Math.floor(Date.parse(n.Created) / 1000)),
    Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
  }));
  return renderList(format === 'table' ? TABLE : format, rows, TITLES);
}
