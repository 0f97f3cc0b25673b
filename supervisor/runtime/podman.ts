// The podman runtime: replicas as containers of Podman, through the Docker-compatible API of
// `podman system service` (rootful here: scripts/dev-services.sh starts it on its own socket).
// Everything but the socket, the name and the host alias is the docker runtime's.
import { enginePlugin } from './engine-plugin.ts';

export const podmanRuntime = enginePlugin({
  name: 'podman',
  product: 'Podman',
  socket: { default: '/run/podman/podman.sock', env: 'CONTAINER_HOST' },
  networkEnv: 'PODMAN_NETWORK',
  userEnv: 'PODMAN_USER',
  // Podman puts host.containers.internal (the network's gateway) in every container's
  // /etc/hosts itself, and 4.3 refuses Docker's "host-gateway".
  hostAlias: { name: 'host.containers.internal' },
});
