import { Command } from 'commander';
import { writeFile, readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { CliContext } from '../context.js';
import { CliExit } from '../cli-exit.js';
import { collect } from '../option-values.js';
import { boolFlag } from '../signal-proxy.js';
import { packBuildContext } from '../build-context-tar.js';
import { registryConfigHeader } from '../registry-credentials.js';
import { int64, memorySwapBytes, ramInBytes, ulimit } from '../run-option-values.js';
import type { Ulimit } from '../../client/index.js';

interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  label?: string[];
  cache?: boolean;
  rm?: string | boolean;
  forceRm?: boolean;
  quiet?: boolean;
  iidfile?: string;
  target?: string;
  network?: string;
  pull?: boolean;
  platform?: string;
  addHost?: string[];
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  cgroupParent?: string;
  memory?: number;
  memorySwap?: number;
  shmSize?: number;
  ulimit?: Ulimit[];
}

/** `--build-arg K=V`, or `K` alone: the value from the environment, left unset when absent (as docker). */
function buildArgs(values: string[] = []): Record<string, string | null> {
  const args: Record<string, string | null> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq === -1) args[value] = process.env[value] ?? null;
    else args[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return args;
}

function labels(values: string[] = []): Record<string, string> {
  return Object.fromEntries(values.map((value) => {
    const eq = value.indexOf('=');
    return eq === -1 ? [value, ''] : [value.slice(0, eq), value.slice(eq + 1)];
  }));
}

async function readAll(stream: NodeJS.ReadStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The context tar and the `dockerfile` parameter for PATH (or `-`, a tar on stdin) and `-f`. */
async function contextOf(ctx: CliContext, path: string, file: string | undefined): Promise<{ tar: Readable; dockerfile?: string }> {
  if (path === '-') {
    if (file === '-') throw new CliExit(1, 'invalid argument: can\'t use stdin for both build context and dockerfile');
    return { tar: ctx.stdin, dockerfile: file };
  }
  const dir = resolve(path);
  if (file === '-') return packBuildContext(dir, { dockerfile: await readAll(ctx.stdin) });
  if (file === undefined) return packBuildContext(dir, {});
  const absolute = resolve(file);
  const inside = relative(dir, absolute);
  if (!inside.startsWith('..') && !isAbsolute(inside)) return packBuildContext(dir, { dockerfileName: inside });
  return packBuildContext(dir, { dockerfile: await readFile(absolute) });
}

export function buildCommand(ctx: CliContext): Command {
  return new Command('build')
    .description('Build an image from a Dockerfile')
    .option('-t, --tag <name:tag>', 'Name and optionally a tag in the "name:tag" format', collect)
    .option('-f, --file <string>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
    .option('--build-arg <list>', 'Set build-time variables', collect)
    .option('--label <list>', 'Set metadata for an image', collect)
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--rm [bool]', 'Remove intermediate containers after a successful build (default true)')
    .option('--force-rm', 'Always remove intermediate containers')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--iidfile <string>', 'Write the image ID to the file')
    .option('--target <string>', 'Set the target build stage to build.')
    .option('--network <string>', 'Set the networking mode for the RUN instructions during build (default "default")')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('--platform <string>', 'Set platform if server is multi-platform capable')
    .option('--add-host <list>', 'Add a custom host-to-IP mapping ("host:ip")', collect)
    .option('--cpu-period <int>', 'Limit the CPU CFS (Completely Fair Scheduler) period', int64)
    .option('--cpu-quota <int>', 'Limit the CPU CFS (Completely Fair Scheduler) quota', int64)
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)', int64)
    .option('--cpuset-cpus <string>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <string>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--cgroup-parent <string>', 'Set the parent cgroup for the "RUN" instructions during build')
    .option('-m, --memory <bytes>', 'Memory limit', ramInBytes)
    .option('--memory-swap <bytes>', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap', memorySwapBytes)
    .option('--shm-size <bytes>', 'Size of "/dev/shm"', ramInBytes)
    .option('--ulimit <ulimit>', 'Ulimit options', ulimit)
    .argument('<path>', "the context directory, or '-' for a tar on standard input")
    .action(async (path: string, flags: BuildFlags) => {
      const { tar, dockerfile } = await contextOf(ctx, path, flags.file);
      const messages = ctx.client().buildImage(tar, {
        t: flags.tag ?? [],
        dockerfile,
        buildargs: JSON.stringify(buildArgs(flags.buildArg)),
        labels: JSON.stringify(labels(flags.label)),
        nocache: flags.cache === false,
        // Sent as text: the API's default is true, and false is what a boolean leaves out.
        rm: boolFlag(typeof flags.rm === 'string' ? flags.rm.replace(/^=/, '') : flags.rm, true) ? '1' : '0',
        forcerm: flags.forceRm === true,
        q: flags.quiet === true,
        target: flags.target,
        networkmode: flags.network,
        pull: flags.pull === true,
        platform: flags.platform,
        // As the docker CLI: the hosts in one comma-separated value, the ulimits as JSON.
        extrahosts: flags.addHost?.join(','),
        cpuperiod: flags.cpuPeriod,
        cpuquota: flags.cpuQuota,
        cpushares: flags.cpuShares,
        cpusetcpus: flags.cpusetCpus,
        cpusetmems: flags.cpusetMems,
        cgroupparent: flags.cgroupParent,
        memory: flags.memory,
        memswap: flags.memorySwap,
        shmsize: flags.shmSize,
        ulimits: flags.ulimit ? JSON.stringify(flags.ulimit) : undefined,
      }, await registryConfigHeader());
      let imageId: string | undefined;
      for await (const message of messages) {
        if (message.errorDetail?.message !== undefined || message.error !== undefined) {
          throw new CliExit(message.errorDetail?.code || 1, message.errorDetail?.message ?? message.error);
        }
        if (message.stream !== undefined) ctx.stdout.write(message.stream);
        const aux = message.aux as { ID?: string } | undefined;
        if (aux?.ID) imageId = aux.ID;
      }
      if (imageId === undefined) throw new CliExit(1, 'the build ended without an image');
      if (flags.quiet) ctx.stdout.write(`${imageId}\n`);
      if (flags.iidfile) await writeFile(flags.iidfile, imageId);
    });
}
