import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { eraseCredentials, serverKey } from '../registry-credentials.js';

export function logoutCommand(ctx: CliContext): Command {
  return new Command('logout')
    .description('Log out from a registry')
    .argument('[server]')
    .action(async (server: string | undefined) => {
      const key = serverKey(server);
      if (await eraseCredentials(key)) ctx.stdout.write(`Removing login credentials for ${key}\n`);
      else ctx.stdout.write(`Not logged in to ${key}\n`);
    });
}
