import { logAttributes, logSettings } from '../../src/engine/containers/log-config.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeHostConfig as completeSpecHostConfig, mergeContainerConfig as mergeSpecConfig, processEnv, DEFAULT_PATH } from '../../src/engine/containers/create-config.js';
import { decodeContainerSpec } from '../../src/api/decode/container-create.js';
import type { ContainerConfigFields } from '../../src/engine/images/image-config.js';
import { ALL_CGROUP_FEATURES } from '../helpers/fake-runtime.js';

// Each request goes through the API's decoder first, as a create body does.
const mergeContainerConfig = (body: Record<string, unknown>, image: ContainerConfigFields) => mergeSpecConfig(decodeContainerSpec(body).config, image);
const completeHostConfig = (hostConfig: unknown, runtime: string, rest: Record<string, unknown> = {}) => {
  const spec = decodeContainerSpec({ ...rest, HostConfig: hostConfig });
  return completeSpecHostConfig(spec.hostConfig, runtime, ALL_CGROUP_FEATURES).hostConfig;
};

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
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: [1] }, {}), /json: cannot unmarshal number into Go struct field CreateRequest\.Cmd of type string/);
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'], User: 5 }, {}), /json: cannot unmarshal number into Go struct field CreateRequest\.User of type string/);
});

test('host config defaults and refusals', () => {
  const host = completeHostConfig({ ConsoleSize: [30, 100], AutoRemove: true }, 'crun');
  assert.equal(host.Runtime, 'crun');
  assert.equal(host.ShmSize, 64 * 1024 * 1024);
  assert.deepEqual(host.ConsoleSize, [30, 100]);
  assert.equal(host.AutoRemove, true);
  assert.equal(completeHostConfig(undefined, 'runc').NetworkMode, 'default');
});

test('restart policies: moby\'s names, counts and messages; an empty name is "no"', () => {
  assert.deepEqual(completeHostConfig({ RestartPolicy: { Name: '' } }, 'crun').RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(completeHostConfig({}, 'crun').RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual(completeHostConfig({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }, 'crun').RestartPolicy, {
    Name: 'on-failure',
    MaximumRetryCount: 3,
  });
  assert.equal(completeHostConfig({ RestartPolicy: { Name: 'unless-stopped' } }, 'crun').RestartPolicy.Name, 'unless-stopped');
  const refused: Array<[unknown, string]> = [
    [{ Name: 'on-failure', MaximumRetryCount: -1 }, 'invalid restart policy: maximum retry count cannot be negative'],
    [{ Name: 'always', MaximumRetryCount: 2 }, "invalid restart policy: maximum retry count can only be used with 'on-failure'"],
    [{ Name: 'no', MaximumRetryCount: -2 }, "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative"],
    [{ Name: 'sometimes' }, "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
  ];
  for (const [policy, message] of refused) {
    assert.throws(() => completeHostConfig({ RestartPolicy: policy }, 'crun'), (err: Error) => err.message === message, JSON.stringify(policy));
  }
  assert.throws(
    () => completeHostConfig({ AutoRemove: true, RestartPolicy: { Name: 'always' } }, 'crun'),
    (err: Error) => err.message === "can't create 'AutoRemove' container with restart policy",
  );
});

test('the process environment has PATH, HOSTNAME and, with a tty, TERM, unless the config sets them', () => {
  const base = mergeContainerConfig({ Image: 'x', Cmd: ['true'], Tty: true }, {});
  assert.deepEqual(processEnv(base, 'abc'), [DEFAULT_PATH, 'HOSTNAME=abc', 'TERM=xterm']);
  const own = mergeContainerConfig({ Image: 'x', Cmd: ['true'], Env: ['PATH=/mine', 'TERM=dumb'], Tty: true }, {});
  assert.deepEqual(processEnv(own, 'abc'), ['HOSTNAME=abc', 'PATH=/mine', 'TERM=dumb']);
});

test('settings not carried out yet are refused, not ignored; the docker CLI\'s empty values pass', () => {
  assert.throws(() => completeHostConfig({ StorageOpt: { size: '1G' } }, 'crun'), /--storage-opt \(HostConfig\.StorageOpt\) is not supported yet/);
  assert.throws(() => completeHostConfig({ CpuRealtimePeriod: 1000 }, 'crun'), /--cpu-rt-period \(HostConfig\.CpuRealtimePeriod\) is not supported yet/);
  const dockerDefaults = {
    Binds: null, PortBindings: {}, Links: null, Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, VolumesFrom: null,
    Privileged: false, Memory: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: 0, Ulimits: [], Devices: [], PidMode: '',
    IpcMode: '', UTSMode: '', UsernsMode: '', CgroupParent: '', OomScoreAdj: 0, Init: null, SecurityOpt: null,
  };
  assert.doesNotThrow(() => completeHostConfig(dockerDefaults, 'crun'));
  assert.doesNotThrow(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'], Volumes: {}, Healthcheck: { Test: [] } }, {}));
});

test("Config.Volumes is the image's VOLUME entries and the request's, as moby merges them", () => {
  const merged = mergeContainerConfig({ Image: 'x', Cmd: ['true'], Volumes: { '/data': {}, '/cache': {} } }, { Volumes: { '/data': {}, '/var/lib/x': {} } });
  assert.deepEqual(merged.Volumes, { '/data': {}, '/var/lib/x': {}, '/cache': {} });
  assert.equal(mergeContainerConfig({ Image: 'x', Cmd: ['true'] }, {}).Volumes, null);
});

test('wrong JSON types and out-of-range numbers are refused with Go\'s decoder messages (issue 12 item 5)', () => {
  const refused: Array<[Record<string, unknown>, RegExp]> = [
    [{ Labels: { a: 1 } }, /cannot unmarshal number into Go struct field CreateRequest\.Labels of type string/],
    [{ Tty: 'yes' }, /cannot unmarshal string into Go struct field CreateRequest\.Tty of type bool/],
    [{ HostConfig: 'x' }, /cannot unmarshal string into Go struct field CreateRequest\.HostConfig of type HostConfig/],
    [{ HostConfig: { ShmSize: 'abc' } }, /cannot unmarshal string into Go struct field HostConfig\.HostConfig\.ShmSize of type int64/],
    [{ HostConfig: { ShmSize: 1e300 } }, /cannot unmarshal number 1e\+300 into Go struct field HostConfig\.HostConfig\.ShmSize of type int64/],
    [{ HostConfig: { Memory: 1.5 } }, /HostConfig\.HostConfig\.Memory of type int64/],
    [{ HostConfig: { BlkioWeight: 70000 } }, /HostConfig\.HostConfig\.BlkioWeight of type uint16/],
    [{ HostConfig: { Binds: 'x' } }, /HostConfig\.HostConfig\.Binds of type \[\]string/],
    [{ HostConfig: { LogConfig: { Config: { a: 1 } } } }, /HostConfig\.HostConfig\.LogConfig\.Config of type string/],
    [{ NetworkingConfig: { EndpointsConfig: [] } }, /NetworkingConfig\.EndpointsConfig of type EndpointsConfig/],
  ];
  for (const [body, message] of refused) {
    assert.throws(() => decodeContainerSpec({ Image: 'x', Cmd: ['true'], ...body }), message, JSON.stringify(body));
  }
});

test('values of the right type that Docker refuses at create: negative ShmSize, unknown capability', () => {
  assert.throws(() => completeHostConfig({ ShmSize: -1 }, 'crun'), /SHM size can not be less than 0/);
  assert.throws(() => completeHostConfig({ CapAdd: ['NOPE'] }, 'crun'), /unknown capability: "CAP_NOPE"/);
  assert.doesNotThrow(() => completeHostConfig({ CapAdd: 'chown', CapDrop: ['ALL'] }, 'crun'));
  assert.throws(() => completeHostConfig({ Isolation: 'hyperv' }, 'crun'), /invalid isolation: "hyperv" - linux only supports 'default'/);
  assert.throws(() => completeHostConfig({ CgroupnsMode: 'shared' }, 'crun'), /invalid cgroup namespace mode: shared/);
  assert.equal(completeHostConfig({ CgroupnsMode: 'private' }, 'crun').CgroupnsMode, 'private');
  assert.equal(completeHostConfig({}, 'crun').CgroupnsMode, 'host');
  assert.throws(() => completeHostConfig({ PidMode: 'guest' }, 'crun'), /^BerthError: invalid PID mode: guest$/);
  assert.throws(() => completeHostConfig({ IpcMode: 'container:' }, 'crun'), /invalid IPC mode: container:/);
  assert.throws(() => completeHostConfig({ UTSMode: 'private' }, 'crun'), /invalid UTS mode: private/);
  assert.throws(() => completeHostConfig({ UsernsMode: 'remap' }, 'crun'), /invalid USER mode: remap/);
  assert.throws(() => completeHostConfig({ CgroupParent: '/a/../..' }, 'crun'), /invalid cgroup parent/);
  assert.doesNotThrow(() => completeHostConfig({ Isolation: 'default', CgroupnsMode: 'host' }, 'crun'));
  assert.throws(() => completeHostConfig({ Memory: -5 }, 'crun'), /^BerthError: Minimum memory limit allowed is 6MB$/);
  assert.throws(() => completeHostConfig({ Memory: 1 }, 'crun'), /^BerthError: Minimum memory limit allowed is 6MB$/);
  assert.doesNotThrow(() => completeHostConfig({ Memory: 0 }, 'crun'));
});

test('an unknown stop signal is Docker\'s 400 at create, not a failure at stop', () => {
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'], StopSignal: 'SIGFOO' }, {}), /Invalid signal: SIGFOO/);
  assert.throws(() => mergeContainerConfig({ Image: 'x', Cmd: ['true'] }, { StopSignal: 'SIGFOO' }), /Invalid signal: SIGFOO/);
  assert.equal(mergeContainerConfig({ Image: 'x', Cmd: ['true'], StopSignal: 'SIGUSR1' }, {}).StopSignal, 'SIGUSR1');
  assert.equal(mergeContainerConfig({ Image: 'x', Cmd: ['true'], StopSignal: '9' }, {}).StopSignal, '9');
});

test('the log driver is reported as Docker would: json-file by default; unknown, other drivers and options refused (item 14)', () => {
  assert.deepEqual(completeHostConfig({}, 'crun').LogConfig, { Type: 'json-file', Config: {} });
  assert.deepEqual(completeHostConfig({ LogConfig: { Type: '', Config: {} } }, 'crun').LogConfig, { Type: 'json-file', Config: {} });
  assert.throws(() => completeHostConfig({ LogConfig: { Type: 'nosuch' } }, 'crun'), /logger: no log driver named 'nosuch' is registered/);
  assert.throws(() => completeHostConfig({ LogConfig: { Type: 'syslog' } }, 'crun'), /log driver "syslog" \(--log-driver\) is not supported yet/);
});

test('log drivers json-file, local and none with their options, checked as moby checks them', () => {
  const config = (Type: string, Config: Record<string, string>) => completeHostConfig({ LogConfig: { Type, Config } }, 'crun').LogConfig;
  assert.deepEqual(config('json-file', { 'max-size': '1m', 'max-file': '3', labels: 'a', env: 'B', tag: 't' }), {
    Type: 'json-file',
    Config: { 'max-size': '1m', 'max-file': '3', labels: 'a', env: 'B', tag: 't' },
  });
  assert.deepEqual(config('local', {}), { Type: 'local', Config: {} });
  assert.deepEqual(config('none', {}), { Type: 'none', Config: {} });
  assert.deepEqual(logSettings({ Type: 'json-file', Config: { 'max-size': '10k' } }), { kept: true, maxSize: 10_000, maxFile: 1 });
  assert.deepEqual(logSettings({ Type: 'local', Config: {} }), { kept: true, maxSize: 20 * 1024 * 1024, maxFile: 5 });
  assert.deepEqual(logSettings({ Type: 'local', Config: { 'max-size': '1k', 'max-file': '2' } }), { kept: true, maxSize: 1024, maxFile: 2 });
  assert.deepEqual(logSettings({ Type: 'none', Config: {} }), { kept: false, maxFile: 1 });
  assert.throws(() => config('json-file', { 'max-size': '1q' }), /invalid suffix: 'q'/);
  assert.throws(() => config('json-file', { 'max-size': '0' }), /max-size must be a positive number/);
  assert.throws(() => config('json-file', { 'max-file': '0' }), /max-file cannot be less than 1/);
  assert.throws(() => config('json-file', { 'max-file': 'x' }), /strconv.Atoi: parsing "x": invalid syntax/);
  assert.throws(() => config('json-file', { 'mode': 'non-blocking' }), /unknown log opt 'mode' for json-file log driver/);
  assert.throws(() => config('local', { labels: 'a' }), /unknown log opt 'labels' for log driver local/);
  assert.throws(() => config('json-file', { compress: 'true', 'max-size': '1m', 'max-file': '2' }), /"compress" .* not supported yet/);
});

test('log attributes for --details: the labels and variables the options name, in byte order', () => {
  const labels = { app: 'web', tier: 'front', other: 'x' };
  const env = ['PATH=/bin', 'REGION=eu west', 'EMPTY='];
  assert.deepEqual(logAttributes({ labels: 'tier,app,missing', env: 'REGION' }, labels, env), [['REGION', 'eu west'], ['app', 'web'], ['tier', 'front']]);
  assert.deepEqual(logAttributes({ 'labels-regex': '^o', 'env-regex': '^EMP' }, labels, env), [['EMPTY', ''], ['other', 'x']]);
  assert.deepEqual(logAttributes({}, labels, env), []);
});

test('the network mode is kept as sent (networks check it and a MacAddress at create)', () => {
  const spec = decodeContainerSpec({ Image: 'x', HostConfig: { NetworkMode: 'default' } });
  const { hostConfig, warnings } = completeSpecHostConfig(spec.hostConfig, 'crun', ALL_CGROUP_FEATURES);
  assert.equal(hostConfig.NetworkMode, 'default');
  assert.deepEqual(warnings, []);
  assert.equal(completeHostConfig({ NetworkMode: 'host' }, 'crun').NetworkMode, 'host');
  assert.equal(completeHostConfig(undefined, 'runc').NetworkMode, 'default');
});

test('ports published in host network mode are discarded with moby\'s warning', () => {
  const warningsOf = (hostConfig: Record<string, unknown>) => completeSpecHostConfig(decodeContainerSpec({ HostConfig: hostConfig }).hostConfig, 'crun', ALL_CGROUP_FEATURES).warnings;
  const ports = { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } };
  assert.deepEqual(warningsOf({ NetworkMode: 'host', ...ports }), ['Published ports are discarded when using host network mode']);
  assert.deepEqual(warningsOf({ NetworkMode: 'bridge', ...ports }), []);
  assert.deepEqual(warningsOf({ NetworkMode: 'host', PortBindings: {} }), []);
});
