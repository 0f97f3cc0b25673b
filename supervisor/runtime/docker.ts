// The docker runtime: replicas as containers of the Docker Engine on its socket.
import { enginePlugin } from './engine-plugin.ts';

export const dockerRuntime = enginePlugin({
  name: 'docker',
  product: 'Docker',
  socket: { default: '/var/run/docker.sock', env: 'DOCKER_HOST' },
  networkEnv: 'DOCKER_NETWORK',
  userEnv: 'DOCKER_USER',
  // Docker maps the name to the bridge's gateway when asked (host-gateway).
  hostAlias: { name: 'host.docker.internal', extraHost: 'host-gateway' },
});
