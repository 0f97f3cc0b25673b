// The certificate and key files of `balancer.tls`, read and checked by the primary thread: at
// start (a bad file stops start-up naming its key), and again when the files change or on
// SIGHUP. A reload that finds a bad pair (certbot between writing the chain and the key, a
// typo) keeps the certificate in use and says why; the next change or SIGHUP tries again.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { TlsMaterial, TlsConfig } from '../balancer/settings.ts';
import { ConfigError } from '../schema/error.ts';

export interface LoadedCertificate extends TlsMaterial {
  subject: string;
  validTo: string;
  fingerprint256: string;
}

/** Reads and checks the pair; throws ConfigError naming the key at fault. */
export function readCertificate(tls: TlsConfig): LoadedCertificate {
  const read = (key: 'certFile' | 'keyFile') => {
    try {
      return readFileSync(tls[key], 'utf8');
    } catch (err) {
      throw new ConfigError([
        {
          key: `balancer.tls.${key}`,
          value: tls[key],
          expected: `a readable PEM file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        },
      ]);
    }
  };
  const cert = read('certFile');
  const key = read('keyFile');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError([
      {
        key: 'balancer.tls.certFile',
        value: tls.certFile,
        expected: `a PEM certificate chain, leaf first (${(err as Error).message})`,
      },
    ]);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new ConfigError([
      {
        key: 'balancer.tls.keyFile',
        value: tls.keyFile,
        expected: `an unencrypted PEM private key (${(err as Error).message})`,
      },
    ]);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError([
      {
        key: 'balancer.tls.keyFile',
        value: tls.keyFile,
        expected: `the private key of the certificate in ${tls.certFile} (${x509.subject})`,
      },
    ]);
  }
  return {
    cert,
    key,
    subject: x509.subject.replace(/\n/g, ', '),
    validTo: x509.validTo,
    fingerprint256: x509.fingerprint256,
  };
}

/**
 * Calls `onChange` once the certificate's or key's directory has been quiet for `settleMs`
 * after a change. Directories, not files: certbot and our deploy hook replace files by
 * renaming (and certbot's live/ names are symlinks), which a watch on the file would miss.
 */
export function watchCertificate(tls: TlsConfig, onChange: () => void, settleMs = 500): { close(): void } {
  const names = new Set([tls.certFile, tls.keyFile].map((f) => path.basename(f)));
  const dirs = new Set([tls.certFile, tls.keyFile].map((f) => path.dirname(f)));
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, (_event, file) => {
        if (file !== null && !names.has(String(file))) return;
        clearTimeout(timer);
        timer = setTimeout(onChange, settleMs);
      });
      w.on('error', () => w.close());
      w.unref();
      watchers.push(w);
    } catch {
      // Not watchable (gone, no inotify): SIGHUP still reloads.
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
