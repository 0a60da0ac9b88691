/**
 * A command line that cannot be parsed is answered in the docker CLI's words and with its exit
 * code, checked against the docker CLI itself (/usr/local/bin/docker): it parses the line before
 * it needs a daemon. Only the usage line differs (each CLI shows its own synopsis).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';

const DOCKER = '/usr/local/bin/docker';

/** Each line as the docker CLI answers it, its usage line left out. */
function docker(args: string[]): { code: number; text: string } {
  const result = spawnSync(DOCKER, args, { env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' }, encoding: 'utf8' });
  return { code: result.status!, text: withoutUsage(result.stderr) };
}

async function berth(args: string[]): Promise<{ code: number; text: string }> {
  const stderr: string[] = [];
  const sink = { write: (text: string) => stderr.push(text) } as unknown as NodeJS.WriteStream;
  const write = process.stderr.write;
  process.stderr.write = sink.write as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, text: withoutUsage(stderr.join('')).replaceAll('berth', 'docker') };
  } finally {
    process.stderr.write = write;
  }
}

/** The text with its "Usage:" paragraph (one or more lines) taken out. */
const withoutUsage = (text: string) => text.replace(/\nUsage: {2}[^]*?\n\n/, '\n[usage]\n\n');

test('usage errors: the flag and operand errors of the docker CLI, word for word, with its exit codes', async () => {
  const lines = [
    ['run', '--nosuch'],
    ['run', '-Z', 'busybox'],
    ['ps', '-aZ'],
    ['ps', '-Za'],
    ['run', '--name'],
    ['run', '-e'],
    ['--nosuch'],
    ['-H'],
    ['image', 'ls', '--nosuch'],
    ['run'],
    ['rm'],
    ['tag', 'x'],
    ['logs'],
    ['network', 'create'],
    ['image', 'nosuch'],
    ['nosuch'],
    ['ps', 'extra'],
    ['version', 'x'],
    ['tag', 'a', 'b', 'c'],
    ['logs', 'a', 'b'],
    ['commit'],
    ['commit', 'a', 'b', 'c'],
    ['port', 'a', 'b', 'c'],
    ['volume', 'create', 'a', 'b'],
    ['images', 'a', 'b'],
    ['top'],
    ['import'],
    ['import', '/nonexistent/a', 'b', 'c'],
    ['update', 'a'],
    ['system', 'info', 'a'],
    ['run', '--rm=maybe', 'busybox'],
    ['ps', '-a=maybe'],
    ['ps', '--all=false', 'extra'],
  ];
  for (const line of lines) assert.deepEqual(await berth(line), docker(line), line.join(' '));
});
