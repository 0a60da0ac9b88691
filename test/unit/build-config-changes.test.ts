/**
 * `commit --change` / `import --change` through the build's own parser and evaluator (moby's
 * BuildFromConfig): the same cases as config-changes.test.ts, plus what only a real parser gets
 * right (substitution from the config's ENV, continuations, the escape directive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDockerfileChanges } from '../../src/engine/build/config-changes.js';

test('CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL', () => {
  const config = applyDockerfileChanges({ Env: ['PATH=/bin', 'A=1'] }, [
    'CMD ["sh"]',
    'ENTRYPOINT echo hi',
    'ENV PATH=/usr/local/bin:$PATH',
    'ENV GREETING hello world',
    'ENV X="two words" Y=$A',
    'LABEL a=b "c d"=e',
    'EXPOSE 80 53/udp',
    'VOLUME ["/data"]',
    'USER nobody',
    'WORKDIR /srv',
    'WORKDIR app',
    'STOPSIGNAL SIGINT',
  ]);
  assert.deepEqual(config.Cmd, ['sh'], 'a CMD set in the same changes survives ENTRYPOINT');
  assert.equal(applyDockerfileChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["e"]']).Cmd, null, 'an inherited CMD does not');
  assert.deepEqual(config.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(config.Env, ['PATH=/usr/local/bin:/bin', 'A=1', 'GREETING=hello world', 'X=two words', 'Y=1']);
  assert.deepEqual(config.Labels, { a: 'b', 'c d': 'e' });
  assert.deepEqual(config.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(config.Volumes, { '/data': {} });
  assert.equal(config.User, 'nobody');
  assert.equal(config.WorkingDir, '/srv/app');
  assert.equal(config.StopSignal, 'SIGINT');
});

test('unknown or incomplete instructions are rejected in Docker words', () => {
  assert.throws(() => applyDockerfileChanges({}, ['RUN echo']), /RUN is not a valid change command/);
  assert.throws(() => applyDockerfileChanges({}, ['ENV']), /ENV requires at least one argument/);
  assert.throws(() => applyDockerfileChanges({}, ['EXPOSE http']), /invalid containerPort: http/);
  assert.throws(() => applyDockerfileChanges({}, ['FROM x']), /FROM is not a valid change command/);
});

test('HEALTHCHECK: both forms, options, NONE', () => {
  assert.deepEqual(applyDockerfileChanges({}, ['HEALTHCHECK --interval=5s --timeout=1m30s --start-period=500ms --retries=4 CMD ["curl", "-f", "x"]']).Healthcheck, {
    Test: ['CMD', 'curl', '-f', 'x'],
    Interval: 5e9,
    Timeout: 90e9,
    StartPeriod: 5e8,
    Retries: 4,
  });
  assert.deepEqual(applyDockerfileChanges({}, ['HEALTHCHECK CMD test -e /ready || exit 1']).Healthcheck, { Test: ['CMD-SHELL', 'test -e /ready || exit 1'] });
  assert.deepEqual(applyDockerfileChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
});

test('a change spanning lines with continuations, and no changes at all', () => {
  const config = applyDockerfileChanges({}, ['LABEL a=1 \\', '  b=2']);
  assert.deepEqual(config.Labels, { a: '1', b: '2' });
  const same = { Cmd: ['x'] };
  assert.equal(applyDockerfileChanges(same, []), same);
  assert.equal(applyDockerfileChanges({ Env: ['P=/p'] }, ['WORKDIR $P/x']).WorkingDir, '/p/x');
});
