// No committed file names a path of the machine it was written on: results, comments and docs
// use paths relative to the repository. Checked against this work tree's own absolute path,
// every other work tree of the same repository, and the folder that holds them (a workspace
// such as the one with the shared spec), whatever machine runs the test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();

function forbiddenPrefixes(): string[] {
  const trees = execFileSync('git', ['worktree', 'list', '--porcelain'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length));
  const parent = path.dirname(root);
  // A parent that every machine has (/, the temp dir, a home) says nothing about this one.
  const shared = [path.sep, os.tmpdir(), os.homedir(), '/home', '/root', '/srv', '/opt'];
  const workspace = shared.includes(parent) ? [] : [`${parent}/`];
  return [...new Set([root, ...trees, ...workspace])];
}

test('no committed file holds an absolute path of this work tree or its workspace', () => {
  const prefixes = forbiddenPrefixes();
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  assert.ok(files.length > 100, `${files.length} files listed`);
  const found: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      continue; // a file deleted in the work tree but not yet in the index
    }
    if (text.includes('\0')) continue; // binary
    for (const prefix of prefixes) {
      const at = text.indexOf(prefix);
      if (at !== -1) found.push(`${file}:${text.slice(0, at).split('\n').length}: ${prefix}`);
    }
  }
  assert.deepEqual(found, [], `paths of this machine (${prefixes.join(', ')}) in committed files`);
});
