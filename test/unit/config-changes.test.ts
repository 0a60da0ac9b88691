import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfigChanges } from '../../src/engine/images/config-changes.js';

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
