import type { EngineEvent } from '../../engine/events/event-bus.js';
import { EVENT_SCOPE } from '../../engine/events/event-filter.js';
import type { EventMessage } from '../../wire/events.js';

/** The fields Docker still fills for container and image events (moby's events.Log), first. */
function legacyFields(event: EngineEvent): Pick<EventMessage, 'status' | 'id' | 'from'> {
  if (event.type !== 'container' && event.type !== 'image') return {};
  const from = event.type === 'container' ? event.attributes.image : undefined;
  return { status: event.action, id: event.actorId, ...(from ? { from } : {}) };
}

/** One event as GET /events writes it: Go's encoder output, one JSON object and a newline. */
export function eventLine(event: EngineEvent): string {
  const message: EventMessage = {
    ...legacyFields(event),
    Type: event.type,
    Action: event.action,
    Actor: { ID: event.actorId, Attributes: event.attributes },
    scope: EVENT_SCOPE,
    time: Number(event.timeNano / 1_000_000_000n),
    timeNano: 0,
  };
  // timeNano is an int64 that a JS number cannot hold exactly; it is the last key, so put it in as text.
  return JSON.stringify(message).replace(/"timeNano":0}$/, `"timeNano":${event.timeNano}}`) + '\n';
}
