import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addContainerFlags, buildCreateRequest, type ContainerFlags } from '../../src/cli/container-flags.js';
import { splitImageTag } from '../../src/cli/image-name.js';
import { apiTimestamp } from '../../src/cli/since-time.js';
import { ramInBytes } from '../../src/cli/run-option-values.js';

/** Parses a `run` command line with the real flag definitions, capturing what the action gets. */
function parseRun(args: string[]): { image: string; command: string[]; flags: ContainerFlags } {
  let parsed: { image: string; command: string[]; flags: ContainerFlags } | undefined;
  const run = addContainerFlags(new Command('run'))
    .option('-d, --detach')
    .action((image: string, command: string[], flags: ContainerFlags) => {
      parsed = { image, command, flags };
    });
  new Command('berth').enablePositionalOptions().addCommand(run).parse(['run', ...args], { from: 'user' });
  assert.ok(parsed);
  return parsed;
}

test('run stops parsing options at the image and keeps the command verbatim', () => {
  const { image, command, flags } = parseRun(['-it', '--rm', '--name', 'x', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(image, 'busybox');
  assert.deepEqual(command, ['sh', '-c', 'exit 3']);
  assert.equal(flags.interactive, true);
  assert.equal(flags.tty, true);
  assert.equal(flags.rm, true);
  assert.equal(flags.name, 'x');
});

test('-h is the hostname and -e repeats', () => {
  const { flags } = parseRun(['-h', 'box', '-e', 'A=1', '-e', 'B=2', '--shm-size', '64m', 'busybox']);
  assert.equal(flags.hostname, 'box');
  assert.deepEqual(flags.env, ['A=1', 'B=2']);
  assert.equal(flags.shmSize, 64 * 1024 * 1024);
});

test('the create request follows the docker CLI for -it --rm', () => {
  const { image, command, flags } = parseRun(['-it', '--rm', 'busybox', 'sh']);
  const request = buildCreateRequest(image, command, flags, [30, 100]);
  assert.equal(request.Image, 'busybox');
  assert.deepEqual(request.Cmd, ['sh']);
  assert.deepEqual(
    [request.AttachStdin, request.AttachStdout, request.AttachStderr, request.Tty, request.OpenStdin, request.StdinOnce],
    [true, true, true, true, true, true],
  );
  assert.equal(request.HostConfig.AutoRemove, true);
  assert.deepEqual(request.HostConfig.ConsoleSize, [30, 100]);
  assert.equal(request.Env, null);
  assert.equal(request.Entrypoint, null);
});

test('-d attaches nothing and an empty --entrypoint clears it', () => {
  const { image, command, flags } = parseRun(['-d', '--entrypoint', '', 'busybox']);
  const request = buildCreateRequest(image, command, flags);
  assert.deepEqual([request.AttachStdin, request.AttachStdout, request.AttachStderr, request.StdinOnce], [false, false, false, false]);
  assert.deepEqual(request.Entrypoint, ['']);
  assert.equal(request.Cmd, null);
});

test('image references split into name and tag for a pull', () => {
  assert.deepEqual(splitImageTag('nosuchimage:1'), { name: 'nosuchimage', tag: '1' });
  assert.deepEqual(splitImageTag('busybox'), { name: 'busybox', tag: 'latest' });
  assert.deepEqual(splitImageTag('localhost:5000/app'), { name: 'localhost:5000/app', tag: 'latest' });
  assert.deepEqual(splitImageTag('app@sha256:abc'), { name: 'app@sha256:abc' });
});

test('--since takes seconds, durations and dates', () => {
  const now = new Date(1_700_000_000_000);
  assert.equal(apiTimestamp('1699999000', now), '1699999000');
  assert.equal(apiTimestamp('10m', now), String(1_700_000_000 - 600));
  assert.equal(apiTimestamp('1h30m', now), String(1_700_000_000 - 5400));
  assert.equal(apiTimestamp('2023-11-14T22:13:20Z', now), '1700000000');
  assert.equal(ramInBytes('1g'), 1024 ** 3);
});

test('--network (and the older --net) set the network mode; without it the daemon picks the default', () => {
  for (const args of [['--network', 'none', 'busybox'], ['--net', 'none', 'busybox'], ['--network=none', 'busybox']]) {
    const { image, command, flags } = parseRun(args);
    assert.equal(buildCreateRequest(image, command, flags).HostConfig.NetworkMode, 'none', args.join(' '));
  }
  const { image, command, flags } = parseRun(['busybox']);
  assert.equal(buildCreateRequest(image, command, flags).HostConfig.NetworkMode, 'default');
});
