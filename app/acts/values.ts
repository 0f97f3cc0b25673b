// Pure checks and conversions for the values an act is made of.

/** An unsigned integer of any length → its canonical decimal string (`007` → `7`). */
export function canonicalActId(digits: string): string | undefined {
  if (!/^[0-9]+$/.test(digits)) return undefined;
  return digits.replace(/^0+(?=[0-9])/, '');
}

/**
 * The actId `1 + skip` after a canonical one (or after 0), exactly, whatever its length. Added
 * digit by digit from the end rather than through BigInt, whose decimal conversions cost
 * seconds for an actId of millions of digits (row 15 accepts any number of them).
 */
export function nextActId(canonical: string | undefined, skip = 0): string {
  const digits = canonical ?? '0';
  let carry = 1 + skip;
  let i = digits.length - 1;
  const tail: string[] = [];
  while (carry > 0 && i >= 0) {
    if (carry === 1 && digits.charCodeAt(i) === 57 /* 9 */) {
      // A run of nines becomes zeros at once, however long.
      let j = i;
      while (j >= 0 && digits.charCodeAt(j) === 57) j -= 1;
      tail.push('0'.repeat(i - j));
      i = j;
      continue;
    }
    const sum = digits.charCodeAt(i) - 48 + carry;
    tail.push(String(sum % 10));
    carry = Math.floor(sum / 10);
    i -= 1;
  }
  return (carry > 0 ? String(carry) : '') + digits.slice(0, i + 1) + tail.reverse().join('');
}

const TIMESTAMP = /^([0-9]{2})-([0-9]{2})-([0-9]{4}):([0-9]{2})-([0-9]{2})-([0-9]{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * `DD-MM-YYYY:SS-MM-HH` (a real calendar date, hours 00-23, year 0001-9999) → a key that
 * sorts like the time it names, `YYYYMMDDHHMMSS`; undefined when the timestamp is invalid.
 */
export function timestampSortKey(timestamp: string): string | undefined {
  const m = TIMESTAMP.exec(timestamp);
  if (!m) return undefined;
  const [, dd, mo, yyyy, ss, mi, hh] = m as unknown as [string, string, string, string, string, string, string];
  const [day, month, year] = [Number(dd), Number(mo), Number(yyyy)];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) return undefined;
  return `${yyyy}${mo}${dd}${hh}${mi}${ss}`;
}

/** The server's clock in the spec's format, in UTC. */
export function formatTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}-${two(date.getUTCMonth() + 1)}-${String(date.getUTCFullYear()).padStart(4, '0')}:` +
    `${two(date.getUTCSeconds())}-${two(date.getUTCMinutes())}-${two(date.getUTCHours())}`
  );
}

/**
 * Strict RFC 4648 base64 → bytes, or undefined. Decoding and re-encoding must give the input
 * back: that rejects characters outside the alphabet, `=` anywhere but the end, a length that
 * is not a multiple of 4, and non-zero padding bits (so an act's imgB64 round-trips exactly).
 */
export function decodeStrictBase64(value: string): Buffer | undefined {
  if (value.length === 0 || value.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}
