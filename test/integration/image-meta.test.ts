/**
 * Image metadata and housekeeping through the real docker CLI and berth, side by side: history,
 * inspect, `images` with its filters and flags, intermediate images, rmi of parents, image
 * prune, system df and system prune; and sharing: images on one base keep one copy of it, and
 * the reference counts survive a daemon restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDaemon, type TestDaemon } from '../helpers/berthd.js';
import { docker } from '../helpers/docker-cli.js';
import { rawRequest } from '../helpers/http.js';

const run = promisify(execFile);

async function ok(result: Promise<{ stdout: string; stderr: string; code: number }>): Promise<string> {
  const { stdout, stderr, code } = await result;
  assert.equal(code, 0, stderr);
  return stdout;
}

/** Relative times move between two calls: "3 seconds ago" and "4 seconds ago" are the same here. */
function withoutAges(text: string): string {
  return text.replace(/(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?)) ago/g, 'AGO').replace(/Up (\d+ seconds?|Less than a second|About a minute)/g, 'UP').replace(/ +/g, ' ');
}

/** Bytes under a folder, as `du` counts them. */
async function diskUse(path: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', path]);
  return Number(stdout.split('\t')[0]);
}

describe('image metadata, pruning and sharing', { timeout: 300_000 }, () => {
  let daemon: TestDaemon;
  const berth = async (args: string[]) => (await daemon.berth(args)).stdout;
  /** Commits a container that wrote `bytes` random bytes to /data into `name`; returns the image id. */
  const commitWith = async (name: string, bytes: number, extra: string[] = []) => {
    await ok(docker(daemon, ['run', '--name', `maker-${name.replace(/[:/]/g, '-')}`, '--network', 'none', 'busybox', 'sh', '-c', `head -c ${bytes} /dev/urandom > /data`]));
    const id = (await ok(docker(daemon, ['commit', ...extra, `maker-${name.replace(/[:/]/g, '-')}`, name]))).trim();
    await ok(docker(daemon, ['rm', `maker-${name.replace(/[:/]/g, '-')}`]));
    return id;
  };

  before(async () => {
    daemon = await startDaemon();
    await daemon.berth(['image', 'busybox']);
  });
  after(async () => {
    await daemon?.stop();
  });

  test('history: docker and berth print the same, with --no-trunc, -H=false, --format and -q', async () => {
    await commitWith('hist:1', 1000, ['-m', 'first']);
    for (const args of [
      ['history', '-H=false', '--no-trunc', 'hist:1'],
      ['history', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}|{{.CreatedAt}}', 'hist:1'],
      ['history', '--format', 'table {{.ID}}\t{{.Size}}', 'hist:1'],
      ['history', '-q', 'hist:1'],
      ['history', '-q', '--no-trunc', 'hist:1'],
      ['image', 'history', '--format', 'json', 'hist:1'],
    ]) {
      assert.equal(await berth(args), await ok(docker(daemon, args)), args.join(' '));
    }
    assert.equal(withoutAges(await berth(['history', 'hist:1'])), withoutAges(await ok(docker(daemon, ['history', 'hist:1']))));
    const missing = await docker(daemon, ['history', 'nosuch:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No such image: nosuch:1/);
  });

  test('image inspect: RootFS, RepoTags, RepoDigests, Size, GraphDriver, Parent and Metadata.LastTagTime', async () => {
    const [image] = JSON.parse(await ok(docker(daemon, ['image', 'inspect', 'hist:1'])));
    const [base] = JSON.parse(await ok(docker(daemon, ['image', 'inspect', 'busybox'])));
    assert.equal(image.RootFS.Type, 'layers');
    assert.equal(image.RootFS.Layers.length, 2);
    assert.deepEqual(image.RepoTags, ['hist:1']);
    assert.deepEqual(image.RepoDigests, []);
    assert.equal(image.Parent, base.Id);
    assert.ok(image.Size >= base.Size + 1000, `${image.Size}`);
    assert.equal(image.GraphDriver.Name, 'overlay');
    assert.deepEqual(Object.keys(image.GraphDriver.Data).sort(), ['LowerDir', 'MergedDir', 'UpperDir', 'WorkDir']);
    assert.ok(Date.parse(image.Metadata.LastTagTime) >= Date.parse(image.Created));
    await ok(docker(daemon, ['tag', 'hist:1', 'hist:2']));
    const [retagged] = JSON.parse(await ok(docker(daemon, ['image', 'inspect', 'hist:1'])));
    assert.ok(retagged.Metadata.LastTagTime > image.Metadata.LastTagTime);
    await ok(docker(daemon, ['rmi', 'hist:2']));
  });

  test('images: every filter, --digests, -a, --no-trunc and --format print as docker does', async () => {
    await commitWith('labelled:1', 10, ['-c', 'LABEL team=web']);
    for (const args of [
      ['images'],
      ['images', '--digests'],
      ['images', '-a', '--no-trunc'],
      ['images', '--filter', 'dangling=false'],
      ['images', '--filter', 'dangling=true'],
      ['images', '--filter', 'reference=hist'],
      ['images', '--filter', 'reference=*:1'],
      ['images', '--filter', 'label=team=web'],
      ['images', '--filter', 'label=team'],
      ['images', '--filter', 'before=labelled:1'],
      ['images', '--filter', 'since=hist:1'],
      ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.Digest}}'],
      ['images', '--format', 'json'],
      ['image', 'ls', '-q'],
    ]) {
      assert.equal(withoutAges(await berth(args)), withoutAges(await ok(docker(daemon, args))), args.join(' '));
    }
    const since = await ok(docker(daemon, ['images', '--filter', 'since=hist:1', '--format', '{{.Repository}}']));
    assert.equal(since, 'labelled\n');
    const bad = await docker(daemon, ['images', '--filter', 'nosuch=1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid filter 'nosuch'/);
  });

  test('an untagged image with a committed child is intermediate: hidden without -a, kept from rmi, pruned with its child', async () => {
    const parent = await commitWith('parent:1', 10);
    await ok(docker(daemon, ['run', '--name', 'on-parent', '--network', 'none', 'parent:1', 'touch', '/child']));
    const child = (await ok(docker(daemon, ['commit', 'on-parent', 'child:1']))).trim();
    await ok(docker(daemon, ['rm', 'on-parent']));
    // Untagging the parent leaves it as an intermediate image, not a dangling one.
    assert.equal(await ok(docker(daemon, ['rmi', 'parent:1'])), 'Untagged: parent:1\n');
    const short = parent.slice(7, 19);
    assert.doesNotMatch(await ok(docker(daemon, ['images', '-q'])), new RegExp(short));
    assert.match(await ok(docker(daemon, ['images', '-aq'])), new RegExp(short));
    assert.doesNotMatch(await ok(docker(daemon, ['images', '-q', '--filter', 'dangling=true'])), new RegExp(short));
    const refused = await docker(daemon, ['rmi', '-f', parent]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`conflict: unable to delete ${short} \\(cannot be forced\\) - image has dependent child images`));
    // Removing the child takes the parent it leaves untagged and childless, each with its event.
    const since = (Date.now() / 1000).toFixed(3);
    assert.equal(await ok(docker(daemon, ['rmi', 'child:1'])), `Untagged: child:1\nDeleted: ${child}\nDeleted: ${parent}\n`);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const events = await ok(docker(daemon, ['events', '--since', since, '--until', until, '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}}']));
    assert.equal(events, `untag ${child}\ndelete ${child}\ndelete ${parent}\n`);
  });

  test('image prune: dangling, -a, label and until filters; docker and berth print alike', async () => {
    await ok(docker(daemon, ['run', '--name', 'dangler', '--network', 'none', 'busybox', 'touch', '/x']));
    const untagged = (await ok(docker(daemon, ['commit', 'dangler']))).trim();
    await ok(docker(daemon, ['rm', 'dangler']));
    const pruned = await ok(docker(daemon, ['image', 'prune', '-f']));
    assert.match(pruned, new RegExp(`^Deleted Images:\\ndeleted: ${untagged}\\n\\nTotal reclaimed space: \\d+(\\.\\d+)?k?B\\n$`));
    assert.equal(await berth(['image', 'prune', '-f']), 'Total reclaimed space: 0B\n');
    // -a with a label filter: only unused images carrying the label go, names and all.
    const labelled = (await ok(docker(daemon, ['images', '-q', '--no-trunc', 'labelled:1']))).trim();
    assert.equal(await berth(['image', 'prune', '-a', '-f', '--filter', 'label=team=nobody']), 'Total reclaimed space: 0B\n');
    const byLabel = await berth(['image', 'prune', '-a', '-f', '--filter', 'label=team=web']);
    assert.match(byLabel, new RegExp(`^Deleted Images:\\nuntagged: labelled:1\\ndeleted: ${labelled}\\n\\nTotal reclaimed space: `));
    // until: images created before the time go; busybox is in use and stays.
    await ok(docker(daemon, ['create', '--name', 'holder', 'busybox']));
    assert.equal(await ok(docker(daemon, ['image', 'prune', '-a', '-f', '--filter', 'until=2000-01-01T00:00:00Z'])), 'Total reclaimed space: 0B\n');
    const all = await ok(docker(daemon, ['image', 'prune', '-a', '-f', '--filter', 'until=1s']));
    assert.match(all, /untagged: hist:1\n/);
    assert.doesNotMatch(all, /busybox/);
    assert.equal(await ok(docker(daemon, ['images', '--format', '{{.Repository}}'])), 'busybox\n');
    // The prompt: anything but y keeps everything.
    await commitWith('kept:1', 10);
    assert.equal(await ok(docker(daemon, ['image', 'prune', '-a'], 'n\n')).then((out) => out.includes('Deleted')), false);
    assert.equal((await daemon.berth(['image', 'prune', '-a'], { input: 'n\n' })).stdout, 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] ');
    assert.match(await ok(docker(daemon, ['images'])), /kept/);
    await ok(docker(daemon, ['rm', 'holder']));
  });

  test('system df (and -v) prints as docker does; system prune removes stopped containers and unused images', async () => {
    await ok(docker(daemon, ['run', '-d', '--name', 'df-live', '--network', 'none', 'busybox', 'sleep', '600']));
    await ok(docker(daemon, ['run', '--name', 'df-done', '--network', 'none', 'kept:1', 'sh', '-c', 'echo data > /file']));
    for (const args of [['system', 'df'], ['system', 'df', '-v'], ['system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}'], ['system', 'df', '--format', 'json']]) {
      assert.equal(withoutAges(await berth(args)), withoutAges(await ok(docker(daemon, args))), args.join(' '));
    }
    const summary = await berth(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}/{{.Active}}']);
    assert.equal(summary, 'Images=2/2\nContainers=2/1\nLocal Volumes=0/0\nBuild Cache=0/0\n');
    const pruned = await berth(['system', 'prune', '-a', '-f']);
    const doneId = (await ok(docker(daemon, ['ps', '-aq', '--no-trunc', '--filter', 'name=df-done']))).trim();
    assert.equal(doneId, '', 'the stopped container went');
    assert.match(pruned, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Images:\nuntagged: kept:1\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: /);
    assert.equal(await ok(docker(daemon, ['images', '--format', '{{.Repository}}'])), 'busybox\n');
    await ok(docker(daemon, ['rm', '-f', 'df-live']));
  });

  test('a refused commit leaves nothing behind; parallel commits sharing layers all hold', async () => {
    const blobs = join(daemon.dataRoot, 'content', 'blobs', 'sha256');
    const layerFiles = join(daemon.dataRoot, 'layers', 'layers');
    const before = { blobs: (await readdir(blobs)).length, layers: (await readdir(layerFiles)).length };
    await ok(docker(daemon, ['run', '--name', 'src-a', '--network', 'none', 'busybox', 'sh', '-c', 'head -c 100000 /dev/urandom > /a']));
    await ok(docker(daemon, ['run', '--name', 'src-b', '--network', 'none', 'busybox', 'sh', '-c', 'head -c 100000 /dev/urandom > /b']));
    const bogus = await docker(daemon, ['commit', '-c', 'BOGUS x', 'src-a', 'never:1']);
    assert.equal(bogus.code, 1);
    assert.match(bogus.stderr, /BOGUS is not a valid change command/);
    const unknown = await docker(daemon, ['commit', 'nosuch', 'never:1']);
    assert.match(unknown.stderr, /No such container: nosuch/);
    const digest = await rawRequest(daemon.socket, 'POST', `/v1.50/commit?container=src-a&repo=never@sha256:${'0'.repeat(64)}`);
    assert.equal(digest.status, 400, digest.body);
    assert.deepEqual({ blobs: (await readdir(blobs)).length, layers: (await readdir(layerFiles)).length }, before);
    assert.doesNotMatch(await ok(docker(daemon, ['images', '-a'])), /never/);

    const results = await Promise.all(
      ['a', 'a', 'a', 'b', 'b', 'a'].map((source, n) => docker(daemon, ['commit', `src-${source}`, `par:${n}`])),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    for (let n = 0; n < 6; n++) {
      const file = n === 3 || n === 4 ? '/b' : '/a';
      assert.equal(await ok(docker(daemon, ['run', '--rm', '--network', 'none', `par:${n}`, 'wc', '-c', file])), `100000 ${file}\n`);
    }
    // One new layer per distinct diff, however many commits stored it.
    assert.equal((await readdir(layerFiles)).length, before.layers + 2);
    await ok(docker(daemon, ['rm', 'src-a', 'src-b']));
    await ok(docker(daemon, ['rmi', ...[0, 1, 2, 3, 4, 5].map((n) => `par:${n}`)]));
    assert.deepEqual({ blobs: (await readdir(blobs)).length, layers: (await readdir(layerFiles)).length }, before);
  });

  test('two images on one base share its layer on disk; reference counts survive a restart', async () => {
    const layersDir = join(daemon.dataRoot, 'overlay');
    const before = await diskUse(layersDir);
    const layerCount = (await readdir(join(daemon.dataRoot, 'layers', 'layers'))).length;
    const big = 4 << 20;
    await commitWith('big:1', big);
    const one = await diskUse(layersDir);
    await ok(docker(daemon, ['run', '--name', 'on-big', '--network', 'none', 'big:1', 'touch', '/a']));
    await ok(docker(daemon, ['commit', 'on-big', 'big:a']));
    await ok(docker(daemon, ['rm', 'on-big']));
    await ok(docker(daemon, ['run', '--name', 'on-big2', '--network', 'none', 'big:1', 'touch', '/b']));
    await ok(docker(daemon, ['commit', 'on-big2', 'big:b']));
    await ok(docker(daemon, ['rm', 'on-big2']));
    const three = await diskUse(layersDir);
    assert.ok(one - before >= big, `the first image took ${one - before} bytes`);
    assert.ok(three - one < big / 4, `two more images on it took ${three - one} bytes: the 4 MiB layer is kept once`);
    // system df counts the shared layer once, and as shared in both.
    const df = JSON.parse((await rawRequest(daemon.socket, 'GET', '/v1.50/system/df')).body);
    const sizes = df.Images.filter((image: { RepoTags: string[] }) => image.RepoTags.some((tag) => tag.startsWith('big:')));
    assert.equal(sizes.length, 3);
    for (const image of sizes) assert.ok(image.SharedSize >= big, `SharedSize ${image.SharedSize}`);
    const total = sizes.reduce((sum: number, image: { Size: number }) => sum + image.Size, 0);
    assert.ok(df.LayersSize < total - big, `LayersSize ${df.LayersSize} counts the shared layer once (images: ${total})`);
    await daemon.restart();
    await ok(docker(daemon, ['rmi', 'big:1', 'big:a']));
    // big:b still has every layer under it: it runs and reads the 4 MiB file.
    assert.equal(await ok(docker(daemon, ['run', '--rm', '--network', 'none', 'big:b', 'sh', '-c', 'wc -c < /data; ls /b'])), `${big}\n/b\n`);
    await daemon.restart();
    await ok(docker(daemon, ['rmi', 'big:b']));
    assert.equal((await readdir(join(daemon.dataRoot, 'layers', 'layers'))).length, layerCount, 'every layer of the removed images went');
    assert.ok((await diskUse(layersDir)) - before < big / 4);
  });
});
