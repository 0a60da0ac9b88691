import { Command } from 'commander';
import { CliExit } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { collect } from '../option-values.js';

interface CreateFlags {
  driver: string;
  label?: string[];
  opt?: string[];
  name?: string;
}

/** `key=value` entries into a map; a key alone maps to '' (the docker CLI's ListOpts → map). */
function keyValues(entries: string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (entries ?? []).map((entry) => {
      const at = entry.indexOf('=');
      return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

export function volumeCreateCommand(ctx: CliContext): Command {
  return new Command('create')
    .description('Create a volume')
    .option('-d, --driver <string>', 'Specify volume driver name', 'local')
    .option('--label <list>', 'Set metadata for a volume', collect)
    .option('-o, --opt <map>', 'Set driver specific options', collect)
    .option('--name <string>', 'Specify volume name')
    .argument('[volume]')
    .action(async (name: string | undefined, flags: CreateFlags) => {
      if (name !== undefined && flags.name !== undefined && name !== flags.name) {
        throw new CliExit(1, `Conflicting options: either specify --name or provide positional arg, not both`);
      }
      const volume = await ctx.client().createVolume({
        Name: name ?? flags.name ?? '',
        Driver: flags.driver,
        DriverOpts: keyValues(flags.opt),
        Labels: keyValues(flags.label),
      });
      ctx.stdout.write(`${volume.Name}\n`);
    });
}
