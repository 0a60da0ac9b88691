import { Command } from 'commander';
import { addContainerFlags, buildCreateRequest, type ContainerFlags } from '../container-flags.js';
import type { CliContext } from '../context.js';
import { createContainerPulling } from '../create-container.js';
import { terminalSize } from '../terminal.js';

export function createCommand(ctx: CliContext): Command {
  return addContainerFlags(new Command('create'))
    .description('Create a new container')
    .action(async (image: string, command: string[], flags: ContainerFlags) => {
      const consoleSize = (flags.tty && terminalSize(ctx.stdout)) || [0, 0];
      const request = buildCreateRequest(image, command, flags, consoleSize);
      ctx.stdout.write(`${await createContainerPulling(ctx.client(), request, flags, ctx.stderr)}\n`);
    });
}
