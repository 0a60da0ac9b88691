/** GET /system/df. */
import type { ContainerService } from '../../engine/containers/service.js';
import { diskUsageTypes, type DiskUsage } from '../../engine/system/disk-usage.js';
import type { SystemDataUsageResponse } from '../../wire/image-meta.js';
import type { Handler, RouteTable } from '../router.js';
import { sendJson } from '../http.js';
import { containerSummary } from '../views/container-views.js';
import { imageSummary } from '../views/image-views.js';

export function systemDfRoutes(routes: RouteTable<Handler>, diskUsage: DiskUsage, containers: ContainerService): void {
  routes.add('GET', '/system/df', async ({ res, query, version }) => {
    const report = await diskUsage.report(diskUsageTypes(query.all('type')));
    const body: SystemDataUsageResponse = {
      LayersSize: report.layersSize ?? 0,
      Images: report.images?.map(({ image, repoTags, containers: count, sharedSize }) => ({
        ...imageSummary(image, repoTags, version),
        Containers: count,
        SharedSize: sharedSize,
      })) ?? null,
      Containers: report.containers?.map(({ record, sizes }) => containerSummary(record, containers.imageReferenceHolds(record), sizes)) ?? null,
      Volumes: report.volumes ?? null,
      BuildCache: report.buildCache ?? null,
    };
    sendJson(res, 200, body);
  });
}

