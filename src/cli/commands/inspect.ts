import { Command, Option } from 'commander';
import { DaemonError, type EngineClient } from '../../client/index.js';
import { CliExit, describeError } from '../cli-exit.js';
import type { CliContext } from '../context.js';
import { executeTemplate, parseTemplate } from '../format/go-template.js';
import { dockerJson } from '../format/json.js';

type ObjectType = 'container' | 'image' | 'network' | 'volume';

const LOOKUPS: Record<ObjectType, (client: EngineClient, name: string) => Promise<unknown>> = {
  container: (client, name) => client.inspectContainer(name),
  image: (client, name) => client.inspectImage(name),
  network: (client, name) => client.inspectNetwork(name),
  volume: (client, name) => client.inspectVolume(name),
};

const DESCRIPTIONS: Record<ObjectType, string> = {
  container: 'Display detailed information on one or more containers',
  image: 'Display detailed information on one or more images',
  network: 'Display detailed information on one or more networks',
  volume: 'Display detailed information on one or more volumes',
};

/** `berth inspect` (containers, then images) and `berth image inspect` (images only). */
export function inspectCommand(ctx: CliContext, only?: ObjectType): Command {
  const command = new Command('inspect')
    .description(only ? DESCRIPTIONS[only] : 'Return low-level information on Docker objects')
    .option('-f, --format <template>', 'Format output using a Go template subset: {{.Path}} and {{json .Path}}')
    .argument('<name...>');
  if (!only) command.addOption(new Option('--type <type>', 'Only inspect objects of the given type').choices(['container', 'image', 'network', 'volume']));
  return command.action(async (names: string[], flags: { format?: string; type?: ObjectType }) => {
    const template = flags.format === undefined ? undefined : parseTemplate(flags.format);
    const types: ObjectType[] = only ? [only] : flags.type ? [flags.type] : ['container', 'image', 'network', 'volume'];
    const found: unknown[] = [];
    const errors: string[] = [];
    for (const name of names) {
      const object = await findObject(ctx.client(), name, types);
      if (!(object instanceof DaemonError)) found.push(object);
      // As docker: `container inspect` and `image inspect` pass on the daemon's answer.
      else errors.push(only ? describeError(object) : `Error: No such object: ${name}`);
    }
    if (template) for (const object of found) ctx.stdout.write(`${executeTemplate(template, object)}\n`);
    else ctx.stdout.write(`${dockerJson(found)}\n`);
    if (errors.length > 0) throw new CliExit(1, errors.join('\n'));
  });
}

/** The object, or the daemon's last 404 when no type has it. */
async function findObject(client: EngineClient, name: string, types: ObjectType[]): Promise<unknown> {
  let notFound: DaemonError | undefined;
  for (const type of types) {
    try {
      return await LOOKUPS[type](client, name);
    } catch (err) {
      if (!(err instanceof DaemonError && err.statusCode === 404)) throw err;
      notFound = err;
    }
  }
  return notFound;
}
