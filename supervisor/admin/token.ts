// The admin API's token when admin.token is not configured: generated once, kept in
// dataDir/admin-token (mode 600, so only the service's user and root can read it), reused
// across restarts so the CLI of the same user keeps working. A token everyone could guess
// ("any value") would let any local process that can reach loopback scale or kill workers.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin-token';
const MIN_LENGTH = 32;

export function adminTokenFile(dataDir: string): string {
  return path.join(dataDir, ADMIN_TOKEN_FILE);
}

/** The configured token, else the stored one, else a new one (written before it is used). */
export function ensureAdminToken(dataDir: string, configured: string): string {
  if (configured !== '') return configured;
  const file = adminTokenFile(dataDir);
  const stored = readAdminToken(dataDir);
  if (stored !== undefined) {
    chmodSync(file, 0o600);
    return stored;
  }
  const token = randomBytes(32).toString('base64url');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** The stored token, or undefined when there is none yet (or it is too short to be one). */
export function readAdminToken(dataDir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(adminTokenFile(dataDir), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return text.length >= MIN_LENGTH ? text : undefined;
}
