import { Command, Option } from 'commander';
import type { ContainerUpdateRequest } from '../../client/index.js';
import { CliExit, describeError } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { addResourceFlags, resourceRequest, type ResourceFlags } from '../resource-flags.js';
import { restartPolicy } from '../run-option-values.js';

interface UpdateFlags extends ResourceFlags {
  restart?: { Name: string; MaximumRetryCount: number };
}

/**
 * `berth update`: as the docker CLI, each container's name is printed when its update succeeds,
 * then the daemon's warnings (on stdout), then the failures, which end the call with exit 1.
 */
export function updateCommand(ctx: CliContext): Command {
  return addResourceFlags(new Command('update'))
    .description('Update configuration of one or more containers')
    .addOption(new Option('--restart <policy>', 'Restart policy to apply when a container exits').argParser(restartPolicy))
    .argument('<container...>')
    .action(async (names: string[], flags: UpdateFlags) => {
      if (Object.keys(flags).length === 0) throw new CliExit(1, 'you must provide one or more flags when using this command');
      const request: ContainerUpdateRequest = {
        ...resourceRequest(flags),
        ...(flags.restart === undefined ? {} : { RestartPolicy: flags.restart }),
      };
      const client = ctx.client();
      const warnings: string[] = [];
      const errors: string[] = [];
      for (const name of names) {
        try {
          warnings.push(...((await client.updateContainer(name, request)).Warnings ?? []));
          ctx.stdout.write(`${name}\n`);
        } catch (err) {
          errors.push(describeError(err));
        }
      }
      if (warnings.length > 0) ctx.stdout.write(`${warnings.join('\n')}\n`);
      if (errors.length > 0) throw new CliExit(1, errors.join('\n'));
    });
}
