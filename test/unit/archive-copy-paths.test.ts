import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Stats } from 'node:fs';
import { entryNamer, goBase, preserveTrailingDotOrSeparator, rebaseName, splitPathDirEntry } from '../../src/archive/go-paths.js';
import { goFileMode, goTime } from '../../src/archive/path-stat.js';
import { absolutePath } from '../../src/archive/container-paths.js';
import { prepareArchiveCopy } from '../../src/cli/local-copy.js';
import { Readable } from 'node:stream';

test("paths keep the trailing '/' and '/.' that tell a directory and its contents (moby's rules)", () => {
  assert.equal(absolutePath('etc'), '/etc');
  assert.equal(absolutePath('etc/'), '/etc/');
  assert.equal(absolutePath('/etc/.'), '/etc/.');
  assert.equal(absolutePath('/etc/./'), '/etc/./', 'as Go: both kept');
  assert.equal(absolutePath('/../../etc//x/..'), '/etc');
  assert.equal(absolutePath('/'), '/');
  assert.equal(absolutePath('.'), '/.');
  assert.deepEqual(splitPathDirEntry('/etc/.'), ['/etc', '.']);
  assert.deepEqual(splitPathDirEntry('/etc/'), ['/', 'etc']);
  assert.deepEqual(splitPathDirEntry('/'), ['/', '/']);
  assert.deepEqual(splitPathDirEntry('/.'), ['/', '.']);
  assert.equal(goBase('/a/b//'), 'b');
  assert.equal(goBase(''), '.');
  assert.equal(preserveTrailingDotOrSeparator('/x', 'y/.'), '/x/.');
});

test('a followed link keeps the name the user asked for (GetRebaseName)', () => {
  assert.deepEqual(rebaseName('/tmp/link', '/etc/passwd'), ['/etc/passwd', 'link']);
  assert.deepEqual(rebaseName('/tmp/link/', '/etc'), ['/etc/', 'link']);
  assert.deepEqual(rebaseName('/tmp/link/.', '/etc'), ['/etc/.', '']);
  assert.deepEqual(rebaseName('/tmp/same', '/other/same'), ['/other/same', '']);
});

test('tar names are rebased from the requested base; the root is packed as /…', () => {
  const dir = entryNamer('/tmp/tree', 'tree');
  assert.equal(dir('/tmp/tree'), 'tree');
  assert.equal(dir('/tmp/tree/sub/f'), 'tree/sub/f');
  assert.equal(entryNamer('/tmp/tree', '.')('/tmp/tree/f'), './f');
  assert.equal(entryNamer('/', '')('/'), '');
  assert.equal(entryNamer('/', '')('/etc/passwd'), '/etc/passwd');
});

test("modes are Go's os.FileMode, times Go's RFC 3339 with nanoseconds", () => {
  assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755);
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755, 'setuid');
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777, 'sticky directory');
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666, 'character device');
  assert.equal(goTime({ mtimeMs: Date.UTC(2024, 0, 2, 3, 4, 5) + 250.5 } as Stats), '2024-01-02T03:04:05.2505Z');
  assert.equal(goTime({ mtimeMs: Date.UTC(2000, 0, 1) } as Stats), '2000-01-01T00:00:00Z');
});

test("where a copy is extracted, and the docker CLI's refusals (PrepareArchiveCopy)", () => {
  const tar = Readable.from([]);
  const file = { path: '/src/f', exists: true, isDir: false, rebaseName: '' };
  const dir = { path: '/src/d', exists: true, isDir: true, rebaseName: '' };
  assert.equal(prepareArchiveCopy(tar, file, { path: '/dst', exists: true, isDir: true, rebaseName: '' }).dstDir, '/dst');
  assert.equal(prepareArchiveCopy(tar, file, { path: '/dst/new', exists: false, isDir: false, rebaseName: '' }).dstDir, '/dst');
  assert.throws(() => prepareArchiveCopy(tar, dir, { path: '/dst/file', exists: true, isDir: false, rebaseName: '' }), /^Error: cannot copy directory$/);
  assert.throws(() => prepareArchiveCopy(tar, file, { path: '/dst/new/', exists: false, isDir: false, rebaseName: '' }), /^Error: no such directory$/);
});
