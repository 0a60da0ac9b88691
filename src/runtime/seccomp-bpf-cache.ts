import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciSpec } from './oci-spec.js';
import type { Runtime } from './runtime.js';

// crun compiles the seccomp section of every container anew (about 10 ms for Docker's profile,
// a third of a container's start). It also writes the program it built to seccomp.bpf in the
// container's state dir, and accepts a ready program in this annotation instead of the section:
// so each distinct profile is compiled once, as Podman does with its BPF cache.
const BPF_ANNOTATION = 'run.oci.seccomp_bpf_data';
const MAX_PROGRAMS = 32;

export class SeccompBpfCache {
  /** Profile digest → base64 BPF program; insertion order doubles as LRU order. */
  private readonly programs = new Map<string, string>();

  /**
   * For crun, replaces the seccomp section by the program compiled for the same section before.
   * Returns the section's key when it still has to be compiled (pass it to `remember`).
   */
  prepare(spec: OciSpec, runtime: Runtime): string | undefined {
    if (runtime.name !== 'crun' || !spec.linux.seccomp) return undefined;
    const key = createHash('sha256').update(JSON.stringify(spec.linux.seccomp)).digest('hex');
    const program = this.programs.get(key);
    if (program === undefined) return key;
    this.programs.delete(key);
    this.programs.set(key, program);
    delete spec.linux.seccomp;
    spec.annotations = { ...spec.annotations, [BPF_ANNOTATION]: program };
    return undefined;
  }

  /** After a successful create: keeps the program crun compiled for container `id`. */
  async remember(key: string, runtime: Runtime, id: string): Promise<void> {
    const program = await readFile(join(runtime.root, id, 'seccomp.bpf')).catch(() => undefined);
    // A BPF program is a whole number of 8-byte instructions; anything else is not one.
    if (!program || program.length === 0 || program.length % 8 !== 0) return;
    this.programs.set(key, program.toString('base64'));
    if (this.programs.size > MAX_PROGRAMS) this.programs.delete(this.programs.keys().next().value!);
  }
}
