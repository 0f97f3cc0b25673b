// Env values may name another service: "{{service:users}}" becomes, when a replica starts, a
// URL of that service reachable from the replica. Which URL depends on the runtime (a
// container name on the shared network, or 127.0.0.1), so resolution takes a lookup.

const TEMPLATE = /\{\{\s*([a-z]+):([^}\s]*)\s*\}\}/g;
const ANY_BRACES = /\{\{[^}]*\}\}/g;

export type ServiceUrlLookup = (service: string) => string;

/** Services a value refers to; `problems` lists templates that are not `{{service:<name>}}`. */
export function templateRefs(value: string): { services: string[]; problems: string[] } {
  const services: string[] = [];
  const problems: string[] = [];
  for (const match of value.matchAll(ANY_BRACES)) {
    const inner = /^\{\{\s*service:([a-z][a-z0-9-]*)\s*\}\}$/.exec(match[0]);
    if (inner?.[1]) services.push(inner[1]);
    else problems.push(match[0]);
  }
  return { services, problems };
}

export function resolveTemplates(
  env: Readonly<Record<string, string>>,
  lookup: ServiceUrlLookup,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    out[key] = value.replace(TEMPLATE, (whole, kind: string, name: string) =>
      kind === 'service' ? lookup(name) : whole,
    );
  }
  return out;
}
