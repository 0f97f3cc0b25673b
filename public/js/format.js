// Presentation of the API's values: its timestamps (DD-MM-YYYY:SS-MM-HH) and counts.

const STAMP = /^(\d{2})-(\d{2})-(\d{4}):(\d{2})-(\d{2})-(\d{2})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The stamp carries no time zone; the server writes its own (row 17) in UTC, and so it is read.
 * `label` is relative ("2 h ago"), `title` the exact local time, for a tooltip.
 * @returns {{iso: string, label: string, title: string} | null}
 */
export function parseStamp(stamp, now = Date.now()) {
  const m = STAMP.exec(stamp ?? '');
  if (!m) return null;
  const [, dd, mm, yyyy, ss, mi, hh] = m;
  if (!MONTHS[Number(mm) - 1]) return null;
  const iso = `${yyyy}-${mm}-${dd}T${hh}:${mi}:${ss}Z`;
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return null;
  const title = new Date(time).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });
  return { iso, label: relativeTime(time, now), title };
}

const RELATIVE = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });
const STEPS = /** @type {const} */ ([
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [7, 'day'],
]);

/** "just now", "5 min. ago", "2 hr. ago", "yesterday", "3 days ago"; older: the date. */
export function relativeTime(time, now = Date.now()) {
  let amount = (time - now) / 1000;
  if (Math.abs(amount) < 45) return 'just now';
  for (const [size, unit] of STEPS) {
    if (Math.abs(amount) < size) return RELATIVE.format(Math.round(amount), unit);
    amount /= size;
  }
  const date = new Date(time);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return date.toLocaleDateString('en', { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) });
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
