import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeccompBpfCache } from '../../src/runtime/seccomp-bpf-cache.js';
import type { OciSpec } from '../../src/runtime/oci-spec.js';

function spec(defaultAction: string): OciSpec {
  return { linux: { seccomp: { defaultAction, syscalls: [] } } } as unknown as OciSpec;
}

test('a profile compiled once is passed to crun as a program; other profiles and runc are left alone', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-bpf-'));
  try {
    const crun = { name: 'crun', path: '/usr/bin/crun', root };
    const cache = new SeccompBpfCache();
    const first = spec('SCMP_ACT_ERRNO');
    const key = cache.prepare(first, crun);
    assert.ok(key, 'the first container compiles the section');
    assert.ok(first.linux.seccomp);
    await mkdir(join(root, 'c1'));
    await writeFile(join(root, 'c1', 'seccomp.bpf'), Buffer.alloc(16, 7));
    await cache.remember(key, crun, 'c1');

    const second = spec('SCMP_ACT_ERRNO');
    assert.equal(cache.prepare(second, crun), undefined);
    assert.equal(second.linux.seccomp, undefined);
    assert.equal(second.annotations?.['run.oci.seccomp_bpf_data'], Buffer.alloc(16, 7).toString('base64'));

    const other = spec('SCMP_ACT_KILL');
    assert.ok(cache.prepare(other, crun));
    assert.ok(other.linux.seccomp);
    const runcSpec = spec('SCMP_ACT_ERRNO');
    assert.equal(cache.prepare(runcSpec, { ...crun, name: 'runc' }), undefined);
    assert.ok(runcSpec.linux.seccomp, 'runc has no such annotation');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a missing or malformed program is not remembered', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-bpf-'));
  try {
    const crun = { name: 'crun', path: '/usr/bin/crun', root };
    const cache = new SeccompBpfCache();
    const key = cache.prepare(spec('X'), crun)!;
    await cache.remember(key, crun, 'absent');
    await mkdir(join(root, 'odd'));
    await writeFile(join(root, 'odd', 'seccomp.bpf'), Buffer.alloc(5));
    await cache.remember(key, crun, 'odd');
    assert.ok(cache.prepare(spec('X'), crun), 'still compiled by crun');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
