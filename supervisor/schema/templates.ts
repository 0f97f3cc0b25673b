// A replica's environment is written in the config as templates, so the supervisor sets no
// variable of its own and names no app. Inside "{{" and "}}":
//   service:NAME        a URL of service NAME that a replica can reach (runtime-dependent)
//   replicas:NAME       the URLs of every replica service NAME may run (one per port of its
//                       range), comma-separated: a client that tries them in turn reaches
//                       every ready replica, not one container
//   replica:FIELD       port, host (to listen on), dataDir (to write in), instance (unique id),
//                       service (its service's name): what the runtime gives this replica
//   secret:NAME         a random value made once, kept in dataDir/secrets.json, shared by all
//   env:NAME            the supervisor's own environment variable NAME (required)
//   env:NAME:-DEFAULT   ... or DEFAULT (itself a template) when NAME is unset or empty
// Parsed once (parseTemplate), rendered when each replica starts (render).

export const REPLICA_FIELDS = ['port', 'host', 'dataDir', 'instance', 'service'] as const;
export type ReplicaField = (typeof REPLICA_FIELDS)[number];

export type Ref =
  | { kind: 'service'; name: string }
  | { kind: 'replicas'; name: string }
  | { kind: 'replica'; field: ReplicaField }
  | { kind: 'secret'; name: string }
  | { kind: 'env'; name: string; fallback?: Part[] };

export type Part = string | Ref;

export interface TemplateContext {
  serviceUrl(name: string): string;
  /** Every URL a replica of service `name` may have. */
  replicaUrls(name: string): string[];
  replica: Readonly<Record<ReplicaField, string>>;
  secret(name: string): string;
  env(name: string): string | undefined;
}

class TemplateProblem extends Error {}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const SERVICE_NAME = /^[a-z][a-z0-9-]*/;
const FIELD = /^[A-Za-z]+/;

/** The parts of a value, or the words for what is wrong with it (for a config error). */
export function parseTemplate(text: string): { parts: Part[] } | { problem: string } {
  try {
    return { parts: new Parser(text).value() };
  } catch (err) {
    if (err instanceof TemplateProblem) return { problem: err.message };
    throw err;
  }
}

export function render(parts: readonly Part[], ctx: TemplateContext): string {
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : resolve(part, ctx);
  return out;
}

function resolve(ref: Ref, ctx: TemplateContext): string {
  switch (ref.kind) {
    case 'service':
      return ctx.serviceUrl(ref.name);
    case 'replicas':
      return ctx.replicaUrls(ref.name).join(',');
    case 'replica':
      return ctx.replica[ref.field];
    case 'secret':
      return ctx.secret(ref.name);
    case 'env': {
      const value = ctx.env(ref.name);
      if (value !== undefined && value !== '') return value;
      if (ref.fallback) return render(ref.fallback, ctx);
      throw new Error(`{{env:${ref.name}}}: ${ref.name} is not set in the supervisor's environment`);
    }
  }
}

/** Every reference in the parts, defaults included. */
export function refsOf(parts: readonly Part[]): Ref[] {
  return parts.flatMap((p) =>
    typeof p === 'string' ? [] : [p, ...(p.kind === 'env' && p.fallback ? refsOf(p.fallback) : [])],
  );
}

class Parser {
  readonly #s: string;
  #i = 0;

  constructor(text: string) {
    this.#s = text;
  }

  value(): Part[] {
    return this.#parts(false);
  }

  /** Literal text and references, up to the end, or (nested, a default) up to its closing braces. */
  #parts(nested: boolean): Part[] {
    const parts: Part[] = [];
    let literal = '';
    const flush = () => {
      if (literal) parts.push(literal);
      literal = '';
    };
    while (this.#i < this.#s.length) {
      if (this.#s.startsWith('{{', this.#i)) {
        flush();
        this.#i += 2;
        parts.push(this.#ref());
        continue;
      }
      if (nested && this.#s.startsWith('}}', this.#i)) break;
      literal += this.#s[this.#i++];
    }
    if (nested && !this.#s.startsWith('}}', this.#i)) throw new TemplateProblem('a default without its closing "}}"');
    flush();
    return parts;
  }

  #ref(): Ref {
    this.#spaces();
    const kind = this.#take(/^[a-z]+:/, () => 'a reference of the form {{kind:argument}}').slice(0, -1);
    let ref: Ref;
    if (kind === 'service' || kind === 'replicas')
      ref = { kind, name: this.#take(SERVICE_NAME, () => `a service name after "${kind}:"`) };
    else if (kind === 'secret')
      ref = { kind, name: this.#take(ENV_NAME, () => 'a secret name ([A-Za-z_][A-Za-z0-9_]*) after "secret:"') };
    else if (kind === 'replica') {
      const field = this.#take(FIELD, () => `one of ${REPLICA_FIELDS.join(', ')} after "replica:"`);
      if (!(REPLICA_FIELDS as readonly string[]).includes(field))
        throw new TemplateProblem(`one of ${REPLICA_FIELDS.join(', ')} after "replica:", not "${field}"`);
      ref = { kind, field: field as ReplicaField };
    } else if (kind === 'env') {
      const name = this.#take(ENV_NAME, () => 'a variable name ([A-Za-z_][A-Za-z0-9_]*) after "env:"');
      if (this.#s.startsWith(':-', this.#i)) {
        this.#i += 2;
        ref = { kind, name, fallback: this.#parts(true) };
      } else ref = { kind, name };
    } else throw new TemplateProblem(`a reference of kind service, replicas, replica, secret or env, not "${kind}"`);
    this.#spaces();
    if (!this.#s.startsWith('}}', this.#i)) throw new TemplateProblem(`"}}" to close {{${kind}:...`);
    this.#i += 2;
    return ref;
  }

  #take(pattern: RegExp, expected: () => string): string {
    const m = pattern.exec(this.#s.slice(this.#i));
    if (!m) throw new TemplateProblem(expected());
    this.#i += m[0].length;
    return m[0];
  }

  #spaces(): void {
    while (this.#s[this.#i] === ' ') this.#i++;
  }
}
