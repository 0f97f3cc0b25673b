// The results convention every benchmark follows, so no figure in docs/figures.md is typed by
// hand:
//   1. a benchmark measures, then calls writeResult(): bench/results/<name>.json gets its
//      figures (raw numbers), the summary rows and tables it wants in the docs (text made from
//      those numbers by the benchmark's code), the exact command, the date, the Node version and
//      notes on the machine (cores, CPU model, kernel, load average before and after, tool
//      versions, BENCH_NOTES from the environment);
//   2. `npm run figures` (bench/figures.ts) rebuilds docs/figures.md from every results file
//      plus the fixed prose of bench/figures.template.md.
// Commit the results file with the regenerated docs/figures.md.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

/** One row of the summary table at the top of docs/figures.md. */
export interface SummaryRow {
  figure: string;
  value: string;
}

export interface ResultTable {
  caption?: string;
  columns: string[];
  rows: string[][];
}

export interface MachineNotes {
  cores: number;
  cpuModel: string;
  kernel: string;
  memoryGiB: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  /** Versions of the tools the benchmark drove (wrk, nginx, dockerd...). */
  tools: Record<string, string>;
  /** BENCH_NOTES: what else ran, anything a reader should know. */
  notes?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  command: string;
  date: string;
  node: string;
  machine: MachineNotes;
  summary: SummaryRow[];
  tables: ResultTable[];
  /** The measured numbers, per round where there were rounds. */
  figures: unknown;
}

/**
 * An argument as it may be committed: no path of the machine it ran on. Inside the repository
 * relative to it; under the temp dir as `$TMPDIR/...`; under the home dir as `~/...`.
 */
export function portableArgument(arg: string, root = process.cwd(), tmp = os.tmpdir(), home = os.homedir()): string {
  const eq = arg.indexOf('=');
  if (arg.startsWith('--') && eq !== -1)
    return `${arg.slice(0, eq + 1)}${portableArgument(arg.slice(eq + 1), root, tmp, home)}`;
  if (!path.isAbsolute(arg)) return arg;
  const within = (dir: string) => dir !== '/' && (arg === dir || arg.startsWith(`${dir}/`));
  if (within(root)) return path.relative(root, arg) || '.';
  if (within(tmp)) return `$TMPDIR${arg.slice(tmp.length)}`;
  if (within(home)) return `~${arg.slice(home.length)}`;
  return arg;
}

/** The command as a reader would type it: `npm run bench:x -- ARGS` or `npx tsx bench/x.ts ARGS`. */
export function commandLine(argv = process.argv, env = process.env): string {
  const args = argv
    .slice(2)
    .map((arg) => portableArgument(arg))
    .join(' ');
  // `npx tsx ...` sets npm_lifecycle_event too, to "npx": that is no script of ours.
  if (env.npm_lifecycle_event && env.npm_lifecycle_event !== 'npx')
    return `npm run ${env.npm_lifecycle_event}${args ? ` -- ${args}` : ''}`;
  return `npx tsx ${path.relative(process.cwd(), argv[1] ?? '')}${args ? ` ${args}` : ''}`;
}

/** The first line a tool prints for `args` (its version: wrk and nginx print it on stderr), or "absent". */
export function toolVersion(bin: string, args: string[]): string {
  const run = spawnSync(bin, args, { encoding: 'utf8', timeout: 5000 });
  if (run.error) return 'absent';
  return (
    `${run.stdout}\n${run.stderr}`
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? 'unknown'
  );
}

/** Started when a benchmark starts: the load average then is part of the machine notes. */
export class ResultRecorder {
  readonly #started = { date: new Date(), load: os.loadavg() };
  readonly #command = commandLine();

  constructor(
    readonly name: string,
    readonly title: string,
    readonly tools: Record<string, string> = {},
  ) {}

  /** Writes bench/results/<name>.json and returns its path. */
  async write(result: { summary: SummaryRow[]; tables?: ResultTable[]; figures: unknown }): Promise<string> {
    const record: BenchResult = {
      name: this.name,
      title: this.title,
      command: this.#command,
      date: this.#started.date.toISOString(),
      node: process.version,
      machine: {
        cores: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        kernel: os.release(),
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        loadAverageBefore: this.#started.load.map(round2),
        loadAverageAfter: os.loadavg().map(round2),
        tools: this.tools,
        ...(process.env.BENCH_NOTES ? { notes: process.env.BENCH_NOTES } : {}),
      },
      summary: result.summary,
      tables: result.tables ?? [],
      figures: result.figures,
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${this.name}.json`);
    await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), file)}; \`npm run figures\` puts it in docs/figures.md`);
    return file;
  }
}

export async function readResults(dir = RESULTS_DIR): Promise<Map<string, BenchResult>> {
  const out = new Map<string, BenchResult>();
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
  for (const file of files) {
    const result = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as BenchResult;
    out.set(result.name, result);
  }
  return out;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
