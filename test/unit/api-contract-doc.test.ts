// The contract the code follows lives in the repository (docs/api.md): every "row N" a comment,
// a test or a document names is a row there, and the rows are the contract's 24 (with 6b).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const doc = readFileSync('docs/api.md', 'utf8');
const rows = new Set([...doc.matchAll(/^\| (\d+b?) \| (?:GET|POST|DELETE) \/api\/v1\//gm)].map((m) => m[1]!));

test('docs/api.md holds rows 1-24 and 6b, once each', () => {
  const expected = [...Array.from({ length: 24 }, (_, i) => String(i + 1)), '6b'].sort();
  assert.deepEqual([...rows].sort(), expected);
  assert.equal([...doc.matchAll(/^\| (\d+b?) \| (?:GET|POST|DELETE) \//gm)].length, expected.length, 'no row twice');
});

test('every row a file names is a row of docs/api.md', () => {
  const files = execFileSync('git', ['ls-files', '*.ts', '*.js', '*.md'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  const unknown: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // "row 15", "rows 1-3", "rows 7 and 10", "rows 21–24"
    for (const m of text.matchAll(/\brows? (\d+b?)(?:\s*(?:-|–|and|,|or)\s*(\d+b?))?/g)) {
      for (const n of [m[1], m[2]]) if (n !== undefined && !rows.has(n)) unknown.push(`${file}: "${m[0]}"`);
    }
  }
  assert.deepEqual(unknown, []);
});
