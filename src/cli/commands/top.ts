import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { renderTable } from '../format/table.js';

/** docker top's tabwriter: columns at least 20 wide. */
const TOP_MIN_WIDTH = 20;

export function topCommand(ctx: CliContext): Command {
  return new Command('top')
    .description('Display the running processes of a container')
    .usage('CONTAINER [ps OPTIONS]')
    .argument('<container>')
    .argument('[ps options...]')
    .allowUnknownOption()
    .helpOption('--help', 'Print usage')
    .action(async (container: string, psOptions: string[]) => {
      const { Titles, Processes } = await ctx.client().topContainer(container, psOptions.join(' ') || undefined);
      ctx.stdout.write(renderTable(Titles, Processes, TOP_MIN_WIDTH));
    });
}
