import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFailure, execFailure } from '../../src/runtime/create-error.js';

const PREFIX = 'failed to create task for container: OCI runtime create failed: ';

test("crun's and runc's missing-command errors become Docker's, exit 127", () => {
  const crun = createFailure('executable file `nosuchcmd` not found in $PATH: No such file or directory', 'nosuchcmd');
  const runc = createFailure(
    'time="2026-11-23T00:00:00Z" level=error msg="runc create failed: unable to start container process: exec: \\"nosuchcmd\\": executable file not found in $PATH"',
    'nosuchcmd',
  );
  for (const err of [crun, runc]) {
    assert.equal(err.kind, 'invalid-parameter');
    assert.equal(err.exitCode, 127);
    assert.equal(err.message, `${PREFIX}exec: "nosuchcmd": executable file not found in $PATH`);
  }
  assert.equal(createFailure('open executable: No such file or directory', '/bin/nope').message, `${PREFIX}exec: "/bin/nope": stat /bin/nope: no such file or directory`);
});

test('a command that cannot be executed is 126 and says permission denied', () => {
  for (const message of ['open executable: Permission denied', 'exec: "/noexec": permission denied']) {
    const err = createFailure(message, '/noexec');
    assert.equal(err.exitCode, 126);
    assert.equal(err.message, `${PREFIX}exec: "/noexec": permission denied`);
  }
});

test('other failures keep the runtime’s words, exit 125', () => {
  const err = createFailure('mount `/x` to `/y`: Invalid argument', 'sh');
  assert.equal(err.exitCode, 125);
  assert.equal(err.message, `${PREFIX}mount \`/x\` to \`/y\`: Invalid argument`);
});

test('exec failures are worded as dockerd words them, with the same exit statuses', () => {
  const prefix = 'OCI runtime exec failed: exec failed: unable to start container process: ';
  const missing = execFailure('executable file `nosuch` not found in $PATH: No such file or directory', 'nosuch');
  assert.equal(missing.exitCode, 127);
  assert.equal(missing.message, `${prefix}exec: "nosuch": executable file not found in $PATH`);
  const denied = execFailure('open executable: Permission denied', '/etc/passwd');
  assert.equal(denied.exitCode, 126);
  assert.equal(denied.message, `${prefix}exec: "/etc/passwd": permission denied`);
});
