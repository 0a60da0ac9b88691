/** Engine API v1.50 shapes the CLI needs beyond types.ts (SystemEvents). */

/** EventMessage, as GET /events streams it, one JSON object a line. */
export interface EventMessage {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  /** Unix seconds. */
  time?: number;
  /** Unix nanoseconds: more digits than a JS number holds exactly; see ReceivedEvent.timeNano. */
  timeNano?: number;
  /** Deprecated fields older daemons still send. */
  status?: string;
  id?: string;
  from?: string;
}

/** One event and the exact line it came in. */
export interface ReceivedEvent {
  message: EventMessage;
  line: string;
  /** Unix nanoseconds read from the line itself, exactly (0n when the daemon sent no time). */
  timeNano: bigint;
}
