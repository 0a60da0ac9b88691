import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { humanSize } from '../format/size.js';
import { collect, filterOptions } from '../option-values.js';

const WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.';
const WARNING_ALL = 'WARNING! This will remove all local volumes not used by at least one container.';

/** The docker CLI's prompt: only y or Y (the first line of stdin) goes on. */
async function confirmed(ctx: CliContext, warning: string): Promise<boolean> {
  ctx.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const done = () => {
      ctx.stdin.off('data', onData);
      ctx.stdin.off('end', done);
      ctx.stdin.pause();
      resolve(text.split('\n')[0]);
    };
    const onData = (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) done();
    };
    ctx.stdin.setEncoding('utf8');
    ctx.stdin.on('data', onData);
    ctx.stdin.once('end', done);
  });
  return answer.trim().toLowerCase() === 'y';
}

export function volumePruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (flags: { all?: boolean; filter?: string[]; force?: boolean }) => {
      const filters = filterOptions(flags.filter) ?? {};
      if (flags.all) filters.all = ['true'];
      if (!flags.force && !(await confirmed(ctx, flags.all ? WARNING_ALL : WARNING))) return;
      const { VolumesDeleted, SpaceReclaimed } = await ctx.client().pruneVolumes({ filters });
      if (VolumesDeleted?.length) ctx.stdout.write(`Deleted Volumes:\n${VolumesDeleted.map((name) => `${name}\n`).join('')}\n`);
      ctx.stdout.write(`Total reclaimed space: ${humanSize(SpaceReclaimed)}\n`);
    });
}
