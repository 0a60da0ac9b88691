/**
 * Process rlimits for containers. berthd lacks CAP_SYS_RESOURCE on some hosts, so a runtime asked
 * for more than the daemon's own hard limit fails the create ("setrlimit RLIMIT_NOFILE: Operation
 * not permitted"); every requested limit is therefore clamped to the host's hard limits.
 */
import { readFileSync } from 'node:fs';

export interface OciRlimit {
  type: string; // RLIMIT_NOFILE, …
  soft: number;
  hard: number;
}

/** Ceiling per OCI rlimit type; a type that is absent has no ceiling. */
export type RlimitCeilings = Readonly<Record<string, number>>;

// The row titles of /proc/self/limits, in the kernel's order (fs/proc/base.c lnames).
const LIMIT_TITLES: Readonly<Record<string, string>> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** Parses the text of /proc/PID/limits into the finite hard limits. */
export function parseHardLimits(text: string): Record<string, number> {
  const ceilings: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const title = Object.keys(LIMIT_TITLES).find((t) => line.startsWith(`${t} `));
    if (!title) continue;
    const [, hard] = line.slice(title.length).trim().split(/\s+/);
    if (hard !== 'unlimited') ceilings[LIMIT_TITLES[title]] = Number(hard);
  }
  return ceilings;
}

/** The daemon's own hard limits (a container may not exceed them); the RuntimeSet reads them once. */
export function hostHardLimits(): RlimitCeilings {
  return parseHardLimits(readFileSync('/proc/self/limits', 'utf8'));
}

/** Each limit at most its ceiling; a negative one is unlimited (RLIM_INFINITY to the runtime), so above any ceiling. */
export function clampRlimits(rlimits: readonly OciRlimit[], ceilings: RlimitCeilings): OciRlimit[] {
  return rlimits.map(({ type, soft, hard }) => {
    const ceiling = ceilings[type];
    if (ceiling === undefined) return { type, soft, hard };
    const clamp = (value: number) => (value < 0 ? ceiling : Math.min(value, ceiling));
    return { type, soft: clamp(soft), hard: clamp(hard) };
  });
}
