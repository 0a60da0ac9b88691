/**
 * The docker CLI's global options, before the command: where to connect (-H, --context), where
 * the client configuration is (--config), the client's log (-D, -l) and TLS (--tls…). Berth speaks
 * to a daemon without TLS and has no contexts, so the TLS options and contexts other than
 * "default" are refused by name, with the reason, instead of being unknown.
 */
import { Command, Option } from 'commander';
import { CliExit } from './cli-exit.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];
const TLS_REASON = 'berth speaks to the daemon without TLS only';

/** [flags, description] of the TLS options, all refused. */
const TLS_OPTIONS: [string, string][] = [
  ['--tls', 'Use TLS; implied by --tlsverify'],
  ['--tlscacert <file>', 'Trust certs signed only by this CA'],
  ['--tlscert <file>', 'Path to TLS certificate file'],
  ['--tlskey <file>', 'Path to TLS key file'],
  ['--tlsverify', 'Use TLS and verify the remote'],
];

/** The global options that take a value as the next argument (to find the command's name). */
export const GLOBAL_VALUE_OPTIONS: ReadonlySet<string> = new Set([
  '-H', '--host', '-l', '--log-level', '--config', '-c', '--context', '--tlscacert', '--tlscert', '--tlskey',
]); // prettier-ignore

export function addGlobalOptions(program: Command): Command {
  program
    .option('--config <dir>', 'Location of client config files (default "~/.docker", or DOCKER_CONFIG)')
    .option('-c, --context <name>', 'Name of the context to use; berth has only "default" (-H, BERTH_HOST, DOCKER_HOST)')
    // The client's own log: accepted, without effect (the berth client writes no log).
    .option('-D, --debug', 'Enable debug mode (no effect: the berth client writes no log)')
    .option('-H, --host <socket>', 'Daemon socket to connect to (unix:///path or tcp://host:port)')
    .addOption(new Option('-l, --log-level <level>', 'Set the logging level (no effect: the berth client writes no log)').choices(LOG_LEVELS));
  for (const [flags, description] of TLS_OPTIONS) program.addOption(new Option(flags, `${description} (not supported)`).hideHelp());
  return program.hook('preAction', refuseUnsupportedGlobals);
}

function refuseUnsupportedGlobals(program: Command): void {
  const options = program.opts<{ context?: string; host?: string }>();
  const context = options.context ?? process.env.DOCKER_CONTEXT;
  if (context !== undefined && context !== '' && context !== 'default') {
    throw new CliExit(125, `berth: context "${context}" is not supported: berth has only the default context; name the daemon with -H, BERTH_HOST or DOCKER_HOST`);
  }
  if (options.context !== undefined && options.host !== undefined) {
    throw new CliExit(125, 'berth: conflicting options: cannot specify both --host and --context');
  }
  const tls = TLS_OPTIONS.map(([flags]) => flags.split(' ')[0]!).find((flag) => program.getOptionValueSource(flag.slice(2)) === 'cli');
  if (tls) throw new CliExit(125, `berth: ${tls} is not supported: ${TLS_REASON}`);
}
