// Secrets every replica must share (a session-signing key, so a session made by one replica is
// valid on all of them and across services): the {{secret:NAME}} of the env templates,
// generated once, kept in dataDir/secrets.json with mode 600.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function ensureSecrets(dataDir: string, wanted: readonly string[]): Record<string, string> {
  if (wanted.length === 0) return {};
  const file = path.join(dataDir, 'secrets.json');
  let stored: Record<string, string> = {};
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    stored = {};
  }
  let changed = false;
  for (const name of wanted) {
    if (typeof stored[name] === 'string' && stored[name]!.length >= 32) continue;
    stored[name] = randomBytes(32).toString('base64url');
    changed = true;
  }
  if (changed) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return Object.fromEntries(wanted.map((name) => [name, stored[name]!]));
}
