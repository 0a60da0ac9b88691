import { Command } from 'commander';
import type { ContainerSummary, ImageSummary, SystemDataUsageResponse } from '../../client/index.js';
import type { CliContext } from '../context.js';
import { confirm } from '../confirm.js';
import { timeAgo } from '../format/duration.js';
import { renderList } from '../format/list-format.js';
import { humanSize } from '../format/size.js';
import { ellipsis, goQuote, shortId } from '../format/text.js';
import { collect, filterOptions } from '../option-values.js';
import { deletedImagesText, deletedListText, writePruneReport } from '../prune-report.js';
import { eventsCommand } from './events.js';
import { infoCommand } from './info.js';
import { pruneImages } from './image-prune.js';

/** `berth system df`, `prune`, and `info` and `events` as docker spells them there too. */
export function systemCommand(ctx: CliContext): Command {
  return new Command('system')
    .description('Manage Berth')
    .addCommand(systemDfCommand(ctx))
    .addCommand(eventsCommand(ctx))
    .addCommand(infoCommand(ctx))
    .addCommand(systemPruneCommand(ctx));
}

function systemDfCommand(ctx: CliContext): Command {
  return new Command('df')
    .description('Show berth disk usage')
    .option('--format <string>', "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')")
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(async (flags: { format?: string; verbose?: boolean }) => {
      const usage = await ctx.client().diskUsage();
      ctx.stdout.write(flags.verbose ? diskUsageVerbose(usage) : diskUsageSummary(usage, flags.format));
    });
}

const ACTIVE_STATES = ['running', 'paused', 'restarting'];

interface Volume {
  Name: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

interface BuildCacheRecord {
  Size: number;
  InUse: boolean;
  Shared: boolean;
}

/** go-units HumanSize (four significant digits), with the share of the total when there is one. */
function reclaimableText(reclaimable: number, total: number): string {
  return total > 0 ? `${humanSize(reclaimable, 4)} (${Math.trunc((reclaimable * 100) / total)}%)` : humanSize(reclaimable, 4);
}

const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const DF_TITLES = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

/** The docker CLI's disk usage summary: one row per kind of object, with what pruning would free. */
export function diskUsageSummary(usage: SystemDataUsageResponse, format?: string): string {
  const images = usage.Images ?? [];
  const containers = usage.Containers ?? [];
  const volumes = (usage.Volumes ?? []) as Volume[];
  const cache = (usage.BuildCache ?? []) as BuildCacheRecord[];
  const imagesInUse = images.filter((image) => image.Containers > 0);
  const imagesUsed = imagesInUse.filter((i) => i.Size !== -1 && i.SharedSize !== -1).reduce((sum, i) => sum + i.Size - i.SharedSize, 0);
  const activeContainer = (c: ContainerSummary) => ACTIVE_STATES.some((state) => c.State.includes(state));
  const containersSize = containers.reduce((sum, c) => sum + (c.SizeRw ?? 0), 0);
  const volumeSize = (v: Volume) => (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0);
  const volumesSize = volumes.reduce((sum, v) => sum + volumeSize(v), 0);
  const cacheSize = cache.filter((c) => !c.Shared).reduce((sum, c) => sum + c.Size, 0);
  const rows = [
    {
      Type: 'Images',
      TotalCount: String(images.length),
      Active: String(imagesInUse.length),
      Size: humanSize(usage.LayersSize, 4),
      Reclaimable: reclaimableText(usage.LayersSize - imagesUsed, usage.LayersSize),
    },
    {
      Type: 'Containers',
      TotalCount: String(containers.length),
      Active: String(containers.filter(activeContainer).length),
      Size: humanSize(containersSize, 4),
      Reclaimable: reclaimableText(containers.filter((c) => !activeContainer(c)).reduce((sum, c) => sum + (c.SizeRw ?? 0), 0), containersSize),
    },
    {
      Type: 'Local Volumes',
      TotalCount: String(volumes.length),
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Size: humanSize(volumesSize, 4),
      Reclaimable: reclaimableText(volumes.filter((v) => v.UsageData?.RefCount === 0).reduce((sum, v) => sum + volumeSize(v), 0), volumesSize),
    },
    {
      Type: 'Build Cache',
      TotalCount: String(cache.length),
      Active: String(cache.filter((c) => c.InUse).length),
      Size: humanSize(cacheSize, 4),
      Reclaimable: humanSize(cache.filter((c) => !c.InUse && !c.Shared).reduce((sum, c) => sum + c.Size, 0), 4),
    },
  ];
  return renderList(!format || format === 'table' ? DF_TABLE : format, rows, DF_TITLES);
}

const IMAGE_TITLES = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  Size: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};
const CONTAINER_TITLES = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  LocalVolumes: 'LOCAL VOLUMES',
  Size: 'SIZE',
  RunningFor: 'CREATED',
  Status: 'STATUS',
  Names: 'NAMES',
};
const VOLUME_TITLES = { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' };
const CACHE_TITLES = {
  ID: 'CACHE ID',
  CacheType: 'CACHE TYPE',
  Size: 'SIZE',
  CreatedSince: 'CREATED',
  LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE',
  Shared: 'SHARED',
};
const table = (titles: Record<string, string>) => `table ${Object.keys(titles).map((key) => `{{.${key}}}`).join('\t')}`;

function imageRows(images: ImageSummary[], now: Date): Array<Record<string, string>> {
  return images.flatMap((image) => {
    const tags = image.RepoTags?.length ? image.RepoTags : ['<none>:<none>'];
    return tags.map((repoTag) => {
      const colon = repoTag.lastIndexOf(':');
      return {
        Repository: repoTag.slice(0, colon),
        Tag: repoTag.slice(colon + 1),
        ID: shortId(image.Id),
        CreatedSince: timeAgo(image.Created, now),
        Size: humanSize(image.Size),
        SharedSize: image.SharedSize === -1 ? 'N/A' : humanSize(image.SharedSize, 4),
        UniqueSize: image.SharedSize === -1 ? 'N/A' : humanSize(image.Size - image.SharedSize, 4),
        Containers: String(image.Containers),
      };
    });
  });
}

function containerRows(containers: ContainerSummary[], now: Date): Array<Record<string, string>> {
  return containers.map((c) => ({
    ID: shortId(c.Id),
    Image: c.Image,
    Command: goQuote(ellipsis(c.Command, 20)),
    LocalVolumes: String((c.Mounts as Array<{ Type?: string }>).filter((m) => m.Type === 'volume').length),
    Size: humanSize(c.SizeRw ?? 0),
    RunningFor: timeAgo(c.Created, now),
    Status: c.Status,
    Names: c.Names.map((name) => name.replace(/^\//, '')).join(','),
  }));
}

/** `system df -v`: a table per kind of object. */
export function diskUsageVerbose(usage: SystemDataUsageResponse, now = new Date()): string {
  const volumes = ((usage.Volumes ?? []) as Volume[]).map((v) => ({
    Name: v.Name,
    Links: String(v.UsageData?.RefCount ?? 0),
    Size: v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size, 4) : 'N/A',
  }));
  const cache = (usage.BuildCache ?? []) as BuildCacheRecord[];
  const cacheSize = cache.filter((c) => !c.Shared).reduce((sum, c) => sum + c.Size, 0);
  return [
    `Images space usage:\n\n${renderList(table(IMAGE_TITLES), imageRows(usage.Images ?? [], now), IMAGE_TITLES)}`,
    `Containers space usage:\n\n${renderList(table(CONTAINER_TITLES), containerRows(usage.Containers ?? [], now), CONTAINER_TITLES)}`,
    `Local Volumes space usage:\n\n${renderList(table(VOLUME_TITLES), volumes, VOLUME_TITLES)}`,
    `Build cache usage: ${humanSize(cacheSize, 4)}\n\n${renderList(table(CACHE_TITLES), [], CACHE_TITLES)}`,
  ].join('\n');
}

interface SystemPruneFlags {
  all?: boolean;
  filter?: string[];
  force?: boolean;
  volumes?: boolean;
}

function systemPruneCommand(ctx: CliContext): Command {
  return new Command('prune')
    .description('Remove unused data')
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes')
    .action(async (flags: SystemPruneFlags) => {
      const warnings = [
        'all stopped containers',
        'all networks not used by at least one container',
        ...(flags.volumes ? ['all anonymous volumes not used by at least one container'] : []),
        flags.all ? 'all images without at least one container associated to them' : 'all dangling images',
        flags.all ? 'all build cache' : 'unused build cache',
      ];
      if (!flags.force && !(await confirm(ctx, `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}`).join('\n')}\n\nAre you sure you want to continue?`))) return;
      const filters = filterOptions(flags.filter);
      const client = ctx.client();
      const sections: string[] = [];
      let reclaimed = 0;
      const containers = await client.prune<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('containers', filters);
      sections.push(deletedListText('Deleted Containers', containers.ContainersDeleted));
      reclaimed += containers.SpaceReclaimed;
      const networks = await client.prune<{ NetworksDeleted: string[] | null }>('networks', filters);
      sections.push(deletedListText('Deleted Networks', networks.NetworksDeleted));
      if (flags.volumes) {
        const volumes = await client.prune<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('volumes', filters);
        sections.push(deletedListText('Deleted Volumes', volumes.VolumesDeleted));
        reclaimed += volumes.SpaceReclaimed;
      }
      const images = await pruneImages(ctx, flags.all ?? false, flags.filter);
      sections.push(deletedImagesText(images.ImagesDeleted));
      reclaimed += images.SpaceReclaimed;
      const cache = await client.prune<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('build', filters, { all: flags.all });
      sections.push(deletedListText('Deleted build cache objects', cache.CachesDeleted));
      reclaimed += cache.SpaceReclaimed;
      writePruneReport(ctx, sections, reclaimed);
    });
}
