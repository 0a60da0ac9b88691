import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { inspectCommand } from './inspect.js';
import { networkConnectCommand, networkDisconnectCommand } from './network-connect.js';
import { networkCreateCommand } from './network-create.js';
import { networkLsCommand } from './network-ls.js';
import { networkPruneCommand } from './network-prune.js';
import { networkRmCommand } from './network-rm.js';

/** `berth network ...`, as Docker's management command. */
export function networkCommand(ctx: CliContext): Command {
  return new Command('network')
    .description('Manage networks')
    .addCommand(networkConnectCommand(ctx))
    .addCommand(networkCreateCommand(ctx))
    .addCommand(networkDisconnectCommand(ctx))
    .addCommand(inspectCommand(ctx, 'network'))
    .addCommand(networkLsCommand(ctx))
    .addCommand(networkPruneCommand(ctx))
    .addCommand(networkRmCommand(ctx));
}
