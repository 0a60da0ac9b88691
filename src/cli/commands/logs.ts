import { Command } from 'commander';
import { pipeline } from 'node:stream/promises';
import { containerOutputSink } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { apiTimestamp } from '../since-time.js';

interface LogsFlags {
  follow?: boolean;
  timestamps?: boolean;
  details?: boolean;
  tail: string;
  since?: string;
  until?: string;
}

export function logsCommand(ctx: CliContext): Command {
  return new Command('logs')
    .description('Fetch the logs of a container')
    .option('-f, --follow', 'Follow log output')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--details', 'Show extra details provided to logs')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs', 'all')
    .option('--since <time>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m")')
    .option('--until <time>', 'Show logs before a timestamp or relative')
    .argument('<container>')
    .action(async (name: string, flags: LogsFlags) => {
      const client = ctx.client();
      // As the docker CLI: inspect first, for the full ID and whether the stream is multiplexed.
      const { Id, Config } = await client.inspectContainer(name);
      const body = await client.containerLogs(Id, {
        stdout: true,
        stderr: true,
        follow: flags.follow,
        timestamps: flags.timestamps,
        details: flags.details,
        tail: flags.tail,
        since: flags.since === undefined ? undefined : apiTimestamp(flags.since),
        until: flags.until === undefined ? undefined : apiTimestamp(flags.until),
      });
      await pipeline(body, containerOutputSink(Config.Tty ?? false, ctx.stdout, ctx.stderr));
    });
}
