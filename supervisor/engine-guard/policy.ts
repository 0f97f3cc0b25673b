// What the engine guard lets through to the Docker Engine API, as pure decisions. The supervisor
// (and with it the public listener's parser) runs without access to the engine's socket, which
// is root-equivalent: whoever can create a privileged container, or one with / mounted, owns the
// host. It reaches the engine through the guard instead, which serves the calls the engine
// client of the runtime makes and nothing else, and holds every container it creates to what a
// replica is: labelled as ours, a non-root numeric user, no capabilities, no privilege gain, a
// read-only root, no host namespaces or devices, binds only under the replicas' directories. A
// container made so can do no more on the host than the supervisor's own user could already.

/** What the guard enforces, from its command line. */
export interface GuardPolicy {
  /** Directories a bind mount's source must be inside (after resolving links). */
  bindRoots: readonly string[];
  /** The label every container and network of ours carries (e.g. selflessacts.supervisor). */
  ownerLabel: string;
}

export type Route =
  | { kind: 'allow' }
  | { kind: 'deny'; reason: string }
  /** A body to check before it goes on. */
  | { kind: 'create-container' }
  | { kind: 'create-network' }
  /** Only for a container (or network) that carries the owner label. */
  | { kind: 'owned-container'; id: string }
  | { kind: 'owned-network'; id: string };

const VERSIONED = /^\/v1\.\d{1,3}(?=\/)/;

/** Where a request may go, by method and path alone. */
export function route(method: string, rawPath: string): Route {
  const pathname = rawPath.split('?')[0]!.replace(VERSIONED, '');
  let segments: string[];
  try {
    segments = pathname
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    return { kind: 'deny', reason: 'a malformed path' };
  }
  const [head, id, action, ...rest] = segments;
  // An image's name holds slashes (registry/repository:tag), sent encoded; nothing else may.
  const slashAllowed = (s: string, i: number) =>
    head === 'images' && i === 1 && !s.split('/').some((part) => part === '' || part === '.' || part === '..');
  if (segments.some((s, i) => s === '' || s === '.' || s === '..' || (s.includes('/') && !slashAllowed(s, i))))
    return { kind: 'deny', reason: `not an API path the supervisor uses: ${pathname}` };
  const m = method.toUpperCase();
  const read = m === 'GET' || m === 'HEAD';
  const denied: Route = { kind: 'deny', reason: `the supervisor has no business with ${m} ${pathname}` };
  if (rest.length > 0) return denied;
  if (segments.length === 1 && read && (head === '_ping' || head === 'version' || head === 'info' || head === 'events'))
    return { kind: 'allow' };
  if (head === 'containers') {
    if (id === 'json' && action === undefined && read) return { kind: 'allow' };
    if (id === 'create' && action === undefined && m === 'POST') return { kind: 'create-container' };
    if (id === undefined) return denied;
    if (action === undefined) return m === 'DELETE' || read ? { kind: 'owned-container', id } : denied;
    if (read && ['json', 'logs', 'stats'].includes(action)) return { kind: 'owned-container', id };
    if (m === 'POST' && ['start', 'stop', 'kill', 'wait'].includes(action)) return { kind: 'owned-container', id };
    return denied;
  }
  if (head === 'networks') {
    if (id === undefined && read) return { kind: 'allow' };
    if (id === 'create' && action === undefined && m === 'POST') return { kind: 'create-network' };
    if (id !== undefined && action === undefined && read) return { kind: 'allow' };
    if (id !== undefined && action === undefined && m === 'DELETE') return { kind: 'owned-network', id };
    return denied;
  }
  if (head === 'images' && read && (id === 'json' ? action === undefined : action === 'json')) return { kind: 'allow' };
  return denied;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const empty = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  v === false ||
  (Array.isArray(v) && v.length === 0) ||
  (isObject(v) && Object.keys(v).length === 0);
const NAMESPACE_MODES = ['PidMode', 'IpcMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode'] as const;
const MUST_BE_EMPTY = [
  'CapAdd',
  'Devices',
  'DeviceRequests',
  'DeviceCgroupRules',
  'GroupAdd',
  'Sysctls',
  'VolumesFrom',
  'CgroupParent',
  'Links',
  'SecurityOptions',
] as const;

/**
 * Why a container-create body is refused (the first reason found), or undefined when it is a
 * replica as the runtime makes them. `binds` receives the bind sources, which the caller checks
 * on the filesystem (links resolved) against policy.bindRoots.
 */
export function containerRefusal(body: unknown, policy: GuardPolicy, binds: string[] = []): string | undefined {
  if (!isObject(body)) return 'the body is not a JSON object';
  const labels = isObject(body.Labels) ? body.Labels : {};
  if (typeof labels[policy.ownerLabel] !== 'string' || labels[policy.ownerLabel] === '')
    return `a container without the ${policy.ownerLabel} label`;
  const user = typeof body.User === 'string' ? body.User : '';
  const ids = /^(\d+):(\d+)$/.exec(user);
  if (!ids || Number(ids[1]) === 0 || Number(ids[2]) === 0)
    return `the user must be a numeric uid:gid other than root, not ${JSON.stringify(user)}`;
  const host = isObject(body.HostConfig) ? body.HostConfig : undefined;
  if (!host) return 'no HostConfig: its limits are the point';
  if (host.Privileged === true) return 'a privileged container';
  for (const key of MUST_BE_EMPTY) if (!empty(host[key])) return `HostConfig.${key} is not allowed`;
  const dropped = Array.isArray(host.CapDrop)
    ? host.CapDrop.map((c) => String(c).toUpperCase().replace(/^CAP_/, ''))
    : [];
  if (!dropped.includes('ALL')) return 'every capability must be dropped (CapDrop ["ALL"])';
  const securityOpt = Array.isArray(host.SecurityOpt) ? host.SecurityOpt.map(String) : [];
  if (!securityOpt.some((o) => /^no-new-privileges(?::true|=true)?$/.test(o))) return 'no-new-privileges must be set';
  const other = securityOpt.find((o) => !/^no-new-privileges(?::true|=true)?$/.test(o));
  if (other !== undefined) return `security option ${JSON.stringify(other)} is not allowed`;
  if (host.ReadonlyRootfs !== true) return 'the root filesystem must be read-only';
  const networkMode = typeof host.NetworkMode === 'string' ? host.NetworkMode : '';
  if (networkMode === 'host' || networkMode.startsWith('container:'))
    return `network mode ${networkMode} is not allowed`;
  for (const key of NAMESPACE_MODES) {
    const mode = host[key];
    if (!empty(mode) && mode !== 'private') return `HostConfig.${key} ${JSON.stringify(mode)} is not allowed`;
  }
  if (!empty(host.Runtime) && host.Runtime !== 'runc') return `runtime ${JSON.stringify(host.Runtime)} is not allowed`;
  if (host.OomKillDisable === true) return 'the OOM killer cannot be turned off';
  if (!(typeof host.PidsLimit === 'number' && host.PidsLimit > 0 && host.PidsLimit <= 4096))
    return 'a pids limit (1-4096) is needed';
  if (!(typeof host.Memory === 'number' && host.Memory > 0)) return 'a memory limit is needed';
  if (Array.isArray(host.Mounts)) {
    for (const mount of host.Mounts)
      if (!isObject(mount) || mount.Type !== 'tmpfs')
        return 'only tmpfs mounts are allowed in Mounts (binds go in Binds)';
  } else if (!empty(host.Mounts)) return 'HostConfig.Mounts must be a list';
  if (!empty(body.Volumes)) return 'anonymous volumes are not allowed';
  for (const bind of Array.isArray(host.Binds)
    ? host.Binds
    : host.Binds === undefined || host.Binds === null
      ? []
      : [null]) {
    if (typeof bind !== 'string') return 'a bind must be "source:target[:options]"';
    const [source = '', target = '', options = ''] = bind.split(':');
    if (!source.startsWith('/') || !target.startsWith('/'))
      return `bind ${JSON.stringify(bind)}: source and target must be absolute paths`;
    if (options.split(',').some((o) => /shared|slave/.test(o)))
      return `bind ${JSON.stringify(bind)}: mount propagation is not allowed`;
    binds.push(source);
  }
  return undefined;
}

/** Whether `real` (a resolved path) is one of the roots or inside one. */
export function insideRoots(real: string, roots: readonly string[]): boolean {
  return roots.some((root) => real === root || real.startsWith(root.endsWith('/') ? root : `${root}/`));
}

/** Why a network-create body is refused, or undefined: a plain bridge of ours. */
export function networkRefusal(body: unknown, policy: GuardPolicy): string | undefined {
  if (!isObject(body)) return 'the body is not a JSON object';
  const labels = isObject(body.Labels) ? body.Labels : {};
  if (
    !Object.keys(labels).some((k) => k.startsWith(`${policy.ownerLabel.slice(0, policy.ownerLabel.lastIndexOf('.'))}.`))
  )
    return 'a network without our labels';
  if (!empty(body.Driver) && body.Driver !== 'bridge')
    return `network driver ${JSON.stringify(body.Driver)} is not allowed`;
  if (
    !empty(body.Options) ||
    !empty(body.IPAM) ||
    body.Attachable === true ||
    body.Ingress === true ||
    !empty(body.ConfigFrom)
  )
    return 'only a plain bridge network is allowed';
  return undefined;
}
