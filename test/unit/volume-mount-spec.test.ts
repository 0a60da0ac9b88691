/** The mount syntaxes of a create request, against moby's linux_parser rules and messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMountRequest, parseTmpfsMap, parseVolumesFrom, tmpfsData, tmpfsOptions } from '../../src/engine/volumes/mount-spec.js';
import { rootfsPropagation } from '../../src/engine/volumes/mount-propagation.js';
import { parseMountFlag } from '../../src/cli/mount-flags.js';

test('-v: binds, named and anonymous volumes, with modes', () => {
  assert.deepEqual(parseBind('/src:/dst:ro,rslave'), {
    Type: 'bind',
    Source: '/src',
    Destination: '/dst',
    RW: false,
    Name: '',
    Driver: '',
    Mode: 'ro,rslave',
    Propagation: 'rslave',
    CopyData: false,
    Spec: { Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
  });
  const named = parseBind('data:/var/lib/x/:nocopy', 'plug');
  assert.deepEqual([named.Type, named.Name, named.Destination, named.Driver, named.CopyData, named.RW], ['volume', 'data', '/var/lib/x', 'plug', false, true]);
  const anonymous = parseBind('/cache');
  assert.deepEqual([anonymous.Type, anonymous.Name, anonymous.CopyData], ['volume', '', true]);
  assert.equal(parseBind('/a:/b:z').Mode, 'z');
  assert.equal(parseBind('/a:/b').Propagation, 'rprivate');
});

test('-v: moby\'s messages for bad specifications', () => {
  const refused = (raw: string, message: string) => assert.throws(() => parseBind(raw), (err: Error) => err.message === message);
  refused('/a:ro', "invalid volume specification: '/a:ro'");
  refused(':/b', "invalid volume specification: ':/b'");
  refused('/a:/b:c:d:e', "invalid volume specification: '/a:/b:c:d:e'");
  refused('/a:/b:bogus', 'invalid mode: bogus');
  refused('/a:/b:ro,rw', 'invalid mode: ro,rw');
  refused('/a:rel', "invalid volume specification: '/a:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
  refused('/a:/', "invalid volume specification: '/a:/': invalid mount config for type \"bind\": invalid specification: destination can't be '/'");
});

test('--mount entries: checks and messages of moby\'s validateMountConfig', () => {
  const refused = (value: unknown, message: string) => assert.throws(() => parseMountRequest(value), (err: Error) => err.message === message);
  refused({ Type: 'bind', Target: '/x' }, 'invalid mount config for type "bind": field Source must not be empty');
  refused({ Type: 'bind', Source: 'rel', Target: '/x' }, "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
  refused({ Type: 'bind', Source: '/a', Target: '/x', BindOptions: { Propagation: 'sideways' } }, 'invalid mount config for type "bind": invalid propagation mode: sideways');
  refused({ Type: 'volume', Target: '/x', ReadOnly: true }, 'invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes');
  refused({ Type: 'tmpfs', Source: '/a', Target: '/x' }, 'invalid mount config for type "tmpfs": field Source must not be specified');
  refused({ Type: 'volume', Target: '' }, 'invalid mount config for type "volume": field Target must not be empty');
  refused({ Type: 'weird', Target: '/x' }, 'invalid mount config for type "weird": mount type unknown');
  refused({ Type: 'bind', Source: 3, Target: '/x' }, 'json: cannot unmarshal number into Go struct field Mount.HostConfig.Mounts.Source of type string');
  const point = parseMountRequest({ Type: 'volume', Source: 'v', Target: '/x/', VolumeOptions: { NoCopy: true, DriverConfig: { Name: 'd' } } });
  assert.deepEqual([point.Name, point.Destination, point.CopyData, point.Driver, point.Mode], ['v', '/x', false, 'd', '']);
});

test('tmpfs: moby\'s size suffixes, modes and option merging', () => {
  assert.equal(tmpfsData({ Type: 'tmpfs', Target: '/t', ReadOnly: true, TmpfsOptions: { SizeBytes: 2 * 2 ** 20, Mode: 0o1770, Options: [['exec']] } }), 'ro,mode=1770,size=2m,exec');
  assert.equal(tmpfsData({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1000 } }), 'size=1000');
  assert.throws(() => tmpfsData({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { Options: [['suid']] } }), /invalid option: suid/);
  assert.deepEqual(tmpfsOptions('size=1m,exec'), ['nosuid', 'nodev', 'rprivate', 'size=1m', 'exec']);
  assert.deepEqual(tmpfsOptions(''), ['noexec', 'nosuid', 'nodev', 'rprivate']);
  assert.deepEqual(parseTmpfsMap({ '/run/': 'size=1m' }), [{ destination: '/run', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m'] }]);
  assert.throws(() => parseTmpfsMap({ rel: '' }), /mount path must be absolute/);
});

test('--volumes-from: the mode defaults to rw; propagation and copy modes are refused', () => {
  assert.deepEqual(parseVolumesFrom('c1'), { container: 'c1', mode: 'rw' });
  assert.deepEqual(parseVolumesFrom('c1:ro'), { container: 'c1', mode: 'ro' });
  assert.throws(() => parseVolumesFrom('c1:rshared'), /invalid mode: rshared/);
  assert.throws(() => parseVolumesFrom('c1:nocopy'), /invalid mode: nocopy/);
  assert.throws(() => parseVolumesFrom(''), /volumes-from specification cannot be an empty string/);
});

test('the root propagates when a bind does: rshared over rslave', () => {
  assert.equal(rootfsPropagation(['rprivate', 'rslave']), 'rslave');
  assert.equal(rootfsPropagation(['slave', 'shared']), 'rshared');
  assert.equal(rootfsPropagation(['rprivate', '']), undefined);
});

test('the CLI\'s --mount syntax (CSV, keys and aliases, messages)', () => {
  assert.deepEqual(parseMountFlag('type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared'), [
    { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rshared' } },
  ]);
  assert.deepEqual(parseMountFlag('source=v,target=/d,volume-opt=type=tmpfs,volume-opt=o=size=1m,volume-label=a=b,volume-nocopy'), [
    { Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: { DriverConfig: { Options: { type: 'tmpfs', o: 'size=1m' } }, Labels: { a: 'b' }, NoCopy: true } },
  ]);
  assert.deepEqual(parseMountFlag('type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=700'), [
    { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 2 ** 20, Mode: 0o700 } },
  ]);
  assert.deepEqual(parseMountFlag('"type=bind","src=/a,b",dst=/c'), [{ Type: 'bind', Source: '/a,b', Target: '/c' }]);
  assert.throws(() => parseMountFlag('type=bind,src=/a,dst=/b,colour=red'), /unexpected key 'colour' in 'colour=red'/);
  assert.throws(() => parseMountFlag('type=bind,src=/a'), /target is required/);
  assert.throws(() => parseMountFlag('type=tmpfs,dst=/t,volume-nocopy'), /cannot mix 'volume-\*' options with mount type 'tmpfs'/);
  assert.throws(() => parseMountFlag('src'), /invalid field 'src' must be a key=value pair/);
});
