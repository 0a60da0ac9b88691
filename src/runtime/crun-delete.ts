/**
 * `crun delete` of an ended run without a crun process. For a container whose processes are all
 * gone, crun's delete kills nothing: it removes the cgroups, runs the poststop hooks and removes
 * its state folder ROOT/ID (libcrun's container_delete_internal). With no hooks and no Intel RDT
 * in the spec (berthd sets neither), and the cgroups removed by berthd in any case
 * (removeContainerCgroups), the folder is all that is left. So when the run's init had a PID
 * namespace of its own (the kernel kills the rest of the namespace before the init's exit is
 * reported), conmon is given no exit command and berthd removes the folder itself, once conmon
 * has recorded the exit: conmon's `crun delete` (a fork, crun's start-up twice) took 5–9 ms of
 * every `run --rm` on the way to its answer. Runs that share a PID namespace (what is left of
 * them must be killed) keep crun's own delete, which conmon runs as its exit command.
 *
 * Other runtimes get no exit command: their delete, run by conmon as soon as a short-lived
 * program ends, raced their own `start` (runc start removes the exec fifo after it has released
 * the init, and failed with "remove …/exec.fifo: no such file or directory" once runc delete had
 * removed the state folder under it); berthd runs their delete after the exit (ConmonRuntime).
 * crun's start is berthd's own (crun-start.ts), over before the program can run.
 */
import { join } from 'node:path';
import { removeTree } from '../native/index.js';
import type { OciSpec } from './oci-spec.js';
import type { Runtime } from './runtime.js';

/** Whether berthd deletes this run's runtime state itself once its exit is recorded. */
export function deletesEndedRunItself(runtime: Runtime, spec: OciSpec): boolean {
  return runtime.name === 'crun' && ownPidNamespace(spec);
}

/** Whether conmon runs the runtime's delete (its exit command) once the exit is recorded. */
export function conmonDeletesAtExit(runtime: Runtime, spec: OciSpec): boolean {
  return runtime.name === 'crun' && !ownPidNamespace(spec);
}

function ownPidNamespace(spec: OciSpec): boolean {
  return spec.linux.namespaces.some((ns) => ns.type === 'pid' && !ns.path);
}

/** crun's state of an ended run (call after its cgroups are removed, as crun orders them). */
export async function deleteEndedCrunState(root: string, id: string): Promise<void> {
  await removeTree(join(root, id));
}
