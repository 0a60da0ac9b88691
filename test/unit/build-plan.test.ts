/**
 * The build plan (stage graph, --target, step numbering, meta ARGs) and the stage evaluator:
 * image config and history (created_by) exactly as Docker's classic builder records them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBuild, stepLine } from '../../src/engine/build/build-plan.js';
import { checkPlatform, hostPlatform } from '../../src/engine/build/platform.js';
import { parseInstructions, parseTrigger } from '../../src/engine/build/instruction-parser.js';
import { StageEvaluator, type StepAction } from '../../src/engine/build/stage-evaluator.js';

/** Evaluates the target stage of `text` on `base`, returning each step's created_by (COPY hashed as `file:h`). */
function history(text: string, base = {}, buildArgs = {}) {
  const plan = planBuild(parseInstructions(text), { buildArgs });
  const stage = plan.stages.at(-1)!;
  const evaluator = StageEvaluator.beginStage(base, plan.args.forStage(), plan.lex);
  const actions: StepAction[] = stage.stage.commands.map((command) => evaluator.step(command));
  const createdBy = actions.map((action) => (action.kind === 'copy' ? action.record('file:h').createdBy : action.createdBy));
  return { evaluator, actions, createdBy };
}

test('created_by of every config-only instruction, as docker history shows them', () => {
  const { createdBy, evaluator } = history(
    [
      'FROM busybox',
      'MAINTAINER Jane <jane@example.com>',
      'ENV PATH=/x:$PATH GREETING="hello world"',
      'LABEL version=1.0 "description"="a b"',
      'CMD ["sh"]',
      'CMD echo hi',
      'ENTRYPOINT ["/entry.sh"]',
      'EXPOSE 80 53/udp',
      'VOLUME /data /logs',
      'USER nobody',
      'STOPSIGNAL SIGQUIT',
      'HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1',
      'ONBUILD RUN echo child',
      'SHELL ["/bin/bash", "-c"]',
      'CMD echo bash',
    ].join('\n'),
    { Env: ['PATH=/usr/bin'] },
  );
  assert.deepEqual(createdBy, [
    '/bin/sh -c #(nop)  MAINTAINER Jane <jane@example.com>',
    '/bin/sh -c #(nop)  ENV PATH=/x:/usr/bin GREETING=hello world',
    '/bin/sh -c #(nop)  LABEL version=1.0 description=a b',
    '/bin/sh -c #(nop)  CMD ["sh"]',
    '/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo hi"]',
    '/bin/sh -c #(nop)  ENTRYPOINT ["/entry.sh"]',
    '/bin/sh -c #(nop)  EXPOSE 53/udp 80',
    '/bin/sh -c #(nop)  VOLUME [/data /logs]',
    '/bin/sh -c #(nop)  USER nobody',
    '/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT',
    `/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/ || exit 1"] "5m0s" "3s" "0s" "0s" '\\x00'}`,
    '/bin/sh -c #(nop)  ONBUILD RUN echo child',
    '/bin/bash -c #(nop)  SHELL [/bin/bash -c]', // committed with the new shell
    '/bin/bash -c #(nop)  CMD ["/bin/bash" "-c" "echo bash"]',
  ]);
  assert.equal(evaluator.maintainer, 'Jane <jane@example.com>');
  assert.deepEqual(evaluator.config, {
    Env: ['PATH=/x:/usr/bin', 'GREETING=hello world'],
    OnBuild: ['RUN echo child'],
    Labels: { version: '1.0', description: 'a b' },
    Cmd: ['/bin/bash', '-c', 'echo bash'],
    ArgsEscaped: false,
    Entrypoint: ['/entry.sh'],
    ExposedPorts: { '53/udp': {}, '80/tcp': {} },
    Volumes: { '/data': {}, '/logs': {} },
    User: 'nobody',
    StopSignal: 'SIGQUIT',
    Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 300e9, Timeout: 3e9 },
    Shell: ['/bin/bash', '-c'],
  });
});

test('RUN records the build args in scope: |N K=v before the command', () => {
  const { actions, createdBy } = history(
    'FROM busybox\nRUN plain\nARG B=2 A\nRUN echo $A$B\nENV B=env\nRUN again',
    {},
    { A: '1', HTTP_PROXY: 'http://proxy:3128', UNUSED: 'x' },
  );
  assert.deepEqual(createdBy, [
    '|0 /bin/sh -c plain', // only the proxy arg is in scope, and it stays out of the history
    '/bin/sh -c #(nop)  ARG B=2 A',
    '|2 A=1 B=2 /bin/sh -c echo $A$B',
    '/bin/sh -c #(nop)  ENV B=env',
    '|1 A=1 /bin/sh -c again', // ENV B wins over ARG B
  ]);
  const run = actions[2]!;
  assert.equal(run.kind, 'run');
  if (run.kind !== 'run') return;
  assert.deepEqual(run.command, ['/bin/sh', '-c', 'echo $A$B']);
  assert.deepEqual(run.env.sort(), ['A=1', 'B=2', 'HTTP_PROXY=http://proxy:3128', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  assert.deepEqual(run.probe.Cmd, ['|2', 'A=1', 'B=2', '/bin/sh', '-c', 'echo $A$B']);
  assert.throws(() => history('FROM x\nRUN --mount=type=cache,target=/c true'), /the --mount option requires BuildKit/);
});

test('COPY, ADD and WORKDIR: one-word comments, substituted paths, destinations made absolute', () => {
  const { actions, createdBy, evaluator } = history(
    'FROM busybox\nENV D=/srv\nWORKDIR $D\nWORKDIR app\nCOPY --chown=${UID:-1000} a b sub/\nADD x.tar.gz /\nCOPY --from=other:1 --chmod=0640 f /abs',
  );
  assert.deepEqual(createdBy.slice(1), [
    '/bin/sh -c #(nop) WORKDIR /srv',
    '/bin/sh -c #(nop) WORKDIR /srv/app',
    '/bin/sh -c #(nop) COPY --chown=1000 file:h in sub/ ',
    '/bin/sh -c #(nop) ADD file:h in / ',
    '/bin/sh -c #(nop) COPY --chmod=0640 file:h in /abs ',
  ]);
  assert.equal(evaluator.config.WorkingDir, '/srv/app');
  const [copy, add] = [actions[3]!, actions[4]!];
  assert.ok(copy.kind === 'copy' && add.kind === 'copy');
  if (copy.kind !== 'copy' || add.kind !== 'copy') return;
  assert.equal(copy.dest, '/srv/app/sub/');
  assert.deepEqual(copy.instruction.sources, ['a', 'b']);
  assert.equal(add.decompress, true);
  assert.throws(() => history('FROM x\nCOPY https://example.com/f /f'), /source can't be a URL for COPY/);
  assert.equal(copy.decompress, false);
});

test('a base image: default PATH added, ONBUILD triggers handed over and cleared, ENTRYPOINT resets CMD', () => {
  const evaluator = StageEvaluator.beginStage({ Cmd: ['sh'], OnBuild: ['RUN echo child'] }, planBuild(parseInstructions('FROM x')).args, planBuild(parseInstructions('FROM x')).lex);
  assert.deepEqual(evaluator.triggers, ['RUN echo child']);
  assert.equal(evaluator.config.OnBuild, null);
  assert.deepEqual(evaluator.config.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  const [entrypoint] = parseInstructions('FROM x\nENTRYPOINT ["e"]').stages[0]!.commands;
  evaluator.step(entrypoint!);
  assert.equal(evaluator.config.Cmd, null);
});

test('bad values found when the step is reached', () => {
  assert.throws(() => history('FROM x\nEXPOSE 80/xyz'), /invalid proto: xyz/);
  assert.throws(() => history('FROM x\nEXPOSE abc'), /invalid containerPort: abc/);
  assert.throws(() => history('FROM x\nSTOPSIGNAL SIGNOPE'), (err: Error) => err.name === 'BerthError');
  assert.throws(() => history('FROM x\nVOLUME $NOTHING'), /VOLUME specified can not be an empty string/);
  assert.throws(() => history('FROM x\nUSER ${NAME:?must be set}'), /NAME: must be set/);
  const { evaluator } = history('FROM x\nEXPOSE 8000-8002 1.2.3.4:90:90/UDP');
  assert.deepEqual(Object.keys(evaluator.config.ExposedPorts!).sort(), ['8000/tcp', '8001/tcp', '8002/tcp', '90/udp']);
});

const MULTI = [
  'ARG BASE=busybox',
  'ARG TAG',
  'FROM ${BASE}:${TAG:-latest} AS deps',
  'RUN make deps',
  'FROM deps AS build',
  'RUN make',
  'FROM busybox AS unrelated',
  'RUN never',
  'FROM scratch AS tools',
  'COPY tool /tool',
  'FROM busybox',
  'COPY --from=build /out /out',
  'COPY --from=3 /tool /tool',
  'COPY --from=registry.local/img:1 /x /x',
].join('\n');

test('stages the target does not need are not built; steps numbered over what is built', () => {
  const plan = planBuild(parseInstructions(MULTI), { buildArgs: { TAG: '1.36' }, labels: { z: '1', a: 'b c' } });
  assert.deepEqual(
    plan.stages.map((s) => [s.stage.index, s.base, s.needs, s.firstStep]),
    [
      [0, { kind: 'image', reference: 'busybox:1.36' }, [], 3],
      [1, { kind: 'stage', index: 0 }, [0], 5],
      [3, { kind: 'scratch' }, [], 7],
      [4, { kind: 'image', reference: 'busybox' }, [1, 3], 9],
    ],
  );
  assert.equal(plan.totalSteps, 14); // 2 meta ARGs, 4 FROMs, 6 instructions, 2 labels
  const last = plan.stages.at(-1)!.stage.commands.slice(-2);
  assert.deepEqual(last.map((c) => c.code), ['LABEL a=b c', 'LABEL z=1']);
  assert.equal(stepLine(plan.stages[1]!.firstStep, plan.totalSteps, plan.stages[1]!.stage.code), 'Step 5/14 : FROM deps AS build');

  const target = planBuild(parseInstructions(MULTI), { target: 'BUILD' });
  assert.deepEqual(target.stages.map((s) => s.stage.index), [0, 1]);
  assert.deepEqual(target.stages[0]!.base, { kind: 'image', reference: 'busybox:latest' });
  assert.equal(target.totalSteps, 6);
});

test('stage graph errors: unknown target, repeated names, --from of the current or a later stage', () => {
  assert.throws(() => planBuild(parseInstructions(MULTI), { target: 'nope' }), { message: 'target stage "nope" could not be found' });
  assert.throws(() => planBuild(parseInstructions('FROM a AS x\nFROM b AS x\n')), { message: 'x stage name already used' });
  assert.throws(() => planBuild(parseInstructions('FROM a\nCOPY --from=0 / /\n')), /invalid from flag value 0: refers to current build stage/);
  assert.throws(() => planBuild(parseInstructions('FROM a\nCOPY --from=3 / /\n')), /invalid from flag value 3: index out of bounds/);
  assert.throws(() => planBuild(parseInstructions('ARG B\nFROM $B\n')), /base name \(\$B\) should not be blank/);
  // A FROM naming a later stage means an image of that name, as in Docker.
  assert.deepEqual(planBuild(parseInstructions('FROM later\nFROM busybox AS later\n'), { target: 'later' }).stages.map((s) => s.base), [
    { kind: 'image', reference: 'busybox' },
  ]);
});

test('meta ARGs: --build-arg overrides, later ones see earlier ones, a stage re-declares them', () => {
  const plan = planBuild(parseInstructions('ARG A=1\nARG B=${A}2\nFROM busybox\nARG B\nRUN echo $B'), { buildArgs: { A: 'x' } });
  const evaluator = StageEvaluator.beginStage({}, plan.args.forStage(), plan.lex);
  const [arg, run] = plan.stages[0]!.stage.commands.map((command) => evaluator.step(command));
  assert.equal(arg!.kind === 'config' && arg!.createdBy, '/bin/sh -c #(nop)  ARG B');
  assert.equal(run!.kind === 'run' && run!.createdBy, '|1 B=x2 /bin/sh -c echo $B');
  assert.deepEqual(plan.args.unusedOptions(), []);
  const unused = planBuild(parseInstructions('FROM x'), { buildArgs: { NOPE: '1', HTTP_PROXY: 'p', ALSO: null } }).args;
  assert.deepEqual(unused.unusedOptions(), ['ALSO', 'NOPE']);
  assert.equal(unused.unusedWarning(), '[Warning] One or more build-args [ALSO NOPE] were not consumed');
  assert.equal(plan.args.unusedWarning(), undefined);
});

test('--platform of FROM: substituted, normalised, another platform refused by name', () => {
  const arch = hostPlatform().split('/')[1];
  const plan = planBuild(parseInstructions(`ARG P=linux/${arch}\nFROM --platform=$P busybox\n`));
  assert.equal(plan.stages[0]!.platform, hostPlatform());
  assert.equal(checkPlatform('linux'), hostPlatform());
  assert.throws(() => planBuild(parseInstructions('FROM --platform=windows/amd64 x\n')), /platform windows\/amd64 is not supported: this host runs linux\/\w+ images only/);
  assert.throws(() => checkPlatform('linux/amd64/v8/extra'), /failed to parse platform/);
});

test('RUN heredocs as BuildKit runs them: the body as the script, a #! script as a file, a heredoc fed to a command', () => {
  const { actions, createdBy } = history(
    ['FROM busybox', 'RUN <<EOF', 'echo one', 'echo two', 'EOF', 'RUN <<-EOT', '\t#!/bin/sh', '\techo script', '\tEOT', 'RUN cat <<A >/a && cat <<B >/b', 'first', 'A', 'second', 'B'].join('\n'),
  );
  const runs = actions.map((action) => (action.kind === 'run' ? { command: action.command, script: action.script } : undefined));
  assert.deepEqual(runs, [
    { command: ['/bin/sh', '-c', 'echo one\necho two\n'], script: undefined },
    { command: ['/bin/sh', '-c', '/dev/pipes/EOT'], script: { path: '/dev/pipes/EOT', data: '#!/bin/sh\necho script\n' } },
    { command: ['/bin/sh', '-c', 'cat <<A >/a && cat <<B >/b\nfirst\nA\nsecond\nB'], script: undefined },
  ]);
  assert.equal(createdBy[0], '/bin/sh -c echo one\necho two\n');
  assert.throws(() => history(['FROM busybox', 'RUN <<"../../tmp/x"', '#!/bin/sh', 'true', '../../tmp/x'].join('\n')), /a heredoc run as a script cannot be named \.\.\/\.\.\/tmp\/x/);
});

test('the histories and configs Docker 20.10 recorded for the shared fixture images (fixture/app, fixture/caps)', () => {
  const base = { Cmd: ['sh'] }; // fixture/base:1, imported: no Env
  const app = history(
    'FROM fixture/base:1\nRUN echo hello > /hello && mkdir -p /d && echo x > /d/f && rm /bin/vi\nLABEL fixture=1\nENV A=1\n',
    base,
  );
  assert.deepEqual(app.createdBy, [
    '/bin/sh -c echo hello > /hello && mkdir -p /d && echo x > /d/f && rm /bin/vi',
    '/bin/sh -c #(nop)  LABEL fixture=1',
    '/bin/sh -c #(nop)  ENV A=1',
  ]);
  assert.deepEqual(app.evaluator.config, {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1'],
    Cmd: ['sh'],
    Labels: { fixture: '1' },
    OnBuild: null,
  });
  assert.deepEqual(app.actions[2]!.kind === 'config' && app.actions[2]!.probe.Cmd, ['/bin/sh', '-c', '#(nop) ', 'ENV A=1'], "the image's container_config.Cmd");
  const caps = history('FROM fixture/base:1\nADD caps.tar /\nLABEL fixture=caps\n', base);
  const add = caps.actions[0]!;
  assert.ok(add.kind === 'copy');
  if (add.kind !== 'copy') return;
  assert.equal(
    add.record('file:10ede71284769c9bb8e6f4237dd2d015ae50e4862965a7bb9bc36c61e6a95205').createdBy,
    '/bin/sh -c #(nop) ADD file:10ede71284769c9bb8e6f4237dd2d015ae50e4862965a7bb9bc36c61e6a95205 in / ',
  );
  assert.equal(caps.createdBy[1], '/bin/sh -c #(nop)  LABEL fixture=caps');
});

test('ONBUILD: recorded by the parent build, run first by the child build as parsed triggers', () => {
  const parent = history('FROM busybox\nONBUILD COPY --chown=1 app /app\nONBUILD RUN echo $GREETING', {});
  assert.deepEqual(parent.evaluator.config.OnBuild, ['COPY --chown=1 app /app', 'RUN echo $GREETING']);
  const plan = planBuild(parseInstructions('FROM parent\nENV GREETING=hi\n'));
  const child = StageEvaluator.beginStage(parent.evaluator.config, plan.args.forStage(), plan.lex);
  assert.deepEqual(child.triggers, ['COPY --chown=1 app /app', 'RUN echo $GREETING']);
  assert.equal(child.config.OnBuild, null, 'the child image does not inherit the triggers');
  const actions = child.triggers.map((trigger) => child.step(parseTrigger(trigger)));
  assert.equal(actions[0]!.kind === 'copy' && actions[0]!.record('file:h').createdBy, '/bin/sh -c #(nop) COPY --chown=1 file:h in /app ');
  assert.equal(actions[1]!.kind === 'run' && actions[1]!.createdBy, '/bin/sh -c echo $GREETING');
});
