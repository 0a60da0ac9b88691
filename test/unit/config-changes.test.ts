import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfigChanges } from '../../src/engine/images/config-changes.js';
import { goDuration, goDurationMs } from '../../src/common/go-duration.js';

test('CMD and ENTRYPOINT take JSON or shell form', () => {
  const config = applyConfigChanges({}, ['CMD ["sh"]', 'ENTRYPOINT echo hi']);
  assert.deepEqual(config.Cmd, ['sh']);
  assert.deepEqual(config.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
});

test('ENV replaces earlier values and accepts both forms', () => {
  const config = applyConfigChanges({ Env: ['PATH=/bin', 'A=1'] }, [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV GREETING hello world',
    'ENV X="two words" Y=3',
  ]);
  assert.deepEqual(config.Env, [
    'A=1',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'GREETING=hello world',
    'X=two words',
    'Y=3',
  ]);
});

test('LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL', () => {
  const config = applyConfigChanges({}, [
    'LABEL a=b "c d"=e',
    'EXPOSE 80 53/udp',
    'VOLUME ["/data"]',
    'USER nobody',
    'WORKDIR /srv',
    'WORKDIR app',
    'STOPSIGNAL SIGINT',
  ]);
  assert.deepEqual(config.Labels, { a: 'b', 'c d': 'e' });
  assert.deepEqual(config.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(config.Volumes, { '/data': {} });
  assert.equal(config.User, 'nobody');
  assert.equal(config.WorkingDir, '/srv/app');
  assert.equal(config.StopSignal, 'SIGINT');
});

test('unknown or incomplete instructions are rejected', () => {
  assert.throws(() => applyConfigChanges({}, ['RUN echo']), /RUN is not a valid change command/);
  assert.throws(() => applyConfigChanges({}, ['ENV']), /ENV requires at least one argument/);
  assert.throws(() => applyConfigChanges({}, ['EXPOSE http']), /invalid containerPort/);
});

test('HEALTHCHECK: CMD in JSON or shell form with its options, NONE, and the parser\'s errors', () => {
  assert.deepEqual(applyConfigChanges({}, ['HEALTHCHECK --interval=5s --timeout=1m30s --start-period=500ms --retries=4 CMD ["curl", "-f", "x"]']).Healthcheck, {
    Test: ['CMD', 'curl', '-f', 'x'],
    Interval: 5e9,
    Timeout: 90e9,
    StartPeriod: 5e8,
    Retries: 4,
  });
  assert.deepEqual(applyConfigChanges({}, ['HEALTHCHECK CMD test -e /ready || exit 1']).Healthcheck, { Test: ['CMD-SHELL', 'test -e /ready || exit 1'] });
  assert.deepEqual(applyConfigChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
  assert.throws(() => applyConfigChanges({}, ['HEALTHCHECK NONE now']), /HEALTHCHECK NONE takes no arguments/);
  assert.throws(() => applyConfigChanges({}, ['HEALTHCHECK RUN true']), /Unknown type "RUN" in HEALTHCHECK \(try CMD\)/);
  assert.throws(() => applyConfigChanges({}, ['HEALTHCHECK --retries=-1 CMD true']), /--retries cannot be negative/);
  assert.throws(() => applyConfigChanges({}, ['HEALTHCHECK --interval=soon CMD true']), /time: invalid duration "soon"/);
});

test('Go durations: parsed as time.ParseDuration, printed as Duration.String()', () => {
  assert.equal(goDurationMs('1h2m3.5s'), 3_723_500);
  assert.equal(goDurationMs('-250ms'), -250);
  assert.equal(goDurationMs('0'), 0);
  assert.equal(goDurationMs('5'), undefined);
  assert.deepEqual([3e11, 3e10, 1.5e9, 3e8, 2500, 7].map(goDuration), ['5m0s', '30s', '1.5s', '300ms', '2.5µs', '7ns']);
  assert.equal(goDuration(3_723_500_000_000), '1h2m3.5s');
});
