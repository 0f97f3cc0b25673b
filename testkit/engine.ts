// The container engine the engine and supervisor suites run against: Docker by default,
// Podman's Docker-compatible API with TEST_RUNTIME=podman (CI runs the suites that matter
// both ways: package.json's test:podman). One switch, no copied suites.
import { request } from 'node:http';
import { DockerEngine } from '../engine-client/index.ts';

export interface TestEngine {
  /** The supervisor's runtime of that name. */
  name: 'docker' | 'podman';
  /** For skip messages: what is missing. */
  title: string;
  socketPath: string;
  /** A new client of it (close it when done). */
  client(): DockerEngine;
  /** undefined when the engine answers /_ping; otherwise why not. */
  missing(): Promise<string | undefined>;
}

const socketOf = (value: string | undefined, fallback: string) =>
  value?.startsWith('unix://') ? value.slice('unix://'.length) : fallback;

function testEngine(name: string | undefined): TestEngine {
  if (name !== undefined && name !== 'docker' && name !== 'podman') {
    throw new Error(`TEST_RUNTIME=${name}: expected docker or podman`);
  }
  const podman = name === 'podman';
  const socketPath = podman
    ? socketOf(process.env.CONTAINER_HOST, '/run/podman/podman.sock')
    : socketOf(process.env.DOCKER_HOST, '/var/run/docker.sock');
  return {
    name: podman ? 'podman' : 'docker',
    title: podman ? 'Podman (its Docker-compatible API)' : 'Docker Engine',
    socketPath,
    client: () => new DockerEngine({ socketPath }),
    missing: () => pingSocket(socketPath),
  };
}

/** undefined when an engine answers GET /_ping on the socket; otherwise why not. */
/** Docker's socket: DOCKER_HOST when it names a unix socket, else the default. */
export function dockerSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

export function pingSocket(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `GET /_ping answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve(`no engine at ${socketPath} (${err.message})`));
    req.end();
  });
}

export const TEST_ENGINE: TestEngine = testEngine(process.env.TEST_RUNTIME);
