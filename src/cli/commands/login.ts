import { Command } from 'commander';
import { Writable } from 'node:stream';
import type { CliContext } from '../context.js';
import { CliExit } from '../cli-exit.js';
import { configPath, HUB_SERVER, serverKey, storeCredentials } from '../registry-credentials.js';

/** Reads one line from the terminal; `hidden` keeps what is typed off the screen (a password). */
async function prompt(ctx: CliContext, question: string, hidden: boolean): Promise<string> {
  // Loaded on first use: node:readline/promises is kept out of the CLI's start-up snapshot.
  const { createInterface } = process.getBuiltinModule('node:readline/promises');
  // A hidden answer's echo goes nowhere, so the question goes to stderr itself; otherwise readline
  // asks it (it redraws its prompt, which would erase a question written beside it).
  if (hidden) ctx.stderr.write(question);
  const output = hidden ? new Writable({ write: (_c, _e, cb) => cb() }) : ctx.stderr;
  const rl = createInterface({ input: ctx.stdin, output, terminal: ctx.stdin.isTTY === true });
  try {
    return (await rl.question(hidden ? '' : question)).trim();
  } finally {
    rl.close();
    if (hidden) ctx.stderr.write('\n');
  }
}

async function readStdin(ctx: CliContext): Promise<string> {
  let text = '';
  for await (const chunk of ctx.stdin as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  return text.replace(/\r?\n$/, '');
}

export function loginCommand(ctx: CliContext): Command {
  return new Command('login')
    .description('Authenticate to a registry')
    .argument('[server]')
    .option('-p, --password <value>', 'Password or Personal Access Token (PAT)')
    .option('--password-stdin', 'Take the Password or Personal Access Token (PAT) from stdin')
    .option('-u, --username <value>', 'Username')
    .action(async (server: string | undefined, options: { password?: string; passwordStdin?: boolean; username?: string }) => {
      if (options.password !== undefined && options.passwordStdin) throw new CliExit(1, 'berth: --password and --password-stdin are mutually exclusive');
      if (options.passwordStdin && !options.username) throw new CliExit(1, 'berth: Must provide --username with --password-stdin');
      if (options.password !== undefined) ctx.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      let password = options.passwordStdin ? await readStdin(ctx) : options.password;
      const username = options.username ?? (ctx.stdin.isTTY ? await prompt(ctx, 'Username: ', false) : '');
      if (!username) throw new CliExit(1, 'berth: Error: Non-null Username Required');
      if (password === undefined) {
        if (!ctx.stdin.isTTY) throw new CliExit(1, 'berth: Error: Cannot perform an interactive login from a non TTY device');
        password = await prompt(ctx, 'Password: ', true);
      }
      if (!password) throw new CliExit(1, 'berth: Error: Password Required');
      const key = serverKey(server);
      const answer = await ctx.client().checkRegistryLogin({ username, password, serveraddress: key === HUB_SERVER ? HUB_SERVER : key });
      const { helper } = await storeCredentials(key, answer.IdentityToken ? { identitytoken: answer.IdentityToken } : { username, password });
      if (!helper) {
        ctx.stderr.write(`WARNING! Your credentials are stored unencrypted in '${configPath()}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`);
      }
      ctx.stdout.write('Login Succeeded\n');
    });
}
