import type { Filters } from '../filters.js';
import type { EngineEvent, EventBus } from './event-bus.js';
import { eventFilter } from './event-filter.js';

export interface EventQuery {
  /** Nanoseconds since the epoch; events after it (from the ring) are replayed. */
  sinceNano?: bigint;
  /** Nanoseconds since the epoch; nothing later is delivered. */
  untilNano?: bigint;
  filters: Filters;
}

export interface EventFeed {
  /** Kept events that match, oldest first (none unless `since` or `until` was given, as dockerd). */
  past: EngineEvent[];
  /** Whether live events can still come (`until` not yet reached). */
  live: boolean;
  close(): void;
}

/** What GET /events sends: the matching kept events, then the matching live ones until closed. */
export function openEventFeed(bus: EventBus, query: EventQuery, onEvent: (event: EngineEvent) => void): EventFeed {
  const matches = eventFilter(query.filters);
  const { sinceNano, untilNano } = query;
  const replay = sinceNano !== undefined || untilNano !== undefined;
  const past = replay ? bus.history(sinceNano, untilNano).filter(matches) : [];
  const live = untilNano === undefined || untilNano > BigInt(Date.now()) * 1_000_000n;
  // Publishing is synchronous, so nothing can slip in between reading the ring and subscribing.
  const close = live
    ? bus.subscribe((event) => {
        if ((untilNano === undefined || event.timeNano <= untilNano) && matches(event)) onEvent(event);
      })
    : () => {};
  return { past, live, close };
}
