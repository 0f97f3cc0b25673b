// The commands that look at a running supervisor through its admin API: status, events, logs.
import { EventSource } from 'undici';
import type { ReplicaLogLine } from '../admin/logs.ts';
import type { SupervisorEvent } from '../telemetry/events.ts';
import type { ScaleResult } from '../fleet/scale-override.ts';
import type { StatusBody } from '../admin/status.ts';
import { type AdminClient, CliError } from './admin-client.ts';
import { eventLine, serviceSummary, statusHeader, statusTable } from './format.ts';

export type Print = (text: string) => void;

export async function runStatus(client: AdminClient, options: { json: boolean }, print: Print): Promise<number> {
  const status = await client.status();
  if (options.json) {
    print(JSON.stringify(status, null, 2));
    return 0;
  }
  const now = Date.now();
  print(statusHeader(status, now));
  print(statusTable(status, now));
  for (const line of serviceSummary(status)) print(line);
  return 0;
}

/**
 * The event log, oldest first; with `follow`, then live events as the supervisor emits them
 * (its SSE feed, reconnecting when it restarts; events already printed are not printed again).
 */
export async function runEvents(
  client: AdminClient,
  options: { follow: boolean; json: boolean; signal?: AbortSignal },
  print: Print,
): Promise<number> {
  const show = (e: SupervisorEvent) => print(options.json ? JSON.stringify(e) : eventLine(e));
  // Which supervisor's log this is: a restarted one numbers its events from 1 again.
  let startedAt = options.follow ? (await client.status()).startedAt : '';
  let last = 0;
  for (const e of await client.events()) {
    show(e);
    last = e.seq;
  }
  if (!options.follow) return 0;
  const source = new EventSource(`${client.target.base}/events`);
  await new Promise<void>((resolve) => {
    const end = () => {
      source.close();
      resolve();
    };
    options.signal?.addEventListener('abort', end, { once: true });
    // Each connection starts with a snapshot, then replays the last events: those already
    // printed are skipped, unless the snapshot is of a supervisor started since.
    source.addEventListener('snapshot', (message) => {
      const status = JSON.parse((message as MessageEvent<string>).data) as StatusBody;
      if (status.startedAt === startedAt) return;
      startedAt = status.startedAt;
      last = 0;
    });
    source.addEventListener('event', (message) => {
      const e = JSON.parse((message as MessageEvent<string>).data) as SupervisorEvent;
      if (e.seq <= last) return;
      last = e.seq;
      show(e);
    });
  });
  return 0;
}

/** `scale SERVICE N|auto`: POST /services/SERVICE/scale, then what it now wants. */
export async function runScale(
  client: AdminClient,
  service: string,
  replicas: number | 'auto',
  print: Print,
): Promise<number> {
  const result = (await client.json('POST', `/services/${encodeURIComponent(service)}/scale`, {
    replicas,
  })) as ScaleResult;
  print(
    result.override === null
      ? `${result.service}: no override; ${result.desired} replica(s) wanted now, the ${replicas === 'auto' ? 'scaler or config' : 'config'} decides from here`
      : `${result.service}: held at ${result.override} replica(s) until \`selflessacts scale ${result.service} auto\``,
  );
  return 0;
}

export async function runLogs(
  client: AdminClient,
  service: string,
  options: { follow: boolean; tail: number | undefined; json: boolean; signal?: AbortSignal },
  print: Print,
): Promise<number> {
  const query = new URLSearchParams({
    follow: String(options.follow),
    tail: options.tail === undefined ? 'all' : String(options.tail),
  });
  const res = await client.open('GET', `/logs/${encodeURIComponent(service)}?${query}`, undefined, options.signal);
  let buffered = '';
  const prefix = (l: ReplicaLogLine) => `${l.service}-${l.port}`;
  let pad = 0;
  try {
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const text of lines) {
        if (text === '') continue;
        const line = JSON.parse(text) as ReplicaLogLine | { error: string };
        if ('error' in line) throw new CliError(`logs: ${line.error}`);
        if (options.json) {
          print(text);
          continue;
        }
        pad = Math.max(pad, prefix(line).length);
        print(`${prefix(line).padEnd(pad)} | ${line.line}`);
      }
    }
  } catch (err) {
    if (options.signal?.aborted) return 0;
    throw err;
  }
  return 0;
}
