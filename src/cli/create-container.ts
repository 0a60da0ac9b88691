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
  try {
    return (await client.createContainer(request, name)).Id;
  } catch (err) {
    if (!(err instanceof DaemonError && err.statusCode === 404 && err.message.startsWith('No such image'))) throw err;
  }
  stderr.write(`Unable to find image '${request.Image}' locally\n`);
  const { name: fromImage, tag } = splitImageTag(request.Image);
  await printProgress(client.pullImage({ fromImage, tag }), stderr);
  return (await client.createContainer(request, name)).Id;
}
