#!/usr/bin/env bash
# A fresh Debian 12 or Ubuntu 22.04/24.04 VM to SelfLessActs running as a systemd service.
# Run as root from a checkout of the repository. Every step looks before it changes anything,
# so a second run changes nothing and succeeds. docs/operations.md explains what it sets up.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo scripts/aws-setup.sh [options]

Installs SelfLessActs on this machine (Debian 12, Ubuntu 22.04 or 24.04) and starts it:
  - packages: Node.js >= 24.11 LTS (the distribution's if new enough, else NodeSource's apt
    repository), Docker Engine (docker.io), MariaDB (unless DATABASE_URL names another server)
  - a system user 'selflessacts', in no docker group: Docker is reached through the engine guard
    (selflessacts-engine-guard.service, root), which creates only replica containers
  - a database and a database user with a generated password, kept with a generated session
    secret in /etc/selflessacts/selflessacts.env (mode 640, root:selflessacts; never printed)
  - the app in /opt/selflessacts (a copy of this checkout) with its production dependencies
  - the app images (acts:latest, users:latest), built offline from the local Node.js
  - the systemd units selflessacts.socket (the public port, held across restarts so
    connections wait instead of being refused) and selflessacts.service, enabled and started;
    then it waits until the service answers on http://127.0.0.1:PORT/api/v1/_health
  - with --domain: a Let's Encrypt certificate from Debian's certbot (webroot served by the
    balancer on port 80), HTTPS on port 443, port 80 redirecting to it, and renewals (certbot's
    timer) copied for the service and applied with 'systemctl reload' (no connection dropped)
Running it again changes nothing; after 'git pull' it upgrades the app and restarts it.
Without --domain the site is plain HTTP: fine to try it out, not for real users (passwords
and session cookies would cross the network readable by anyone on the path).

Options:
  -n, --dry-run        print every action and change nothing
      --port N         public port of the balancer (default: kept from the env file, else 80;
                       ignored with --domain: 443, and 80 redirects)
      --domain NAME    serve HTTPS for NAME (its DNS must point at this machine, ports 80 and
                       443 open) with a certificate from Let's Encrypt; kept for later runs
      --email ADDR     the address Let's Encrypt writes to about the certificate (needed with
                       --domain until the first certificate is obtained)
      --database-url URL
                       use this MySQL/MariaDB server (mysql://user:pass@host:3306/db) instead
                       of a local MariaDB; the DATABASE_URL environment variable works too
                       and keeps the password out of the process list
      --db-name NAME   local database name (default: selflessacts)
      --db-user NAME   local database user (default: selflessacts)
      --no-start       install and enable, but start nothing: for a chroot, a container or an
                       image build (the database is created only if MariaDB already answers)
      --wait SECONDS   how long to wait for the service to answer (default: 300)
      --node-repo URL  apt repository for Node.js when the distribution's is too old
                       (default: https://deb.nodesource.com/node_24.x)
      --allow-unsupported-os
                       go on with a distribution other than those above
  -h, --help           show this help

Files: /opt/selflessacts (app), /etc/selflessacts/{selflessacts.env,orchestrator.json}
(settings, kept across runs), /var/lib/selflessacts (data), journalctl -u selflessacts (logs).
EOF
}

# ---------------------------------------------------------------------------------------------
# Settings

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SOURCE_DIR
readonly APP_DIR=/opt/selflessacts
readonly CONF_DIR=/etc/selflessacts
readonly ENV_FILE=$CONF_DIR/selflessacts.env
readonly CONFIG_FILE=$CONF_DIR/orchestrator.json
readonly STATE_DIR=/var/lib/selflessacts
readonly UNIT_NAME=selflessacts.service
readonly GUARD_NAME=selflessacts-engine-guard.service
# The public port, held by systemd across supervisor restarts (socket activation).
readonly SOCKET_NAME=selflessacts.socket
readonly SOCKET_DROPIN=/etc/systemd/system/$SOCKET_NAME.d/listen.conf
readonly SERVICE_USER=selflessacts
readonly MARIADB_CNF=/etc/mysql/mariadb.conf.d/60-selflessacts.cnf
readonly NODE_MIN=24.11.0
# systemd's default PATH: the node the unit will run is the one found here.
readonly SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Docker's default address pools (172.17.0.0/16 onwards): where the replicas connect from.
# Docker's private ranges: 172.16/12 first, then 192.168/16 once those are used up.
readonly DOCKER_HOSTS=(172.16.0.0/255.240.0.0 192.168.0.0/255.255.0.0)
# HTTPS (--domain): certbot's webroot (served by the balancer), the service's copy of the
# certificate (certbot's own live/ is root-only), and the hook that refreshes it on renewal.
readonly ACME_WEBROOT=$STATE_DIR/acme
readonly TLS_DIR=$CONF_DIR/tls
readonly DEPLOY_HOOK=/etc/letsencrypt/renewal-hooks/deploy/selflessacts

DRY_RUN=0
START=1
PORT=""
DATABASE_URL_GIVEN=${DATABASE_URL:-}
DB_NAME=selflessacts
DB_USER=selflessacts
WAIT_SECONDS=300
NODE_REPO=https://deb.nodesource.com/node_24.x
ALLOW_UNSUPPORTED_OS=0
DOMAIN=""
EMAIL=""
# Set by write_env_file: whether the env file turns TLS on (the service's certificate copy exists).
TLS_ON=0

CHANGES=0
RESTART_NEEDED=0
# The socket unit or its port changed: the socket itself must be restarted (a port taken at last start stays).
SOCKET_CHANGED=0
APT_UPDATED=0
TMP_DIR=""
LISTEN=80
# Decided by decide_secrets before anything uses them; never printed.
DB_PASSWORD=""
DATABASE_URL_WANTED=""
SESSION_SECRET_WANTED=""

# ---------------------------------------------------------------------------------------------
# Output and actions: every change goes through `change` (counted) and `run` (printed, and
# skipped in a dry run), so the dry run shows exactly what a real run would do.

step() { printf '\n==> %s\n' "$*"; }
ok() { printf '  ok      %s\n' "$*"; }
note() { printf '  note    %s\n' "$*"; }
warn() { printf '  WARNING %s\n' "$*" >&2; }
die() {
  printf 'aws-setup: error: %s\n' "$*" >&2
  exit 1
}
change() {
  CHANGES=$((CHANGES + 1))
  if ((DRY_RUN)); then printf '  would   %s\n' "$*"; else printf '  change  %s\n' "$*"; fi
}
shown() { # a command line as a person would type it: quotes only where needed
  local arg out=()
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+=("$arg"); else out+=("$(printf '%q' "$arg")"); fi
  done
  printf '%s' "${out[*]}"
}
run() {
  printf '    $ %s\n' "$(shown "$@")"
  ((DRY_RUN)) || "$@"
}
# For pipelines and redirections: the command line is shown as written.
run_sh() {
  printf '    $ %s\n' "$1"
  ((DRY_RUN)) || bash -c "$1"
}

cleanup() { [[ -z $TMP_DIR ]] || rm -rf "$TMP_DIR"; }
trap cleanup EXIT

# TMP_DIR is made once in main: tmp_file runs in command substitutions (subshells).
tmp_file() { mktemp "$TMP_DIR/XXXXXX"; }

random_alnum() { # random_alnum LENGTH: letters and digits only, safe in URLs, SQL and env files
  local chars=""
  while ((${#chars} < $1)); do
    chars+=$(head -c 64 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
  done
  printf '%s' "${chars:0:$1}"
}

version_at_least() { # version_at_least HAVE WANT
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

pkg_installed() { [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]; }

systemd_running() { [[ -d /run/systemd/system ]]; }

# install_file SOURCE DEST MODE OWNER GROUP [secret]: writes DEST only if content, mode or
# owner differ. Returns 0 when something changed. A secret file's content is never shown.
install_file() {
  local src=$1 dest=$2 mode=$3 owner=$4 group=$5 secret=${6:-}
  local what="write $dest (mode $mode, $owner:$group)"
  [[ -n $secret ]] && what+="; contents not shown"
  if [[ -f $dest ]] && cmp -s "$src" "$dest" &&
    [[ "$(stat -c '%a %U %G' "$dest")" == "${mode#0} $owner $group" ]]; then
    ok "$dest"
    return 1
  fi
  change "$what"
  run install -m "$mode" -o "$owner" -g "$group" "$src" "$dest"
  return 0
}

ensure_dir() { # ensure_dir DIR MODE OWNER GROUP
  local dir=$1 mode=$2 owner=$3 group=$4
  if [[ -d $dir && "$(stat -c '%a %U %G' "$dir")" == "${mode#0} $owner $group" ]]; then
    ok "$dir/"
    return
  fi
  change "directory $dir (mode $mode, $owner:$group)"
  run install -d -m "$mode" -o "$owner" -g "$group" "$dir"
}

# The service runs without root: whatever is in its state directory is its own (an earlier
# version ran the replicas' files as uid 10001, given away by a root supervisor), but for the
# ACME webroot, which certbot (root) writes and the balancer only reads.
own_state_dir() {
  [[ -d $STATE_DIR ]] || return 0
  local stray
  stray=$(find "$STATE_DIR" -path "$ACME_WEBROOT" -prune -o \( ! -user "$SERVICE_USER" -o ! -group "$SERVICE_USER" \) -print -quit 2>/dev/null || true)
  if [[ -z $stray ]]; then
    ok "$STATE_DIR is $SERVICE_USER's"
    return
  fi
  change "give $STATE_DIR's files to $SERVICE_USER (found $stray)"
  run find "$STATE_DIR" -path "$ACME_WEBROOT" -prune -o -exec chown -h "$SERVICE_USER:$SERVICE_USER" {} +
}

apt_update_once() {
  ((APT_UPDATED)) && return 0
  APT_UPDATED=1
  run apt-get update -q
}

apt_install() {
  apt_update_once
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

service_ids() { # uid:gid of the service user (what a dry run on a fresh machine would make: a placeholder)
  if id -u "$SERVICE_USER" >/dev/null 2>&1; then printf '%s:%s' "$(id -u "$SERVICE_USER")" "$(id -g "$SERVICE_USER")"; else printf 'UID:GID'; fi
}

env_value() { # env_value FILE KEY: the value of KEY=... in FILE, empty if absent
  [[ -r $1 ]] || return 0
  sed -n "s/^$2=//p" "$1" | tail -n1
}

# ---------------------------------------------------------------------------------------------
# Steps

parse_args() {
  while (($#)); do
    case $1 in
      -h | --help) usage; exit 0 ;;
      -n | --dry-run) DRY_RUN=1 ;;
      --no-start) START=0 ;;
      --allow-unsupported-os) ALLOW_UNSUPPORTED_OS=1 ;;
      --port | --database-url | --db-name | --db-user | --wait | --node-repo | --domain | --email)
        (($# >= 2)) || die "$1 needs a value (see --help)"
        case $1 in
          --port) PORT=$2 ;;
          --database-url) DATABASE_URL_GIVEN=$2 ;;
          --db-name) DB_NAME=$2 ;;
          --db-user) DB_USER=$2 ;;
          --wait) WAIT_SECONDS=$2 ;;
          --node-repo) NODE_REPO=$2 ;;
          --domain) DOMAIN=$2 ;;
          --email) EMAIL=$2 ;;
        esac
        shift
        ;;
      *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
  done
  if [[ -n $PORT ]] && ! [[ $PORT =~ ^[0-9]+$ && $PORT -ge 1 && $PORT -le 65535 ]]; then
    die "--port '$PORT': expected a port number from 1 to 65535"
  fi
  [[ $WAIT_SECONDS =~ ^[0-9]+$ ]] || die "--wait '$WAIT_SECONDS': expected a number of seconds"
  local name
  for name in "$DB_NAME" "$DB_USER"; do
    [[ $name =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "database name or user '$name': expected 1 to 32 letters, digits or _"
  done
  if [[ -n $DOMAIN ]] && ! [[ ${#DOMAIN} -le 253 && $DOMAIN =~ ^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$ ]]; then
    die "--domain '$DOMAIN': expected a lower-case DNS name such as acts.example.org"
  fi
  if [[ -n $EMAIL && ! $EMAIL =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]]; then
    die "--email '$EMAIL': expected an address such as admin@example.org"
  fi
  [[ -z $EMAIL || -n $DOMAIN ]] || die "--email goes with --domain (see --help)"
  if [[ -n $DATABASE_URL_GIVEN && ! $DATABASE_URL_GIVEN =~ ^mysql://[^@/]+@[^/]+/[^/?]+ ]]; then
    die "DATABASE_URL: expected mysql://user:password@host:port/database (value not shown)"
  fi
}

os_field() { sed -n "s/^$1=//p" /etc/os-release | tr -d "\"'"; }

preflight() {
  step "Checking this machine"
  if [[ $EUID -ne 0 ]]; then
    ((DRY_RUN)) || die "run as root (sudo $0)"
    warn "not root: files only root can read are reported as missing"
  fi
  [[ -r /etc/os-release ]] || die "/etc/os-release is missing: cannot tell which distribution this is"
  local id version
  id=$(os_field ID)
  version=$(os_field VERSION_ID)
  case "$id $version" in
    "debian 12" | "ubuntu 22.04" | "ubuntu 24.04") ok "distribution: $id $version" ;;
    *)
      ((ALLOW_UNSUPPORTED_OS)) || die "unsupported distribution '$id $version': expected Debian 12, Ubuntu 22.04 or 24.04 (--allow-unsupported-os to try anyway)"
      warn "distribution '$id $version' is not one this script was made for; going on as asked"
      ;;
  esac
  command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian-based system"
  local f
  for f in package.json package-lock.json config/orchestrator.json deploy/$UNIT_NAME supervisor/main.ts; do
    [[ -f $SOURCE_DIR/$f ]] || die "$SOURCE_DIR/$f is missing: run the script from a SelfLessActs checkout"
  done
  ok "source: $SOURCE_DIR"
  if ((START)) && ! systemd_running; then
    ((DRY_RUN)) || die "systemd is not running here (a container or chroot?): use --no-start to install without starting"
    warn "systemd is not running here: a real run needs --no-start"
  fi
  ((START)) || note "--no-start: nothing will be started or restarted"
}

install_packages() {
  step "Packages"
  local wanted=(ca-certificates curl gnupg) missing=() pkg
  # Any Docker Engine will do (docker-ce conflicts with docker.io); so will any MariaDB/MySQL.
  if pkg_installed docker.io || pkg_installed docker-ce || command -v dockerd >/dev/null; then
    ok "Docker Engine is installed"
  else
    wanted+=(docker.io)
  fi
  if [[ -n $DATABASE_URL_GIVEN ]]; then
    ok "no local MariaDB: the database is external"
  elif pkg_installed mariadb-server || pkg_installed mysql-server || command -v mariadbd >/dev/null; then
    ok "MariaDB is installed"
  else
    wanted+=(mariadb-server)
  fi
  [[ -z $DOMAIN ]] || wanted+=(certbot)
  for pkg in "${wanted[@]}"; do
    if pkg_installed "$pkg"; then ok "$pkg"; else missing+=("$pkg"); fi
  done
  if ((${#missing[@]})); then
    change "install ${missing[*]}"
    apt_install "${missing[@]}"
  fi
}

node_version() { # the version of the node systemd will find, empty if none
  PATH=$SYSTEM_PATH command -v node >/dev/null 2>&1 || return 0
  PATH=$SYSTEM_PATH node -p 'process.versions.node' 2>/dev/null || true
}

install_node() {
  step "Node.js (>= $NODE_MIN)"
  local have candidate
  have=$(node_version)
  if [[ -n $have ]] && version_at_least "$have" "$NODE_MIN"; then
    ok "node $have ($(PATH=$SYSTEM_PATH command -v node))"
    if PATH=$SYSTEM_PATH command -v npm >/dev/null; then ok "npm"; else change "install npm"; apt_install npm; fi
    return
  fi
  [[ -n $have ]] && note "node $have is too old"
  # The lists decide: refresh them first (a fresh cloud image often has none).
  if ((!DRY_RUN)); then apt_update_once >/dev/null; fi
  candidate=$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *//p' | sed 's/^[0-9]*://; s/[-+~].*//')
  if [[ -n $candidate && $candidate != "(none)" ]] && version_at_least "$candidate" "$NODE_MIN"; then
    change "install nodejs $candidate from the distribution"
    apt_install nodejs npm
    return
  fi
  # Debian 12 ships 18, Ubuntu 22.04 12, Ubuntu 24.04 18: NodeSource's repository it is.
  note "the distribution offers nodejs ${candidate:-(none)}; adding $NODE_REPO"
  local keyring=/etc/apt/keyrings/nodesource.gpg key_url
  key_url="$(dirname "$NODE_REPO")/gpgkey/nodesource-repo.gpg.key"
  change "add the Node.js apt repository $NODE_REPO and install nodejs"
  run install -d -m 0755 /etc/apt/keyrings
  run_sh "curl -fsSL $(printf '%q' "$key_url") | gpg --dearmor --yes -o $keyring"
  run_sh "echo 'deb [signed-by=$keyring] $NODE_REPO nodistro main' > /etc/apt/sources.list.d/nodesource.list"
  # Prefer the repository's nodejs over the distribution's older one.
  run_sh "printf 'Package: nodejs\\nPin: origin $(sed -E 's#^[a-z]+://([^/]+).*#\1#' <<<"$NODE_REPO")\\nPin-Priority: 600\\n' > /etc/apt/preferences.d/nodesource"
  APT_UPDATED=0
  apt_install nodejs
  if ((!DRY_RUN)); then
    have=$(node_version)
    version_at_least "${have:-0}" "$NODE_MIN" || die "node ${have:-(none)} after installing from $NODE_REPO: expected >= $NODE_MIN"
  fi
}

ensure_services_running() {
  step "Docker and MariaDB services"
  if ((!START)); then
    note "--no-start: Docker and MariaDB start at the next boot"
    return
  fi
  local unit units=(docker.service)
  [[ -n $DATABASE_URL_GIVEN ]] || units+=(mariadb.service)
  for unit in "${units[@]}"; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null && systemctl is-active --quiet "$unit" 2>/dev/null; then
      ok "$unit is enabled and running"
    else
      change "enable and start $unit"
      run systemctl enable --now "$unit"
    fi
  done
}

ensure_user() {
  step "System user $SERVICE_USER"
  if getent group "$SERVICE_USER" >/dev/null; then
    ok "group $SERVICE_USER"
  else
    change "create system group $SERVICE_USER"
    run groupadd --system "$SERVICE_USER"
  fi
  if id -u "$SERVICE_USER" >/dev/null 2>&1; then
    ok "user $SERVICE_USER"
  else
    change "create system user $SERVICE_USER (no login, home $STATE_DIR)"
    run useradd --system --gid "$SERVICE_USER" --home-dir "$STATE_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "SelfLessActs" "$SERVICE_USER"
  fi
  # The docker group is root in all but name: the service that parses the public's requests stays
  # out of it, and reaches Docker through the engine guard. (An earlier version put it in.)
  # No `grep -q` in a pipeline: it may exit before its writer, and pipefail would count that.
  if [[ " $(id -nG "$SERVICE_USER" 2>/dev/null || true) " == *" docker "* ]]; then
    change "take $SERVICE_USER out of the docker group (the engine guard holds the Docker socket)"
    run gpasswd -d "$SERVICE_USER" docker
  else
    ok "$SERVICE_USER is in no docker group"
  fi
  ensure_dir "$STATE_DIR" 0700 "$SERVICE_USER" "$SERVICE_USER"
  own_state_dir
  ensure_dir "$CONF_DIR" 0750 root "$SERVICE_USER"
}

# Secrets are kept from the env file when it has them (so a second run changes nothing) and
# generated otherwise.
decide_secrets() {
  local existing_url local_re
  existing_url=$(env_value "$ENV_FILE" DATABASE_URL)
  SESSION_SECRET_WANTED=$(env_value "$ENV_FILE" SESSION_SECRET)
  [[ -n $SESSION_SECRET_WANTED ]] || SESSION_SECRET_WANTED=$(random_alnum 48)
  # host.docker.internal: what earlier versions wrote; the next run moves it to 127.0.0.1.
  local_re="^mysql://$DB_USER:([A-Za-z0-9]+)@(127\.0\.0\.1|host\.docker\.internal):3306/$DB_NAME\$"
  if [[ -n $DATABASE_URL_GIVEN ]]; then
    DATABASE_URL_WANTED=$DATABASE_URL_GIVEN
  elif [[ -n $existing_url && ! $existing_url =~ $local_re ]]; then
    # Installed earlier with an external database: the env file is the record of that choice.
    DATABASE_URL_GIVEN=$existing_url
    DATABASE_URL_WANTED=$existing_url
  else
    if [[ $existing_url =~ $local_re ]]; then DB_PASSWORD=${BASH_REMATCH[1]}; else DB_PASSWORD=$(random_alnum 32); fi
    # 127.0.0.1 serves both runtimes: processes use it as it is, and the supervisor hands it to
    # containers as host.docker.internal (runtimes.docker.hostLoopbackEnv), reaching MariaDB on the bridge.
    DATABASE_URL_WANTED="mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:3306/$DB_NAME"
  fi
}

mariadb_answers() { mariadb-admin --protocol=socket ping >/dev/null 2>&1; }

database_ready() { # database_ready HOST_COUNT: the database, every user row, and the password work
  mariadb_answers || return 1
  local has_db have_users docker_hosts
  docker_hosts=$(printf ",'%s'" "${DOCKER_HOSTS[@]}")
  has_db=$(mariadb --protocol=socket -uroot -N -B -e \
    "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='$DB_NAME'" 2>/dev/null || true)
  have_users=$(mariadb --protocol=socket -uroot -N -B -e \
    "SELECT COUNT(*) FROM mysql.user WHERE User='$DB_USER' AND Host IN ('localhost','127.0.0.1'$docker_hosts)" 2>/dev/null || true)
  [[ $has_db == 1 && $have_users == "$1" ]] &&
    MYSQL_PWD=$DB_PASSWORD mariadb --protocol=socket -u"$DB_USER" -D "$DB_NAME" -N -B -e 'SELECT 1' >/dev/null 2>&1
}

ensure_database() {
  step "Database"
  if [[ -n $DATABASE_URL_GIVEN ]]; then
    local host
    host=$(sed -E 's#^mysql://[^@]*@([^:/]+).*#\1#' <<<"$DATABASE_URL_GIVEN")
    ok "external database at $host (nothing to create here)"
    [[ $host != 127.0.0.1 && $host != localhost ]] ||
      note "DATABASE_URL names $host: containers get it as host.docker.internal, so that server must listen on the Docker bridge too"
    return
  fi
  # All addresses rather than "127.0.0.1,<docker0>" as scripts/dev-services.sh does: MariaDB
  # before 10.11 (Ubuntu 22.04 has 10.6) takes a single bind address.
  local cnf
  cnf=$(tmp_file)
  cat >"$cnf" <<'EOF'
# Written by SelfLessActs' scripts/aws-setup.sh. The app's containers reach MariaDB through the
# Docker bridge (host.docker.internal), so it listens beyond loopback. Logins stay closed from
# elsewhere: root uses the unix socket, the app's user may connect only from localhost and from
# Docker's private ranges. Keep port 3306 closed in the VM's firewall or security group.
[mysqld]
bind-address = 0.0.0.0
EOF
  if [[ -d ${MARIADB_CNF%/*} ]] || ((DRY_RUN)); then
    if install_file "$cnf" "$MARIADB_CNF" 0644 root root && ((START)); then
      change "restart MariaDB to listen for the containers"
      run systemctl restart mariadb.service
    fi
  else
    warn "${MARIADB_CNF%/*} not found: make MariaDB listen on the Docker bridge yourself"
  fi

  if ! mariadb_answers && ((!DRY_RUN)); then
    if ((!START)); then
      note "MariaDB is not running (--no-start): run this script again once it is to create the database"
      return
    fi
    local deadline=$((SECONDS + 60))
    until mariadb_answers; do
      ((SECONDS < deadline)) || die "MariaDB does not answer on its socket (journalctl -u mariadb)"
      sleep 1
    done
  fi
  local hosts=("localhost" "127.0.0.1" "${DOCKER_HOSTS[@]}")
  if database_ready "${#hosts[@]}"; then
    ok "database $DB_NAME, user $DB_USER (the password in $ENV_FILE works)"
    return
  fi
  change "create database $DB_NAME and user $DB_USER@{${hosts[*]}} with the generated password"
  local sql=() host
  sql+=("CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;")
  for host in "${hosts[@]}"; do
    sql+=("CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASSWORD';")
    sql+=("ALTER USER '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASSWORD';")
    sql+=("GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'$host';")
  done
  # The statements go through stdin: the password never appears in the process list, and is
  # masked here.
  printf '    $ mariadb --protocol=socket -uroot <<SQL\n'
  printf '      %s\n' "${sql[@]//$DB_PASSWORD/***}"
  printf '      SQL\n'
  ((DRY_RUN)) || printf '%s\n' "${sql[@]}" | mariadb --protocol=socket -uroot
}

# The domain of an earlier run (kept in the env file), unless --domain names one now.
decide_domain() {
  [[ -n $DOMAIN ]] || DOMAIN=$(env_value "$ENV_FILE" DOMAIN)
  if [[ -n $DOMAIN && -z $EMAIL && ! -f /etc/letsencrypt/live/$DOMAIN/fullchain.pem ]] && ((START && !DRY_RUN)); then
    die "--domain $DOMAIN: the first certificate needs --email ADDR (Let's Encrypt's contact)"
  fi
  return 0
}

write_env_file() {
  step "Settings in $CONF_DIR"
  local port current new
  # HTTPS once the service has its copy of the certificate; until then plain HTTP on port 80,
  # serving certbot's challenges (ACME_WEBROOT), so the first certificate can be obtained.
  TLS_ON=0
  if [[ -n $DOMAIN && -f $TLS_DIR/fullchain.pem && -f $TLS_DIR/privkey.pem ]]; then TLS_ON=1; fi
  if [[ -n $DOMAIN ]]; then
    if ((TLS_ON)); then port=443; else port=80; fi
  else
    port=${PORT:-$(env_value "$ENV_FILE" LISTEN_PORT)}
    port=${port:-80}
  fi
  new=$(tmp_file)
  # Keep whatever else the administrator added; replace or append our keys.
  if [[ -r $ENV_FILE ]]; then
    grep -vE '^(DATABASE_URL|SESSION_SECRET|LISTEN_PORT|DOMAIN|ACME_WEBROOT|TLS_CERT_FILE|TLS_KEY_FILE|TLS_REDIRECT_PORT|DOCKER_USER)=' "$ENV_FILE" >"$new" || true
  else
    cat >"$new" <<'EOF'
# SelfLessActs settings, read by selflessacts.service (EnvironmentFile). Written by
# scripts/aws-setup.sh; your own lines are kept. Any config key's env override may go here
# (docs/operations.md). Secrets: keep this file mode 640 root:selflessacts.
EOF
  fi
  {
    printf 'DATABASE_URL=%s\n' "$DATABASE_URL_WANTED"
    printf 'SESSION_SECRET=%s\n' "$SESSION_SECRET_WANTED"
    printf 'LISTEN_PORT=%s\n' "$port"
    # The replicas run as the service's own user: the files it makes for them are theirs
    # without a chown, which it may not do (docs/operations.md, "Who holds the keys").
    printf 'DOCKER_USER=%s\n' "$(service_ids)"
    if [[ -n $DOMAIN ]]; then
      printf 'DOMAIN=%s\n' "$DOMAIN"
      printf 'ACME_WEBROOT=%s\n' "$ACME_WEBROOT"
    fi
    if ((TLS_ON)); then
      printf 'TLS_CERT_FILE=%s\n' "$TLS_DIR/fullchain.pem"
      printf 'TLS_KEY_FILE=%s\n' "$TLS_DIR/privkey.pem"
      printf 'TLS_REDIRECT_PORT=80\n'
    fi
  } >>"$new"
  current=$ENV_FILE
  if install_file "$new" "$current" 0640 root "$SERVICE_USER" secret; then RESTART_NEEDED=1; fi
  LISTEN=$port
  install_config
}

# The files of the checkout that make the app: git's view when there is one (tracked and
# untracked-but-not-ignored), else everything but node_modules, .git, data and dist (built here).
source_files() {
  if command -v git >/dev/null && git -c safe.directory="$SOURCE_DIR" -C "$SOURCE_DIR" rev-parse --git-dir >/dev/null 2>&1; then
    git -c safe.directory="$SOURCE_DIR" -C "$SOURCE_DIR" ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [[ -f $SOURCE_DIR/$f || -L $SOURCE_DIR/$f ]] && printf '%s\0' "$f"; done
  else
    (cd "$SOURCE_DIR" && find . \( -name .git -o -name node_modules -o -path ./data -o -path ./dist \) -prune -o \
      \( -type f -o -type l \) -printf '%P\0')
  fi
}

install_app() {
  step "App in $APP_DIR"
  if [[ $SOURCE_DIR -ef $APP_DIR ]]; then
    ok "running from $APP_DIR itself: nothing to copy"
  else
    local list fingerprint installed
    list=$(tmp_file)
    source_files | LC_ALL=C sort -z >"$list"
    fingerprint=$( (cd "$SOURCE_DIR" && xargs -0 sha256sum <"$list") | sha256sum | cut -c1-64)
    installed=$(cat "$APP_DIR/.selflessacts-source" 2>/dev/null || true)
    if [[ $fingerprint == "$installed" ]]; then
      ok "files match $SOURCE_DIR ($(tr -cd '\0' <"$list" | wc -c) files)"
    else
      change "copy $(tr -cd '\0' <"$list" | wc -c) files from $SOURCE_DIR (root-owned, read-only for the service)"
      RESTART_NEEDED=1
      run rm -rf "$APP_DIR.new"
      run install -d -m 0755 "$APP_DIR.new"
      run_sh "tar -C $(printf '%q' "$SOURCE_DIR") --null -T $list -cf - | tar -C $APP_DIR.new --no-same-owner --no-same-permissions -xf -"
      run chmod -R u=rwX,go=rX "$APP_DIR.new"
      run_sh "echo $fingerprint > $APP_DIR.new/.selflessacts-source"
      # node_modules and the supervisor's bundle move across; the checks below decide whether
      # each is current (the bundle's stamp is a hash of its sources).
      [[ ! -d $APP_DIR/node_modules ]] || run mv "$APP_DIR/node_modules" "$APP_DIR.new/node_modules"
      [[ ! -d $APP_DIR/dist || -e $APP_DIR.new/dist ]] || run mv "$APP_DIR/dist" "$APP_DIR.new/dist"
      [[ ! -d $APP_DIR ]] || run mv "$APP_DIR" "$APP_DIR.old"
      run mv "$APP_DIR.new" "$APP_DIR"
      run rm -rf "$APP_DIR.old"
    fi
  fi
  install_dependencies
  build_supervisor_bundle
}

install_dependencies() {
  local lock=$APP_DIR/package-lock.json wanted stamp=$APP_DIR/node_modules/.selflessacts-deps
  [[ -f $lock ]] || lock=$SOURCE_DIR/package-lock.json
  local node
  node=$(node_version)
  wanted="$(sha256sum <"$lock" | cut -c1-64) node-${node:-none} $(uname -m)"
  if [[ -f $stamp && "$(cat "$stamp")" == "$wanted" ]]; then
    ok "production dependencies match package-lock.json"
    return
  fi
  change "install production dependencies (npm ci --omit=dev)"
  RESTART_NEEDED=1
  run_sh "cd $APP_DIR && PATH=$SYSTEM_PATH npm ci --omit=dev --no-audit --no-fund --loglevel=error"
  run_sh "echo '$wanted' > $stamp"
}

# The supervisor runs from its bundle (dist/supervisor), which the copy of the checkout does not
# carry (dist/ is git-ignored): built here, as root, because the service cannot write the app
# directory (ProtectSystem=strict). Up to date (npm ci's prepare built it): nothing to do.
build_supervisor_bundle() {
  if ((DRY_RUN)); then
    note "would build the supervisor's bundle if it is missing or older than the sources"
    printf '    $ %s\n' "cd $APP_DIR && node supervisor/bundle.mjs"
    return
  fi
  local out
  out=$(cd "$APP_DIR" && PATH=$SYSTEM_PATH node supervisor/bundle.mjs 2>&1) ||
    die "building the supervisor's bundle failed:
$out"
  if grep -q 'built in' <<<"$out"; then
    change "built the supervisor's bundle ($out)"
    RESTART_NEEDED=1
  else
    ok "the supervisor's bundle is up to date"
  fi
}

install_config() {
  local shipped=$APP_DIR/config/orchestrator.json
  ((!DRY_RUN)) || [[ -f $shipped ]] || shipped=$SOURCE_DIR/config/orchestrator.json
  if [[ -f $CONFIG_FILE ]]; then
    ok "$CONFIG_FILE (yours: upgrades never overwrite it)"
    cmp -s "$shipped" "$CONFIG_FILE" ||
      note "it differs from the shipped $shipped: compare them after an upgrade"
  else
    change "install $CONFIG_FILE from config/orchestrator.json (yours to edit from now on)"
    run install -m 0640 -o root -g "$SERVICE_USER" "$shipped" "$CONFIG_FILE"
    RESTART_NEEDED=1
  fi
}

docker_answers() { curl -sf --max-time 5 --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; }

build_images() {
  step "Images"
  if ! docker_answers; then
    if ((DRY_RUN)); then
      change "build missing or outdated images (node scripts/images.ts --if-missing)"
    else
      note "Docker is not answering: the service builds missing images when it starts (ExecStartPre)"
    fi
    return
  fi
  if ((DRY_RUN)); then
    note "would run the image build; it rebuilds only what is missing or outdated"
    printf '    $ %s\n' "cd $APP_DIR && node scripts/images.ts --if-missing"
    return
  fi
  local out
  out=$(cd "$APP_DIR" && PATH=$SYSTEM_PATH node scripts/images.ts --if-missing 2>&1) ||
    die "image build failed:
$out"
  if grep -q 'built in' <<<"$out"; then
    change "built images:"
    sed -n 's/^/    /; /built in/p' <<<"$out"
    RESTART_NEEDED=1
  else
    ok "images are up to date"
  fi
}

install_unit() {
  step "systemd units $UNIT_NAME, $SOCKET_NAME and $GUARD_NAME"
  local unit src dropin reload=0
  for unit in "$UNIT_NAME" "$SOCKET_NAME" "$GUARD_NAME"; do
    src=$APP_DIR/deploy/$unit
    [[ -f $src ]] || src=$SOURCE_DIR/deploy/$unit
    if install_file "$src" "/etc/systemd/system/$unit" 0644 root root; then
      RESTART_NEEDED=1
      reload=1
      [[ $unit == "$SOCKET_NAME" ]] && SOCKET_CHANGED=1
    fi
  done
  # The socket listens on the env file's LISTEN_PORT (443 with HTTPS), as the supervisor would.
  dropin=$(tmp_file)
  printf '# Written by scripts/aws-setup.sh: the public port (LISTEN_PORT in %s).\n[Socket]\nListenStream=\nListenStream=%s\n' "$ENV_FILE" "$LISTEN" >"$dropin"
  ensure_dir "${SOCKET_DROPIN%/*}" 0755 root root
  if install_file "$dropin" "$SOCKET_DROPIN" 0644 root root; then
    RESTART_NEEDED=1
    SOCKET_CHANGED=1
    reload=1
  fi
  if ((reload)) && systemd_running; then run systemctl daemon-reload; fi
  for unit in "$SOCKET_NAME" "$GUARD_NAME" "$UNIT_NAME"; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
      ok "$unit is enabled (starts at boot)"
    else
      change "enable $unit (start at boot)"
      run systemctl enable "$unit"
    fi
  done
}

health_url() {
  if ((TLS_ON)); then printf 'https://%s/api/v1/_health' "$DOMAIN"; else printf 'http://127.0.0.1:%s/api/v1/_health' "$LISTEN"; fi
}
# Over HTTPS: the real name, resolved to this machine, the chain checked as a browser would.
health_check() { curl -fsS --max-time 5 -o /dev/null --resolve "$DOMAIN:443:127.0.0.1" "$(health_url)"; }

start_and_wait() {
  step "Service"
  if ((!START)); then
    note "--no-start: $UNIT_NAME starts at the next boot (or: systemctl start $UNIT_NAME)"
    return
  fi
  if ((SOCKET_CHANGED)) && systemctl is-active --quiet "$SOCKET_NAME" 2>/dev/null; then
    # A socket unit keeps the port it was started with, and the service keeps the socket: both
    # stop, and start again below (this one restart refuses connections; later ones do not).
    change "stop $UNIT_NAME and $SOCKET_NAME (the socket unit or its port changed)"
    run systemctl stop "$UNIT_NAME" "$SOCKET_NAME"
  fi
  if systemctl is-active --quiet "$UNIT_NAME" 2>/dev/null; then
    if ((RESTART_NEEDED)); then
      change "restart $GUARD_NAME and $UNIT_NAME (app, settings or unit changed; replicas are drained first, connections wait in $SOCKET_NAME)"
      run systemctl restart "$GUARD_NAME"
      run systemctl restart "$UNIT_NAME"
    else
      ok "$UNIT_NAME is running"
    fi
  else
    change "start $UNIT_NAME"
    run systemctl start "$UNIT_NAME"
  fi
  if ((DRY_RUN)); then
    note "would wait up to ${WAIT_SECONDS}s for $(health_url)"
    return
  fi
  local deadline=$((SECONDS + WAIT_SECONDS))
  printf '  ...     waiting for %s\n' "$(health_url)"
  local state
  until health_check 2>/dev/null; do
    # "activating" (building images, or restarting after a crash) is worth waiting for.
    state=$(systemctl show -p ActiveState --value "$UNIT_NAME" 2>/dev/null || true)
    if ((SECONDS >= deadline)) || [[ $state == failed || $state == inactive ]]; then
      systemctl status --no-pager --lines=0 "$UNIT_NAME" >&2 || true
      journalctl -u "$UNIT_NAME" -n 40 --no-pager >&2 || true
      die "$UNIT_NAME did not answer on $(health_url) within ${WAIT_SECONDS}s (see the log above and docs/operations.md, 'When things fail')"
    fi
    sleep 2
  done
  ok "$(health_url) answers"
}

write_deploy_hook() {
  local hook
  hook=$(tmp_file)
  cat >"$hook" <<HOOK
#!/bin/sh
# Written by SelfLessActs' scripts/aws-setup.sh. certbot runs it after renewing a certificate
# (and the script after obtaining one): the one for $DOMAIN is copied where the service can read
# it (certbot keeps its own root-only), each file written aside and renamed over, then the
# service reloads it (SIGHUP: connections open keep theirs, none is dropped).
set -eu
[ "\${RENEWED_LINEAGE:-}" = /etc/letsencrypt/live/$DOMAIN ] || exit 0
install -d -m 0750 -o root -g $SERVICE_USER $TLS_DIR
install -m 0640 -o root -g $SERVICE_USER "\$RENEWED_LINEAGE/privkey.pem" $TLS_DIR/privkey.pem.new
install -m 0640 -o root -g $SERVICE_USER "\$RENEWED_LINEAGE/fullchain.pem" $TLS_DIR/fullchain.pem.new
mv -f $TLS_DIR/privkey.pem.new $TLS_DIR/privkey.pem
mv -f $TLS_DIR/fullchain.pem.new $TLS_DIR/fullchain.pem
if systemctl is-active --quiet $UNIT_NAME; then systemctl reload $UNIT_NAME; fi
HOOK
  if [[ ! -d ${DEPLOY_HOOK%/*} ]]; then
    change "directory ${DEPLOY_HOOK%/*}"
    run install -d -m 0755 "${DEPLOY_HOOK%/*}"
  fi
  install_file "$hook" "$DEPLOY_HOOK" 0755 root root || true
}

# --domain: the webroot and the renewal hook always; the certificate once the balancer answers
# on port 80 (certbot's webroot challenge reaches it there); then HTTPS on.
ensure_certificate() {
  [[ -n $DOMAIN ]] || return 0
  step "HTTPS certificate for $DOMAIN (Let's Encrypt)"
  ensure_dir "$ACME_WEBROOT" 0755 root root
  write_deploy_hook
  local live=/etc/letsencrypt/live/$DOMAIN
  if ((!START)); then
    note "--no-start: the certificate is obtained by a later run, once the service answers on port 80"
    return
  fi
  if [[ -f $live/fullchain.pem ]]; then
    ok "certificate $live (certbot renews it)"
  else
    change "obtain a certificate for $DOMAIN from Let's Encrypt (webroot $ACME_WEBROOT, served on port 80)"
    run certbot certonly --non-interactive --agree-tos --email "$EMAIL" --webroot -w "$ACME_WEBROOT" -d "$DOMAIN" --keep-until-expiring
  fi
  # The service's copy: the hook makes it (certbot runs the hook by itself only on renewals).
  if ((DRY_RUN)) || ! cmp -s "$live/fullchain.pem" "$TLS_DIR/fullchain.pem" || ! cmp -s "$live/privkey.pem" "$TLS_DIR/privkey.pem"; then
    change "copy the certificate for the service ($TLS_DIR)"
    run env RENEWED_LINEAGE="$live" "$DEPLOY_HOOK"
  else
    ok "$TLS_DIR holds the current certificate"
  fi
  if systemctl is-enabled --quiet certbot.timer 2>/dev/null; then
    ok "certbot.timer renews certificates twice a day"
  else
    change "enable certbot.timer (renewals)"
    run systemctl enable --now certbot.timer
  fi
  ((!TLS_ON)) || return 0
  if ((DRY_RUN)); then
    step "HTTPS on"
    change "write $ENV_FILE with LISTEN_PORT=443, TLS_CERT_FILE=$TLS_DIR/fullchain.pem, TLS_KEY_FILE=$TLS_DIR/privkey.pem, TLS_REDIRECT_PORT=80"
    TLS_ON=1
    LISTEN=443
  else
    write_env_file
  fi
  RESTART_NEEDED=1
  start_and_wait
}

main() {
  parse_args "$@"
  TMP_DIR=$(mktemp -d)
  preflight
  install_packages
  install_node
  ensure_services_running
  ensure_user
  install_app
  decide_secrets
  decide_domain
  ensure_database
  write_env_file
  build_images
  install_unit
  start_and_wait
  ensure_certificate
  printf '\n'
  if ((DRY_RUN)); then
    printf 'Dry run: %d change(s) would be made; nothing was changed.\n' "$CHANGES"
  elif ((CHANGES == 0)); then
    printf 'Nothing to change: SelfLessActs is installed%s.\n' "$( ((START)) && printf ' and answers on port %s' "$LISTEN")"
  else
    printf 'Done: %d change(s). ' "$CHANGES"
    if ((START)); then printf 'SelfLessActs answers on port %s.\n' "$LISTEN"; else printf 'Start it with: systemctl start %s\n' "$UNIT_NAME"; fi
  fi
  printf 'Logs: journalctl -u %s -f   Dashboard: ssh -L 3001:127.0.0.1:3001 <this host>, then http://127.0.0.1:3001/dashboard\n' "${UNIT_NAME%.service}"
}

main "$@"
