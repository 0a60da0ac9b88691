import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createContext } from '../../src/cli/context.js';
import { bashCompletion } from '../../src/cli/commands/completion.js';
import { buildProgram } from '../../src/cli/main.js';

const script = bashCompletion(buildProgram(createContext(() => undefined)));

/** What bash offers for a command line whose last word is being completed. */
function complete(line: string[]): string[] {
  // `berth` stands in for the daemon's answers: two containers, one image.
  const probe = `
berth() { case "$1" in ps) printf 'web\\ndb\\n' ;; images) printf 'busybox:latest\\n<none>:<none>\\n' ;; esac; }
${script}
COMP_WORDS=(${line.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${line.length - 1}
_berth
printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', probe], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

test('commands, then the flags of the command being typed', () => {
  assert.deepEqual(complete(['berth', 'ev']), ['events']);
  assert.deepEqual(complete(['berth', '-H', 'unix:///x.sock', 'ru']), ['run']);
  assert.deepEqual(complete(['berth', 'run', '--rm', '--net']), ['--network']);
  assert.deepEqual(complete(['berth', 'events', '--s']), ['--since']);
  assert.deepEqual(complete(['berth', 'image', '']).filter((word) => !word.startsWith('-')), ['busybox', 'history', 'import', 'inspect', 'ls', 'prune', 'pull', 'rm', 'tag']);
  assert.deepEqual(complete(['berth', 'image', 'ls', '--q']), ['--quiet']);
});

test('container and image names where a command takes them, nothing after a flag that takes a value', () => {
  assert.deepEqual(complete(['berth', 'stop', '']), ['db', 'web']);
  assert.deepEqual(complete(['berth', 'logs', '-f', 'w']), ['web']);
  assert.deepEqual(complete(['berth', 'run', '--rm', 'bu']), ['busybox:latest']);
  assert.deepEqual(complete(['berth', 'run', '--name', '']), []);
});

test('the script is valid bash and falls back to file names (for --env-file and the like)', () => {
  execFileSync('bash', ['-n'], { input: script });
  assert.match(script, /complete -o default -F _berth berth\n$/);
});

test('berth completion zsh wraps the bash script in bashcompinit; other shells are refused', async () => {
  const out: string[] = [];
  const ctx = { ...createContext(() => undefined), stdout: { write: (text: string) => out.push(text) } as unknown as NodeJS.WriteStream };
  await buildProgram(ctx, ['completion', 'zsh']).parseAsync(['completion', 'zsh'], { from: 'user' });
  assert.match(out.join(''), /^autoload -U \+X compinit && compinit\nautoload -U \+X bashcompinit && bashcompinit\n# bash completion/);
  await assert.rejects(buildProgram(ctx, ['completion', 'fish']).parseAsync(['completion', 'fish'], { from: 'user' }), /unsupported shell "fish"/);
});
