import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { DaemonError, type ContainerCreateRequest, type EngineClient } from '../client/index.js';
import { CliExit } from './cli-exit.js';
import { splitImageTag } from './image-name.js';
import { printProgress } from './progress.js';
import { registryAuthHeader } from './registry-credentials.js';

export interface CreateOptions {
  name?: string;
  /** --platform, passed on to the daemon. */
  platform?: string;
  /** --pull: missing (default), never or always. */
  pull?: string;
  /** -q: no pull output. */
  quiet?: boolean;
  /** --cidfile: where the new container's id is written. */
  cidfile?: string;
}

const PULL_POLICIES = ['always', 'missing', 'never'];

/**
 * Creates a container; when the image is missing, says so, pulls it and creates again, exactly
 * the docker CLI's sequence for `run` and `create` (--pull missing). --pull never gives the
 * daemon's "No such image" as it is; --pull always pulls before creating.
 */
export async function createContainerPulling(
  client: EngineClient,
  request: ContainerCreateRequest,
  options: CreateOptions,
  stderr: NodeJS.WritableStream,
): Promise<string> {
  const pull = options.pull ?? 'missing';
  if (!PULL_POLICIES.includes(pull)) throw new CliExit(125, `berth: invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  // As the docker CLI: an id file already there means another container may be using it.
  if (options.cidfile && existsSync(options.cidfile)) {
    throw new CliExit(125, `berth: container ID file found, make sure the other container isn't running or delete ${options.cidfile}`);
  }
  const created = async () => {
    const response = await client.createContainer(request, options.name, options.platform);
    // The daemon's warnings (a limit the kernel cannot enforce, …), as the docker CLI prints them.
    for (const warning of response.Warnings ?? []) stderr.write(`WARNING: ${warning}\n`);
    if (options.cidfile) await writeFile(options.cidfile, response.Id, { flag: 'wx' });
    return response.Id;
  };
  const pullImage = async () => {
    const { name: fromImage, tag } = splitImageTag(request.Image);
    const progress = client.pullImage({ fromImage, tag, platform: options.platform }, await registryAuthHeader(fromImage));
    if (options.quiet) for await (const message of progress) void message;
    else await printProgress(progress, stderr);
  };
  if (pull === 'always') await pullImage();
  try {
    return await created();
  } catch (err) {
    if (!(err instanceof DaemonError && err.statusCode === 404 && err.message.startsWith('No such image')) || pull !== 'missing') throw err;
  }
  if (!options.quiet) stderr.write(`Unable to find image '${request.Image}' locally\n`);
  await pullImage();
  return created();
}
