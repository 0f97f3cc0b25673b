// Rebuilds docs/figures.md from bench/figures.template.md (the fixed prose) and the results
// every benchmark wrote to bench/results/<name>.json (see bench/results.ts), so that no figure
// in the docs is typed by hand. Placeholders in the template, each on a line of its own:
//   {{summary}}       one table of every result's summary rows, with command and date
//   {{result NAME}}   that benchmark's command, date, machine notes and tables
//   {{bounds}}        the timing bounds the test suites assert (testkit/bounds.ts)
//
//   npm run figures            write docs/figures.md
//   npm run figures -- --check exit 1 if docs/figures.md is not what the results make
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TIMING_BOUNDS, type TimingBound } from '../testkit/bounds.ts';
import { readResults, type BenchResult, type ResultTable } from './results.ts';

const TEMPLATE = fileURLToPath(new URL('./figures.template.md', import.meta.url));
export const FIGURES_DOC = fileURLToPath(new URL('../docs/figures.md', import.meta.url));

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function table(columns: string[], rows: string[][]): string {
  return [
    `| ${columns.map(cell).join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function day(iso: string): string {
  return iso.slice(0, 10);
}

function summaryTable(results: Map<string, BenchResult>): string {
  const rows = [...results.values()].flatMap((r) =>
    r.summary.map((s) => [s.figure, s.value, `\`${r.command}\``, day(r.date)]),
  );
  if (rows.length === 0) return '_No results yet: run the benchmarks below, then `npm run figures`._';
  return table(['figure', 'measured', 'command', 'date'], rows);
}

function machineLine(r: BenchResult): string {
  const m = r.machine;
  const tools = Object.entries(m.tools).map(([name, version]) => `${name}: ${version}`);
  const parts = [
    `Measured ${day(r.date)} with \`${r.command}\`, Node ${r.node}, ${m.cores} cores (${m.cpuModel}), Linux ${m.kernel}, ${m.memoryGiB} GiB`,
    `load average ${m.loadAverageBefore[0]} before and ${m.loadAverageAfter[0]} after (1 min)`,
    ...tools,
    ...(m.notes ? [m.notes] : []),
  ];
  return `${parts.join('; ')}.`;
}

function resultTable(t: ResultTable): string {
  return [...(t.caption ? [`${t.caption}:`, ''] : []), table(t.columns, t.rows)].join('\n');
}

function resultSection(name: string, results: Map<string, BenchResult>): string {
  const r = results.get(name);
  if (!r) return `_Not measured yet: no bench/results/${name}.json._`;
  return [machineLine(r), ...r.tables.map(resultTable)].join('\n\n');
}

function boundsTable(bounds: readonly TimingBound[]): string {
  return table(
    ['what', 'bound asserted', 'test'],
    bounds.map((b) => [b.what, b.bound, b.tests.map((t) => `\`${t}\``).join(', ')]),
  );
}

export async function renderFigures(): Promise<string> {
  const [template, results] = await Promise.all([readFile(TEMPLATE, 'utf8'), readResults()]);
  const lines = template.split('\n').map((line) => {
    const m = /^\{\{(summary|bounds|result ([\w-]+))\}\}$/.exec(line.trim());
    if (!m) return line;
    if (m[1] === 'summary') return summaryTable(results);
    if (m[1] === 'bounds') return boundsTable(TIMING_BOUNDS);
    return resultSection(m[2]!, results);
  });
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
  const rendered = await renderFigures();
  if (values.check) {
    const current = await readFile(FIGURES_DOC, 'utf8').catch(() => '');
    if (current !== rendered) {
      console.error(
        'docs/figures.md is not what bench/results/*.json and bench/figures.template.md make: run `npm run figures`',
      );
      process.exit(1);
    }
  } else {
    await writeFile(FIGURES_DOC, rendered);
    console.log('wrote docs/figures.md');
  }
}
