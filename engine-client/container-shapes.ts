// Our container shapes to and from the engine's JSON (PascalCase, nested HostConfig).
import type {
  ContainerInfo,
  ContainerNetwork,
  ContainerSpec,
  ContainerStatus,
  ContainerSummary,
  Labels,
  PublishedPort,
  RestartPolicy,
} from './types.ts';

type Json = Record<string, unknown>;

const obj = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v) => typeof v === 'string') : []);
const labels = (value: unknown): Labels => obj(value) as Labels;

export function toContainerCreateBody(spec: ContainerSpec): Json {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of spec.ports ?? []) {
    const key = `${port.containerPort}/${port.protocol ?? 'tcp'}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({
      HostIp: port.hostIp ?? '127.0.0.1',
      HostPort: port.hostPort ? String(port.hostPort) : '', // "" lets the engine choose
    });
  }
  const hostConfig: Json = {
    PortBindings: bindings,
    ExtraHosts: spec.extraHosts ?? null,
    Binds: spec.binds?.map((b) => `${b.source}:${b.target}${b.readOnly ? ':ro' : ''}`) ?? null,
  };
  if (spec.restartPolicy) {
    hostConfig.RestartPolicy = {
      Name: spec.restartPolicy.name,
      MaximumRetryCount: spec.restartPolicy.maximumRetryCount ?? 0,
    };
  }
  if (spec.memoryBytes !== undefined) hostConfig.Memory = spec.memoryBytes;
  if (spec.memorySwapBytes !== undefined) hostConfig.MemorySwap = spec.memorySwapBytes;
  if (spec.cpus !== undefined) hostConfig.NanoCpus = Math.round(spec.cpus * 1e9);
  if (spec.networkMode !== undefined) hostConfig.NetworkMode = spec.networkMode;
  if (spec.autoRemove !== undefined) hostConfig.AutoRemove = spec.autoRemove;
  if (spec.init !== undefined) hostConfig.Init = spec.init;
  if (spec.capDrop !== undefined) hostConfig.CapDrop = spec.capDrop;
  if (spec.securityOpt !== undefined) hostConfig.SecurityOpt = spec.securityOpt;
  if (spec.readonlyRootfs !== undefined) hostConfig.ReadonlyRootfs = spec.readonlyRootfs;
  if (spec.tmpfs !== undefined) hostConfig.Tmpfs = spec.tmpfs;
  if (spec.pidsLimit !== undefined) hostConfig.PidsLimit = spec.pidsLimit;

  const body: Json = {
    Image: spec.image,
    Labels: spec.labels ?? {},
    Env: spec.env ? Object.entries(spec.env).map(([key, value]) => `${key}=${value}`) : [],
    ExposedPorts: exposed,
    Tty: spec.tty ?? false,
    HostConfig: hostConfig,
  };
  if (spec.cmd) body.Cmd = spec.cmd;
  if (spec.entrypoint) body.Entrypoint = spec.entrypoint;
  if (spec.workingDir !== undefined) body.WorkingDir = spec.workingDir;
  if (spec.user !== undefined) body.User = spec.user;
  if (spec.stopSignal !== undefined) body.StopSignal = spec.stopSignal;
  if (spec.stopTimeoutSeconds !== undefined) body.StopTimeout = spec.stopTimeoutSeconds;
  if (spec.networkMode !== undefined && spec.networkAliases?.length) {
    body.NetworkingConfig = { EndpointsConfig: { [spec.networkMode]: { Aliases: spec.networkAliases } } };
  }
  return body;
}

function envRecord(entries: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
    else env[entry] = '';
  }
  return env;
}

/** NetworkSettings.Ports: {"8000/tcp": [{HostIp, HostPort}] | null}. */
function publishedPorts(value: unknown): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const [key, list] of Object.entries(obj(value))) {
    const [port = '0', protocol = 'tcp'] = key.split('/');
    if (!Array.isArray(list)) continue;
    for (const binding of list) {
      const b = obj(binding);
      out.push({ containerPort: Number(port), protocol, hostIp: str(b.HostIp), hostPort: Number(str(b.HostPort)) });
    }
  }
  return out;
}

export function toContainerInfo(raw: Json): ContainerInfo {
  const state = obj(raw.State);
  const config = obj(raw.Config);
  const host = obj(raw.HostConfig);
  const settings = obj(raw.NetworkSettings);
  const policy = obj(host.RestartPolicy);
  const networks: Record<string, ContainerNetwork> = {};
  for (const [name, value] of Object.entries(obj(settings.Networks))) {
    const n = obj(value);
    networks[name] = { networkId: str(n.NetworkID), ipAddress: str(n.IPAddress), aliases: strings(n.Aliases) };
  }
  const health = obj(state.Health).Status;
  return {
    id: str(raw.Id),
    name: str(raw.Name).replace(/^\//, ''),
    image: str(config.Image),
    imageId: str(raw.Image),
    created: str(raw.Created),
    state: {
      status: str(state.Status) as ContainerStatus,
      running: state.Running === true,
      paused: state.Paused === true,
      restarting: state.Restarting === true,
      oomKilled: state.OOMKilled === true,
      dead: state.Dead === true,
      pid: num(state.Pid),
      exitCode: num(state.ExitCode),
      error: str(state.Error),
      startedAt: str(state.StartedAt),
      finishedAt: str(state.FinishedAt),
      ...(typeof health === 'string' ? { health } : {}),
    },
    labels: labels(config.Labels),
    env: envRecord(strings(config.Env)),
    tty: config.Tty === true,
    user: str(config.User),
    workingDir: str(config.WorkingDir),
    restartCount: num(raw.RestartCount),
    restartPolicy: {
      name: (str(policy.Name) || 'no') as RestartPolicy['name'],
      maximumRetryCount: num(policy.MaximumRetryCount),
    },
    memoryBytes: num(host.Memory),
    memorySwapBytes: num(host.MemorySwap),
    cpus: num(host.NanoCpus) / 1e9,
    extraHosts: strings(host.ExtraHosts),
    networkMode: str(host.NetworkMode),
    capDrop: strings(host.CapDrop),
    securityOpt: strings(host.SecurityOpt),
    readonlyRootfs: host.ReadonlyRootfs === true,
    tmpfs: Object.fromEntries(Object.entries(obj(host.Tmpfs)).map(([k, v]) => [k, str(v)])),
    pidsLimit: num(host.PidsLimit),
    binds: strings(host.Binds),
    ports: publishedPorts(settings.Ports),
    networks,
    raw,
  };
}

export function toContainerSummary(raw: Json): ContainerSummary {
  const ports: PublishedPort[] = [];
  for (const value of Array.isArray(raw.Ports) ? raw.Ports : []) {
    const p = obj(value);
    ports.push({
      containerPort: num(p.PrivatePort),
      protocol: str(p.Type),
      hostIp: str(p.IP),
      hostPort: num(p.PublicPort),
    });
  }
  return {
    id: str(raw.Id),
    name: (strings(raw.Names)[0] ?? '').replace(/^\//, ''),
    image: str(raw.Image),
    imageId: str(raw.ImageID),
    state: str(raw.State) as ContainerStatus,
    status: str(raw.Status),
    labels: labels(raw.Labels),
    created: num(raw.Created),
    ports,
  };
}
