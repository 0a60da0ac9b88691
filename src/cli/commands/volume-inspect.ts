import { Command } from 'commander';
import { DaemonError } from '../../client/index.js';
import { CliExit, describeError } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { executeTemplate, parseTemplate } from '../format/go-template.js';
import { dockerJson } from '../format/json.js';

export function volumeInspectCommand(ctx: CliContext): Command {
  return new Command('inspect')
    .description('Display detailed information on one or more volumes')
    .option('-f, --format <string>', 'Format output using a Go template')
    .argument('<volume...>')
    .action(async (names: string[], flags: { format?: string }) => {
      const template = flags.format === undefined || flags.format === 'json' ? undefined : parseTemplate(flags.format);
      const found: unknown[] = [];
      const errors: string[] = [];
      for (const name of names) {
        try {
          found.push(await ctx.client().inspectVolume(name));
        } catch (err) {
          if (!(err instanceof DaemonError && err.statusCode === 404)) throw err;
          errors.push(describeError(err));
        }
      }
      if (template) for (const volume of found) ctx.stdout.write(`${executeTemplate(template, volume)}\n`);
      else if (flags.format === 'json') for (const volume of found) ctx.stdout.write(`${JSON.stringify(volume)}\n`);
      else ctx.stdout.write(`${dockerJson(found)}\n`);
      if (errors.length > 0) throw new CliExit(1, errors.join('\n'));
    });
}
