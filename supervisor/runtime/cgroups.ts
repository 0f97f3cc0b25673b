// A cgroup per process-runtime replica, so the kernel holds it to its service's resources as it
// holds a container: memory (an OOM kill past the limit, no swap beyond it) and CPU (a CFS quota
// of `cpus` cores). Where the supervisor may create cgroups (root, or a systemd unit with
// Delegate=yes): under its own cgroup, one group per replica beneath `<instance>-replicas`.
// cgroup v2 where the memory and cpu controllers are on the unified hierarchy, else the v1
// memory and cpu hierarchies. Where neither can be written (a container, a user without
// delegation), the caller falls back to V8's heap flags and the supervisor's watchdog.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CgroupLimits {
  memoryMb: number;
  cpus: number;
}

/** The CFS period the quota is a share of (the kernel's default, and Docker's). */
const CPU_PERIOD_US = 100_000;

export interface ReplicaCgroups {
  readonly version: 1 | 2;
  /** Where the replicas' groups are, for the log and /status (one directory per controller in v1). */
  readonly where: string;
  /** Makes the replica's group (or takes a stale one of the same id) with its limits. */
  create(id: string, limits: CgroupLimits): void;
  /** Moves a process (with its threads) into the replica's group. */
  enter(id: string, pid: number): void;
  /** Times the kernel OOM-killed in the replica's group; undefined when it cannot tell. */
  oomKills(id: string): number | undefined;
  /** Removes the replica's group; it must hold no process any more. */
  remove(id: string): void;
  /** Removes the groups of replicas not in `keep` (left by a supervisor that was killed). */
  removeOthers(keep: ReadonlySet<string>): void;
  /** Removes the replicas' parent group once it holds none. */
  close(): void;
}

export type CgroupsFound = { cgroups: ReplicaCgroups } | { unavailable: string };

interface Mount {
  /** The hierarchy's path that is mounted (mountinfo's "root"). */
  root: string;
  point: string;
  type: 'cgroup' | 'cgroup2';
  /** v1: the controllers the hierarchy has (its super options). */
  options: string[];
}

/** Mounts of cgroup file systems, from /proc/self/mountinfo. */
function cgroupMounts(fsRoot: string): Mount[] {
  const text = readFileSync(path.join(fsRoot, 'proc/self/mountinfo'), 'utf8');
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [type, , superOptions] = right.split(' ');
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    mounts.push({ root: fields[3]!, point: fields[4]!, type, options: (superOptions ?? '').split(',') });
  }
  return mounts;
}

/** This process's cgroup path per hierarchy, from /proc/self/cgroup: "" for v2, else each v1 controller. */
function ownGroups(fsRoot: string): Map<string, string> {
  const groups = new Map<string, string>();
  for (const line of readFileSync(path.join(fsRoot, 'proc/self/cgroup'), 'utf8').split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, , controllers, group] = match;
    if (controllers === '') groups.set('', group!);
    else for (const c of controllers!.split(',')) groups.set(c, group!);
  }
  return groups;
}

/** The directory of `group` under a mount of its hierarchy. */
function dirOf(mount: Mount, group: string): string {
  const relative = path.posix.relative(mount.root, group);
  if (relative.startsWith('..')) throw new Error(`cgroup ${group} is outside the mount of ${mount.root}`);
  return path.join(mount.point, relative);
}

function write(file: string, value: string): void {
  writeFileSync(file, value);
}

function oomKillsIn(file: string): number | undefined {
  try {
    const match = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function removeGroup(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function groupIds(base: string): string[] {
  try {
    return readdirSync(base, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

class V2Cgroups implements ReplicaCgroups {
  readonly version = 2 as const;
  readonly where: string;
  readonly base: string;

  constructor(base: string) {
    this.base = base;
    this.where = base;
  }

  create(id: string, limits: CgroupLimits): void {
    const dir = path.join(this.base, id);
    mkdirSync(dir, { recursive: true });
    write(path.join(dir, 'memory.max'), String(limits.memoryMb * 2 ** 20));
    if (existsSync(path.join(dir, 'memory.swap.max'))) write(path.join(dir, 'memory.swap.max'), '0');
    write(path.join(dir, 'cpu.max'), `${Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))} ${CPU_PERIOD_US}`);
  }

  enter(id: string, pid: number): void {
    write(path.join(this.base, id, 'cgroup.procs'), String(pid));
  }

  oomKills(id: string): number | undefined {
    return oomKillsIn(path.join(this.base, id, 'memory.events'));
  }

  remove(id: string): void {
    removeGroup(path.join(this.base, id));
  }

  removeOthers(keep: ReadonlySet<string>): void {
    for (const id of groupIds(this.base)) if (!keep.has(id)) removeQuietly(() => this.remove(id));
  }

  close(): void {
    removeQuietly(() => removeGroup(this.base));
  }
}

class V1Cgroups implements ReplicaCgroups {
  readonly version = 1 as const;
  readonly where: string;

  readonly memoryBase: string;
  readonly cpuBase: string;

  constructor(memoryBase: string, cpuBase: string) {
    this.memoryBase = memoryBase;
    this.cpuBase = cpuBase;
    this.where = `${memoryBase} ${cpuBase}`;
  }

  create(id: string, limits: CgroupLimits): void {
    const memory = path.join(this.memoryBase, id);
    const cpu = path.join(this.cpuBase, id);
    mkdirSync(memory, { recursive: true });
    mkdirSync(cpu, { recursive: true });
    const bytes = String(limits.memoryMb * 2 ** 20);
    write(path.join(memory, 'memory.limit_in_bytes'), bytes);
    // With swap accounting, memory + swap is held to the same figure: no swap beyond the limit.
    if (existsSync(path.join(memory, 'memory.memsw.limit_in_bytes')))
      write(path.join(memory, 'memory.memsw.limit_in_bytes'), bytes);
    write(path.join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
    write(path.join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US))));
  }

  enter(id: string, pid: number): void {
    write(path.join(this.memoryBase, id, 'cgroup.procs'), String(pid));
    write(path.join(this.cpuBase, id, 'cgroup.procs'), String(pid));
  }

  oomKills(id: string): number | undefined {
    return oomKillsIn(path.join(this.memoryBase, id, 'memory.oom_control'));
  }

  remove(id: string): void {
    removeGroup(path.join(this.memoryBase, id));
    removeGroup(path.join(this.cpuBase, id));
  }

  removeOthers(keep: ReadonlySet<string>): void {
    const ids = new Set([...groupIds(this.memoryBase), ...groupIds(this.cpuBase)]);
    for (const id of ids) if (!keep.has(id)) removeQuietly(() => this.remove(id));
  }

  close(): void {
    removeQuietly(() => removeGroup(this.memoryBase));
    removeQuietly(() => removeGroup(this.cpuBase));
  }
}

/** A group still holding a process (a replica this supervisor does not know) is left alone. */
function removeQuietly(remove: () => void): void {
  try {
    remove();
  } catch {
    // EBUSY: something still runs in it
  }
}

export interface FindOptions {
  /** Where /proc and the cgroup mounts are (a test's directory); "/" by default. */
  fsRoot?: string;
  /**
   * Make and remove a group with limits before saying yes (the default). A made-up tree cannot
   * remove a directory holding files, as the kernel does a group's.
   */
  probe?: boolean;
}

/** The replicas' cgroups of supervisor instance `instance`, or why there are none. */
export function findReplicaCgroups(instance: string, options: FindOptions = {}): CgroupsFound {
  const fsRoot = options.fsRoot ?? '/';
  const probed = options.probe === false ? (found: CgroupsFound) => found : probedGroup;
  let mounts: Mount[];
  let own: Map<string, string>;
  try {
    mounts = cgroupMounts(fsRoot);
    own = ownGroups(fsRoot);
  } catch (err) {
    return { unavailable: `no cgroup information (${(err as Error).message})` };
  }
  const at = (mount: Mount) => path.join(fsRoot, mount.point);
  const reasons: string[] = [];
  const unified = mounts.find((m) => m.type === 'cgroup2');
  const ownV2 = own.get('');
  if (unified && ownV2 !== undefined) {
    const tried = probed(tryV2({ ...unified, point: at(unified) }, ownV2, instance));
    if ('cgroups' in tried) return tried;
    reasons.push(`v2: ${tried.unavailable}`);
  }
  const memory = mounts.find((m) => m.type === 'cgroup' && m.options.includes('memory'));
  const cpu = mounts.find((m) => m.type === 'cgroup' && m.options.includes('cpu'));
  if (memory && cpu && own.has('memory') && own.has('cpu')) {
    try {
      const memoryBase = path.join(dirOf({ ...memory, point: at(memory) }, own.get('memory')!), `${instance}-replicas`);
      const cpuBase = path.join(dirOf({ ...cpu, point: at(cpu) }, own.get('cpu')!), `${instance}-replicas`);
      mkdirSync(memoryBase, { recursive: true });
      mkdirSync(cpuBase, { recursive: true });
      const tried = probed({ cgroups: new V1Cgroups(memoryBase, cpuBase) });
      if ('cgroups' in tried) return tried;
      reasons.push(`v1: ${tried.unavailable}`);
    } catch (err) {
      reasons.push(`v1: ${(err as Error).message}`);
    }
  } else reasons.push('v1: no memory and cpu hierarchies');
  return { unavailable: reasons.join('; ') };
}

/**
 * Found only if a group can be made with limits and removed again: a hierarchy may let a
 * directory be made yet refuse its limits (a read-only bind, a container's view of the host's).
 */
function probedGroup(found: CgroupsFound): CgroupsFound {
  if (!('cgroups' in found)) return found;
  const id = `probe-${process.pid}`;
  try {
    found.cgroups.create(id, { memoryMb: 64, cpus: 0.1 });
    found.cgroups.remove(id);
    return found;
  } catch (err) {
    removeQuietly(() => found.cgroups.remove(id));
    found.cgroups.close();
    return { unavailable: `a group with limits could not be made: ${(err as Error).message}` };
  }
}

/**
 * v2 allows limits on a group only when its parent delegates the controllers, and a group that
 * delegates may hold no process itself: the supervisor moves into a leaf of its own
 * (`<group>/supervisor`) first, as a systemd unit with Delegate=yes expects.
 */
function tryV2(mount: Mount, group: string, instance: string): CgroupsFound {
  try {
    const dir = dirOf(mount, group);
    const available = readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/);
    const missing = ['memory', 'cpu'].filter((c) => !available.includes(c));
    if (missing.length > 0) return { unavailable: `the controllers ${missing.join(', ')} are not on ${dir}` };
    const delegated = readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    if (!delegated.includes('memory') || !delegated.includes('cpu')) {
      const leaf = path.join(dir, 'supervisor');
      mkdirSync(leaf, { recursive: true });
      write(path.join(leaf, 'cgroup.procs'), String(process.pid));
      write(path.join(dir, 'cgroup.subtree_control'), '+memory +cpu');
    }
    const base = path.join(dir, `${instance}-replicas`);
    mkdirSync(base, { recursive: true });
    write(path.join(base, 'cgroup.subtree_control'), '+memory +cpu');
    return { cgroups: new V2Cgroups(base) };
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
}
