/**
 * The engine's events, as `GET /events` and `docker events` show them. Every subsystem publishes
 * here; nothing publishes wire JSON. The last events are kept in a bounded ring so that a client
 * asking with `since` gets what it missed (dockerd keeps 256).
 */

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'builder';

export type ContainerAction =
  | 'create'
  | 'start'
  | 'die'
  | 'stop'
  | 'kill'
  | 'destroy'
  | 'rename'
  | 'attach'
  | 'detach'
  | 'pause'
  | 'unpause'
  | 'restart'
  | 'oom'
  | 'resize'
  | 'update'
  | 'commit'
  | 'export'
  | 'archive-path'
  | 'extract-to-dir'
  | 'prune'
  | 'top'
  | `exec_create: ${string}`
  | `exec_start: ${string}`
  | 'exec_die'
  | `health_status: ${string}`;

export type ImageAction = 'import' | 'tag' | 'untag' | 'delete' | 'prune' | 'pull' | 'push' | 'save' | 'load';

export interface EngineEvent {
  type: EventType;
  action: string;
  /** The object the event is about: a container or image id, a volume or network name. */
  actorId: string;
  /** Labels of the object and event details (name, image, exitCode, signal, …). */
  attributes: Record<string, string>;
  /** Nanoseconds since the epoch; unique and increasing within one daemon. */
  timeNano: bigint;
}

export type EventListener = (event: EngineEvent) => void;

export const EVENT_HISTORY = 256;

export class EventBus {
  private readonly ring: EngineEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private lastNano = 0n;

  constructor(private readonly capacity = EVENT_HISTORY) {}

  publish(type: 'container', action: ContainerAction, actorId: string, attributes?: Record<string, string>): EngineEvent;
  publish(type: 'image', action: ImageAction, actorId: string, attributes?: Record<string, string>): EngineEvent;
  publish(type: EventType, action: string, actorId: string, attributes?: Record<string, string>): EngineEvent;
  publish(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): EngineEvent {
    const now = BigInt(Date.now()) * 1_000_000n;
    // Two events in one millisecond still sort, and `since` of the first excludes nothing later.
    this.lastNano = now > this.lastNano ? now : this.lastNano + 1n;
    const event: EngineEvent = { type, action, actorId, attributes, timeNano: this.lastNano };
    this.ring.push(event);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken subscriber must not stop the publisher or the other subscribers.
      }
    }
    return event;
  }

  /** Events kept in the ring with since < time ≤ until (either bound optional). */
  history(sinceNano?: bigint, untilNano?: bigint): EngineEvent[] {
    return this.ring.filter(
      (e) => (sinceNano === undefined || e.timeNano > sinceNano) && (untilNano === undefined || e.timeNano <= untilNano),
    );
  }

  /** Subscribers now listening (/info's NEventsListener). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Live events from now on; call the returned function to stop. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
