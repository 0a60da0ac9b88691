import { DaemonError, type ContainerCreateRequest, type EngineClient } from '../client/index.js';
import { splitImageTag } from './image-name.js';
import { printProgress } from './progress.js';

/**
 * Creates a container; when the image is missing, says so, pulls it and creates again, exactly
 * the docker CLI's sequence for `run` and `create`.
 */
export async function createContainerPulling(
  client: EngineClient,
  request: ContainerCreateRequest,
  name: string | undefined,
  stderr: NodeJS.WritableStream,
): Promise<string> {
  const created = async () => {
    const response = await client.createContainer(request, name);
    // The daemon's warnings (a limit the kernel cannot enforce, …), as the docker CLI prints them.
    for (const warning of response.Warnings ?? []) stderr.write(`WARNING: ${warning}\n`);
    return response.Id;
  };
  try {
    return await created();
  } catch (err) {
    if (!(err instanceof DaemonError && err.statusCode === 404 && err.message.startsWith('No such image'))) throw err;
  }
  stderr.write(`Unable to find image '${request.Image}' locally\n`);
  const { name: fromImage, tag } = splitImageTag(request.Image);
  await printProgress(client.pullImage({ fromImage, tag }), stderr);
  return created();
}
