/**
 * `docker system df`: what images, containers, volumes and the build cache take, as moby's
 * SystemDiskUsage reports it. Image sizes are their layers' sizes; a layer two images share is
 * counted once in LayersSize and as shared in each of them.
 */
import { invalidParameter } from '../../common/errors.js';
import type { ContainerSizes } from '../containers/lifecycle-types.js';
import type { ContainerRecord } from '../containers/model.js';
import type { Image } from '../images/image-store.js';

export const DISK_USAGE_TYPES = ['container', 'image', 'volume', 'build-cache'] as const;
export type DiskUsageType = (typeof DISK_USAGE_TYPES)[number];

export interface ImageUsage {
  image: Image;
  repoTags: string[];
  /** Containers (running or not) made from the image. */
  containers: number;
  /** Bytes of the image's layers that other images use too. */
  sharedSize: number;
}

export interface ContainerUsage {
  record: ContainerRecord;
  sizes: ContainerSizes;
}

export interface DiskUsageReport {
  /** Bytes of every layer an image uses, each counted once; undefined when images were not asked for. */
  layersSize?: number;
  images?: ImageUsage[];
  containers?: ContainerUsage[];
  volumes?: unknown[];
  buildCache?: unknown[];
}

export interface DiskUsageSources {
  images(): Array<{ image: Image; repoTags: string[] }>;
  /** Bytes of an image layer. */
  layerSize(chainId: string): number;
  containers(): ContainerRecord[];
  containerSizes(record: ContainerRecord): Promise<ContainerSizes>;
  /** Docker's Volume objects with UsageData (the volumes service's dfEntries); none when absent. */
  volumes?: () => Promise<unknown[]>;
  /** Docker's BuildCache objects (the builder's dfEntries); none when absent. */
  buildCache?: () => unknown[];
}

/** The `type` query values (all four when none is given); an unknown one is a 400, as moby's. */
export function diskUsageTypes(values: string[]): Set<DiskUsageType> {
  if (values.length === 0) return new Set(DISK_USAGE_TYPES);
  for (const value of values) {
    if (!(DISK_USAGE_TYPES as readonly string[]).includes(value)) throw invalidParameter(`unknown object type: ${value}`);
  }
  return new Set(values as DiskUsageType[]);
}

export class DiskUsage {
  // One computation at a time: concurrent requests share it (moby's singleflight).
  private running?: { key: string; report: Promise<DiskUsageReport> };

  constructor(private readonly sources: DiskUsageSources) {}

  report(types: Set<DiskUsageType>): Promise<DiskUsageReport> {
    const key = [...types].sort().join(',');
    if (this.running?.key === key) return this.running.report;
    const report = this.compute(types).finally(() => {
      if (this.running?.report === report) this.running = undefined;
    });
    this.running = { key, report };
    return report;
  }

  private async compute(types: Set<DiskUsageType>): Promise<DiskUsageReport> {
    const report: DiskUsageReport = {};
    const records = this.sources.containers();
    if (types.has('image')) Object.assign(report, this.imageUsage(records));
    if (types.has('container')) {
      report.containers = [];
      for (const record of records) {
        // A container removed meanwhile has no layer to measure: it is left out.
        const sizes = await this.sources.containerSizes(record).catch(() => undefined);
        if (sizes) report.containers.push({ record, sizes });
      }
    }
    if (types.has('volume')) report.volumes = this.sources.volumes ? await this.sources.volumes() : [];
    if (types.has('build-cache')) report.buildCache = this.sources.buildCache?.() ?? [];
    return report;
  }

  private imageUsage(records: ContainerRecord[]): { layersSize: number; images: ImageUsage[] } {
    const listed = this.sources.images();
    const imagesPerLayer = new Map<string, number>();
    for (const { image } of listed) for (const chainId of image.chainIds) imagesPerLayer.set(chainId, (imagesPerLayer.get(chainId) ?? 0) + 1);
    let layersSize = 0;
    for (const chainId of imagesPerLayer.keys()) layersSize += this.sources.layerSize(chainId);
    const images = listed.map(({ image, repoTags }) => ({
      image,
      repoTags,
      containers: records.filter((record) => record.image === image.id).length,
      sharedSize: image.chainIds
        .filter((chainId) => imagesPerLayer.get(chainId)! > 1)
        .reduce((total, chainId) => total + this.sources.layerSize(chainId), 0),
    }));
    return { layersSize, images };
  }
}
