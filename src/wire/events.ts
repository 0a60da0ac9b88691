/** GET /events: one of these per event, written one after another (events.Message in moby). */
export interface EventActor {
  ID: string;
  Attributes: Record<string, string>;
}

export interface EventMessage {
  /** Deprecated fields, still filled for container and image events (API < 1.52). */
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: EventActor;
  scope: 'local' | 'swarm';
  /** Seconds since the epoch. */
  time: number;
  timeNano: number;
}
