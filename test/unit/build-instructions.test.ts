/**
 * Typed instructions from Dockerfile text: Docker's argument checks and messages (from
 * buildkit's instructions/parse_test.go), flags, stages, heredoc sources, HEALTHCHECK options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInstructions, parseTrigger } from '../../src/engine/build/instruction-parser.js';
import type { Instruction, InstructionOf } from '../../src/engine/build/instructions.js';

const only = (text: string): Instruction => parseInstructions(`FROM busybox\n${text}\n`).stages[0]!.commands[0]!;
const as = <K extends Instruction['kind']>(instruction: Instruction, kind: K) => {
  assert.equal(instruction.kind, kind);
  return instruction as InstructionOf<K>;
};
const fails = (text: string, message: string) =>
  assert.throws(() => parseInstructions(`FROM busybox\n${text}\n`), { message: `dockerfile parse error on line 2: ${message}` });

test('argument counts, in Docker words', () => {
  for (const command of ['MAINTAINER', 'WORKDIR', 'USER', 'STOPSIGNAL']) fails(command, `${command} requires exactly one argument`);
  for (const command of ['ENV', 'LABEL', 'ONBUILD', 'HEALTHCHECK', 'EXPOSE', 'VOLUME', 'ARG']) fails(command, `${command} requires at least one argument`);
  for (const command of ['ADD', 'COPY']) {
    fails(`${command} arg1`, `${command} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  fails('ENV =x', 'ENV names can not be blank');
  fails('ENV a', 'ENV must have two arguments');
  fails('LABEL a=b c', `Syntax error - can't find = in "c". Must be of the form: name=value`);
  fails('SHELL /bin/sh -c', 'SHELL requires the arguments to be in JSON form');
  fails('RUNN echo', 'unknown instruction: RUNN (did you mean RUN?)');
  fails('FOO bar', 'unknown instruction: FOO (did you mean FROM?)');
  fails('BUILDME x', 'unknown instruction: BUILDME');
});

test('flags: known ones per instruction, unknown, duplicate, missing value', () => {
  const copy = as(only('COPY --from=build --chown=1:2 --chmod=640 --link a b /dst/'), 'copy');
  assert.deepEqual([copy.from, copy.chown, copy.chmod, copy.link, copy.sources, copy.dest], ['build', '1:2', '640', true, ['a', 'b'], '/dst/']);
  fails('COPY --fro=x a b', 'unknown flag: --fro (did you mean from?)');
  fails('COPY --from=a --from=b a b', 'duplicate flag specified: --from');
  fails('COPY --chown a b', 'missing a value on flag: --chown');
  fails('COPY --link=maybe a b', 'expecting boolean value for flag --link, not: maybe');
  fails('ADD --from=x a b', 'unknown flag: --from');
  const add = as(only('ADD --unpack=false --checksum=sha256:abc https://x/y /y'), 'add');
  assert.deepEqual([add.unpack, add.checksum], [false, 'sha256:abc']);
  const run = as(only('RUN --mount=type=cache,target=/c --network=none make'), 'run');
  assert.deepEqual(run.flagsUsed, ['mount', 'network']);
});

test('FROM: stage names, AS in any case, --platform, invalid names', () => {
  const { stages, metaArgs } = parseInstructions('ARG V=1\nFROM --platform=linux/amd64 busybox:$V As Build\nRUN true\nfrom build\n');
  assert.equal(metaArgs.length, 1);
  assert.deepEqual(
    stages.map((s) => [s.index, s.name, s.baseName, s.platform, s.code, s.commands.length]),
    [
      [0, 'build', 'busybox:$V', 'linux/amd64', 'FROM --platform=linux/amd64 busybox:$V As Build', 1],
      [1, '', 'build', '', 'from build', 0],
    ],
  );
  assert.throws(() => parseInstructions('FROM a AS 1x\n'), /line 1: invalid name for build stage: "1x", name can't start with a number or contain symbols/);
  assert.throws(() => parseInstructions('FROM a b\n'), /line 1: FROM requires either one or three arguments/);
  assert.throws(() => parseInstructions('RUN true\n'), /line 1: no build stage in current context/);
});

test('RUN, CMD, ENTRYPOINT: shell and exec forms, heredoc files', () => {
  assert.deepEqual(as(only('RUN echo  hi'), 'run').cmdLine, ['echo  hi']);
  const exec = as(only('CMD ["a", "b"]'), 'cmd');
  assert.deepEqual([exec.cmdLine, exec.prependShell], [['a', 'b'], false]);
  assert.equal(as(only('ENTRYPOINT []'), 'entrypoint').cmdLine, null);
  assert.deepEqual(as(only('CMD []'), 'cmd').cmdLine, []);
  const heredoc = as(only('RUN <<EOF\necho one\nEOF'), 'run');
  assert.deepEqual(heredoc.files, [{ name: 'EOF', data: 'echo one\n', chomp: false }]);
  assert.deepEqual(heredoc.cmdLine, ['<<EOF']);
});

test('COPY and ADD heredocs become file contents; a heredoc destination is refused', () => {
  const copy = as(only('COPY <<-EOT <<"RAW" /files/\n\tchomped $X\n\tEOT\nraw $X\nRAW'), 'copy');
  assert.deepEqual(copy.contents, [
    { path: 'EOT', data: 'chomped $X\n', expand: true },
    { path: 'RAW', data: 'raw $X\n', expand: false },
  ]);
  assert.deepEqual(copy.sources, []);
  fails('COPY a <<EOF\nx\nEOF', 'COPY cannot accept a heredoc as a destination');
});

test('ENV, LABEL and ARG pairs keep quotes for later substitution', () => {
  assert.deepEqual(as(only('ENV A="x y" B=$A'), 'env').env, [
    { key: 'A', value: '"x y"' },
    { key: 'B', value: '$A' },
  ]);
  assert.deepEqual(as(only('ENV LEGACY hello   world'), 'env').env, [{ key: 'LEGACY', value: 'hello   world' }]);
  assert.deepEqual(as(only('ARG A B=2 C='), 'arg').args, [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '' }]);
  fails('ARG =x', 'ARG names can not be blank');
});

test('HEALTHCHECK: options in nanoseconds, CMD-SHELL for the shell form, NONE, bad values', () => {
  const health = as(only('HEALTHCHECK --interval=5m --timeout=3s --start-period=1s --start-interval=500ms --retries=3 CMD curl -f http://x/'), 'healthcheck').health;
  assert.deepEqual(health, {
    test: ['CMD-SHELL', 'curl -f http://x/'],
    interval: 300e9,
    timeout: 3e9,
    startPeriod: 1e9,
    startInterval: 500e6,
    retries: 3,
  });
  assert.deepEqual(as(only('HEALTHCHECK CMD ["true"]'), 'healthcheck').health.test, ['CMD', 'true']);
  assert.deepEqual(as(only('HEALTHCHECK none'), 'healthcheck').health.test, ['NONE']);
  fails('HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments');
  fails('HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD');
  fails('HEALTHCHECK TEST x', 'Unknown type "TEST" in HEALTHCHECK (try CMD)');
  fails('HEALTHCHECK --interval=1us CMD x', 'Interval "interval" cannot be less than 1ms');
  fails('HEALTHCHECK --timeout=abc CMD x', 'time: invalid duration "abc"');
  fails('HEALTHCHECK --retries=-1 CMD x', '--retries cannot be negative (-1)');
});

test('ONBUILD: the trigger text, heredocs appended; forbidden triggers', () => {
  assert.equal(as(only('ONBUILD RUN echo hi'), 'onbuild').expression, 'RUN echo hi');
  assert.equal(as(only('onbuild COPY <<EOF /x\nbody\nEOF'), 'onbuild').expression, 'COPY <<EOF /x\nbody\nEOF');
  fails('ONBUILD ONBUILD RUN x', "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  fails('ONBUILD FROM x', "FROM isn't allowed as an ONBUILD trigger");
  fails('ONBUILD MAINTAINER x', "MAINTAINER isn't allowed as an ONBUILD trigger");
  assert.equal(parseTrigger('COPY <<EOF /x\nbody\nEOF').kind, 'copy');
  assert.throws(() => parseTrigger('RUN a\nRUN b'), /onbuild trigger should be a single expression/);
});

test('EXPOSE sorts as written; VOLUME JSON and list forms; MAINTAINER is still accepted', () => {
  assert.deepEqual(as(only('EXPOSE 8080 443/udp 80'), 'expose').ports, ['443/udp', '80', '8080']);
  assert.deepEqual(as(only('VOLUME ["/a", "/b"]'), 'volume').volumes, ['/a', '/b']);
  assert.deepEqual(as(only('VOLUME /a /b'), 'volume').volumes, ['/a', '/b']);
  assert.equal(as(only('MAINTAINER Jane <jane@example.com>'), 'maintainer').maintainer, 'Jane <jane@example.com>');
});
