// Listening sockets passed by systemd (socket activation, sd_listen_fds(3)): LISTEN_PID names
// the process they are for, LISTEN_FDS how many start at fd 3, LISTEN_FDNAMES (optional,
// colon-separated, from FileDescriptorName=) what each is. The socket outlives the supervisor,
// so while it restarts connections wait in the kernel's backlog instead of being refused.

/** The first passed descriptor (SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

export interface InheritedSockets {
  /** The public listener's fd. */
  public: number;
  /** The fd of the plain port that redirects to HTTPS (FileDescriptorName=redirect), if passed. */
  redirect: number | null;
  /** What to log: where each came from. */
  description: string;
}

export class ActivationError extends Error {
  readonly code = 'SOCKET_ACTIVATION';
}

const NAMES = ['public', 'redirect'] as const;

/**
 * The sockets the environment passes to process `pid`, or null when none are (no LISTEN_FDS, or
 * LISTEN_PID names another process: variables inherited from a parent are not ours). With
 * several sockets each needs a name, `public` or `redirect`; one unnamed socket is the public one.
 */
export function inheritedSockets(env: NodeJS.ProcessEnv, pid: number): InheritedSockets | null {
  const count = env.LISTEN_FDS;
  if (count === undefined || count === '') return null;
  if (env.LISTEN_PID !== undefined && env.LISTEN_PID !== String(pid)) return null;
  if (!/^[1-9]\d{0,3}$/.test(count))
    throw new ActivationError(`LISTEN_FDS is ${JSON.stringify(count)}; expected a count of sockets (1 or 2)`);
  const n = Number(count);
  const names = env.LISTEN_FDNAMES === undefined || env.LISTEN_FDNAMES === '' ? [] : env.LISTEN_FDNAMES.split(':');
  if (names.length > 0 && names.length !== n) {
    throw new ActivationError(
      `LISTEN_FDNAMES names ${names.length} socket(s) (${env.LISTEN_FDNAMES}) but LISTEN_FDS is ${n}`,
    );
  }
  const byName = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    // systemd's default name (the socket unit's) stands for the public listener when alone.
    const name = n === 1 && names[i] !== 'redirect' ? 'public' : names[i];
    if (name === undefined || !(NAMES as readonly string[]).includes(name)) {
      throw new ActivationError(
        `socket ${i + 1} of ${n} is named ${JSON.stringify(name ?? '')}; with several sockets each needs FileDescriptorName=public or redirect`,
      );
    }
    if (byName.has(name)) throw new ActivationError(`two sockets are named ${name}`);
    byName.set(name, LISTEN_FDS_START + i);
  }
  const publicFd = byName.get('public');
  if (publicFd === undefined) throw new ActivationError('no socket is named public (the listener for the site)');
  const redirect = byName.get('redirect') ?? null;
  return {
    public: publicFd,
    redirect,
    description: `fd ${publicFd}${redirect === null ? '' : ` (redirect: fd ${redirect})`} from LISTEN_FDS=${n}${names.length > 0 ? ` LISTEN_FDNAMES=${names.join(':')}` : ''}`,
  };
}

/** Unsets the variables, as sd_listen_fds(1) does, so no child takes the sockets for its own. */
export function forgetActivationEnv(env: NodeJS.ProcessEnv): void {
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
}
