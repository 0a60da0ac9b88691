/**
 * What the volume service asks of a volume driver: the built-in `local` one and the plugins that
 * speak Docker's legacy VolumeDriver protocol. Calls take the volume's name; `mount`/`unmount`
 * also an id per use (a container's run), so a driver can count its users.
 */
export interface VolumeDriver {
  readonly name: string;
  /** The driver's scope as Docker reports it on each of its volumes. */
  scope(): Promise<'local' | 'global'>;
  create(name: string, options: Readonly<Record<string, string>>): Promise<void>;
  remove(name: string): Promise<void>;
  /** Makes the volume reachable and returns the host path to bind into a container. */
  mount(name: string, useId: string): Promise<string>;
  unmount(name: string, useId: string): Promise<void>;
  /** Where the volume is (or will be) on the host; '' when the driver does not say. */
  path(name: string): Promise<string>;
  /** The driver's own status of a volume (plugins' `Status`), shown by inspect. */
  status?(name: string): Promise<Record<string, unknown> | undefined>;
  /** The volumes the driver holds, for names made outside berthd (plugins). */
  list(): Promise<string[]>;
  /** A use found alive at daemon start (its mount is still there): counted, not mounted again. */
  adopt?(name: string, useId: string): void;
}
