// Certificates for the HTTPS tests and benchmarks, made by openssl in a temp dir: a test CA,
// and leaves it signs for localhost and 127.0.0.1, each written as the PEM files the balancer
// reads (the chain file holds the leaf, then the CA, as certbot's fullchain.pem does).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCa {
  dir: string;
  caFile: string;
  ca: string;
}

export interface TestLeaf {
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint of the leaf, as X509Certificate.fingerprint256 prints it. */
  fingerprint256: string;
}

export async function makeCa(dir: string): Promise<TestCa> {
  const caFile = path.join(dir, 'ca.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=SelfLessActs test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  return { dir, caFile, ca: await readFile(caFile, 'utf8') };
}

/** A leaf for localhost and 127.0.0.1 signed by `ca`, written to `<name>.crt` (chain) and `<name>.key`. */
export async function makeLeaf(ca: TestCa, name: string): Promise<TestLeaf> {
  const key = path.join(ca.dir, `${name}.key`);
  const csr = path.join(ca.dir, `${name}.csr`);
  const leaf = path.join(ca.dir, `${name}.leaf.pem`);
  const ext = path.join(ca.dir, `${name}.ext`);
  await writeFile(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    `/CN=${name}`,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.caFile,
    '-CAkey',
    path.join(ca.dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    leaf,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  const certFile = path.join(ca.dir, `${name}.crt`);
  await writeFile(certFile, (await readFile(leaf, 'utf8')) + ca.ca);
  const { stdout } = await run('openssl', ['x509', '-in', leaf, '-noout', '-fingerprint', '-sha256']);
  return { certFile, keyFile: key, fingerprint256: stdout.trim().replace(/^.*=/, '') };
}

/** A self-signed certificate's PEM for the given subjectAltName entries ("DNS:a.example", "IP:127.0.0.1"). */
export async function certificatePem(subjectAltNames: readonly string[], commonName = 'test'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-cert-'));
  try {
    const out = path.join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      out,
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${subjectAltNames.join(',')}`,
    ]);
    return await readFile(out, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
