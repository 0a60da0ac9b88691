/** What the client makes of GET /events lines (the wire shape itself is src/wire/events.ts). */
import type { EventMessage } from '../wire/events.js';

export type { EventMessage };

/** One event and the exact line it came in. */
export interface ReceivedEvent {
  message: EventMessage;
  line: string;
  /** Unix nanoseconds read from the line itself, exactly (0n when the daemon sent no time). */
  timeNano: bigint;
}
