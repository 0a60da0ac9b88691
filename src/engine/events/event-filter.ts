/**
 * GET /events filters with moby's semantics (daemon/events/filter.go): every key given must
 * match; `container` and `daemon` match an id prefix or the name attribute; `image` matches the
 * id, the name, or the name without its tag; `event` is exact except for the actions that carry a
 * suffix (`exec_start: sh`, `health_status: healthy`), which match by prefix.
 */
import { filterValues, labelsMatch, type Filters } from '../filters.js';
import { familiarRepository, parseNormalisedNamed } from '../images/reference.js';
import type { EngineEvent } from './event-bus.js';

const SUFFIXED_ACTIONS = ['health_status', 'exec_create', 'exec_start'];

/** Events have no swarm scope here; every event is "local". */
export const EVENT_SCOPE = 'local';

function exact(values: readonly string[], ...candidates: string[]): boolean {
  return values.length === 0 || candidates.some((c) => values.includes(c));
}

function fuzzy(values: readonly string[], ...candidates: string[]): boolean {
  return values.length === 0 || candidates.some((c) => c !== '' && values.some((v) => c.startsWith(v)));
}

/** "busybox:latest" → "busybox"; anything that is not a reference stays as it is. */
function withoutTag(image: string): string {
  try {
    return familiarRepository(parseNormalisedNamed(image));
  } catch {
    return image;
  }
}

export function eventFilter(filters: Filters): (event: EngineEvent) => boolean {
  const values = (key: string) => filterValues(filters, key);
  const events = values('event');
  const fuzzyActions = events.some((e) => SUFFIXED_ACTIONS.includes(e));
  return (event) => {
    const name = event.attributes.name ?? '';
    const imageName = (event.type === 'image' ? event.attributes.name : event.attributes.image) ?? '';
    return (
      (fuzzyActions ? fuzzy(events, event.action) : exact(events, event.action)) &&
      exact(values('type'), event.type) &&
      exact(values('scope'), EVENT_SCOPE) &&
      fuzzy(values('daemon'), event.actorId, name) &&
      fuzzy(values('container'), event.actorId, name) &&
      fuzzy(values('volume'), event.actorId) &&
      fuzzy(values('network'), event.actorId, name) &&
      exact(values('image'), event.actorId, imageName, withoutTag(event.actorId), withoutTag(imageName)) &&
      labelsMatch(event.attributes, values('label'))
    );
  };
}
