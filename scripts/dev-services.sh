#!/usr/bin/env bash
# Installs and starts what the tests need on a Debian machine: Docker Engine, Podman (its
# Docker-compatible API, the supervisor's third runtime), MariaDB, Chromium, and the tools the deployment tests and benchmarks drive (shellcheck, debootstrap, Compose, nginx,
# kubectl, sqlite3, wrk).
# Used by .ci/run and by developers alike, so a fresh machine needs nothing done by hand.
# Idempotent: packages already present are not reinstalled, running daemons are left alone.
#   scripts/dev-services.sh            install what is missing, then start dockerd and MariaDB
#   scripts/dev-services.sh --no-install   only start the daemons
set -euo pipefail

install=1
[[ "${1:-}" == "--no-install" ]] && install=0

log() { printf '[dev-services] %s\n' "$*"; }

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    log "must run as root (apt-get, dockerd, mysqld)"; exit 1
  fi
}

install_packages() {
  local missing=()
  command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  # The podman runtime: rootful Podman answering the Docker API on its own socket. catatonit is
  # the init it runs as PID 1 (HostConfig.Init); netavark and aardvark-dns give user-defined
  # networks the container-name DNS that replicas use to reach each other.
  command -v podman >/dev/null 2>&1 || missing+=(podman catatonit netavark aardvark-dns)
  command -v mysqld >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  # The deployment tests: lint the shell scripts, run aws-setup.sh in a debootstrap root,
  # check the Compose file and serve deploy/nginx.conf with a real nginx.
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  # kubectl renders deploy/kubernetes with its built-in kustomize (test/deploy/kubernetes.test.ts).
  command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
  # The backup commands of docs/operations.md (test/deploy/backups.test.ts).
  command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
  # The HTTPS tests make their certificates with openssl and talk HTTP/2 with curl --http2.
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # The benchmarks' load generator (bench/wrk.ts) and its test.
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  if ((${#missing[@]})); then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts nginx on port 80 when it installs it; the tests run their own.
    if [[ " ${missing[*]} " == *" nginx "* ]]; then
      service nginx stop >/dev/null 2>&1 || true
    fi
  else
    log "packages already installed"
  fi
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then log "$what did not come up in ${seconds}s"; return 1; fi
    sleep 0.5
  done
  log "$what is up"
}

# write_if_changed FILE CONTENT: writes it (mode 644) only when it differs; true when written.
write_if_changed() {
  if [[ -r $1 && $(<"$1") == "$2" ]]; then return 1; fi
  printf '%s\n' "$2" >"$1"
  chmod 644 "$1"
}

docker_ping() { curl -sf --unix-socket /var/run/docker.sock http://localhost/_ping; }

# detach LOG COMMAND...: a daemon in the background with nothing of ours but stdin/out/err. A
# caller that holds a lock on an inherited descriptor (`flock "$TMPDIR/held.lock" bash scripts/...`)
# would otherwise pass it to dockerd, which keeps it for life: the lock is never released.
# Nor the caller's directory: started from a CI clone that is removed afterwards, Podman's
# service kept a deleted working directory, and every container it started after that failed
# ("conmon: Failed to get working directory").
detach() {
  local log=$1; shift
  (
    cd /
    for fd in "/proc/$BASHPID/fd"/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec nohup "$@" </dev/null >"$log" 2>&1
  ) &
}

start_dockerd() {
  if docker_ping >/dev/null 2>&1; then log "dockerd already answers"; return; fi
  log "starting dockerd (log: /tmp/dockerd.log)"
  detach /tmp/dockerd.log dockerd
  wait_for 60 dockerd docker_ping || { tail -20 /tmp/dockerd.log; return 1; }
}

readonly PODMAN_SOCKET=/run/podman/podman.sock
readonly PODMAN_CONF=/etc/containers/containers.conf
podman_restart=0

podman_ping() { curl -sf --unix-socket "$PODMAN_SOCKET" http://localhost/_ping; }

# What this host needs of Podman 4.3 (checked here): without default_ulimits = [] every run
# fails with "error setting rlimit type 6/7: operation not permitted"; crun refuses the hybrid
# cgroups (v1 controllers, no systemd), runc runs; no systemd, so cgroupfs and a file for events.
configure_podman() {
  local wanted
  wanted='# Written by scripts/dev-services.sh: Podman as the supervisor'"'"'s podman runtime on this host.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"'
  mkdir -p "${PODMAN_CONF%/*}"
  if write_if_changed "$PODMAN_CONF" "$wanted"; then
    log "Podman set to runc, no default ulimits, cgroupfs ($PODMAN_CONF)"
    podman_restart=1
  else
    log "Podman settings unchanged ($PODMAN_CONF)"
  fi
}

# `podman system service` is Podman's Docker-compatible API, like dockerd but on its own socket
# (so both engines run side by side); --time=0: it never exits for lack of clients.
start_podman() {
  if ! command -v podman >/dev/null 2>&1; then log "no podman: its API is not started"; return; fi
  local pid
  configure_podman
  if podman_ping >/dev/null 2>&1; then
    if ((podman_restart == 0)); then log "podman API already answers at $PODMAN_SOCKET"; return; fi
    # By the pid we recorded: a podman API started by someone else is theirs to restart.
    pid=$(cat /run/podman/service.pid 2>/dev/null || true)
    if [[ -n $pid ]] && kill "$pid" 2>/dev/null; then
      log "restarting the podman API for the new settings"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    else
      log "podman API answers but was not started here: restart it yourself to apply $PODMAN_CONF"
      return
    fi
  fi
  log "starting the podman API at $PODMAN_SOCKET (log: /tmp/podman.log)"
  mkdir -p "${PODMAN_SOCKET%/*}"
  detach /tmp/podman.log podman system service --time=0 "unix://$PODMAN_SOCKET"
  echo $! >/run/podman/service.pid
  wait_for 60 "podman API" podman_ping || { tail -20 /tmp/podman.log; return 1; }
}

mariadb_ping() { mysqladmin --protocol=socket ping; }

readonly MARIADB_CNF=/etc/mysql/mariadb.conf.d/60-selflessacts.cnf
mariadb_restart=0

# Replicas in containers reach the host's MariaDB as host.docker.internal, which Docker maps to
# docker0's address: MariaDB listens there as well as on loopback (a list needs MariaDB 10.11).
# Without docker0 (no Docker), loopback only. Rewritten only when it differs.
configure_mariadb() {
  local bridge binds wanted
  bridge=$(ip -4 -o addr show docker0 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
  binds=127.0.0.1${bridge:+,$bridge}
  wanted="# Written by scripts/dev-services.sh: loopback for processes, docker0 for containers.
[mysqld]
bind-address = $binds"
  [[ -d ${MARIADB_CNF%/*} ]] || { log "no ${MARIADB_CNF%/*}: MariaDB listens on its defaults"; return; }
  if write_if_changed "$MARIADB_CNF" "$wanted"; then
    log "MariaDB set to listen on $binds ($MARIADB_CNF)"
    mariadb_restart=1
  else
    log "MariaDB listens on $binds (unchanged)"
  fi
}

stop_mariadb() {
  log "restarting MariaDB for the new bind-address"
  local pid deadline=$((SECONDS + 60))
  pid=$(cat /run/mysqld/mysqld.pid 2>/dev/null || true)
  mysqladmin --protocol=socket -uroot shutdown
  # By its pid: other mariadbd processes (the deployment tests' own) may be running.
  while mariadb_ping >/dev/null 2>&1 || { [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; }; do
    if ((SECONDS >= deadline)); then log "MariaDB did not stop in 60s"; return 1; fi
    sleep 0.5
  done
}

start_mariadb() {
  configure_mariadb
  if ((mariadb_restart)) && mariadb_ping >/dev/null 2>&1; then
    if systemctl is-active --quiet mariadb 2>/dev/null; then
      log "restarting mariadb.service for the new bind-address"
      systemctl restart mariadb
    else
      stop_mariadb
    fi
  fi
  if ! mariadb_ping >/dev/null 2>&1; then
    log "starting MariaDB (log: /tmp/mariadb.log)"
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld
    detach /tmp/mariadb.log mysqld_safe
    wait_for 60 MariaDB mariadb_ping || { tail -20 /tmp/mariadb.log; return 1; }
  else
    log "MariaDB already answers"
  fi
  # A TCP user for the tests (root only logs in over the unix socket), also from containers:
  # Docker's default address pools are 172.17-31.0.0/16, then 192.168.0.0/16 in /20s (taken
  # once the first are used, which many test networks created and removed in a row do).
  mysql --protocol=socket -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'selfless'@'127.0.0.1' IDENTIFIED BY 'selfless';
CREATE USER IF NOT EXISTS 'selfless'@'localhost' IDENTIFIED BY 'selfless';
CREATE USER IF NOT EXISTS 'selfless'@'172.16.0.0/255.240.0.0' IDENTIFIED BY 'selfless';
CREATE USER IF NOT EXISTS 'selfless'@'192.168.0.0/255.255.0.0' IDENTIFIED BY 'selfless';
GRANT ALL PRIVILEGES ON `selfless\_%`.* TO 'selfless'@'127.0.0.1';
GRANT ALL PRIVILEGES ON `selfless\_%`.* TO 'selfless'@'localhost';
GRANT ALL PRIVILEGES ON `selfless\_%`.* TO 'selfless'@'172.16.0.0/255.240.0.0';
GRANT ALL PRIVILEGES ON `selfless\_%`.* TO 'selfless'@'192.168.0.0/255.255.0.0';
FLUSH PRIVILEGES;
SQL
  log "MariaDB user selfless@127.0.0.1, @172.16.0.0/12 and @192.168.0.0/16 ready (databases selfless_*)"
}

need_root
((install)) && install_packages
# The tests listen on fixed ports from 20990 to 33149, inside Linux's default range for outgoing
# connections' local ports (32768-60999): under load a client socket took 33100 and a suite's
# supervisor could not listen (EADDRINUSE). Outgoing ports start above every fixed one.
keep_ephemeral_ports_above_tests() {
  local range
  range=$(tr -s '\t ' ' ' </proc/sys/net/ipv4/ip_local_port_range)
  if [[ ${range%% *} -ge 40000 ]]; then log "outgoing ports already from ${range%% *}"; return; fi
  if sysctl -qw net.ipv4.ip_local_port_range="40000 65000" 2>/dev/null; then
    log "outgoing ports now 40000-65000 (were ${range/ /-}), above the tests' fixed ports"
  else
    log "cannot set net.ipv4.ip_local_port_range: a fixed test port may collide with an outgoing one"
  fi
}

keep_ephemeral_ports_above_tests
start_dockerd
start_podman
start_mariadb
