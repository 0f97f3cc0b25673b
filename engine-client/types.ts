// The shapes callers of engine-client see. They are our names (camelCase, only the fields we
// use), not the engine's; each part maps them to and from the Engine API's JSON.
import type { Readable } from 'node:stream';

export interface EngineOptions {
  /** Unix socket of the engine. Default: DOCKER_HOST (`unix:///path`) or /var/run/docker.sock. */
  socketPath?: string;
  /** Deadline for ordinary calls, in ms (default 30 000). Streams (events, logs follow, build,
   * wait) have none and end through their AbortSignal instead. */
  timeoutMs?: number;
  /** Use this API version ("1.41") instead of negotiating it from `GET /_ping`. */
  apiVersion?: string;
}

export type Labels = Record<string, string>;
/** `{key: 'v'}` matches label key=v; `{key: true}` matches any container that has the key. */
export type LabelFilter = Record<string, string | true>;

// ---------------------------------------------------------------------------------------------
// Containers

export interface PortBinding {
  containerPort: number;
  protocol?: 'tcp' | 'udp';
  /** Host address to publish on. Default '127.0.0.1' (never all interfaces by accident). */
  hostIp?: string;
  /** Host port; 0 or absent lets the engine choose a free one (read it back from inspect). */
  hostPort?: number;
}

export interface RestartPolicy {
  name: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  maximumRetryCount?: number;
}

export interface BindMount {
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  name?: string;
  image: string;
  cmd?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
  labels?: Labels;
  workingDir?: string;
  /** "uid", "uid:gid" or a user name known to the image. */
  user?: string;
  tty?: boolean;
  ports?: PortBinding[];
  restartPolicy?: RestartPolicy;
  memoryBytes?: number;
  /**
   * Memory and swap together (Docker's MemorySwap): equal to memoryBytes means no swap; absent, the engine allows twice
   * memoryBytes.
   */
  memorySwapBytes?: number;
  /** CPU limit in cores (0.5 = half a core); sent as NanoCpus. */
  cpus?: number;
  /** "name:ip" entries, e.g. "host.docker.internal:host-gateway". */
  extraHosts?: string[];
  /** "bridge", "host", "none" or a user-defined network's name. */
  networkMode?: string;
  /** DNS aliases on the `networkMode` network (user-defined networks only). */
  networkAliases?: string[];
  binds?: BindMount[];
  stopSignal?: string;
  /** Default grace period of `docker stop` for this container, in seconds. */
  stopTimeoutSeconds?: number;
  autoRemove?: boolean;
  /** Run the engine's init (tini) as PID 1 so signals reach the app and zombies are reaped. */
  init?: boolean;
  /** Capabilities taken away ("ALL" for every one). */
  capDrop?: string[];
  /** Security options, e.g. "no-new-privileges". */
  securityOpt?: string[];
  /** Mount the image's root filesystem read-only. */
  readonlyRootfs?: boolean;
  /** tmpfs mounts: path → mount options ("rw,noexec,nosuid,size=64m"). */
  tmpfs?: Record<string, string>;
  /** Processes (threads included) the container may have at once. */
  pidsLimit?: number;
}

export interface CreatedContainer {
  id: string;
  warnings: string[];
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface PublishedPort {
  containerPort: number;
  protocol: string;
  hostIp: string;
  hostPort: number;
}

export interface ContainerSummary {
  id: string;
  /** The first name without its leading slash. */
  name: string;
  image: string;
  imageId: string;
  state: ContainerStatus;
  /** Human text such as "Up 3 seconds". */
  status: string;
  labels: Labels;
  /** Unix seconds. */
  created: number;
  ports: PublishedPort[];
}

export interface ContainerState {
  status: ContainerStatus;
  running: boolean;
  paused: boolean;
  restarting: boolean;
  oomKilled: boolean;
  dead: boolean;
  pid: number;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  /** Health check verdict when the image defines one. */
  health?: string;
}

export interface ContainerNetwork {
  networkId: string;
  ipAddress: string;
  aliases: string[];
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageId: string;
  created: string;
  state: ContainerState;
  labels: Labels;
  env: Record<string, string>;
  tty: boolean;
  user: string;
  workingDir: string;
  restartCount: number;
  restartPolicy: RestartPolicy;
  memoryBytes: number;
  /** Memory and swap together; -1 unlimited, 0 unset. */
  memorySwapBytes: number;
  cpus: number;
  extraHosts: string[];
  networkMode: string;
  capDrop: string[];
  securityOpt: string[];
  readonlyRootfs: boolean;
  tmpfs: Record<string, string>;
  /** 0 or -1: no limit. */
  pidsLimit: number;
  /** Bind mounts as "source:target[:options]". */
  binds: string[];
  /** Published ports with the host port the engine actually bound. */
  ports: PublishedPort[];
  networks: Record<string, ContainerNetwork>;
  /** The engine's full inspect document, for fields not mapped here. */
  raw: Record<string, unknown>;
}

export interface StopOptions {
  /** Seconds between SIGTERM (or the stop signal) and SIGKILL. Default: the container's own. */
  graceSeconds?: number;
  /** Stop signal for this call; honoured from API 1.42, ignored by older engines. */
  signal?: string;
}

export interface KillOptions {
  signal?: string;
}

export interface RemoveContainerOptions {
  force?: boolean;
  /** Remove anonymous volumes too. */
  volumes?: boolean;
}

export interface ListContainersOptions {
  /** Include stopped containers (default false, like the engine). */
  all?: boolean;
  labels?: LabelFilter;
  name?: string;
  status?: ContainerStatus[];
}

export interface WaitOptions {
  condition?: 'not-running' | 'next-exit' | 'removed';
  signal?: AbortSignal;
  /** Give up after this many ms (TIMEOUT). Default: wait as long as it takes. */
  timeoutMs?: number;
}

export interface WaitResult {
  statusCode: number;
  error?: string;
}

export interface LogsOptions {
  stdout?: boolean;
  stderr?: boolean;
  follow?: boolean;
  /** Unix seconds. */
  since?: number;
  tail?: number | 'all';
  timestamps?: boolean;
  /** Whether the container has a TTY; when absent, logs() inspects the container to find out. */
  tty?: boolean;
  signal?: AbortSignal;
}

/** One piece of output. A TTY container's output is one raw stream, marked 'tty'. */
export interface LogChunk {
  stream: 'stdout' | 'stderr' | 'tty';
  data: Buffer;
}

export interface LogsText {
  /** stdout, or the whole output of a TTY container. */
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------------------------------------
// Images

export interface ImageSummary {
  id: string;
  repoTags: string[];
  labels: Labels;
  size: number;
  /** Unix seconds. */
  created: number;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  labels: Labels;
  size: number;
  created: string;
  env: string[];
  cmd: string[];
  entrypoint: string[];
  user: string;
  workingDir: string;
  raw: Record<string, unknown>;
}

export interface ListImagesOptions {
  labels?: LabelFilter;
  /** Repository or repo:tag pattern, as the engine's `reference` filter. */
  reference?: string;
  dangling?: boolean;
}

export interface RemoveImageOptions {
  force?: boolean;
  noPrune?: boolean;
}

export interface RemovedImage {
  untagged?: string;
  deleted?: string;
}

/** A tar archive: in memory, or streamed. */
export type TarBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** One line of a JSON progress stream (build, import), as the engine sent it. */
export interface JsonMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  aux?: { ID?: string } & Record<string, unknown>;
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

export type ProgressCallback = (message: JsonMessage) => void;

export interface BuildOptions {
  /** "name:tag" references to tag the result with. */
  tags?: string[];
  /** Path of the Dockerfile inside the context (default "Dockerfile"). */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  labels?: Labels;
  noCache?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface BuildResult {
  imageId: string;
  tags: string[];
}

export interface ImportOptions {
  repo: string;
  tag?: string;
  /** Dockerfile instructions applied to the image: "ENV PATH=/usr/bin", "CMD [\"node\"]", ... */
  changes?: string[];
  message?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface ImportResult {
  imageId: string;
}

// ---------------------------------------------------------------------------------------------
// Networks

export interface NetworkSpec {
  name: string;
  driver?: string;
  labels?: Labels;
  internal?: boolean;
  attachable?: boolean;
}

export interface NetworkEndpoint {
  name: string;
  ipv4Address: string;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
  labels: Labels;
  /** Attached containers by id; filled by inspect, usually empty in list results. */
  containers: Record<string, NetworkEndpoint>;
  raw: Record<string, unknown>;
}

export interface ListNetworksOptions {
  labels?: LabelFilter;
  name?: string;
}

export interface ConnectOptions {
  aliases?: string[];
}

// ---------------------------------------------------------------------------------------------
// Events

export interface EventsOptions {
  types?: Array<'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin'>;
  labels?: LabelFilter;
  /** Event actions ("start", "die", ...). */
  actions?: string[];
  containers?: string[];
  /** Replay from here: a Date, unix seconds, or an event's `cursor`. */
  since?: Date | number | string;
  until?: Date | number | string;
  /** Ends the iteration quietly. */
  signal?: AbortSignal;
  /** Reconnect when the stream is lost (engine restart), resuming after the last event seen. */
  reconnect?: boolean | { delayMs?: number; maxDelayMs?: number };
  /** Told about each lost stream or failed reconnect before the next attempt. */
  onReconnect?: (error: Error, attempt: number) => void;
}

export interface EngineEvent {
  type: string;
  action: string;
  /** Actor id: container id, image id, network id... */
  id: string;
  attributes: Record<string, string>;
  scope: string;
  /** Unix seconds. */
  time: number;
  /** Exact nanosecond timestamp as decimal digits (too large for a JS number). */
  timeNano: string;
  /** "seconds.nanoseconds", usable as `since` to resume after this event. */
  cursor: string;
}

// ---------------------------------------------------------------------------------------------
// System

export interface PingResult {
  apiVersion: string;
  osType: string;
  server: string;
}

export interface EngineInfo {
  /** Bytes of memory the engine's host has (0 when it does not say). */
  memTotal: number;
  cpus: number;
  raw: Record<string, unknown>;
}

export interface VersionInfo {
  version: string;
  apiVersion: string;
  minApiVersion: string;
  os: string;
  arch: string;
  kernelVersion: string;
  raw: Record<string, unknown>;
}
