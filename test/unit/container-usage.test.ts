/** The pure parts of top and stats: ps output filtering, Docker's stats JSON, the CLI's figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePsOutput } from '../../src/engine/containers/container-top.js';
import { statsResponse } from '../../src/api/views/stats-views.js';
import { statsFigures, statsRow } from '../../src/cli/commands/stats.js';
import type { ContainerRecord } from '../../src/engine/containers/model.js';
import type { RuntimeStats } from '../../src/runtime/container-runtime.js';

test('ps output: the container\'s pids kept, thread lines follow their process, the last column takes the rest', () => {
  const output = [
    '  PID   LWP CMD',
    '    1     1 /sbin/init splash',
    '   42     - sleep 1000 --now',
    '    -    43 thread of 42',
    '   77     - other',
    '    -    78 thread of 77',
    '',
  ].join('\n');
  assert.deepEqual(parsePsOutput(output, new Set([42])), {
    Titles: ['PID', 'LWP', 'CMD'],
    Processes: [
      ['42', '-', 'sleep 1000 --now'],
      ['-', '43', 'thread of 42'],
    ],
  });
  assert.throws(() => parsePsOutput('COMMAND\nsleep\n', new Set([1])), /Couldn't find PID field in ps output/);
  assert.throws(() => parsePsOutput('PID CMD\nx sleep\n', new Set([1])), /Unexpected pid 'x'/);
});

const record = { id: 'a'.repeat(64), name: '/box' } as ContainerRecord;
const sample = (totalNs: number, systemUsageNs: number): RuntimeStats => ({
  read: new Date('2026-01-01T00:00:01Z'),
  cpu: { totalNs, userNs: 1, systemNs: 2, systemUsageNs, onlineCpus: 2, perCpuNs: [] },
  memory: { usage: 10 << 20, limit: 100 << 20, stats: { inactive_file: 2 << 20 } },
  pids: { current: 3 },
  blkio: [
    { major: 8, minor: 0, op: 'read', value: 1000 },
    { major: 8, minor: 0, op: 'write', value: 2000 },
  ],
  networks: { eth0: { rxBytes: 5, rxPackets: 1, rxErrors: 0, rxDropped: 0, txBytes: 7, txPackets: 1, txErrors: 0, txDropped: 0 } },
});

test('stats JSON: Docker\'s fields, omitempty ones left out, zeros for a container that is not running', () => {
  const json = statsResponse({ record, current: sample(3e9, 10e9), previous: sample(2e9, 8e9) });
  assert.equal(json.cpu_stats.cpu_usage.percpu_usage, undefined);
  assert.deepEqual(json.networks, { eth0: { rx_bytes: 5, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 7, tx_packets: 1, tx_errors: 0, tx_dropped: 0 } });
  assert.deepEqual(json.pids_stats, { current: 3 });
  const figures = statsFigures(json);
  assert.equal(figures.cpuPercent, 100); // 1 s of CPU over 2 s of two CPUs' time, times 2 CPUs
  assert.equal(figures.memory, 8 << 20);
  assert.deepEqual([figures.blockRead, figures.blockWrite, figures.rx, figures.tx], [1000, 2000, 5, 7]);
  const idle = statsResponse({ record });
  assert.deepEqual([idle.read, idle.memory_stats, idle.pids_stats, idle.networks], ['0001-01-01T00:00:00Z', {}, {}, undefined]);
  assert.deepEqual(statsRow('box', record.id, undefined, true), {
    Container: 'box', ID: 'aaaaaaaaaaaa', Name: '--', CPUPerc: '--', MemUsage: '-- / --', MemPerc: '--', NetIO: '--', BlockIO: '--', PIDs: '--',
  }); // prettier-ignore
  assert.equal(statsRow('box', record.id, json, true).MemUsage, '8MiB / 100MiB');
});
