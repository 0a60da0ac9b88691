import type { ServerResponse } from 'node:http';
import type { RouteTable, Handler } from '../router.js';
import { sendJson } from '../http.js';
import { invalidParameter } from '../../common/errors.js';
import type { SystemInfo } from '../../engine/system/system-info.js';
import type { EventBus } from '../../engine/events/event-bus.js';
import { openEventFeed } from '../../engine/events/event-feed.js';
import { parseFilters } from '../../engine/filters.js';
import { parseTimestamp } from '../decode/timestamps.js';
import { infoView, versionView } from '../views/system-views.js';
import { eventLine } from '../views/event-views.js';

/** A client that stops reading gets cut off rather than making berthd buffer events for it. */
const MAX_UNREAD_EVENTS_BYTES = 4 << 20;
/** setTimeout's longest delay; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves at `untilNano` (never when undefined) or when `signal` aborts. */
function waitUntil(untilNano: bigint | undefined, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const arm = () => {
      const remaining = Number(untilNano! / 1_000_000n) - Date.now();
      if (remaining <= 0) return done();
      timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
    };
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', done);
    if (untilNano !== undefined) arm();
  });
}

function streamEvents(res: ServerResponse, line: string): void {
  if (res.writableLength > MAX_UNREAD_EVENTS_BYTES) res.destroy();
  else res.write(line);
}

export function systemRoutes(routes: RouteTable<Handler>, system: SystemInfo, events: EventBus): void {
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
    sendJson(res, 200, versionView(system.version()));
  });

  routes.add('GET', '/info', async ({ res }) => {
    sendJson(res, 200, infoView(await system.info()));
  });

  routes.add('GET', '/events', async ({ res, query, signal }) => {
    const since = query.string('since');
    const until = query.string('until');
    const sinceNano = parseTimestamp(since, 'since');
    const untilNano = parseTimestamp(until, 'until');
    if (sinceNano !== undefined && untilNano !== undefined && untilNano < sinceNano) {
      throw invalidParameter(`\`since\` time (${since}) cannot be after \`until\` time (${until})`);
    }
    const filters = parseFilters(query.string('filters'));
    const feed = openEventFeed(events, { sinceNano, untilNano, filters }, (event) => streamEvents(res, eventLine(event)));
    try {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders(); // the CLI waits for the headers before it shows anything
      for (const event of feed.past) streamEvents(res, eventLine(event));
      if (feed.live) await waitUntil(untilNano, signal);
    } finally {
      feed.close();
    }
    res.end();
  });
}
