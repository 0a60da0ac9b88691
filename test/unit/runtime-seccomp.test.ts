import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CAPABILITIES } from '../../src/runtime/capabilities.js';
import { kernelAtLeast, loadSeccompProfile, seccompFor, toOciSeccomp, type OciSeccomp, type SeccompProfile } from '../../src/runtime/seccomp.js';

const allowed = (filter: OciSeccomp | undefined, name: string) =>
  filter?.syscalls.filter((rule) => rule.action === 'SCMP_ACT_ALLOW' && rule.names.includes(name)) ?? [];

const amd64 = (capabilities: readonly string[], kernel = '6.1.0') => ({ arch: 'amd64', kernel, capabilities });

test("Docker's profile on amd64: x86 architectures, default errno action", async () => {
  const filter = toOciSeccomp(await loadSeccompProfile(), amd64(DEFAULT_CAPABILITIES));
  assert.equal(filter?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(filter?.defaultErrnoRet, 1);
  assert.deepEqual(filter?.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.equal(allowed(filter, 'arch_prctl').length, 1); // includes.arches amd64
  assert.equal(allowed(filter, 'riscv_flush_icache').length, 0);
  for (const rule of filter?.syscalls ?? []) assert.deepEqual(Object.keys(rule).filter((k) => !['names', 'action', 'errnoRet', 'args'].includes(k)), []);
});

test('syscalls gated by CAP_SYS_ADMIN appear only when the capability is added', async () => {
  const byDefault = await seccompFor([], []);
  assert.equal(allowed(byDefault, 'mount').length, 0);
  assert.equal(allowed(byDefault, 'setns').length, 0);
  // Without CAP_SYS_ADMIN clone is allowed only without namespace flags, and clone3 gets ENOSYS.
  assert.ok(allowed(byDefault, 'clone').every((rule) => rule.args?.[0]?.op === 'SCMP_CMP_MASKED_EQ'));
  assert.deepEqual(
    byDefault?.syscalls.find((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO'),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  );

  const withAdmin = await seccompFor(['SYS_ADMIN'], []);
  assert.equal(allowed(withAdmin, 'mount').length, 1);
  assert.ok(allowed(withAdmin, 'clone').some((rule) => rule.args === undefined));
  assert.equal(withAdmin?.syscalls.find((r) => r.names.includes('clone3') && r.action === 'SCMP_ACT_ERRNO'), undefined);
});

test('dropping CAP_SYS_CHROOT removes chroot', async () => {
  assert.equal(allowed(await seccompFor([], []), 'chroot').length, 1);
  assert.equal(allowed(await seccompFor([], ['SYS_CHROOT']), 'chroot').length, 0);
});

test('minKernel includes and excludes compare major.minor', () => {
  const profile: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['new_call'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.8' } },
      { names: ['old_call'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '5.8' } },
      { name: 'single', action: 'SCMP_ACT_ALLOW' },
    ],
  };
  const names = (kernel: string) => toOciSeccomp(profile, amd64([], kernel))?.syscalls.flatMap((r) => r.names);
  assert.deepEqual(names('5.10.0-28-amd64'), ['new_call', 'single']);
  assert.deepEqual(names('4.19.0'), ['old_call', 'single']);
  assert.ok(kernelAtLeast('6.18.44-fc', '6.18') && !kernelAtLeast('5.7', '5.8') && kernelAtLeast('10.0', '9.9'));
});

test('a profile without a default action or rules disables seccomp; a malformed one is rejected', () => {
  assert.equal(toOciSeccomp({ defaultAction: '' }, amd64([])), undefined);
  assert.throws(
    () => toOciSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }] }, amd64([])),
    { kind: 'invalid-parameter' },
  );
  assert.throws(
    () => toOciSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, amd64([])),
    { kind: 'invalid-parameter' },
  );
});

test('the parsed profile is cached', async () => {
  assert.equal(await loadSeccompProfile(), await loadSeccompProfile());
});
