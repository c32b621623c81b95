/**
 * Parsers for the CLI's numeric flags. Every numeric flag goes through one
 * of these: a value that is not a whole number in range is a usage error
 * (commander prints it with the flag's name and exits 1, as for every other
 * usage error), never a NaN handed to the library.
 */
import { InvalidArgumentError } from 'commander';

export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const v = value.trim();
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`"${value}" is not a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${n} is out of range (${min} to ${max})`);
    return n;
  };
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** A byte count: digits with an optional binary unit K, M, G or T (`512M`, `16G`). */
export function byteSize(min: number): (value: string) => number {
  return (value: string) => {
    const m = /^(\d+)([kmgt]?)(i?b)?$/i.exec(value.trim());
    if (!m) throw new InvalidArgumentError(`"${value}" is not a size (bytes, or a number with K, M, G or T)`);
    const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`"${value}" is out of range (at least ${min} bytes)`);
    return n;
  };
}
