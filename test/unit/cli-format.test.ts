import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeAgo } from '../../src/cli/format/duration.js';
import { humanDuration } from '../../src/common/human-duration.js';
import { binarySize, humanSize } from '../../src/cli/format/size.js';
import { renderTable } from '../../src/cli/format/table.js';
import { ellipsis, goQuote, shortId } from '../../src/cli/format/text.js';
import { dockerJson } from '../../src/cli/format/json.js';
import { executeTemplate, parseTemplate, TemplateError } from '../../src/cli/format/go-template.js';
import { psTable } from '../../src/cli/commands/ps.js';
import { imagesTable } from '../../src/cli/commands/images.js';
import { startErrorExitCode } from '../../src/cli/cli-exit.js';

const SECOND = 1000;

test('durations read as docker prints them', () => {
  assert.equal(`${humanDuration(400)} ago`, 'Less than a second ago');
  assert.equal(humanDuration(1 * SECOND), '1 second');
  assert.equal(`Up ${humanDuration(8 * SECOND)}`, 'Up 8 seconds');
  assert.equal(humanDuration(90 * SECOND), 'About a minute');
  assert.equal(`${humanDuration(150 * SECOND)} ago`, '2 minutes ago');
  assert.equal(`Exited (3) ${humanDuration(5 * 60 * SECOND)} ago`, 'Exited (3) 5 minutes ago');
  assert.equal(humanDuration(3600 * SECOND), 'About an hour');
  assert.equal(humanDuration(3 * 3600 * SECOND), '3 hours');
  assert.equal(humanDuration(3 * 86400 * SECOND), '3 days');
  assert.equal(humanDuration(20 * 86400 * SECOND), '2 weeks');
  assert.equal(humanDuration(90 * 86400 * SECOND), '3 months');
  assert.equal(humanDuration(800 * 86400 * SECOND), '2 years');
  assert.equal(timeAgo(100, new Date(109_000)), '9 seconds ago');
});

test('sizes use decimal units with three digits, memory binary with four', () => {
  assert.equal(humanSize(1985589), '1.99MB');
  assert.equal(humanSize(5200), '5.2kB');
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1_000_000), '1MB');
  assert.equal(binarySize(25276063744), '23.54GiB');
});

test('commands are truncated to 20 characters with an ellipsis and Go-quoted', () => {
  assert.equal(goQuote(ellipsis("sh -c 'echo out1; echo out2'", 20)), `"sh -c 'echo out1; e…"`);
  assert.equal(goQuote(ellipsis('sleep 300', 20)), '"sleep 300"');
  assert.equal(goQuote('a"b\\c\n\x01'), '"a\\"b\\\\c\\n\\x01"');
  assert.equal(shortId('sha256:737341e6ab30106f98c4c2c0a671188b'), '737341e6ab30');
});

test('tables pad columns to the widest cell plus three, with a minimum of ten', () => {
  assert.equal(
    renderTable(['REPOSITORY', 'TAG', 'SIZE'], [['busybox', 'latest', '1.99MB']]),
    'REPOSITORY   TAG       SIZE\nbusybox      latest    1.99MB\n',
  );
});

test('ps prints docker columns', () => {
  const now = new Date(1795417341 * 1000);
  const table = psTable(
    [
      {
        Id: '15ed03c889c0aaaaaaaaaaaaaaaa',
        Names: ['/t2'],
        Image: 'busybox',
        ImageID: 'sha256:737341e6',
        Command: "sh -c 'echo out1; echo out2'",
        Created: 1795417332,
        Ports: [],
        State: 'running',
        Status: 'Up 8 seconds',
        Labels: {},
        HostConfig: { NetworkMode: 'none' },
        NetworkSettings: { Networks: {} },
        Mounts: [],
      },
    ],
    { truncate: true, size: false },
    now,
  );
  assert.equal(
    table,
    'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n' +
      `15ed03c889c0   busybox   "sh -c 'echo out1; e…"   9 seconds ago   Up 8 seconds             t2\n`,
  );
});

test('images prints one row per tag', () => {
  const now = new Date((1795417285 + 150) * 1000);
  const table = imagesTable(
    [{ Id: 'sha256:737341e6ab30106f', ParentId: '', RepoTags: ['busybox:latest'], RepoDigests: [], Created: 1795417285, Size: 1985589, Containers: -1, Labels: null, SharedSize: -1 }],
    true,
    now,
  );
  assert.equal(
    table,
    'REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\nbusybox      latest    737341e6ab30   2 minutes ago   1.99MB\n',
  );
});

test('inspect JSON is indented by four spaces with Go HTML escaping', () => {
  assert.equal(dockerJson([{ A: '<&>' }]), '[\n    {\n        "A": "\\u003c\\u0026\\u003e"\n    }\n]');
});

test('format templates print field paths and json, and refuse what they cannot print', () => {
  const data = { Id: 'abc', State: { ExitCode: 3 }, Config: { Cmd: ['sh', '-c'] } };
  assert.equal(executeTemplate(parseTemplate('{{.State.ExitCode}}'), data), '3');
  assert.equal(executeTemplate(parseTemplate('id={{ .Id }} cmd={{.Config.Cmd}}'), data), 'id=abc cmd=[sh -c]');
  assert.equal(executeTemplate(parseTemplate('{{json .State}}'), data), '{"ExitCode":3}');
  assert.throws(() => parseTemplate('{{$x := .Id}}{{$x}}'), TemplateError);
  assert.throws(() => executeTemplate(parseTemplate('{{.State}}'), data), TemplateError);
  assert.throws(() => executeTemplate(parseTemplate('{{.Nope}}'), data), TemplateError);
});

test('a start error picks the exit code from its text, as docker does', () => {
  assert.equal(startErrorExitCode('exec: "nosuchcmd": executable file not found in $PATH: unknown'), 127);
  assert.equal(startErrorExitCode('exec: "/etc/passwd": permission denied: unknown'), 126);
  assert.equal(startErrorExitCode('boom'), 125);
});
