import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeHostConfig, mergeContainerConfig, processEnv, DEFAULT_PATH } from '../../src/engine/containers/create-config.js';

const image = { Env: ['PATH=/img/bin', 'A=image'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/srv', User: 'nobody', Labels: { from: 'image' } };

test('image values fill what the user left empty; user Env overrides by key', () => {
  const config = mergeContainerConfig({ Image: 'busybox', Env: ['A=user', 'B=2'], Labels: { mine: 'yes' } }, image);
  assert.deepEqual(config.Cmd, ['sh']);
  assert.equal(config.Entrypoint, null);
  assert.equal(config.WorkingDir, '/srv');
  assert.equal(config.User, 'nobody');
  assert.deepEqual(config.Env, ['PATH=/img/bin', 'A=user', 'B=2']);
  assert.deepEqual(config.Labels, { from: 'image', mine: 'yes' });
});

test('an explicit entrypoint drops the image Cmd; an empty one drops the image entrypoint', () => {
  const withEntrypoint = mergeContainerConfig({ Image: 'x', Entrypoint: ['echo'] }, { Cmd: ['ignored'], Entrypoint: ['/init'] });
  assert.deepEqual(withEntrypoint.Entrypoint, ['echo']);
  assert.equal(withEntrypoint.Cmd, null);
  const cleared = mergeContainerConfig({ Image: 'x', Entrypoint: [''], Cmd: ['true'] }, { Entrypoint: ['/init'] });
  assert.equal(cleared.Entrypoint, null);
  assert.deepEqual(cleared.Cmd, ['true']);
  const inherited = mergeContainerConfig({ Image: 'x', Cmd: ['ls'] }, { Entrypoint: ['/init'], Cmd: ['default'] });
  assert.deepEqual([inherited.Entrypoint, inherited.Cmd], [['/init'], ['ls']]);
});

test('no command at all, a relative workdir and wrong types are refused', () => {
  assert.throws(() => mergeContainerConfig({ Image: 'x' }, {}), /No command specified/);
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'], WorkingDir: 'rel' }, {}), /needs to be an absolute path/);
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: [1] }, {}), /invalid Cmd/);
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'], User: 5 }, {}), /invalid User/);
});

test('host config defaults and refusals', () => {
  const host = completeHostConfig({ ConsoleSize: [30, 100], AutoRemove: true }, 'crun');
  assert.equal(host.Runtime, 'crun');
  assert.equal(host.ShmSize, 64 * 1024 * 1024);
  assert.deepEqual(host.ConsoleSize, [30, 100]);
  assert.equal(host.AutoRemove, true);
  assert.equal(completeHostConfig(undefined, 'runc').NetworkMode, 'default');
  assert.throws(() => completeHostConfig({ RestartPolicy: { Name: 'always' } }, 'crun'), /restart policy "always" is not supported/);
  assert.throws(() => completeHostConfig({ NetworkMode: 'host' }, 'crun'), /network mode "host" is not supported/);
});

test('the process environment has PATH, HOSTNAME and, with a tty, TERM, unless the config sets them', () => {
  const base = mergeContainerConfig({ Image: 'x', Cmd: ['true'], Tty: true }, {});
  assert.deepEqual(processEnv(base, 'abc'), [DEFAULT_PATH, 'HOSTNAME=abc', 'TERM=xterm']);
  const own = mergeContainerConfig({ Image: 'x', Cmd: ['true'], Env: ['PATH=/mine', 'TERM=dumb'], Tty: true }, {});
  assert.deepEqual(processEnv(own, 'abc'), ['HOSTNAME=abc', 'PATH=/mine', 'TERM=dumb']);
});

test('settings not carried out yet are refused, not ignored; the docker CLI\'s empty values pass', () => {
  assert.throws(() => completeHostConfig({ Binds: ['/tmp:/x'] }, 'crun'), /-v\/--volume \(HostConfig\.Binds\) is not supported yet/);
  assert.throws(() => completeHostConfig({ PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, 'crun'), /-p\/--publish/);
  assert.throws(() => completeHostConfig({ Memory: 64 << 20 }, 'crun'), /-m\/--memory/);
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'], Volumes: { '/data': {} } }, {}), /Config\.Volumes/);
  const dockerDefaults = {
    Binds: null, PortBindings: {}, Links: null, Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, VolumesFrom: null,
    Privileged: false, Memory: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: 0, Ulimits: [], Devices: [], PidMode: '',
    IpcMode: '', UTSMode: '', UsernsMode: '', CgroupParent: '', OomScoreAdj: 0, Init: null, SecurityOpt: null,
  };
  assert.doesNotThrow(() => completeHostConfig(dockerDefaults, 'crun'));
  assert.doesNotThrow(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'], Volumes: {}, Healthcheck: { Test: [] } }, {}));
});
