import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLogTime, readLogs, type LogEntry, type LogSource } from '../../src/engine/containers/log-reader.js';

const LOG = [
  '2026-11-23T01:00:00.100000000+01:00 stdout F out1',
  '2026-11-23T01:00:01.000000000+01:00 stderr F err1',
  '2026-11-23T01:00:02.5+01:00 stdout P par',
  '2026-11-23T01:00:02.6+01:00 stdout F tial',
  '2026-11-23T01:00:03.000000000+01:00 stdout F out2',
  '',
].join('\n');

async function collect(source: LogSource, options: Parameters<typeof readLogs>[1]): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of readLogs(source, options, new AbortController().signal)) out.push(entry);
  return out;
}

async function withLog(content: string, fn: (path: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'berth-log-'));
  try {
    const path = join(dir, 'ctr.log');
    await writeFile(path, content);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const stopped = (path: string): LogSource => ({ path, isLive: () => false, onStop: (cb) => (cb(), () => {}) });
const all = { stdout: true, stderr: true, follow: false };

test('timestamps become UTC with nine fraction digits', () => {
  assert.deepEqual(parseLogTime('2026-11-23T01:00:02.5+01:00'), {
    timeNs: BigInt(Date.parse('2026-11-23T00:00:02Z')) * 1_000_000n + 500_000_000n,
    timestamp: '2026-11-23T00:00:02.500000000Z',
  });
});

test('partial lines are joined and streams are kept apart', async () => {
  await withLog(LOG, async (path) => {
    const entries = await collect(stopped(path), all);
    assert.deepEqual(entries.map((e) => `${e.stream}:${e.payload}`), ['stdout:out1\n', 'stderr:err1\n', 'stdout:partial\n', 'stdout:out2\n']);
    const onlyErr = await collect(stopped(path), { ...all, stdout: false });
    assert.deepEqual(onlyErr.map((e) => e.payload.toString()), ['err1\n']);
  });
});

test('tail and since select the right entries', async () => {
  await withLog(LOG, async (path) => {
    assert.deepEqual((await collect(stopped(path), { ...all, tail: 2 })).map((e) => e.payload.toString()), ['partial\n', 'out2\n']);
    assert.deepEqual(await collect(stopped(path), { ...all, tail: 0 }), []);
    const sinceNs = BigInt(Date.parse('2026-11-23T00:00:01Z')) * 1_000_000n;
    assert.equal((await collect(stopped(path), { ...all, sinceNs })).length, 3);
  });
});

test('follow yields appended lines and ends when the source stops', async () => {
  await withLog(LOG, async (path) => {
    let live = true;
    let stop: () => void = () => {};
    const source: LogSource = { path, isLive: () => live, onStop: (cb) => ((stop = cb), () => {}) };
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of readLogs(source, { ...all, follow: true, tail: 1 }, new AbortController().signal)) seen.push(e.payload.toString());
    })();
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(path, '2026-11-23T01:00:04.000000000+01:00 stdout F late\n');
    await new Promise((r) => setTimeout(r, 50));
    live = false;
    stop();
    await reading;
    assert.deepEqual(seen, ['out2\n', 'late\n']);
  });
});

test('output that never got its newline is shown as it stands', async () => {
  const log = '2026-11-23T01:00:00.1+01:00 stdout F first\n2026-11-23T01:00:00.2+01:00 stdout P ab\n2026-11-23T01:00:00.3+01:00 stdout P c\n';
  await withLog(log, async (path) => {
    assert.deepEqual((await collect(stopped(path), all)).map((e) => e.payload.toString()), ['first\n', 'abc']);
    assert.deepEqual((await collect(stopped(path), { ...all, tail: 1 })).map((e) => e.payload.toString()), ['abc']);
    assert.deepEqual((await collect(stopped(path), { ...all, follow: true })).map((e) => e.payload.toString()), ['first\n', 'abc']);
  });
});
