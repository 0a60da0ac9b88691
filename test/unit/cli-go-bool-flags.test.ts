import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addContainerFlags } from '../../src/cli/container-flags.js';
import { resolveBoolFlagValues } from '../../src/cli/go-bool-flags.js';

const run = () => addContainerFlags(new Command('run')).option('-d, --detach').passThroughOptions();
const invalid = (value: string, flag: string): never => {
  throw new Error(`invalid ${value} for ${flag}`);
};
const resolve = (args: string[], command = run()) => resolveBoolFlagValues(command, args, invalid);

test('a boolean flag takes a Go bool after "=": true is the bare flag, false drops it', () => {
  assert.deepEqual(resolve(['--rm=true', '--name', 'x', 'busybox']), ['--rm', '--name', 'x', 'busybox']);
  for (const no of ['false', '0', 'f', 'F', 'FALSE', 'False']) assert.deepEqual(resolve([`--rm=${no}`, 'busybox']), ['busybox']);
  for (const yes of ['true', '1', 't', 'T', 'TRUE', 'True']) assert.deepEqual(resolve([`-d=${yes}`, 'busybox']), ['--detach', 'busybox']);
});

test('the last occurrence wins, also over a letter in a group of short flags', () => {
  assert.deepEqual(resolve(['--rm', '-it', '--rm=false', '--tty=false', 'busybox', 'sh']), ['-i', 'busybox', 'sh']);
  assert.deepEqual(resolve(['-t', '--tty=false', '--tty=1', 'busybox']), ['--tty', 'busybox']);
});

test("flags' values and the container's command line are left alone", () => {
  assert.deepEqual(resolve(['-e', '--rm=false', 'busybox', 'ls', '--rm=false']), ['-e', '--rm=false', 'busybox', 'ls', '--rm=false']);
  assert.deepEqual(resolve(['--name=x', '-p8080:80', '--', '--rm=0']), ['--name=x', '-p8080:80', '--', '--rm=0']);
});

test('a value that is not a Go bool is reported with the flag as typed', () => {
  assert.throws(() => resolve(['--rm=maybe', 'busybox']), /invalid maybe for --rm/);
  assert.throws(() => resolve(['-d=yes', 'busybox']), /invalid yes for -d, --detach/);
});
