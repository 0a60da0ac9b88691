/**
 * The real docker CLI pushing to and pulling from a real registry through berthd: login with
 * htpasswd credentials (the CLI keeps them in its own config.json and sends X-Registry-Auth),
 * push, pull, `docker run` of an absent image pulling it, images --digests, logout.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/docker-cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('the docker CLI with a registry through berthd', () => {
  let daemon: TestDaemon;
  let registry: TestRegistry;
  let dockerConfig: string;
  before(async () => {
    dockerConfig = await mkdtemp(join(tmpdir(), 'berth-docker-config-'));
    registry = await startRegistry({ auth: 'basic', users: { carol: 'pa55' } });
    daemon = await startDaemon({ dockerConfig });
    await daemon.berth(['image', 'busybox']);
  });
  after(async () => {
    await daemon?.stop();
    await registry?.stop();
    await rm(dockerConfig, { recursive: true, force: true });
  });

  test('login, push, pull, run pulling an absent image, logout', async () => {
    const name = `${registry.host}/compat/bb:1.0`;
    const denied = await docker(daemon, ['login', '-u', 'carol', '--password-stdin', registry.host], 'wrong\n');
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /401 Unauthorized/);
    const login = await docker(daemon, ['login', '-u', 'carol', '--password-stdin', registry.host], 'pa55\n');
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);

    assert.equal((await docker(daemon, ['tag', 'busybox', name])).code, 0);
    const push = await docker(daemon, ['push', name]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /Pushed/);
    const digest = /1\.0: digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);

    assert.equal((await docker(daemon, ['rmi', name])).code, 0);
    const pull = await docker(daemon, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
    assert.match(pull.stdout, new RegExp(`${name.replace(/\./g, '\\.')}\\n$`));
    const digests = await docker(daemon, ['image', 'inspect', '-f', '{{json .RepoDigests}}', name]);
    assert.equal(digests.stdout.trim(), JSON.stringify([`${registry.host}/compat/bb@${digest}`]));

    assert.equal((await docker(daemon, ['rmi', name])).code, 0);
    const run = await docker(daemon, ['run', '--rm', name, 'echo', 'from the registry']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Unable to find image/);
    assert.equal(run.stdout, 'from the registry\n');

    const logout = await docker(daemon, ['logout', registry.host]);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal((await docker(daemon, ['rmi', name])).code, 0);
    const anonymous = await docker(daemon, ['pull', name]);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /unauthorized: authentication required/);
  });

  test('pull of an unknown tag: the registry\'s error, exit 1', async () => {
    const missing = await docker(daemon, ['pull', `${registry.host}/compat/none:x`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: .*(manifest unknown|unauthorized)/);
  });
});
