// deploy/kubernetes/: valid against the Kubernetes API schemas (offline, strict about unknown
// fields), and equivalent to what the supervisor does on one VM: the same services, ports,
// health path, routes, limits and scaling bounds, taken from config/orchestrator.json.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { skipUnless } from '../helpers/requirements.ts';
import { repoRoot, run, toolAvailable } from './exec.ts';
import { parseManifests, schemaErrors, unknownFieldErrors, type Manifest } from './k8s-schema.ts';

// scripts/dev-services.sh installs kubectl (Debian's kubernetes-client): its built-in kustomize.
const kubectlSkip = skipUnless(await toolAvailable('kubectl', 'apt-get install kubernetes-client'), 'kubectl');

const DIR = path.join(repoRoot, 'deploy/kubernetes');

interface ServiceConfig {
  env: Record<string, string>;
  replicas: { initial: number; min: number; max: number };
  containerPort: number;
  healthPath: string;
  livenessPath?: string;
  routes: string[];
  autoscale: boolean;
  resources: { memoryMb: number; cpus: number; memoryRequestMb?: number };
}

// The shapes read below, narrowed from the manifests' JSON.
interface Container {
  name: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean };
  initContainers?: Container[];
  containers: Container[];
}
interface DeploymentBody {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string; port: { name?: string; number?: number } } };
}

let manifests: Manifest[];
let config: { services: Record<string, ServiceConfig> };

const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.name === name);
const all = (kind: string) => manifests.filter((m) => m.kind === kind);

async function manifestFiles(): Promise<Array<{ file: string; text: string }>> {
  const names = (await readdir(DIR)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  return Promise.all(names.map(async (file) => ({ file, text: await readFile(path.join(DIR, file), 'utf8') })));
}

/** Ingress semantics: Exact, or Prefix by whole path elements; the longest match wins. */
function ingressBackend(paths: IngressPath[], requestPath: string): string | undefined {
  const matches = paths.filter((p) =>
    p.pathType === 'Exact'
      ? requestPath === p.path
      : p.path === '/' || requestPath === p.path || requestPath.startsWith(`${p.path.replace(/\/$/, '')}/`),
  );
  matches.sort((a, b) => b.path.length - a.path.length || (a.pathType === 'Exact' ? -1 : 1));
  return matches[0]?.backend.service.name;
}

/** The balancer's routing from the config: the longest route prefix wins; no route → static UI. */
function balancerBackend(services: Record<string, ServiceConfig>, requestPath: string): string {
  let best: { name: string; length: number } | undefined;
  for (const [name, s] of Object.entries(services)) {
    for (const route of s.routes) {
      const hit = requestPath === route || requestPath.startsWith(`${route}/`);
      if (hit && (!best || route.length > best.length)) best = { name, length: route.length };
    }
  }
  return best?.name ?? 'ui';
}

describe('deploy/kubernetes', () => {
  before(async () => {
    manifests = parseManifests(await manifestFiles());
    config = JSON.parse(await readFile(path.join(repoRoot, 'config/orchestrator.json'), 'utf8')) as typeof config;
  });

  test('kustomization.yaml lists every manifest file, and only those', async () => {
    const kustomization = parse(await readFile(path.join(DIR, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    const files = (await manifestFiles()).map((f) => f.file);
    assert.deepEqual([...kustomization.resources].sort(), files);
  });

  test('every object carries app.kubernetes.io/part-of itself (no kustomize transformer needed)', () => {
    for (const m of manifests) {
      const labels = (m.body.metadata as { labels?: Record<string, string> }).labels ?? {};
      assert.equal(labels['app.kubernetes.io/part-of'], 'selflessacts', `${m.kind}/${m.name}`);
    }
  });

  test('every object is valid against the Kubernetes OpenAPI schema', async () => {
    assert.ok(manifests.length >= 10, `only ${manifests.length} objects`);
    assert.deepEqual(await schemaErrors(manifests), []);
  });

  test('no object has a field its Kubernetes type does not declare', async () => {
    assert.deepEqual(await unknownFieldErrors(manifests), []);
  });

  test('both checks catch a broken manifest (they can fail)', async () => {
    const deployment = (container: string[]) =>
      parseManifests([
        {
          file: 'broken.yaml',
          text: [
            'apiVersion: apps/v1',
            'kind: Deployment',
            'metadata: {name: x}',
            'spec:',
            '  selector: {matchLabels: {a: b}}',
            '  template:',
            '    metadata: {labels: {a: b}}',
            '    spec:',
            '      containers:',
            '        - name: c',
            '          image: i',
            ...container.map((line) => `          ${line}`),
          ].join('\n'),
        },
      ]);
    const wrongType = deployment(['ports: [{containerPort: http}]']);
    const schema = await schemaErrors(wrongType);
    assert.ok(
      schema.some((e) => e.includes('/spec/template/spec/containers/0/ports/0/containerPort must be integer')),
      schema.join('\n'),
    );
    const typo = deployment(['readinesProbe: {httpGet: {path: /, port: 80}}']);
    assert.deepEqual(await schemaErrors(typo), [], 'the schema alone lets unknown fields through');
    const fields = await unknownFieldErrors(typo);
    assert.ok(
      fields.some((e) =>
        /broken\.yaml#0 Deployment\/x: .*"readinesProbe".* does not exist in type 'IContainer'/.test(e),
      ),
      fields.join('\n'),
    );
  });

  test('the Ingress routes like the balancer: config routes, /api/v1/_crash refused, / to the UI', () => {
    const ingress = all('Ingress');
    assert.equal(ingress.length, 1);
    const spec = ingress[0]!.body.spec as { rules: Array<{ http: { paths: IngressPath[] } }> };
    const paths = spec.rules.flatMap((r) => r.http.paths);
    for (const [name, s] of Object.entries(config.services)) {
      for (const route of s.routes) {
        const p = paths.find((x) => x.path === route);
        assert.equal(p?.pathType, 'Prefix', `no Prefix path for ${route}`);
        assert.equal(p?.backend.service.name, name, route);
        assert.equal(p?.backend.service.port.name, 'http');
      }
    }
    const samples = [
      '/api/v1/users',
      '/api/v1/users/alice',
      '/api/v1/users/alice/exists',
      '/api/v1/sessions',
      '/api/v1/sessions/me',
      '/api/v1/previews/u/alice',
      '/api/v1/previews/a/37',
      '/api/v1/categories',
      '/api/v1/categories/cats/acts',
      '/api/v1/acts/upvote',
      '/api/v1/_health',
      '/api/v1/_count',
      '/api/v1',
      '/',
      '/index.html',
      '/js/main.js',
      '/dashboard/',
    ];
    for (const sample of samples) {
      assert.equal(ingressBackend(paths, sample), balancerBackend(config.services, sample), sample);
    }
    assert.equal(ingressBackend(paths, '/api/v1/_crash'), 'ui');
    const nginx = (find('ConfigMap', 'ui-nginx')!.body.data as Record<string, string>)['default.conf']!;
    assert.match(nginx, /location ~\* \^\/api\/v1\/_crash\/\?\$ \{[^}]*return 403/);
  });

  test('a Deployment and a Service per configured service, with its port, health path, env and limits', () => {
    const secret = find('Secret', 'selflessacts')!.body as { stringData: Record<string, string> };
    for (const [name, s] of Object.entries(config.services)) {
      const deployment = find('Deployment', name);
      assert.ok(deployment, `no Deployment ${name}`);
      const spec = (deployment.body as unknown as DeploymentBody).spec;
      assert.deepEqual(spec.template.metadata.labels, spec.selector.matchLabels);
      const container = spec.template.spec.containers[0]!;
      assert.deepEqual(container.ports, [{ name: 'http', containerPort: s.containerPort }]);
      // The same split as the supervisor's: readiness on the health path, liveness on the liveness path.
      for (const probe of [container.startupProbe, container.readinessProbe]) {
        assert.deepEqual(probe?.httpGet, { path: s.healthPath, port: 'http' }, `${name} readiness probes`);
      }
      assert.deepEqual(
        container.livenessProbe?.httpGet,
        { path: s.livenessPath ?? s.healthPath, port: 'http' },
        `${name} liveness probe`,
      );
      const env = new Map(container.env!.map((e) => [e.name, e]));
      assert.equal(env.get('SERVICE')?.value, name);
      assert.equal(env.get('PORT')?.value, String(s.containerPort));
      for (const key of ['DATABASE_URL', 'SESSION_SECRET']) {
        assert.deepEqual(env.get(key)?.valueFrom?.secretKeyRef, { name: 'selflessacts', key }, `${name} ${key}`);
        assert.ok(secret.stringData[key], `the Secret has no ${key}`);
      }
      // {{service:users}} and {{replicas:users}} in the config are the users Service's URL here
      // (a Service reaches every ready endpoint: what the list of replicas does under the supervisor).
      for (const [key, value] of Object.entries(s.env)) {
        const expected = value.replace(
          /\{\{(?:service|replicas):([a-z0-9-]+)\}\}/g,
          (_m, other: string) => `http://${other}:${config.services[other]!.containerPort}`,
        );
        assert.equal(env.get(key)?.value, expected, `${name} ${key}`);
      }
      assert.deepEqual(container.resources?.limits, {
        cpu: `${Math.round(s.resources.cpus * 1000)}m`,
        memory: `${s.resources.memoryMb}Mi`,
      });
      // What the scheduler places a pod by is what the supervisor's capacity counts a replica at.
      assert.equal(container.resources?.requests?.memory, `${s.resources.memoryRequestMb ?? s.resources.memoryMb}Mi`);

      const service = find('Service', name);
      assert.ok(service, `no Service ${name}`);
      const svc = service.body.spec as {
        selector: Record<string, string>;
        ports: Array<{ port: number; targetPort: string }>;
      };
      assert.deepEqual(svc.selector, spec.selector.matchLabels);
      assert.deepEqual(
        svc.ports.map((p) => [p.port, p.targetPort]),
        [[s.containerPort, 'http']],
      );

      const hpa = find('HorizontalPodAutoscaler', name);
      if (s.autoscale) {
        const h = hpa?.body.spec as {
          scaleTargetRef: { kind: string; name: string };
          minReplicas: number;
          maxReplicas: number;
        };
        assert.deepEqual(h.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name });
        assert.deepEqual([h.minReplicas, h.maxReplicas], [s.replicas.min, s.replicas.max]);
        assert.equal(spec.replicas, undefined, `${name}: a fixed replica count fights the autoscaler`);
      } else {
        assert.equal(hpa, undefined);
        assert.equal(spec.replicas, s.replicas.initial);
      }
    }
  });

  test('every pod runs as non-root, without privilege escalation, with requests and limits', () => {
    for (const d of all('Deployment')) {
      const pod = (d.body as unknown as DeploymentBody).spec.template.spec;
      assert.equal(pod.securityContext?.runAsNonRoot, true, d.name);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${d.name}/${c.name}`);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${d.name}/${c.name}`);
        assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${d.name}/${c.name}`);
        assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${d.name}/${c.name} requests`);
        assert.ok(c.resources?.limits?.cpu && c.resources.limits.memory, `${d.name}/${c.name} limits`);
      }
    }
  });

  test('kubectl kustomize builds the set', { skip: kubectlSkip }, async () => {
    const r = await run('kubectl', ['kustomize', DIR], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.output);
    const built = parseManifests([{ file: 'kustomize', text: r.stdout }]);
    assert.deepEqual(
      built.map((m) => `${m.kind}/${m.name}`).sort(),
      manifests.map((m) => `${m.kind}/${m.name}`).sort(),
    );
    for (const m of built.filter((x) => x.kind !== 'Namespace')) {
      assert.equal((m.body.metadata as { namespace?: string }).namespace, 'selflessacts', `${m.kind}/${m.name}`);
    }
    assert.deepEqual(await schemaErrors(built), []);
  });
});
