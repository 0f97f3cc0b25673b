// What the commands print for people: tables in the manner of `docker compose ps` (columns
// padded to their widest cell, two spaces apart), ages as kubectl prints them, one line per
// event. Pure functions of the admin API's bodies and `now`.
import type { SupervisorEvent } from '../telemetry/events.ts';
import type { StatusBody } from '../admin/status.ts';

export function table(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)].join('\n');
}

/** 45s, 12m, 3h5m, 2d4h: the largest unit, and the next one while it is small. */
export function age(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.floor((nowMs - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 && h < 10 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 && d < 10 ? `${d}d${h % 24}h` : `${d}d`;
}

/** Container ids shortened as `docker ps` does; process instance ids are already short. */
export function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}

export const STATUS_COLUMNS = ['SERVICE', 'REPLICA', 'PORT', 'STATE', 'HEALTH', 'AGE', 'REQUESTS'];

export function statusTable(status: StatusBody, nowMs: number): string {
  const rows: string[][] = [];
  for (const [name, service] of Object.entries(status.services)) {
    for (const r of service.replicas) {
      rows.push([
        name,
        shortId(r.id),
        String(r.port),
        r.state,
        r.health,
        age(Date.parse(r.startedAt), nowMs),
        String(r.requestsServed),
      ]);
    }
    if (service.replicas.length === 0) rows.push([name, '-', '-', 'none', '-', '-', '-']);
  }
  return table(STATUS_COLUMNS, rows);
}

/** One line per service under the table: how many are ready of how many wanted, and why. */
export function serviceSummary(status: StatusBody): string[] {
  return Object.entries(status.services).map(([name, s]) => {
    const ready = s.replicas.filter((r) => r.inRotation).length;
    const out = s.replicas.filter((r) => r.out !== undefined).length;
    const scaling =
      s.override !== null && s.override !== undefined
        ? `held at ${s.override} by \`selflessacts scale\` (${s.autoscale ? `autoscale ${s.min}-${s.max}` : 'fixed'} once released with \`scale ${name} auto\`)`
        : s.autoscale
          ? `autoscale ${s.min}-${s.max}`
          : `fixed (${s.min}-${s.max})`;
    const window = s.window
      ? `; window: ${s.window.requests} requests so far → ${s.window.nextDesired} (${s.window.reason})`
      : '';
    const roll = s.rollout
      ? `; rolling replacement: ${s.rollout.toReplace} to replace, ${s.rollout.surgePort === null ? 'in place (desired = max)' : `surge replica on port ${s.rollout.surgePort}`}`
      : '';
    const held = out > 0 ? `, ${out} out of rotation (alive, kept)` : '';
    const capped = s.capped ? `; capped by capacity: ${s.capped.reason}` : '';
    return `${name}: ${ready}/${s.desired} ready${held}, ${scaling}${capped}${window}${roll}`;
  });
}

export function statusHeader(status: StatusBody, nowMs: number): string {
  const listen = status.listen ? `${status.listen.host}:${status.listen.port}` : 'not listening yet';
  const capacity = status.capacity
    ? `, replicas use ${status.capacity.usedMb} of ${status.capacity.budgetMb} MB (capacity)`
    : '';
  return `runtime ${status.runtime}, up ${age(Date.parse(status.startedAt), nowMs)}, balancer on ${listen}${capacity}`;
}

/** `2026-11-30T14:00:00.000Z  replica.ready  acts:8000 3f2a...  reason`, as `docker events` prints them. */
export function eventLine(e: SupervisorEvent): string {
  const where = e.service === undefined ? '' : `${e.service}${e.port === undefined ? '' : `:${e.port}`}`;
  const id = e.id === undefined ? '' : shortId(e.id);
  return [e.time, e.type.padEnd(18), where, id, e.reason].filter((part) => part !== '').join('  ');
}
