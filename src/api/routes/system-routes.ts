import { arch, release } from 'node:os';
import type { RouteTable, Handler } from '../router.js';
import { sendJson } from '../http.js';
import { API_VERSION, MIN_API_VERSION } from '../version.js';
import { BERTH_VERSION, type SystemInfo } from '../../engine/system/system-info.js';
import { goArch } from '../../engine/images/image-config.js';

export function systemRoutes(routes: RouteTable<Handler>, system: SystemInfo): void {
  const ping: Handler = async ({ res }) => {
    // HEAD and GET answer alike; Node drops the body of a HEAD response.
    res.writeHead(200, {
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': 2,
    });
    res.end('OK');
  };
  routes.add('GET', '/_ping', ping).add('HEAD', '/_ping', ping);

  routes.add('GET', '/version', async ({ res }) => {
    const details = {
      ApiVersion: API_VERSION,
      Arch: goArch(arch()),
      BuildTime: '',
      Experimental: 'false',
      GitCommit: '',
      GoVersion: process.version,
      KernelVersion: release(),
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
    };
    sendJson(res, 200, {
      Platform: { Name: 'Berth' },
      Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: details }],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: '',
      GoVersion: process.version,
      Os: 'linux',
      Arch: details.Arch,
      KernelVersion: release(),
      BuildTime: '',
    });
  });

  routes.add('GET', '/info', async ({ res }) => {
    sendJson(res, 200, await system.info());
  });
}
