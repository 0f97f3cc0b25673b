// docs/figures.md is generated (bench/figures.ts): it must be exactly what the benchmarks'
// results files and the template make, so no figure in it was typed by hand or left stale.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { FIGURES_DOC, renderFigures } from '../../bench/figures.ts';

test('docs/figures.md is what `npm run figures` makes from bench/results/*.json', async () => {
  const current = await readFile(FIGURES_DOC, 'utf8');
  assert.ok(current === (await renderFigures()), 'docs/figures.md is stale or edited by hand: run `npm run figures`');
});
