import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { attachCommand } from './attach.js';
import { containerPruneCommand } from './container-prune.js';
import { commitCommand } from './commit.js';
import { cpCommand } from './cp.js';
import { createCommand } from './create.js';
import { diffCommand } from './diff.js';
import { execCommand } from './exec.js';
import { exportCommand } from './export.js';
import { inspectCommand } from './inspect.js';
import { killCommand } from './kill.js';
import { logsCommand } from './logs.js';
import { pauseCommand, unpauseCommand } from './pause.js';
import { psCommand } from './ps.js';
import { renameCommand } from './rename.js';
import { rmCommand } from './rm.js';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { statsCommand } from './stats.js';
import { restartCommand, stopCommand } from './stop.js';
import { topCommand } from './top.js';
import { updateCommand } from './update.js';
import { waitCommand } from './wait.js';

/**
 * `berth container ...`: Docker's management-command spellings of the container commands, built
 * by the same factories as the top-level ones (`container ls` is `ps`), in docker's help order.
 */
const SUBCOMMANDS: ReadonlyArray<(ctx: CliContext) => Command> = [
  attachCommand,
  commitCommand,
  cpCommand,
  createCommand,
  diffCommand,
  execCommand,
  exportCommand,
  (ctx) => inspectCommand(ctx, 'container'),
  killCommand,
  logsCommand,
  (ctx) => psCommand(ctx, 'ls').alias('ps').alias('list'),
  pauseCommand,
  containerPruneCommand,
  renameCommand,
  restartCommand,
  rmCommand,
  runCommand,
  startCommand,
  statsCommand,
  stopCommand,
  topCommand,
  unpauseCommand,
  updateCommand,
  waitCommand,
];

export function containerCommand(ctx: CliContext): Command {
  const command = new Command('container').description('Manage containers').enablePositionalOptions();
  for (const make of SUBCOMMANDS) command.addCommand(make(ctx));
  return command;
}
