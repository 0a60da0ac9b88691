import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPidfile } from '../../src/daemon/pidfile.js';

/** A zombie: a child of `sleep`, which never reaps it; the holder is killed at the end. */
async function withZombie(body: (pid: number) => Promise<void>): Promise<void> {
  const holder = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = Number(await new Promise<string>((resolve) => holder.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
    for (let i = 0; i < 100; i++) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await body(pid);
  } finally {
    holder.kill('SIGKILL');
  }
}

test('a pid file held by a live process refuses the start; one left by a zombie (a killed daemon not yet reaped) does not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-pidfile-'));
  try {
    const path = join(dir, 'berthd.pid');
    await writeFile(path, `${process.ppid}\n`);
    await assert.rejects(claimPidfile(path), { kind: 'unavailable', message: new RegExp(`held by process ${process.ppid}`) });
    await withZombie(async (pid) => {
      await writeFile(path, `${pid}\n`);
      const release = await claimPidfile(path);
      assert.equal((await readFile(path, 'utf8')).trim(), String(process.pid));
      await release();
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
