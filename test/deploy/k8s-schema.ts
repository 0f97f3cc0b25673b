// Offline validation of Kubernetes manifests against the API's own OpenAPI schemas, as
// bundled by kubernetes-models 5 (ajv validators generated from the Kubernetes OpenAPI spec).
// Those validators, like the API server's schema, let unknown fields through; kubeconform's
// -strict (and kubectl's --validate=strict) reject them. The same package's TypeScript types
// come from the same spec, so a generated module that assigns each manifest to its type gives
// that strictness: TypeScript rejects any field the type does not declare.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot, run } from './exec.ts';

export interface Manifest {
  file: string;
  /** Position of the document in its file, from 0. */
  index: number;
  apiVersion: string;
  kind: string;
  name: string;
  body: Record<string, unknown>;
}

/** The kinds we ship, with the module and names kubernetes-models gives them. */
const KINDS: Record<string, { module: string; type: string; model: string }> = {
  'v1/Namespace': { module: 'kubernetes-models/v1/Namespace', type: 'INamespace', model: 'Namespace' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', type: 'ISecret', model: 'Secret' },
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap', model: 'ConfigMap' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService', model: 'Service' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment', model: 'Deployment' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
    model: 'HorizontalPodAutoscaler',
  },
  'networking.k8s.io/v1/Ingress': {
    module: 'kubernetes-models/networking.k8s.io/v1/Ingress',
    type: 'IIngress',
    model: 'Ingress',
  },
};

/** Parses every YAML document of the files; YAML errors throw with the file's name. */
export function parseManifests(files: Array<{ file: string; text: string }>): Manifest[] {
  const out: Manifest[] = [];
  for (const { file, text } of files) {
    parseAllDocuments(text).forEach((doc, index) => {
      if ('errors' in doc && doc.errors.length > 0)
        throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const body = doc.toJS() as Record<string, unknown> | null;
      if (body === null) return;
      const metadata = (body.metadata ?? {}) as { name?: string };
      out.push({
        file,
        index,
        apiVersion: String(body.apiVersion),
        kind: String(body.kind),
        name: metadata.name ?? '(no name)',
        body,
      });
    });
  }
  return out;
}

const label = (m: Manifest) => `${m.file}#${m.index} ${m.kind}/${m.name}`;

/** Schema errors (types, enums, required fields, formats), one line each. */
export async function schemaErrors(manifests: Manifest[]): Promise<string[]> {
  const errors: string[] = [];
  for (const m of manifests) {
    const kind = KINDS[`${m.apiVersion}/${m.kind}`];
    if (!kind) {
      errors.push(
        `${label(m)}: no schema for ${m.apiVersion} ${m.kind} (add it to KINDS in test/deploy/k8s-schema.ts)`,
      );
      continue;
    }
    const mod = (await import(kind.module)) as Record<string, new (data: unknown) => { validate(): void }>;
    try {
      new mod[kind.model]!(m.body).validate();
    } catch (err) {
      const detail = (err as { errors?: Array<{ instancePath: string; message?: string }> }).errors;
      const lines = detail?.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`) ?? [(err as Error).message];
      errors.push(...lines.map((line) => `${label(m)}: ${line}`));
    }
  }
  return errors;
}

/**
 * Fields the Kubernetes types do not declare (typos, misplaced keys), one line each. The
 * generated module is checked by the project's own `tsc` (TypeScript 7 has no compiler API to
 * call in-process); it is written inside the checkout so that kubernetes-models resolves.
 */
export async function unknownFieldErrors(manifests: Manifest[]): Promise<string[]> {
  const used = new Set<string>();
  const lines: string[] = [];
  manifests.forEach((m, i) => {
    const kind = KINDS[`${m.apiVersion}/${m.kind}`];
    if (!kind) return;
    used.add(`${m.apiVersion}/${m.kind}`);
    lines.push(`// ${label(m)}`, `export const m${i}: ${kind.type} = ${JSON.stringify(m.body, null, 2)};`);
  });
  const imports = [...used].map((key) => `import type { ${KINDS[key]!.type} } from '${KINDS[key]!.module}';`);
  const source = [...imports, ...lines].join('\n');
  const dir = await mkdtemp(path.join(repoRoot, 'test/deploy/.k8s-strict-'));
  try {
    const file = path.join(dir, 'check.ts');
    await writeFile(file, source);
    const tsc = path.join(repoRoot, 'node_modules/.bin/tsc');
    const args = [
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      '',
      '--pretty',
      'false',
      file,
    ];
    const result = await run(tsc, args, { timeoutMs: 120_000 });
    if (result.code === 0) return [];
    const sourceLines = source.split('\n');
    // "check.ts(LINE,COL): error TSnnnn: text", continuation lines indented: one entry per error.
    const errors: string[] = [];
    for (const line of result.stdout.split('\n')) {
      const match = /^.*check\.ts\((\d+),\d+\): error (TS\d+: .*)$/.exec(line);
      if (match) {
        // Name the manifest: the nearest "// file#i Kind/name" comment above the error.
        const owner = sourceLines
          .slice(0, Number(match[1]))
          .reverse()
          .find((l) => l.startsWith('// '));
        errors.push(`${owner?.slice(3) ?? '?'}: ${match[2]}`);
      } else if (line.startsWith(' ') && errors.length > 0) {
        errors[errors.length - 1] += `\n${line.trim()}`;
      }
    }
    if (errors.length === 0) throw new Error(`tsc failed without a diagnostic for the manifests:\n${result.output}`);
    return errors;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
