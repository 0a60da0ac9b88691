import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectContainers, type ListLookups } from '../../src/engine/containers/container-filters.js';
import { initialState, type ContainerRecord } from '../../src/engine/containers/model.js';
import type { ContainerStatus } from '../../src/wire/containers.js';

/** Newest first, as the service lists them: c5 … c1. */
function records(): ContainerRecord[] {
  const made: ContainerRecord[] = [];
  const specs: Array<[ContainerStatus, number, string?, Record<string, string>?]> = [
    ['created', 0],
    ['exited', 0, 'healthy', { tier: 'web' }],
    ['exited', 3],
    ['running', 0, 'unhealthy', { tier: 'db' }],
    ['restarting', 1],
  ];
  specs.forEach(([status, exitCode, health, labels], i) => {
    const state = initialState();
    const started = status !== 'created';
    Object.assign(state, {
      Status: status,
      Running: status === 'running' || status === 'restarting',
      Restarting: status === 'restarting',
      ExitCode: exitCode,
      StartedAt: started ? '2026-01-01T00:00:00Z' : state.StartedAt,
      ...(health && { Health: { Status: health, FailingStreak: 0, Log: [] } }),
    });
    // c1 and c2 on the default bridge, the others on none.
    const networks = i < 2 ? { bridge: { NetworkID: 'b'.repeat(64) } } : { none: { NetworkID: 'n'.repeat(64) } };
    // c4 (running) publishes 80/tcp; c2 exposes 8005/udp.
    const publishedPorts = i === 3 ? [{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 32768 }] : [];
    const config = { Labels: labels ?? {}, ...(i === 1 && { ExposedPorts: { '8005/udp': {} } }) };
    made.push({ id: `${i + 1}`.repeat(64), name: `/c${i + 1}`, image: i % 2 ? 'sha256:odd' : 'sha256:even', config, state, networks, publishedPorts } as unknown as ContainerRecord);
  });
  return made.reverse();
}

const all = records();
const lookups: ListLookups = {
  imageIdOf: (ref) => (ref === 'odd' ? 'sha256:odd' : undefined),
  find: (idOrName) => all.find((r) => r.id === idOrName || r.name === `/${idOrName}`),
};
const names = (filters: Record<string, string[]>, options: { all?: boolean; limit?: number } = {}) =>
  selectContainers(all, { all: options.all ?? true, limit: options.limit, filters }, lookups).map((r) => r.name.slice(1));

test('ps without -a lists running and restarting containers; -n takes stopped ones too', () => {
  assert.deepEqual(names({}, { all: false }), ['c5', 'c4']);
  assert.deepEqual(names({}, { all: false, limit: 2 }), ['c5', 'c4']);
  assert.deepEqual(names({ status: ['exited'] }, { all: false }), ['c3', 'c2']);
});

test('exited, status, health, label, name, id, ancestor, network, is-task, isolation', () => {
  assert.deepEqual(names({ exited: ['3'] }), ['c3']);
  assert.deepEqual(names({ exited: ['0'] }), ['c2'], 'a created container has no exit code to match, a running one neither');
  assert.deepEqual(names({ status: ['restarting', 'created'] }), ['c5', 'c1']);
  assert.deepEqual(names({ health: ['healthy'] }), ['c2']);
  assert.deepEqual(names({ health: ['none'] }), ['c5', 'c3', 'c1']);
  assert.deepEqual(names({ label: ['tier'] }), ['c4', 'c2']);
  assert.deepEqual(names({ label: ['tier=db'] }), ['c4']);
  assert.deepEqual(names({ name: ['^c[12]$'] }), ['c2', 'c1'], 'names match with and without the slash');
  assert.deepEqual(names({ id: ['333'] }), ['c3']);
  assert.deepEqual(names({ ancestor: ['odd'] }), ['c4', 'c2']);
  assert.deepEqual(names({ ancestor: ['missing'] }), []);
  assert.deepEqual(names({ network: ['none'] }), ['c5', 'c4', 'c3']);
  assert.deepEqual(names({ network: ['bridge'] }), ['c2', 'c1']);
  assert.deepEqual(names({ network: ['b'.repeat(64)] }), ['c2', 'c1']);
  assert.deepEqual(names({ network: ['other'] }), []);
  assert.deepEqual(names({ 'is-task': ['true'] }), []);
  assert.deepEqual(names({ 'is-task': ['false'] }).length, 5);
  assert.deepEqual(names({ isolation: ['default'] }).length, 5);
  assert.deepEqual(names({ volume: ['/data'] }), [], 'no container has a volume');
  assert.deepEqual(names({ publish: ['80'] }), ['c4']);
  assert.deepEqual(names({ publish: ['80/udp'] }), []);
  assert.deepEqual(names({ expose: ['8000-8010/udp'] }), ['c2']);
  assert.deepEqual(names({ expose: ['8005'] }), []);
});

test('before and since by name or id: the containers created before / after it; with a limit', () => {
  assert.deepEqual(names({ before: ['c3'] }), ['c2', 'c1']);
  assert.deepEqual(names({ since: ['c3'] }), ['c5', 'c4']);
  assert.deepEqual(names({ since: ['c1'], before: ['c5'] }), ['c4', 'c3', 'c2']);
  assert.deepEqual(names({ since: [all[4]!.id] }, { limit: 2 }), ['c5', 'c4']);
  assert.deepEqual(names({ before: ['c4'] }, { all: false }), [], 'without -a only running ones');
});

test('bad values are Docker\'s 400s (and an unknown container in before/since a 404)', () => {
  const refused: Array<[Record<string, string[]>, RegExp]> = [
    [{ exited: ['x'] }, /^invalid filter 'exited=x': strconv.Atoi: parsing "x": invalid syntax$/],
    [{ exited: ['99999999999999999999'] }, /^invalid filter 'exited=99999999999999999999': strconv.Atoi: parsing "99999999999999999999": value out of range$/],
    [{ status: ['sleeping'] }, /^invalid filter 'status=sleeping': invalid value for state \(sleeping\): must be one of created, running, paused, restarting, removing, exited, dead$/],
    [{ health: ['sick'] }, /^invalid filter 'health=sick': invalid value for health \(sick\): must be one of none, starting, healthy, unhealthy$/],
    [{ 'is-task': ['maybe'] }, /^invalid filter 'is-task=maybe'$/],
    [{ publish: ['8080:80'] }, /^filter for 'publish' should not contain ':': 8080:80$/],
    [{ colour: ['red'] }, /^invalid filter 'colour'$/],
  ];
  for (const [filters, message] of refused) {
    assert.throws(() => names(filters), (err: Error & { kind?: string }) => message.test(err.message) && err.kind === 'invalid-parameter', JSON.stringify(filters));
  }
  assert.throws(() => names({ before: ['nope'] }), (err: Error & { kind?: string }) => err.message === 'No such container: nope' && err.kind === 'not-found');
});
