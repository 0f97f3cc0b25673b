// Presentation of the API's values: its timestamps (DD-MM-YYYY:SS-MM-HH) and counts.

const STAMP = /^(\d{2})-(\d{2})-(\d{4}):(\d{2})-(\d{2})-(\d{2})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The stamp carries no time zone, so it is shown as written rather than converted.
 * @returns {{iso: string, label: string} | null}
 */
export function parseStamp(stamp) {
  const m = STAMP.exec(stamp ?? '');
  if (!m) return null;
  const [, dd, mm, yyyy, ss, mi, hh] = m;
  const month = MONTHS[Number(mm) - 1];
  if (!month) return null;
  return {
    iso: `${yyyy}-${mm}-${dd}T${hh}:${mi}:${ss}`,
    label: `${Number(dd)} ${month} ${yyyy}, ${hh}:${mi}`,
  };
}

export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

export function initial(name) {
  const first = Array.from(name.trim())[0];
  return first ? first.toUpperCase() : '?';
}

/** A stable hue per name, so each person's avatar keeps its colour. */
export function hueFor(name) {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

export function fileSize(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
