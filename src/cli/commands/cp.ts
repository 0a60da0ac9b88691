/**
 * `berth cp`, as the docker CLI's (cli/command/container/cp.go): CONTAINER:PATH on one side,
 * a local path or '-' (a tar on stdin/stdout) on the other. The daemon only stats, sends and
 * unpacks tars; which directory to extract into and how the entries are renamed is decided
 * here, from the stat of both sides (local-copy.ts).
 */
import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EngineClient } from '../../client/index.js';
import type { ContainerPathStat } from '../../client/types.js';
import { goClean, rebaseName, splitPathDirEntry } from '../../archive/go-paths.js';
import type { CliContext } from '../context.js';
import { humanSize } from '../format/size.js';
import { copyInfoDestinationPath, copyInfoSourcePath, prepareArchiveCopy, rebaseArchiveEntries, resolveLocalPath, tarResource, type CopyInfo } from '../local-copy.js';
import { untarInto } from '../local-untar.js';

interface CopyFlags {
  archive?: boolean;
  followLink?: boolean;
  quiet?: boolean;
}

interface CopyConfig {
  container: string;
  source: string;
  destination: string;
  followLink: boolean;
  copyUIDGID: boolean;
  /** Print "Successfully copied …" (only to a terminal, and not with -q). */
  progress: boolean;
}

// Go's os.FileMode bits the docker CLI tests.
const GO_MODE_DIR = 2 ** 31;
const GO_MODE_SYMLINK = 2 ** 27;
const GO_MODE_DEVICE = 2 ** 26;
const GO_MODE_IRREGULAR = 2 ** 19;
const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
const isDir = (stat: ContainerPathStat) => hasBit(stat.mode, GO_MODE_DIR);
const isSymlink = (stat: ContainerPathStat) => hasBit(stat.mode, GO_MODE_SYMLINK);

/** Where the link at `path` leads: its stat's target, joined to the link's directory if relative. */
const linkTargetPath = (path: string, link: ContainerPathStat) =>
  link.linkTarget.startsWith('/') ? link.linkTarget : goClean(`${splitPathDirEntry(path)[0]}/${link.linkTarget}`);

/** The docker CLI's splitCpArg: an absolute path or one starting with '.' is local, whatever colons it has. */
function splitCopyArgument(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const colon = arg.indexOf(':');
  if (colon === -1 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

export function cpCommand(ctx: CliContext): Command {
  return new Command('cp')
    .description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached')
    .argument('<source>')
    .argument('<destination>')
    .action(async (source: string, destination: string, flags: CopyFlags) => {
      const from = splitCopyArgument(source);
      const to = splitCopyArgument(destination);
      if (from.container !== '' && to.container !== '') throw new Error('copying between containers is not supported');
      if (from.container === '' && to.container === '') throw new Error('must specify at least one container source');
      const config: CopyConfig = {
        container: from.container || to.container,
        source: from.path,
        destination: to.path,
        followLink: flags.followLink ?? false,
        copyUIDGID: flags.archive ?? false,
        progress: !flags.quiet && ctx.stderr.isTTY === true,
      };
      if (from.container !== '') await copyFromContainer(ctx, config);
      else await copyToContainer(ctx, config);
    });
}

/** Counts the bytes of the tar as they pass, for "Successfully copied …". */
function byteCounter(): { counter: Transform; bytes: () => number } {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { counter, bytes: () => bytes };
}

/** The docker CLI's ValidateOutputPath: the parent must exist; an existing path must be a directory or a file. */
async function validateOutputPath(path: string): Promise<void> {
  const [dir] = splitPathDirEntry(path);
  if (await stat(dir).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ENOENT')) {
    throw new Error(`invalid output path: directory "${dir}" does not exist`);
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isDirectory() && !existing.isFile()) {
    throw new Error(`invalid output path: "${path}" must be a directory or a regular file: got ${existing.isBlockDevice() || existing.isCharacterDevice() ? 'a device' : 'an irregular file'}`);
  }
}

async function copyFromContainer(ctx: CliContext, config: CopyConfig): Promise<void> {
  const client = ctx.client();
  const toStdout = config.destination === '-';
  const destination = toStdout ? '-' : resolveLocalPath(config.destination);
  if (!toStdout) await validateOutputPath(destination);
  let source = config.source;
  let rebase = '';
  if (config.followLink) {
    const linkStat = await client.statContainerPath(config.container, source).catch(() => undefined);
    if (linkStat && isSymlink(linkStat)) {
      [source, rebase] = rebaseName(source, linkTargetPath(source, linkStat));
    }
  }
  const { stat: sourceStat, content } = await client.copyFromContainer(config.container, source);
  if (toStdout) {
    await pipeline(content, ctx.stdout);
    return;
  }
  const { counter, bytes } = byteCounter();
  const info: CopyInfo = { path: source, exists: true, isDir: isDir(sourceStat), rebaseName: rebase };
  try {
    const target = await copyInfoDestinationPath(destination);
    const tar = rebase === '' ? content : rebaseArchiveEntries(content, splitPathDirEntry(source)[1], rebase);
    const prepared = prepareArchiveCopy(tar, info, target);
    await untarInto(prepared.content.pipe(counter), prepared.dstDir);
  } finally {
    content.destroy();
    if (config.progress) ctx.stderr.write(`Successfully copied ${humanSize(bytes())} to ${destination}\n`);
  }
}

async function copyToContainer(ctx: CliContext, config: CopyConfig): Promise<void> {
  const client = ctx.client();
  const fromStdin = config.source === '-';
  const source = fromStdin ? '-' : resolveLocalPath(config.source);
  const { destination, container } = config;
  const target = await destinationInfo(client, container, destination);
  let content: Readable;
  let dstDir: string;
  if (fromStdin) {
    if (!target.isDir) throw new Error(`destination "${container}:${destination}" must be a directory`);
    content = ctx.stdin;
    dstDir = target.path;
  } else {
    const info = await copyInfoSourcePath(source, config.followLink);
    ({ dstDir, content } = prepareArchiveCopy(await tarResource(info), info, target));
  }
  const { counter, bytes } = byteCounter();
  try {
    await client.copyToContainer(container, dstDir, fromStdin ? content : content.pipe(counter), {
      noOverwriteDirNonDir: true,
      copyUIDGID: config.copyUIDGID,
    });
  } finally {
    if (config.progress && !fromStdin) ctx.stderr.write(`Successfully copied ${humanSize(bytes())} to ${container}:${destination}\n`);
  }
}

/**
 * What the destination in the container is: a final link is followed (once, by its stat's
 * linkTarget); a path that cannot be stat'ed is taken as missing, and the extraction then tells
 * whether its parent exists.
 */
async function destinationInfo(client: EngineClient, container: string, path: string): Promise<CopyInfo> {
  const info: CopyInfo = { path, exists: false, isDir: false, rebaseName: '' };
  let found = await client.statContainerPath(container, path).catch((err: unknown) => {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  });
  if (found && isSymlink(found)) {
    info.path = linkTargetPath(path, found);
    found = await client.statContainerPath(container, info.path).catch(() => undefined);
  }
  if (found && (hasBit(found.mode, GO_MODE_DEVICE) || hasBit(found.mode, GO_MODE_IRREGULAR))) {
    const what = hasBit(found.mode, GO_MODE_DEVICE) ? 'got a device' : 'got an irregular file';
    throw new Error(`destination "${container}:${path}" must be a directory or a regular file: ${what}`);
  }
  if (found) Object.assign(info, { exists: true, isDir: isDir(found) });
  return info;
}
