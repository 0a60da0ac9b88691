import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { unavailable } from '../common/errors.js';
import { writeFileAtomic } from '../common/atomic-file.js';

/** A zombie still answers kill(pid, 0): a killed daemon whose parent has not reaped it yet (moby's process.Alive checks too). */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !zombie(pid);
}

/** Writes our pid, refusing to start when another live daemon holds the file. */
export async function claimPidfile(path: string): Promise<() => Promise<void>> {
  const existing = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  if (existing > 0 && existing !== process.pid && alive(existing)) {
    throw unavailable(`pid file found, ensure berthd is not running or delete ${path} (held by process ${existing})`);
  }
  await writeFileAtomic(path, `${process.pid}\n`);
  return async () => {
    await rm(path, { force: true });
  };
}
