/**
 * The mount syntaxes of a create request turned into mount points, with moby's Linux parser's
 * rules and messages (volume/mounts/linux_parser.go): `-v` (HostConfig.Binds), `--mount`
 * (HostConfig.Mounts), `--volumes-from` and `--tmpfs` (HostConfig.Tmpfs). Pure apart from the
 * check that a --mount bind source exists.
 */
import { posix } from 'node:path';
import { invalidParameter } from '../../common/errors.js';
import type { MountPoint, MountRequest } from './mount-point.js';

const RW_MODES = new Set(['rw', 'ro', 'ro-non-recursive', 'ro-force-recursive', 'rro']);
const LABEL_MODES = new Set(['z', 'Z']);
export const PROPAGATION_MODES = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const DEFAULT_PROPAGATION = 'rprivate';

const invalidSpec = (raw: string) => `invalid volume specification: '${raw}'`;
const invalidMode = (mode: string) => invalidParameter(`invalid mode: ${mode}`);

/** moby's linuxValidMountMode: known words, at most one of each kind. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const word of mode.split(',')) {
    const kind = [RW_MODES, LABEL_MODES, PROPAGATION_MODES, COPY_MODES, CONSISTENCY_MODES].findIndex((set) => set.has(word));
    if (kind === -1) return false;
    counts[kind]++;
  }
  return counts.every((count) => count <= 1);
}

const modeWords = (mode: string) => (mode === '' ? [] : mode.split(','));

/** The checks of moby's validateMountConfigImpl that need no file system, with its wrapping. */
function checkTarget(request: MountRequest): void {
  const fail = (message: string) => invalidParameter(`invalid mount config for type "${request.Type}": ${message}`);
  if (!request.Target) throw fail('field Target must not be empty');
  if (posix.normalize(request.Target) === '/' || posix.normalize(request.Target) === '//') throw fail("invalid specification: destination can't be '/'");
  if (!request.Target.startsWith('/')) throw fail(`invalid mount path: '${request.Target}' mount path must be absolute`);
  switch (request.Type) {
    case 'bind': {
      if (!request.Source) throw fail('field Source must not be empty');
      const propagation = request.BindOptions?.Propagation;
      if (propagation && !PROPAGATION_MODES.has(propagation)) throw fail(`invalid propagation mode: ${propagation}`);
      if (request.VolumeOptions) throw fail('field VolumeOptions must not be specified');
      if (!request.Source.startsWith('/')) throw fail(`invalid mount path: '${request.Source}' mount path must be absolute`);
      return;
    }
    case 'volume':
      if (request.BindOptions) throw fail('field BindOptions must not be specified');
      if (request.VolumeOptions?.Subpath) throw fail('volume subpaths are not supported yet by berthd');
      if (request.ReadOnly && !request.Source) throw fail('must not set ReadOnly mode when using anonymous volumes');
      return;
    case 'tmpfs':
      if (request.BindOptions) throw fail('field BindOptions must not be specified');
      if (request.Source) throw fail('field Source must not be specified');
      tmpfsData(request);
      return;
    default:
      throw fail('mount type unknown');
  }
}

function pointOf(request: MountRequest, mode: string): MountPoint {
  const point: MountPoint = {
    Type: request.Type,
    Source: '',
    Destination: posix.normalize(request.Target).replace(/\/+$/, '') || '/',
    RW: !request.ReadOnly,
    Name: '',
    Driver: '',
    Mode: mode,
    Propagation: '',
    CopyData: false,
    Spec: request,
  };
  if (request.Type === 'volume') {
    point.Name = request.Source ?? '';
    point.Driver = request.VolumeOptions?.DriverConfig?.Name ?? '';
    point.CopyData = !request.VolumeOptions?.NoCopy;
  } else if (request.Type === 'bind') {
    point.Source = posix.normalize(request.Source ?? '').replace(/(.)\/+$/, '$1');
    point.Propagation = request.BindOptions?.Propagation || DEFAULT_PROPAGATION;
  }
  return point;
}

/** One `-v` entry (HostConfig.Binds or a Config.Volumes key): moby's ParseMountRaw. */
export function parseBind(raw: string, volumeDriver = ''): MountPoint {
  const parts = raw.split(':');
  const fields = parts.length > 4 ? [...parts.slice(0, 3), parts.slice(3).join(':')] : parts;
  if (fields[0] === '') throw invalidParameter(invalidSpec(raw));
  let source: string | undefined;
  let target: string;
  let mode = '';
  if (fields.length === 1) target = fields[0];
  else if (fields.length === 2) {
    if (validMode(fields[1])) throw invalidParameter(invalidSpec(raw));
    [source, target] = fields;
  } else if (fields.length === 3) [source, target, mode] = fields;
  else throw invalidParameter(invalidSpec(raw));
  if (!validMode(mode)) throw invalidMode(mode);
  const words = modeWords(mode);
  const request: MountRequest = { Type: source?.startsWith('/') ? 'bind' : 'volume', Target: target, ReadOnly: words.includes('ro') };
  if (source !== undefined) request.Source = source;
  if (request.Type === 'volume' && (volumeDriver || words.includes('nocopy'))) {
    request.VolumeOptions = { ...(volumeDriver && { DriverConfig: { Name: volumeDriver } }), ...(words.includes('nocopy') && { NoCopy: true }) };
  }
  const propagation = words.find((word) => PROPAGATION_MODES.has(word));
  if (propagation) request.BindOptions = { Propagation: propagation };
  try {
    checkTarget(request);
  } catch (err) {
    throw invalidParameter(`${invalidSpec(raw)}: ${(err as Error).message}`);
  }
  return pointOf(request, mode);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One HostConfig.Mounts entry (--mount): type-checked as Go's decoder would, then moby's checks. */
export function parseMountRequest(value: unknown): MountPoint {
  if (!isObject(value)) throw invalidParameter('json: cannot unmarshal value into Go struct field HostConfig.Mounts of type mount.Mount');
  for (const key of ['Type', 'Source', 'Target', 'Consistency'] as const) {
    if (value[key] !== undefined && value[key] !== null && typeof value[key] !== 'string') {
      throw invalidParameter(`json: cannot unmarshal ${typeof value[key]} into Go struct field Mount.HostConfig.Mounts.${key} of type string`);
    }
  }
  for (const key of ['BindOptions', 'VolumeOptions', 'TmpfsOptions'] as const) {
    if (value[key] !== undefined && value[key] !== null && !isObject(value[key])) {
      throw invalidParameter(`json: cannot unmarshal ${typeof value[key]} into Go struct field Mount.HostConfig.Mounts.${key}`);
    }
  }
  const request = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined && v !== '')) as unknown as MountRequest;
  if (request.Type === ('npipe' as string) || request.Type === ('cluster' as string) || request.Type === ('image' as string)) {
    throw invalidParameter(`invalid mount config for type "${request.Type}": mounts of type ${request.Type} are not supported by berthd`);
  }
  checkTarget(request);
  return pointOf(request, '');
}

/** `--volumes-from NAME[:ro|rw]`: the container and the mode its mounts are taken with. */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (spec === '') throw invalidParameter('volumes-from specification cannot be an empty string');
  const colon = spec.indexOf(':');
  const container = colon === -1 ? spec : spec.slice(0, colon);
  const mode = colon === -1 ? '' : spec.slice(colon + 1);
  if (mode === '') return { container, mode: 'rw' };
  const words = modeWords(mode);
  if (!validMode(mode) || words.some((w) => PROPAGATION_MODES.has(w) || COPY_MODES.has(w))) throw invalidMode(mode);
  return { container, mode };
}

/** moby's ConvertTmpfsOptions: ro, mode, size (with the largest exact suffix), exec/noexec. */
export function tmpfsData(request: MountRequest): string {
  const options = request.TmpfsOptions ?? {};
  const data: string[] = [];
  if (request.ReadOnly) data.push('ro');
  if (options.Mode) data.push(`mode=${options.Mode.toString(8)}`);
  if (options.SizeBytes) {
    const size = options.SizeBytes;
    const unit = ([['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const).find(([, divisor]) => size % divisor === 0);
    data.push(unit ? `${size / unit[1]}${unit[0]}` : String(size));
    data[data.length - 1] = `size=${data[data.length - 1]}`;
  }
  for (const option of options.Options ?? []) {
    if (!Array.isArray(option) || option.length < 1 || option.length > 2) throw invalidParameter('invalid option array length');
    if (option[0] !== 'exec' && option[0] !== 'noexec') throw invalidParameter(`invalid option: ${option[0]}`);
    data.push(option.join('='));
  }
  return data.join(',');
}

/**
 * The OCI options of a tmpfs: moby's defaults (noexec, nosuid, nodev, rprivate) with the given
 * ones merged in, a later word overriding an earlier one of the same kind (exec over noexec).
 */
export function tmpfsOptions(data: string): string[] {
  const opposite: Record<string, string> = { exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev', ro: 'rw', rw: 'ro' };
  const words = ['noexec', 'nosuid', 'nodev', DEFAULT_PROPAGATION, ...data.split(',').filter(Boolean)];
  const merged: string[] = [];
  for (const word of words) {
    const key = word.includes('=') ? word.slice(0, word.indexOf('=') + 1) : word;
    const at = merged.findIndex((w) => w === opposite[word] || w === word || (key.endsWith('=') && w.startsWith(key)) || (PROPAGATION_MODES.has(w) && PROPAGATION_MODES.has(word)));
    if (at !== -1) merged.splice(at, 1);
    merged.push(word);
  }
  return merged;
}

/** HostConfig.Tmpfs (--tmpfs /path[:options]): each destination checked as moby's ValidateTmpfsMountDestination. */
export function parseTmpfsMap(tmpfs: Record<string, string>): Array<{ destination: string; options: string[] }> {
  return Object.entries(tmpfs).map(([destination, data]) => {
    if (posix.normalize(destination) === '/') throw invalidParameter("invalid specification: destination can't be '/'");
    if (!destination.startsWith('/')) throw invalidParameter(`invalid mount path: '${destination}' mount path must be absolute`);
    return { destination: posix.normalize(destination).replace(/(.)\/+$/, '$1'), options: tmpfsOptions(data) };
  });
}
