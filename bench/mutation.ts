// The mutation score (issue 26): StrykerJS mutates the pure modules the orchestrator and the
// app decide with (stryker.config.json: reconcile, the scaling policy, the balancer's
// strategies and retry rules, the health tracker, the app's values and ranges) and runs their
// unit tests against each mutant. A mutant that no test notices is a claim the tests do not
// check. Writes bench/results/mutation.json (`npm run figures` puts it in docs/figures.md)
// and exits 1 below the target.
//
//   npm run mutate
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ResultRecorder } from './results.ts';

const TARGET = 90;
const REPORT = 'reports/mutation/mutation.json';

type Status =
  | 'Killed'
  | 'Survived'
  | 'NoCoverage'
  | 'Timeout'
  | 'CompileError'
  | 'RuntimeError'
  | 'Ignored'
  | 'Pending';

interface Report {
  files: Record<
    string,
    { mutants: Array<{ status: Status; mutatorName: string; location: { start: { line: number } } }> }
  >;
}

interface FileScore {
  file: string;
  killed: number;
  survived: number;
  noCoverage: number;
  score: number;
  survivors: string[];
}

/** Stryker's own definition: detected (killed, timed out) over valid mutants (errors and ignored left out). */
function scoreOf(file: string, mutants: Report['files'][string]['mutants']): FileScore {
  const count = (...s: Status[]) => mutants.filter((m) => s.includes(m.status)).length;
  const detected = count('Killed', 'Timeout', 'RuntimeError');
  const undetected = count('Survived', 'NoCoverage');
  return {
    file,
    killed: detected,
    survived: count('Survived'),
    noCoverage: count('NoCoverage'),
    score: detected + undetected === 0 ? 100 : (detected / (detected + undetected)) * 100,
    survivors: mutants
      .filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')
      .map((m) => `${m.mutatorName}@${m.location.start.line}`),
  };
}

async function main(): Promise<void> {
  const recorder = new ResultRecorder('mutation', 'the mutation score of the pure modules (StrykerJS, issue 26)', {
    stryker: JSON.parse(await readFile('node_modules/@stryker-mutator/core/package.json', 'utf8')).version as string,
  });
  const run = spawnSync(path.join('node_modules', '.bin', 'stryker'), ['run'], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`stryker run exited ${run.status ?? run.signal}`);
  const report = JSON.parse(await readFile(REPORT, 'utf8')) as Report;
  const files = Object.entries(report.files)
    .map(([file, { mutants }]) => scoreOf(file, mutants))
    .sort((a, b) => a.file.localeCompare(b.file));
  const detected = files.reduce((n, f) => n + f.killed, 0);
  const undetected = files.reduce((n, f) => n + f.survived + f.noCoverage, 0);
  const total = (detected / (detected + undetected)) * 100;
  const pct = (n: number) => `${n.toFixed(1)} %`;
  await recorder.write({
    summary: [
      {
        figure: `mutation score of the pure modules (${files.length} files, their unit tests; target ≥ ${TARGET} %)`,
        value: `${pct(total)}: ${detected} of ${detected + undetected} mutants detected`,
      },
    ],
    tables: [
      {
        caption: 'Per module: mutants the unit tests detected, and where the undetected ones are (mutator@line)',
        columns: ['module', 'score', 'detected', 'survived', 'no coverage', 'undetected'],
        rows: files.map((f) => [
          `\`${f.file}\``,
          pct(f.score),
          String(f.killed),
          String(f.survived),
          String(f.noCoverage),
          f.survivors.join(', ') || '–',
        ]),
      },
    ],
    figures: { total, files },
  });
  console.log(`mutation score ${pct(total)} (target ≥ ${TARGET} %)`);
  if (total < TARGET) process.exitCode = 1;
}

await main();
