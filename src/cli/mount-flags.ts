/**
 * `run`/`create`'s mount flags as the docker CLI turns them into a create request: `-v` (a path
 * alone is an anonymous volume in Config.Volumes, anything else HostConfig.Binds, a host path
 * starting with "." made absolute), `--mount` (its CSV syntax, opts/mount.go's keys and
 * messages), `--tmpfs`, `--volumes-from` and `--volume-driver`.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { MountWire } from '../wire/volumes.js';
import { collect } from './option-values.js';
import { ramInBytes } from './run-option-values.js';

export interface MountFlags {
  volume?: string[];
  mount?: MountWire[];
  tmpfs?: string[];
  volumesFrom?: string[];
  volumeDriver?: string;
}

function parseBool(key: string, value: string | undefined, field: string): boolean {
  if (value === undefined) return true;
  const lowered = value.toLowerCase();
  if (['1', 't', 'true'].includes(lowered)) return true;
  if (['0', 'f', 'false'].includes(lowered)) return false;
  throw new InvalidArgumentError(`invalid value for ${key}: ${field}`);
}

/** Splits one CSV record (the docker CLI reads --mount with encoding/csv: quotes allowed). */
function csvFields(value: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '"' && value[i + 1] === '"') {
        current += '"';
        i++;
      } else if (c === '"') quoted = false;
      else current += c;
    } else if (c === '"' && current === '') quoted = true;
    else if (c === ',') {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}

/** One --mount value (docker CLI's MountOpt.Set). */
export function parseMountFlag(value: string, previous: MountWire[] = []): MountWire[] {
  const mount: MountWire = { Type: 'volume', Target: '' };
  let sawType = false;
  const volumeOptions = () => (mount.VolumeOptions ??= {});
  const bindOptions = () => (mount.BindOptions ??= {});
  const tmpfsOptions = () => (mount.TmpfsOptions ??= {});
  for (const field of csvFields(value)) {
    const at = field.indexOf('=');
    const key = (at === -1 ? field : field.slice(0, at)).toLowerCase();
    const val = at === -1 ? undefined : field.slice(at + 1);
    if (val === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive'].includes(key)) {
      throw new InvalidArgumentError(`invalid field '${field}' must be a key=value pair`);
    }
    switch (key) {
      case 'type':
        if (!['bind', 'volume', 'tmpfs'].includes(val!)) throw new InvalidArgumentError(`invalid mount type: ${val}`);
        mount.Type = val as MountWire['Type'];
        sawType = true;
        break;
      case 'source':
      case 'src':
        mount.Source = val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = val!;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = parseBool(key, val, field);
        break;
      case 'consistency':
        mount.Consistency = val;
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val;
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = parseBool(key, val, field);
        break;
      case 'bind-create-mountpoint':
        bindOptions().CreateMountpoint = parseBool(key, val, field);
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = parseBool(key, val, field);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-label': {
        const [name, label = ''] = splitPair(val!);
        volumeOptions().Labels = { ...volumeOptions().Labels, [name]: label };
        break;
      }
      case 'volume-driver':
        volumeOptions().DriverConfig = { ...volumeOptions().DriverConfig, Name: val };
        break;
      case 'volume-opt': {
        const [name, option = ''] = splitPair(val!);
        const driver = (volumeOptions().DriverConfig ??= {});
        driver.Options = { ...driver.Options, [name]: option };
        break;
      }
      case 'tmpfs-size':
        tmpfsOptions().SizeBytes = ramInBytes(val!);
        break;
      case 'tmpfs-mode': {
        const mode = Number.parseInt(val!, 8);
        if (!/^[0-7]+$/.test(val!)) throw new InvalidArgumentError(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = mode;
        break;
      }
      default:
        throw new InvalidArgumentError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!sawType && mount.Type === 'volume' && !mount.Source && !mount.Target) throw new InvalidArgumentError('type is required');
  if (!mount.Target) throw new InvalidArgumentError('target is required');
  if (mount.VolumeOptions && mount.Type !== 'volume') throw new InvalidArgumentError(`cannot mix 'volume-*' options with mount type '${mount.Type}'`);
  if (mount.BindOptions && mount.Type !== 'bind') throw new InvalidArgumentError(`cannot mix 'bind-*' options with mount type '${mount.Type}'`);
  if (mount.TmpfsOptions && mount.Type !== 'tmpfs') throw new InvalidArgumentError(`cannot mix 'tmpfs-*' options with mount type '${mount.Type}'`);
  return [...previous, mount];
}

function splitPair(value: string): [string, string | undefined] {
  const at = value.indexOf('=');
  return at === -1 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)];
}

export function addMountFlags(command: Command): Command {
  return command
    .option('-v, --volume <list>', 'Bind mount a volume', collect)
    .addOption(new Option('--mount <mount>', 'Attach a filesystem mount to the container').argParser(parseMountFlag))
    .option('--tmpfs <list>', 'Mount a tmpfs directory', collect)
    .option('--volumes-from <list>', 'Mount volumes from the specified container(s)', collect)
    .option('--volume-driver <string>', 'Optional volume driver for the container');
}

/** The create request's mount fields. */
export function mountRequest(flags: MountFlags): {
  Volumes?: Record<string, object>;
  HostConfig: { Binds: string[] | null; Mounts: MountWire[] | null; Tmpfs: Record<string, string> | null; VolumesFrom: string[] | null; VolumeDriver: string };
} {
  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const entry of flags.volume ?? []) {
    const colon = entry.indexOf(':');
    if (colon === -1) {
      volumes[entry] = {};
      continue;
    }
    const host = entry.slice(0, colon);
    binds.push(host.startsWith('.') ? `${resolve(host)}${entry.slice(colon)}` : entry);
  }
  const tmpfs = Object.fromEntries(
    (flags.tmpfs ?? []).map((entry) => {
      const colon = entry.indexOf(':');
      return colon === -1 ? [entry, ''] : [entry.slice(0, colon), entry.slice(colon + 1)];
    }),
  );
  return {
    ...(Object.keys(volumes).length > 0 && { Volumes: volumes }),
    HostConfig: {
      Binds: binds.length > 0 ? binds : null,
      Mounts: flags.mount?.length ? flags.mount : null,
      Tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : null,
      VolumesFrom: flags.volumesFrom?.length ? flags.volumesFrom : null,
      VolumeDriver: flags.volumeDriver ?? '',
    },
  };
}
