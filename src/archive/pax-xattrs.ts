/**
 * Extended attributes travel in PAX records `SCHILY.xattr.NAME=VALUE` whose VALUE is the raw
 * bytes (as GNU tar and Docker write them), often not UTF-8 (security.capability is binary).
 * tar-stream reads and writes record values as UTF-8 text, so such a record is carried past it
 * under a private key with the value in base64: rewritten on the way in (before tar-stream reads
 * the tar) and back on the way out (after tar-stream wrote it), by TarRewriter.
 */
export const XATTR_PAX_PREFIX = 'SCHILY.xattr.';
export const XATTR_BASE64_PAX_PREFIX = 'BERTH.xattr.base64.';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Input side: xattr records whose value is not UTF-8 get the private base64 key. */
export function binaryXattrsAsBase64(records: Buffer): Buffer {
  return mapRecords(records, (key, value) => {
    if (!key.startsWith(XATTR_PAX_PREFIX) || isUtf8(value)) return undefined;
    return [`${XATTR_BASE64_PAX_PREFIX}${key.slice(XATTR_PAX_PREFIX.length)}`, Buffer.from(value.toString('base64'))];
  });
}

/** Output side: the private base64 records become standard xattr records with raw values. */
export function base64XattrsAsBinary(records: Buffer): Buffer {
  return mapRecords(records, (key, value) => {
    if (!key.startsWith(XATTR_BASE64_PAX_PREFIX)) return undefined;
    return [`${XATTR_PAX_PREFIX}${key.slice(XATTR_BASE64_PAX_PREFIX.length)}`, Buffer.from(value.toString('latin1'), 'base64')];
  });
}

/** The PAX value of an xattr for tar-stream's pack: [key, value] as text. */
export function xattrPaxRecord(name: string, value: Buffer): [string, string] {
  return isUtf8(value) ? [`${XATTR_PAX_PREFIX}${name}`, value.toString('utf8')] : [`${XATTR_BASE64_PAX_PREFIX}${name}`, value.toString('base64')];
}

/** Rewrites the records `map` returns a new [key, value] for; the others stay byte for byte. */
function mapRecords(records: Buffer, map: (key: string, value: Buffer) => [string, Buffer] | undefined): Buffer {
  const out: Buffer[] = [];
  for (let offset = 0; offset < records.length; ) {
    const space = records.indexOf(0x20, offset);
    const length = space > offset ? Number(records.subarray(offset, space).toString('latin1')) : NaN;
    if (!Number.isSafeInteger(length) || length <= space - offset || offset + length > records.length) {
      // Malformed: left as it is, for tar-stream to read as it can.
      out.push(records.subarray(offset));
      break;
    }
    const record = records.subarray(offset, offset + length);
    const body = record.subarray(space - offset + 1, record.length - 1);
    const equals = body.indexOf(0x3d);
    const replaced = equals < 0 ? undefined : map(body.subarray(0, equals).toString('utf8'), body.subarray(equals + 1));
    out.push(replaced ? encodeRecord(...replaced) : record);
    offset += length;
  }
  return Buffer.concat(out);
}

/** "LEN key=value\n", LEN counting the whole record with its own digits. */
export function encodeRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function isUtf8(value: Buffer): boolean {
  try {
    utf8.decode(value);
    return true;
  } catch {
    return false;
  }
}
