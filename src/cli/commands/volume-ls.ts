import { Command } from 'commander';
import type { Volume } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { renderList } from '../format/list-format.js';
import { humanSize } from '../format/size.js';
import { collect, filterOptions } from '../option-values.js';

interface LsFlags {
  filter?: string[];
  format?: string;
  quiet?: boolean;
}

const TITLES: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  CreatedAt: 'CREATED',
};
const TABLE = 'table {{.Driver}}\t{{.Name}}';

/** The docker CLI's volume formatter fields: labels as k=v joined by commas, N/A without usage data. */
function row(volume: Volume): Record<string, string> {
  const labels = Object.entries(volume.Labels ?? {}).map(([key, value]) => `${key}=${value}`);
  return {
    Name: volume.Name,
    Driver: volume.Driver,
    Scope: volume.Scope,
    Mountpoint: volume.Mountpoint,
    Labels: labels.join(','),
    Links: volume.UsageData ? String(volume.UsageData.RefCount) : 'N/A',
    Size: volume.UsageData && volume.UsageData.Size >= 0 ? humanSize(volume.UsageData.Size) : 'N/A',
    CreatedAt: volume.CreatedAt,
  };
}

export function volumeLsCommand(ctx: CliContext): Command {
  return new Command('ls')
    .alias('list')
    .description('List volumes')
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect)
    .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .option('-q, --quiet', 'Only display volume names')
    .action(async (flags: LsFlags) => {
      const { Volumes } = await ctx.client().listVolumes({ filters: filterOptions(flags.filter) });
      const volumes = [...(Volumes ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
      if (flags.quiet) {
        for (const volume of volumes) ctx.stdout.write(`${volume.Name}\n`);
        return;
      }
      const format = !flags.format || flags.format === 'table' ? TABLE : flags.format;
      ctx.stdout.write(renderList(format, volumes.map(row), TITLES));
    });
}
