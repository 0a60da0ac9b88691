import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile, appendFile } from 'node:fs/promises';
import { closeSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFiles } from '../../src/engine/containers/log-files.js';
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

const stopped = (path: string): LogSource => ({ files: new LogFiles(path, 1), isLive: () => false, onStop: (cb) => (cb(), () => {}), onRotate: () => () => {} });
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
    const source: LogSource = { files: new LogFiles(path, 1), isLive: () => live, onStop: (cb) => ((stop = cb), () => {}), onRotate: () => () => {} };
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

/** conmon's side of a rotation: it lets go of the renamed file and creates the path afresh. */
function monitor(path: string) {
  let fd = openSync(path, 'a');
  let n = 0;
  return {
    write(count: number) {
      for (let i = 0; i < count; i++) writeSync(fd, `2026-11-23T01:00:00.${String(n).padStart(9, '0')}+01:00 stdout F line${n++}\n`);
    },
    async reopen() {
      closeSync(fd);
      fd = openSync(path, 'a');
    },
    close: () => closeSync(fd),
    get written() {
      return n;
    },
  };
}

test('rotation: logs reads every kept file in order; max-file drops the oldest', async () => {
  await withLog('', async (path) => {
    const files = new LogFiles(path, 3);
    const conmon = monitor(path);
    for (let round = 0; round < 4; round++) {
      conmon.write(2);
      await files.rotate(() => conmon.reopen());
    }
    conmon.write(1);
    conmon.close();
    const source: LogSource = { files, isLive: () => false, onStop: (cb) => (cb(), () => {}), onRotate: () => () => {} };
    const lines = (await collect(source, all)).map((e) => e.payload.toString().trim());
    assert.deepEqual(lines, ['line4', 'line5', 'line6', 'line7', 'line8'], 'the live file and two rotated ones');
    assert.deepEqual((await collect(source, { ...all, tail: 3 })).map((e) => e.payload.toString().trim()), ['line6', 'line7', 'line8']);
  });
});

test('rotation while following: no line lost or repeated, also with max-file 1', async () => {
  for (const maxFile of [1, 4]) {
    await withLog('', async (path) => {
      const files = new LogFiles(path, maxFile);
      const conmon = monitor(path);
      const rotated = new Set<() => void>();
      let live = true;
      const stops = new Set<() => void>();
      const source: LogSource = {
        files,
        isLive: () => live,
        onStop: (cb) => (stops.add(cb), () => stops.delete(cb)),
        onRotate: (cb) => (rotated.add(cb), () => rotated.delete(cb)),
      };
      const seen: string[] = [];
      const reading = (async () => {
        for await (const e of readLogs(source, { ...all, follow: true }, new AbortController().signal)) seen.push(e.payload.toString().trim());
      })();
      for (let round = 0; round < 20; round++) {
        conmon.write(5);
        if (round % 3 === 0) await new Promise((r) => setTimeout(r, 5));
        // A follower max-file rotations behind loses a file, as with Docker: before every
        // max-file-th rotation it is let catch up, so it is never more than max-file - 1 behind.
        if (round % maxFile === maxFile - 1) {
          for (const end = Date.now() + 5000; seen.length < conmon.written && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
        }
        await files.rotate(() => conmon.reopen());
        rotated.forEach((cb) => cb());
      }
      conmon.write(3);
      await new Promise((r) => setTimeout(r, 50));
      live = false;
      stops.forEach((cb) => cb());
      await reading;
      conmon.close();
      assert.deepEqual(seen, Array.from({ length: conmon.written }, (_, i) => `line${i}`), `max-file ${maxFile}`);
    });
  }
});

test('a rotation cut short by a crash (live file renamed, monitor not told) is finished at the next start', async () => {
  await withLog('', async (path) => {
    const conmon = monitor(path);
    conmon.write(2);
    await rename(path, `${path}.1`); // berthd died here
    conmon.write(1); // conmon writes on into the renamed file
    const files = new LogFiles(path, 3);
    await files.restoreLive(() => conmon.reopen());
    conmon.write(1);
    conmon.close();
    const source: LogSource = { files, isLive: () => false, onStop: (cb) => (cb(), () => {}), onRotate: () => () => {} };
    assert.deepEqual((await collect(source, all)).map((e) => e.payload.toString().trim()), ['line0', 'line1', 'line2', 'line3']);
    assert.equal((await readFile(path, 'utf8')).trim().endsWith('line3'), true, 'the live file is back and written');
  });
});

test('lines written to the old file between the follower\'s last read and the rotation are not lost', async () => {
  await withLog('', async (path) => {
    const files = new LogFiles(path, 3);
    const conmon = monitor(path);
    conmon.write(2);
    let live = true;
    const stops = new Set<() => void>();
    let raced = false;
    // The follower found the end of the live file; before it asks for a successor, the monitor
    // writes two more lines to it and a rotation completes.
    const racing = Object.create(files) as LogFiles;
    racing.successor = async (current) => {
      if (!raced) {
        raced = true;
        conmon.write(2);
        await files.rotate(() => conmon.reopen());
        conmon.write(1);
      }
      return files.successor(current);
    };
    const source: LogSource = { files: racing, isLive: () => live, onStop: (cb) => (stops.add(cb), () => stops.delete(cb)), onRotate: () => () => {} };
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of readLogs(source, { ...all, follow: true }, new AbortController().signal)) seen.push(e.payload.toString().trim());
    })();
    await new Promise((r) => setTimeout(r, 100));
    live = false;
    stops.forEach((cb) => cb());
    await reading;
    conmon.close();
    assert.deepEqual(seen, ['line0', 'line1', 'line2', 'line3', 'line4']);
  });
});
