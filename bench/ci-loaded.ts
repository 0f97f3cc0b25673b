// The whole test tree under CI=true, several times in a row, with a CPU hog pinned to one core
// while each file runs: the check that the suites' bounds and waits hold on a loaded machine.
// Files run one at a time (as scripts/test.sh runs them); with --lock, each file takes that
// lock (flock) for its run and the hog lives only while the lock is held, so a machine shared
// with others is loaded only when this run owns it. Writes bench/results/ci-loaded.json (see
// bench/results.ts; `npm run figures` puts it in docs/figures.md).
//
//   npx tsx bench/ci-loaded.ts [--runs 3] [--core 1] [--lock $TMPDIR/sla-heavy.lock] [--from FILE]
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ResultRecorder } from './results.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    core: { type: 'string', default: String(Math.max(0, os.cpus().length - 1)) },
    lock: { type: 'string' },
    from: { type: 'string' },
  },
});
const RUNS = Math.max(1, Math.min(5, Number(values.runs)));
const CORE = Number(values.core);
/** No single file may run longer than this; the hog's own `timeout` is the same bound. */
const FILE_TIMEOUT_S = 1500;

interface FileResult {
  file: string;
  seconds: number;
  tests: number;
  pass: number;
  fail: number;
  skipped: number;
  cancelled: number;
  code: number | null;
}

async function testFiles(dir = path.join(repoRoot, 'test')): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await testFiles(full)));
    else if (entry.name.endsWith('.test.ts')) out.push(path.relative(repoRoot, full));
  }
  return out.sort();
}

/** node:test's closing "ℹ pass 12" lines. */
function summaryCount(output: string, name: string): number {
  const matches = [...output.matchAll(new RegExp(`^ℹ ${name} (\\d+)$`, 'gm'))];
  return matches.length ? Number(matches.at(-1)![1]) : 0;
}

function runFile(file: string, logDir: string, run: number): Promise<FileResult> {
  // The hog starts once the lock is held and dies with the locked command, whatever happens.
  const locked = [
    'echo "ci-loaded: started"',
    `timeout ${FILE_TIMEOUT_S} taskset -c ${CORE} sh -c 'while :; do :; done' & hog=$!`,
    'trap \'kill "$hog" 2>/dev/null\' EXIT',
    `timeout ${FILE_TIMEOUT_S} bash scripts/test.sh "$1"`,
  ].join('\n');
  const argv = values.lock
    ? ['flock', values.lock, 'bash', '-c', locked, '-', file]
    : ['bash', '-c', locked, '-', file];
  return new Promise((resolve) => {
    const started = Date.now();
    let acquired = 0;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: repoRoot,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!acquired && output.includes('ci-loaded: started')) acquired = Date.now();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      // One log per run: a failure in run 1 is still there to read after run 3.
      const log = path.join(logDir, `run${run}_${file.replaceAll('/', '_')}.log`);
      void writeFile(log, output);
      resolve({
        file,
        // From the lock held (the first line) to the end: the file's own time, not the wait.
        seconds: Math.round((Date.now() - (acquired || started)) / 100) / 10,
        tests: summaryCount(output, 'tests'),
        pass: summaryCount(output, 'pass'),
        fail: summaryCount(output, 'fail'),
        skipped: summaryCount(output, 'skipped'),
        cancelled: summaryCount(output, 'cancelled'),
        code,
      });
    });
  });
}

async function main(): Promise<number> {
  const recorder = new ResultRecorder('ci-loaded', 'The whole suite under CI=true with a CPU hog on one core', {
    taskset: 'util-linux',
  });
  let files = await testFiles();
  if (values.from) files = files.slice(Math.max(0, files.indexOf(values.from)));
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'sa-ci-loaded-'));
  console.log(`${files.length} files, ${RUNS} run(s), hog on core ${CORE}; logs in ${logDir}`);
  const runs: { run: number; seconds: number; files: FileResult[] }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const results: FileResult[] = [];
    for (const file of files) {
      const result = await runFile(file, logDir, run);
      results.push(result);
      const mark = result.code === 0 && result.fail === 0 ? 'ok  ' : 'FAIL';
      console.log(
        `run ${run} ${mark} ${file} ${result.pass}/${result.tests} passed, ${result.skipped} skipped, ${result.seconds} s`,
      );
    }
    runs.push({ run, seconds: Math.round(results.reduce((s, r) => s + r.seconds, 0)), files: results });
  }
  const total = (r: (typeof runs)[number], key: 'tests' | 'pass' | 'fail' | 'skipped' | 'cancelled') =>
    r.files.reduce((s, f) => s + f[key], 0);
  const failed = (r: (typeof runs)[number]) => r.files.filter((f) => f.code !== 0 || f.fail > 0).map((f) => f.file);
  const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
  await recorder.write({
    summary: runs.map((r) => ({
      figure: `whole suite, CI=true, CPU hog on one core: run ${r.run} of ${RUNS}`,
      value: `${total(r, 'pass')} of ${total(r, 'tests')} passed, ${total(r, 'fail')} failed, ${total(r, 'skipped')} skipped, ${r.files.length} files, ${minutes(r.seconds)}${failed(r).length ? ` (failed: ${failed(r).join(', ')})` : ''}`,
    })),
    tables: [
      {
        caption: 'Seconds and passed/total per file, per run (the lock wait excluded)',
        columns: ['file', ...runs.map((r) => `run ${r.run}`)],
        rows: files.map((file) => [
          file,
          ...runs.map((r) => {
            const f = r.files.find((x) => x.file === file)!;
            return `${f.seconds} s, ${f.pass}/${f.tests}${f.fail ? `, ${f.fail} failed` : ''}${f.skipped ? `, ${f.skipped} skipped` : ''}`;
          }),
        ]),
      },
    ],
    figures: { core: CORE, runs },
  });
  return runs.every((r) => failed(r).length === 0) ? 0 : 1;
}

process.exitCode = await main();
