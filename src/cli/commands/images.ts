import { Command } from 'commander';
import type { ImageSummary } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { goTime, timeAgo } from '../format/duration.js';
import { humanSize } from '../format/size.js';
import { defaultTable, renderList } from '../format/list-format.js';
import { shortId } from '../format/text.js';
import { collect, filterOptions } from '../option-values.js';

interface ImagesFlags {
  all?: boolean;
  digests?: boolean;
  quiet?: boolean;
  trunc: boolean;
  filter?: string[];
  format?: string;
}

export function imagesCommand(ctx: CliContext, name = 'images'): Command {
  return new Command(name)
    .description('List images')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('--digests', 'Show digests')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', "Format output using a Go template ('table …', '{{.Repository}}', 'json')")
    .argument('[repository[:tag]]')
    .action(async (reference: string | undefined, flags: ImagesFlags) => {
      const filters = filterOptions([...(flags.filter ?? []), ...(reference ? [`reference=${reference}`] : [])]);
      const images = await ctx.client().listImages({ all: flags.all, filters });
      if (flags.quiet) {
        // One line per image even when it has several tags, as docker prints it.
        const ids = new Set(images.map((image) => (flags.trunc ? shortId(image.Id) : image.Id)));
        for (const id of ids) ctx.stdout.write(`${id}\n`);
        return;
      }
      // As docker: no --format means config.json's imagesFormat, if any; `table` alone is the default table.
      const format = defaultTable(flags.format || ctx.config().imagesFormat, flags.digests ? IMAGES_DIGESTS_TABLE : IMAGES_TABLE);
      ctx.stdout.write(imagesTable(images, flags.trunc, new Date(), format));
    });
}

const IMAGE_TITLES: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};
const IMAGES_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const IMAGES_DIGESTS_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

/** One row per tag; an untagged image shows as <none> <none>. */
export function imagesTable(images: ImageSummary[], truncate: boolean, now = new Date(), format = IMAGES_TABLE): string {
  const rows = images.flatMap((image) => {
    const tags = image.RepoTags?.filter((tag) => tag !== '<none>:<none>') ?? [];
    const references = tags.length > 0 ? tags.map(splitRepoTag) : [['<none>', '<none>'] as const];
    return references.map(([repository, tag]) => ({
      ID: truncate ? shortId(image.Id) : image.Id,
      Repository: repository,
      Tag: tag,
      Digest: digestOf(image.RepoDigests ?? [], repository),
      CreatedSince: timeAgo(image.Created, now),
      CreatedAt: goTime(image.Created),
      Size: humanSize(image.Size),
      VirtualSize: humanSize(image.Size, 4),
      SharedSize: image.SharedSize === -1 ? 'N/A' : humanSize(image.SharedSize, 4),
      UniqueSize: image.SharedSize === -1 ? 'N/A' : humanSize(image.Size - image.SharedSize, 4),
      Containers: image.Containers === -1 ? 'N/A' : String(image.Containers),
    }));
  });
  return renderList(format, rows, IMAGE_TITLES);
}

/** The digest the image has in `repository` ("repo@sha256:…" among its RepoDigests), or <none>. */
function digestOf(repoDigests: string[], repository: string): string {
  const match = repoDigests.find((repoDigest) => repoDigest.slice(0, repoDigest.indexOf('@')) === repository);
  return match ? match.slice(match.indexOf('@') + 1) : '<none>';
}

function splitRepoTag(repoTag: string): readonly [string, string] {
  const colon = repoTag.lastIndexOf(':');
  return [repoTag.slice(0, colon), repoTag.slice(colon + 1)];
}
