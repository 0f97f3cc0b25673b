// Where the balancer thread's time goes: the V8 CPU profile (--cpu-prof) of the thread that
// ran supervisor/balancer/, summed by category and by function (self time), for
// `npm run bench:nginx -- --profile` (bench/results/nginx-profile.json).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ResultRecorder } from './results.ts';
import type { WrkRun } from './wrk.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  samples: number;
  /** Share of samples by category, descending. */
  categories: Array<{ category: string; share: number }>;
  /** Functions by self time, descending. */
  functions: Array<{ name: string; where: string; share: number }>;
}

function category(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'native: libuv, llhttp, V8 (not attributed to a JS function)';
  if (!url && /^(writev|writeBuffer|write\w*String|readStart|readStop|shutdown)$/.test(functionName)) {
    return 'native: socket writes called from JavaScript (the system call, and copying strings out of V8)';
  }
  if (url.includes('/supervisor/balancer/')) return 'ours: supervisor/balancer/';
  if (url.includes('/supervisor/')) return 'ours: other supervisor code';
  if (url.startsWith('node:')) {
    if (/node:(_http|http)/.test(url)) return 'Node: node:http (client side: server, IncomingMessage, ServerResponse)';
    if (/node:(net|stream|internal\/streams)/.test(url)) return 'Node: net and streams';
    return 'Node: other internals';
  }
  if (url.includes('node_modules')) return 'dependencies';
  return functionName ? 'other JavaScript' : 'native (unnamed)';
}

function where(node: ProfileNode): string {
  const { url, lineNumber } = node.callFrame;
  if (!url) return '(native)';
  const short = url.replace(/^file:\/\/.*?\/(supervisor|node_modules)\//, '$1/');
  return `${short}:${lineNumber + 1}`;
}

/** Reads every profile in `dir`; summarises the one that spent most time in supervisor/balancer/. */
export async function balancerProfile(dir: string): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  let best: { file: string; profile: CpuProfile; ours: number } | undefined;
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
    const ours = profile.nodes
      .filter((n) => n.callFrame.url.includes('/supervisor/balancer/'))
      .reduce((s, n) => s + (n.hitCount ?? 0), 0);
    if (!best || ours > best.ours) best = { file, profile, ours };
  }
  if (!best || best.ours === 0)
    throw new Error(`no profile in ${dir} ran supervisor/balancer/ (files: ${files.join(', ') || 'none'})`);
  const nodes = best.profile.nodes;
  const total = nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const cat = category(n);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + hits);
    const key = `${n.callFrame.functionName}@${where(n)}`;
    const entry = byFunction.get(key) ?? { name: n.callFrame.functionName || '(anonymous)', where: where(n), hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
  }
  return {
    file: best.file,
    samples: total,
    categories: [...byCategory]
      .map(([c, hits]) => ({ category: c, share: hits / total }))
      .sort((a, b) => b.share - a.share),
    functions: [...byFunction.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, 20)
      .map((f) => ({ name: f.name, where: f.where, share: f.hits / total })),
  };
}

const pct = (n: number) => `${(n * 100).toFixed(1)} %`;

export async function writeProfileResult(summary: ProfileSummary, run: WrkRun): Promise<void> {
  for (const c of summary.categories) console.log(`${pct(c.share).padStart(7)}  ${c.category}`);
  for (const f of summary.functions.slice(0, 12)) console.log(`${pct(f.share).padStart(7)}  ${f.name}  ${f.where}`);
  const busy = summary.categories.filter((c) => !c.category.startsWith('idle')).reduce((s, c) => s + c.share, 0);
  const share = (prefix: string) => summary.categories.find((c) => c.category.startsWith(prefix))?.share ?? 0;
  const ours = share('ours: supervisor/balancer/');
  const writes = share('native: socket writes');
  await new ResultRecorder('nginx-profile', 'CPU profile of the balancer thread under load').write({
    summary: [
      {
        figure: "balancer thread under wrk -c64 (profiling on): busy share of its samples, and our own JavaScript's",
        value: `${pct(busy)} busy, ${pct(ours)} in supervisor/balancer/, ${pct(writes)} in socket writes (${run.rps.toFixed(0)} req/s)`,
      },
    ],
    tables: [
      {
        caption: `Self time by category, ${summary.samples} samples of the balancer thread (V8 --cpu-prof), one thread, wrk -c64`,
        columns: ['share', 'where the time went'],
        rows: summary.categories.map((c) => [pct(c.share), c.category]),
      },
      {
        caption: 'The functions with the most self time',
        columns: ['share', 'function', 'where'],
        rows: summary.functions.map((f) => [pct(f.share), f.name, f.where]),
      },
    ],
    figures: { run, profile: summary },
  });
}
