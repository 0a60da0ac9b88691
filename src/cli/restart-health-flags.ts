/**
 * The `run`/`create` flags for restart policies and health checks, parsed as the docker CLI
 * parses them (opts.ParseRestartPolicy, and the health options of its container opts): the
 * daemon checks the values (names, counts, minimum durations) and answers with its own errors.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { HealthConfigWire } from '../wire/containers.js';
import { CliExit } from './cli-exit.js';
import { integer } from './option-values.js';
import { goDurationMs } from '../common/go-duration.js';
import { restartPolicy as parseRestartPolicy } from './run-option-values.js';

type RestartPolicyFlag = ReturnType<typeof parseRestartPolicy>;

export interface RestartHealthFlags {
  restart?: RestartPolicyFlag;
  rm?: boolean;
  healthCmd?: string;
  healthInterval?: number;
  healthTimeout?: number;
  healthStartPeriod?: number;
  healthStartInterval?: number;
  healthRetries?: number;
  healthcheck?: boolean;
}

/** A Go duration flag value, in nanoseconds (the API's unit). */
function durationNs(value: string): number {
  const ms = goDurationMs(value);
  if (ms === undefined) throw new InvalidArgumentError(`time: invalid duration "${value}"`);
  return Math.round(ms * 1e6);
}

export function addRestartHealthFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--restart <policy>', 'Restart policy to apply when a container exits').default(parseRestartPolicy('no'), 'no').argParser(parseRestartPolicy),
    )
    .option('--health-cmd <command>', 'Command to run to check health')
    .addOption(new Option('--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 0s)').argParser(durationNs))
    .addOption(new Option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)').argParser(durationNs))
    .addOption(
      new Option('--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)').argParser(
        durationNs,
      ),
    )
    .addOption(
      new Option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h) (default 0s)').argParser(durationNs),
    )
    .addOption(new Option('--health-retries <n>', 'Consecutive failures needed to report unhealthy').argParser(integer))
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
}

/** Docker's opts.ParseRestartPolicy; `--rm` with a policy is the CLI's own conflict. */
export function restartPolicy(flags: RestartHealthFlags): RestartPolicyFlag {
  const policy = flags.restart ?? parseRestartPolicy('no');
  if (flags.rm && policy.Name !== '' && policy.Name !== 'no') throw new CliExit(125, 'Conflicting options: --restart and --rm');
  return policy;
}

/** Config.Healthcheck from the flags, or undefined when none was given (the image's applies). */
export function healthcheck(flags: RestartHealthFlags): HealthConfigWire | undefined {
  const durations = {
    interval: flags.healthInterval ?? 0,
    timeout: flags.healthTimeout ?? 0,
    'start-period': flags.healthStartPeriod ?? 0,
    'start-interval': flags.healthStartInterval ?? 0,
  };
  const retries = flags.healthRetries ?? 0;
  const given = (flags.healthCmd ?? '') !== '' || retries !== 0 || Object.values(durations).some((d) => d !== 0);
  if (flags.healthcheck === false) {
    if (given) throw new CliExit(125, '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!given) return undefined;
  // In the docker CLI's order of checks.
  const signed: Array<[string, number]> = [
    ['interval', durations.interval],
    ['timeout', durations.timeout],
    ['retries', retries],
    ['start-period', durations['start-period']],
    ['start-interval', durations['start-interval']],
  ];
  for (const [name, value] of signed) {
    if (value < 0) throw new CliExit(125, `--health-${name} cannot be negative`);
  }
  return {
    ...(flags.healthCmd ? { Test: ['CMD-SHELL', flags.healthCmd] } : {}),
    Interval: durations.interval,
    Timeout: durations.timeout,
    StartPeriod: durations['start-period'],
    StartInterval: durations['start-interval'],
    Retries: retries,
  };
}
