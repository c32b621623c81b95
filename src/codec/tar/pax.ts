/**
 * PAX extended header records: `"<len> <key>=<value>\n"`, where len counts the
 * whole record including its own digits. Values are raw bytes and are never
 * re-encoded, so binary xattr values survive unchanged.
 */

export const XATTR_PREFIX = 'SCHILY.xattr.';

/** One record; `len` is the smallest decimal length that counts itself. */
export function encodePaxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'ascii'), body]);
}

/** All records, sorted by key bytes (deterministic output). */
export function encodePaxRecords(records: Map<string, Buffer>): Buffer {
  const keys = [...records.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  return Buffer.concat(keys.map((key) => encodePaxRecord(key, records.get(key)!)));
}

/**
 * Parses the data of a PAX 'x' or 'g' header. Later records override earlier
 * ones. Calls `fail` with a reason for any malformed record.
 */
export function parsePaxRecords(data: Buffer, fail: (reason: string) => never): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const lenText = space === -1 ? '' : data.toString('latin1', pos, space);
    if (!/^[1-9][0-9]{0,9}$/.test(lenText)) fail(`bad PAX record length at byte ${pos}`);
    const end = pos + Number(lenText);
    if (end > data.length || end <= space + 1) fail(`PAX record at byte ${pos} overruns the header data`);
    if (data[end - 1] !== 0x0a) fail(`PAX record at byte ${pos} does not end with a newline`);
    const record = data.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) fail(`PAX record at byte ${pos} has no key`);
    records.set(record.toString('utf8', 0, eq), Buffer.from(record.subarray(eq + 1)));
    pos = end;
  }
  return records;
}

/** Decimal integer value (uid, gid, size); undefined when malformed. */
export function parsePaxInteger(value: Buffer): number | undefined {
  const text = value.toString('latin1');
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Time value such as "1700000000.123456789" or "-5.5", floored to seconds. */
export function parsePaxTime(value: Buffer): number | undefined {
  const text = value.toString('latin1');
  const match = /^(-?)([0-9]+)(?:\.([0-9]*))?$/.exec(text);
  if (!match) return undefined;
  const whole = Number(match[2]);
  if (!Number.isSafeInteger(whole)) return undefined;
  const hasFraction = /[1-9]/.test(match[3] ?? '');
  if (match[1] === '-') return hasFraction ? -whole - 1 : 0 - whole;
  return whole;
}
