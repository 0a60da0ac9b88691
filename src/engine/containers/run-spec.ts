/**
 * The OCI spec of one run of a container: its record, its mounted rootfs and its planned mounts
 * turned into what the runtime executes. The runtime writes the bundle; nothing here touches it.
 */
import { buildOciSpec, type OciSpec } from '../../runtime/oci-spec.js';
import { seccompFor } from '../../runtime/seccomp.js';
import { resolveUser } from '../../runtime/user.js';
import { processEnv } from './create-config.js';
import type { ContainerRecord } from './model.js';
import { ociMounts, planMounts } from './mount-plan.js';
import { ociResources, ociRlimits, resourceFields } from './resource-limits.js';

export async function buildRunSpec(record: ContainerRecord, rootfs: string): Promise<OciSpec> {
  const { config, hostConfig } = record;
  const capAdd = hostConfig.CapAdd ?? [];
  const capDrop = hostConfig.CapDrop ?? [];
  const [height, width] = hostConfig.ConsoleSize;
  return buildOciSpec({
    rootfs,
    args: [record.path, ...record.args],
    env: processEnv(config, config.Hostname),
    cwd: config.WorkingDir || '/',
    user: await resolveUser(rootfs, config.User),
    hostname: config.Hostname,
    domainname: config.Domainname,
    tty: config.Tty,
    consoleSize: config.Tty ? { height, width } : undefined,
    mounts: ociMounts(planMounts(record)),
    capAdd,
    capDrop,
    readonlyRootfs: hostConfig.ReadonlyRootfs,
    cgroupsPath: '', // the runtime places it (PARENT/ID)
    shmSize: hostConfig.ShmSize,
    privileged: false,
    seccomp: await seccompFor(capAdd, capDrop),
    resources: ociResources(resourceFields(hostConfig)),
    rlimits: ociRlimits(hostConfig.Ulimits as Parameters<typeof ociRlimits>[0]),
    oomScoreAdj: typeof hostConfig.OomScoreAdj === 'number' ? hostConfig.OomScoreAdj : 0,
  });
}
