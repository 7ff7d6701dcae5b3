#!/usr/bin/env bash
# scripts/test.sh - the one command that runs dbchunk's whole test suite.
#
# On a fresh Debian machine (as root, or as a user with sudo) it:
#   1. makes sure PostgreSQL is installed, running and answering on
#      127.0.0.1:5432 with trust auth for user postgres, with a database "test";
#   2. makes sure MariaDB is installed, running and answering on
#      127.0.0.1:3306 for root with an empty password, with a database "test"
#      and local_infile enabled (the import feature uses LOAD DATA LOCAL);
#   3. creates this run's own databases on both servers (dbchunk_run_PID),
#      which the tests use and which are dropped when the run ends, pass,
#      fail or Ctrl-C;
#   4. for the TLS tests, makes a throwaway CA and server certificate and
#      starts a throwaway PostgreSQL and MariaDB with TLS on their own ports
#      and data directories, all under one run directory in $TMPDIR;
#   5. finds cargo (PATH, then $HOME/.cargo/bin), and the readers the tests
#      judge dbchunk's files with: DuckDB and pyarrow (from PyPI, in a virtual
#      environment in target/test-venv) and the zstd and gzip tools; and
#      for docs/distributed.md's examples, GNU parallel and PyYAML (same venv);
#   6. runs `cargo test --all-targets "$@"` from the repository root, with
#      TMPDIR inside the run directory;
#   7. stops the throwaway servers, drops the run's databases, sets back
#      local_infile if it turned it on, and checks that the servers hold the
#      same databases, roles and users as before and that no test left a file
#      behind, whether the tests passed or failed; a leftover fails the
#      run. Then it removes the run directory.
# The servers' configuration files are never edited (except pg_hba.conf on
# a fresh install with no trust login for 127.0.0.1, which the suite needs).
# A database that cannot be provided is always an error, never a skip (in CI
# and locally alike).
#
# Usage: scripts/test.sh [extra cargo test args...]
#   e.g. scripts/test.sh --no-run
#        scripts/test.sh -- --nocapture
#
# Environment knobs:
#   DBCHUNK_TEST_PG_URL     default: a run database on postgres://postgres@127.0.0.1:5432
#   DBCHUNK_TEST_MYSQL_URL  default: a run database on mysql://root@127.0.0.1:3306
#       Read by the tests. If you set one, this script assumes you manage
#       that server yourself and does not install, start, configure or clean
#       it (the tests then run in the database your URL names).
#   DBCHUNK_TEST_PG_GIS_URL default: a second run database, with PostGIS
#       (this script installs the package); set it with DBCHUNK_TEST_PG_URL
#       to a database of yours where CREATE EXTENSION postgis has run.
#   DBCHUNK_TEST_TLS_PG_URL, DBCHUNK_TEST_TLS_MYSQL_URL, DBCHUNK_TEST_TLS_CA
#       Read by the TLS tests: servers with TLS on, and the CA that signed
#       their certificates. Set all three to use servers you manage; by
#       default this script starts throwaway ones.
#   SKIP_CARGO=1            steps 1 and 2 only: make sure the servers run, then
#                           stop (scripts/bench.sh uses this).
#   DBCHUNK_TEST_KEEP=1     keep the run directory (logs, the tests' temporary
#                           files) instead of removing it.
#   DBCHUNK_TEST_WAIT=N     seconds to wait for a server to answer (default 30
#                           for PostgreSQL, twice that for MariaDB).
set -euo pipefail

log() { printf 'test.sh: %s\n' "$*" >&2; }
die() {
    printf 'test.sh: ERROR: %s\n' "$*" >&2
    exit 1
}

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PG_HOST=127.0.0.1
PG_PORT=5432
MY_HOST=127.0.0.1
MY_PORT=3306
PG_DEFAULT_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/test"
MY_DEFAULT_URL="mysql://root@${MY_HOST}:${MY_PORT}/test"
# Whether this script provides the server (no URL given) or you do.
PG_OURS=0
MY_OURS=0
[ -n "${DBCHUNK_TEST_PG_URL:-}" ] || PG_OURS=1
[ -n "${DBCHUNK_TEST_MYSQL_URL:-}" ] || MY_OURS=1
TLS_OURS=0
[ -n "${DBCHUNK_TEST_TLS_PG_URL:-}" ] && [ -n "${DBCHUNK_TEST_TLS_MYSQL_URL:-}" ] &&
    [ -n "${DBCHUNK_TEST_TLS_CA:-}" ] || TLS_OURS=1

# Everything this run makes on disk lives here, and goes when it ends.
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/dbchunk-test.XXXXXX")"
chmod 0755 "$RUN_DIR"
RUN_DB="dbchunk_run_$$"
TLS_DIR="$RUN_DIR/tls"
# Until cleanup (below) is defined, an early exit only removes the directory.
trap 'if declare -F cleanup >/dev/null; then cleanup; else rm -rf "$RUN_DIR"; fi' EXIT

WAIT_SECS="${DBCHUNK_TEST_WAIT:-30}"
case "$WAIT_SECS" in '' | *[!0-9]*) die "DBCHUNK_TEST_WAIT must be a number of seconds, got '$WAIT_SECS'" ;; esac

# Never prompt: no password prompts from psql, never wait on a dead server forever.
export PGCONNECT_TIMEOUT=5

# ---------------------------------------------------------------------------
# privilege helpers

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
SUDO=()
if [ "$IS_ROOT" -eq 0 ] && command -v sudo >/dev/null 2>&1; then
    # Without a terminal (CI, no stdin) sudo must not try to ask for a password.
    if [ -n "${CI:-}" ] || [ ! -t 0 ]; then SUDO=(sudo -n); else SUDO=(sudo); fi
fi

as_root() {
    if [ "$IS_ROOT" -eq 1 ]; then
        "$@"
    elif [ "${#SUDO[@]}" -gt 0 ]; then
        "${SUDO[@]}" "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

# Run a command as OS user $1 (from / so it does not complain about our cwd).
as_user() {
    local user=$1
    shift
    if [ "$IS_ROOT" -eq 1 ]; then
        (cd / && runuser -u "$user" -- "$@")
    elif [ "${#SUDO[@]}" -gt 0 ]; then
        (cd / && "${SUDO[@]}" -u "$user" -- "$@")
    else
        die "need root or sudo to run as $user: $*"
    fi
}

APT_UPDATED=0
SETUP_LOG="$RUN_DIR/setup.log"
# Long output (apt-get, pg_createcluster, initdb) goes to $SETUP_LOG; its tail
# is shown on failure (DBCHUNK_TEST_KEEP=1 keeps the whole file).
apt_run() {
    if ! as_root env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 \
        apt-get -q -y -o DPkg::Lock::Timeout=300 "$@" </dev/null >>"$SETUP_LOG" 2>&1; then
        tail -n 40 "$SETUP_LOG" >&2 || true
        die "apt-get $* failed (full output in $SETUP_LOG)"
    fi
}
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages by hand: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update (output in $SETUP_LOG)"
        apt_run update
        APT_UPDATED=1
    fi
    log "apt-get install $* (output in $SETUP_LOG)"
    apt_run --no-install-recommends install "$@"
}

# wait_for SECONDS CMD...: poll CMD every half second until it succeeds.
wait_for() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 2; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    "$@" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
# TLS test certificates: a throwaway CA, and one server certificate for
# localhost and 127.0.0.1 that both throwaway servers use, each with its own
# copy of the key (the servers insist on owning it, mode 0600).

# The OS user a throwaway server runs as: postgres or mysql as root, else
# whoever runs this script.
server_user() { if [ "$IS_ROOT" -eq 1 ]; then echo "$1"; else id -un; fi; }

# Runs a command as the OS user that owns the throwaway server $1.
as_server_user() {
    local owner=$1
    shift
    if [ "$IS_ROOT" -eq 1 ]; then (cd / && runuser -u "$owner" -- "$@"); else "$@"; fi
}

make_test_certs() {
    command -v openssl >/dev/null 2>&1 || apt_install openssl
    log "making a throwaway test CA and server certificate in $TLS_DIR"
    mkdir -p "$TLS_DIR"
    printf '%s\n' 'subjectAltName = DNS:localhost, IP:127.0.0.1' \
        'basicConstraints = critical, CA:FALSE' \
        'keyUsage = critical, digitalSignature, keyEncipherment' \
        'extendedKeyUsage = serverAuth' >"$TLS_DIR/server.ext"
    if ! {
        openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 2 \
            -subj '/CN=dbchunk test CA' -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.crt" \
            -addext 'basicConstraints = critical, CA:TRUE' \
            -addext 'keyUsage = critical, keyCertSign, cRLSign' &&
            openssl req -new -newkey rsa:2048 -nodes -subj '/CN=localhost' \
                -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" &&
            openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" \
                -CAcreateserial -sha256 -days 2 -extfile "$TLS_DIR/server.ext" -out "$TLS_DIR/server.crt"
    } >>"$SETUP_LOG" 2>&1; then
        tail -n 20 "$SETUP_LOG" >&2 || true
        die "openssl could not make the test certificates"
    fi
    chmod 0644 "$TLS_DIR/ca.crt" "$TLS_DIR/server.crt"
    local owner
    for owner in "$(server_user postgres)" "$(server_user mysql)"; do
        install -m 0600 -o "$owner" "$TLS_DIR/server.key" "$TLS_DIR/server-$owner.key" ||
            die "could not install the test TLS key for $owner in $TLS_DIR"
    done
}

# A free TCP port on 127.0.0.1, from $1 up.
free_port() {
    local port=$1
    while timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$port" 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port"
}

# ---------------------------------------------------------------------------
# PostgreSQL

pg_tcp() { psql -X -w -q -A -t -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres "$@" </dev/null; }
pg_sock() { as_user postgres psql -X -w -q -A -t -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@" </dev/null; }
pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres; }

start_postgres() {
    command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql postgresql-client
    command -v pg_lsclusters >/dev/null 2>&1 || die "pg_lsclusters not found after installing postgresql"

    # Columns: version cluster port status owner datadir logfile
    local ver name
    read -r ver name < <(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }') || true
    if [ -z "${ver:-}" ]; then
        if [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
            pg_lsclusters >&2 || true
            die "PostgreSQL clusters exist but none uses port $PG_PORT; start one there or set DBCHUNK_TEST_PG_URL"
        fi
        ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -1)
        [ -n "$ver" ] || die "no PostgreSQL server version found under /usr/lib/postgresql"
        name=main
        log "creating PostgreSQL cluster $ver/$name on port $PG_PORT"
        if ! as_root env LANG=C.UTF-8 LC_ALL=C.UTF-8 pg_createcluster --locale=C.UTF-8 -p "$PG_PORT" "$ver" "$name" \
            >>"$SETUP_LOG" 2>&1; then
            tail -n 40 "$SETUP_LOG" >&2 || true
            die "pg_createcluster $ver $name failed (full output in $SETUP_LOG)"
        fi
    fi

    log "starting PostgreSQL cluster $ver/$name"
    # Exit code 2 means "already running": then we just wait for it below.
    local rc=0
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
        tail -n 20 "/var/log/postgresql/postgresql-$ver-$name.log" >&2 2>/dev/null || true
        die "pg_ctlcluster $ver $name start failed (exit $rc)"
    fi
}

ensure_postgres() {
    if [ "$PG_OURS" -eq 0 ]; then
        log "DBCHUNK_TEST_PG_URL is set; not provisioning a local PostgreSQL"
        return 0
    fi
    if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
        apt_install postgresql postgresql-client
    fi

    if ! pg_ready; then
        log "PostgreSQL is not answering on $PG_HOST:$PG_PORT"
        start_postgres
        wait_for "$WAIT_SECS" pg_ready ||
            die "PostgreSQL did not answer on $PG_HOST:$PG_PORT within ${WAIT_SECS}s (see /var/log/postgresql/)"
        log "PostgreSQL is up"
    fi

    # user postgres must get in over TCP without a password (trust).
    if ! pg_tcp -d postgres -c 'select 1' >/dev/null 2>&1; then
        log "no trust login for postgres on $PG_HOST; adding a pg_hba.conf rule"
        local hba
        hba=$(pg_sock -d postgres -c 'show hba_file') ||
            die "cannot reach PostgreSQL as OS user postgres over the local socket to fix pg_hba.conf"
        [ -n "$hba" ] || die "could not find pg_hba.conf"
        # pg_hba.conf is first-match: the rule has to go on top.
        local rule="host all all ${PG_HOST}/32 trust  # added by dbchunk scripts/test.sh"
        if ! as_root grep -qxF "$rule" "$hba"; then
            as_root sed -i "1i $rule" "$hba" || die "could not edit $hba"
        fi
        pg_sock -d postgres -c 'select pg_reload_conf()' >/dev/null || die "could not reload PostgreSQL configuration"
        wait_for 5 pg_tcp -d postgres -c 'select 1' ||
            die "still cannot log in as postgres on $PG_HOST:$PG_PORT without a password after editing $hba"
    fi

    if [ "$(pg_tcp -d postgres -c "select 1 from pg_database where datname = 'test'")" != "1" ]; then
        log "creating PostgreSQL database test"
        pg_tcp -d postgres -c "create database test template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'" ||
            die "could not create PostgreSQL database test"
    fi
    pg_tcp -d test -c 'select 1' >/dev/null || die "cannot connect to $PG_DEFAULT_URL"

    # PostGIS, for the restore of MySQL geometry into a spatial column
    # (tests/restore.rs): the package for this server's major version.
    if [ "$(pg_tcp -d postgres -c "select 1 from pg_available_extensions where name = 'postgis'")" != "1" ]; then
        local major
        major=$(pg_tcp -d postgres -c "select current_setting('server_version_num')::int / 10000") ||
            die "cannot read PostgreSQL's version"
        apt_install "postgresql-$major-postgis-3" "postgresql-$major-postgis-3-scripts"
        [ "$(pg_tcp -d postgres -c "select 1 from pg_available_extensions where name = 'postgis'")" = "1" ] ||
            die "PostGIS is not available to PostgreSQL $major after apt-get install postgresql-$major-postgis-3"
    fi
    log "PostgreSQL ok: $PG_DEFAULT_URL"
}

# The throwaway PostgreSQL with TLS, for tests/tls.rs: its own data
# directory and port, trust auth, never the machine's own server.
# Owned by the server's OS user: data, log and socket.
TLS_PG_DIR="$RUN_DIR/pg"
TLS_PG_DATA="$TLS_PG_DIR/data"
TLS_PG_STARTED=0

pg_bin() {
    local ver
    ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -1)
    [ -n "$ver" ] && [ -x "/usr/lib/postgresql/$ver/bin/$1" ] ||
        die "no PostgreSQL server binaries under /usr/lib/postgresql (install postgresql)"
    echo "/usr/lib/postgresql/$ver/bin/$1"
}

# A throwaway server's directories, owned by its OS user: DIR for its
# files and DATA (private) for its data; then says which server starts.
server_dirs() { # OWNER DIR DATA SERVER PORT
    install -d -m 0755 -o "$1" "$2" && install -d -m 0700 -o "$1" "$3" || die "could not make $3"
    log "starting a throwaway $4 with TLS on 127.0.0.1:$5"
}

# Runs a setup command with its output in the setup log; when it fails,
# shows the log's end and stops, naming WHAT failed.
setup_or_die() { # WHAT COMMAND...
    local what=$1
    shift
    "$@" >>"$SETUP_LOG" 2>&1 || {
        tail -n 20 "$SETUP_LOG" >&2
        die "$what failed"
    }
}

start_tls_postgres() {
    local owner port
    owner=$(server_user postgres)
    port=$(free_port 25432)
    server_dirs "$owner" "$TLS_PG_DIR" "$TLS_PG_DATA" PostgreSQL "$port"
    setup_or_die "initdb of the throwaway PostgreSQL" \
        as_server_user "$owner" "$(pg_bin initdb)" -D "$TLS_PG_DATA" -A trust -U postgres -E UTF8 \
        --locale=C.UTF-8 --no-sync
    TLS_PG_STARTED=1
    as_server_user "$owner" "$(pg_bin pg_ctl)" -D "$TLS_PG_DATA" -l "$TLS_PG_DIR/log" -w -t 60 \
        -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$TLS_PG_DIR \
            -c ssl=on -c ssl_cert_file=$TLS_DIR/server.crt -c ssl_key_file=$TLS_DIR/server-$owner.key \
            -c fsync=off -c shared_buffers=16MB" start >>"$SETUP_LOG" 2>&1 || {
        tail -n 20 "$TLS_PG_DIR/log" >&2 2>/dev/null
        die "the throwaway PostgreSQL did not start"
    }
    export DBCHUNK_TEST_TLS_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
    [ "$(psql -X -w -q -A -t "host=127.0.0.1 port=$port user=postgres dbname=postgres sslmode=verify-full sslrootcert=$TLS_DIR/ca.crt" \
        -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' </dev/null 2>>"$SETUP_LOG")" = t ] ||
        die "the throwaway PostgreSQL does not serve the test certificate (see $TLS_PG_DIR/log)"
}

stop_tls_postgres() {
    [ "$TLS_PG_STARTED" -eq 1 ] || return 0
    TLS_PG_STARTED=0
    [ -e "$TLS_PG_DATA/postmaster.pid" ] || return 0
    as_server_user "$(server_user postgres)" "$(pg_bin pg_ctl)" -D "$TLS_PG_DATA" -m immediate -w stop \
        >>"$SETUP_LOG" 2>&1 || log "could not stop the throwaway PostgreSQL in $TLS_PG_DATA"
}

# ---------------------------------------------------------------------------
# MariaDB

MARIADBD=/usr/sbin/mariadbd

# Is a server listening? mariadb-admin ping exits 0 even on "access denied",
# but not on "host not allowed to connect" (skip-name-resolve without a
# root@127.0.0.1 account), so a plain TCP connect counts as alive too.
my_ping() {
    mariadb-admin --no-defaults --protocol=TCP -h "$MY_HOST" -P "$MY_PORT" -uroot --connect-timeout=2 ping </dev/null ||
        my_port_open
}
# shellcheck disable=SC2016 # $1 and $2 are expanded by the inner bash
my_port_open() { timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$MY_HOST" "$MY_PORT"; }
my_port_closed() { ! my_port_open; }
# As the tests connect: TCP, root, empty password, no option files.
my_tcp() { mariadb --no-defaults --protocol=TCP -h "$MY_HOST" -P "$MY_PORT" -uroot --connect-timeout=5 -N -B "$@" </dev/null; }
# As OS root over the unix socket (unix_socket auth on a fresh Debian install).
my_sock() { as_root mariadb -uroot --connect-timeout=5 -N -B "$@" </dev/null; }

start_mariadb() {
    [ -x "$MARIADBD" ] || apt_install mariadb-server mariadb-client
    [ -x "$MARIADBD" ] || die "$MARIADBD not found after installing mariadb-server"

    local defaults datadir
    defaults=$(my_print_defaults --mysqld 2>/dev/null || true)
    datadir=$(printf '%s\n' "$defaults" | sed -n 's/^--datadir=//p' | tail -1)
    datadir=${datadir:-/var/lib/mysql}
    if ! as_root test -d "$datadir/mysql"; then
        log "initialising MariaDB data directory $datadir"
        if ! as_root mariadb-install-db --user=mysql --datadir="$datadir" >>"$SETUP_LOG" 2>&1; then
            tail -n 40 "$SETUP_LOG" >&2 || true
            die "mariadb-install-db failed (full output in $SETUP_LOG)"
        fi
    fi

    as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
    local extra=()
    if ! printf '%s\n' "$defaults" | grep -q '^--user='; then
        # start-stop-daemon runs as root; mariadbd refuses to run as root unless told a user.
        extra=(-- --user=mysql)
    fi
    log "starting MariaDB: start-stop-daemon --start --background --exec $MARIADBD ${extra[*]}"
    as_root start-stop-daemon --start --oknodo --background \
        --output /var/log/dbchunk-test-mariadbd.log \
        --exec "$MARIADBD" "${extra[@]}" >&2 ||
        die "start-stop-daemon could not start $MARIADBD"
}

ensure_mariadb() {
    if [ "$MY_OURS" -eq 0 ]; then
        log "DBCHUNK_TEST_MYSQL_URL is set; not provisioning a local MariaDB"
        return 0
    fi
    if ! command -v mariadb >/dev/null 2>&1 || ! command -v mariadb-admin >/dev/null 2>&1; then
        apt_install mariadb-client
    fi

    if ! my_ping >/dev/null 2>&1; then
        log "MariaDB is not answering on $MY_HOST:$MY_PORT"
        start_mariadb
        local secs=$((WAIT_SECS * 2))
        if ! wait_for "$secs" my_ping; then
            tail -n 20 /var/log/dbchunk-test-mariadbd.log >&2 2>/dev/null || true
            die "MariaDB did not answer on $MY_HOST:$MY_PORT within ${secs}s (see /var/log/dbchunk-test-mariadbd.log and /var/log/mysql/)"
        fi
        log "MariaDB is up"
    fi

    # root must get in over TCP with an empty password.
    if ! my_tcp -e 'select 1' >/dev/null 2>&1; then
        log "root cannot log in over TCP with an empty password; fixing that over the unix socket"
        # Keep unix_socket login for OS root, add an empty password for TCP.
        # root@127.0.0.1 covers servers running with skip-name-resolve.
        my_sock -e "
            ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
            CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '';
            GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;
            FLUSH PRIVILEGES;" ||
            die "could not log in to MariaDB as root over the unix socket to allow passwordless TCP login"
        my_tcp -e 'select 1' >/dev/null 2>&1 ||
            die "root still cannot log in to MariaDB on $MY_HOST:$MY_PORT with an empty password"
    fi

    my_tcp -e 'CREATE DATABASE IF NOT EXISTS test' || die "could not create MariaDB database test"
    if [ "$(my_tcp -e 'SELECT @@GLOBAL.local_infile')" != "1" ]; then
        # Set back when the run ends (restore_mariadb_settings).
        log "enabling MariaDB local_infile for this run"
        my_tcp -e 'SET GLOBAL local_infile = 1' || die "could not enable local_infile"
        MY_LOCAL_INFILE_WAS_OFF=1
    fi
    my_tcp -D test -e 'select 1' >/dev/null || die "cannot connect to $MY_DEFAULT_URL"
    log "MariaDB ok: $MY_DEFAULT_URL"
}

MY_LOCAL_INFILE_WAS_OFF=0
restore_mariadb_settings() {
    [ "$MY_LOCAL_INFILE_WAS_OFF" -eq 1 ] || return 0
    MY_LOCAL_INFILE_WAS_OFF=0
    my_tcp -e 'SET GLOBAL local_infile = 0' || log "could not set MariaDB local_infile back to OFF"
}

# The throwaway MariaDB with TLS, for tests/tls.rs: its own data directory,
# port and socket, root with an empty password, never the machine's server.
# Owned by the server's OS user: data, socket, pid file, error log and
# binary log (on, for tests/distributed_binlog.rs: the machine's server
# has it off, and what a plan checks on MySQL is the binary log's position).
TLS_MY_DIR="$RUN_DIR/my"
TLS_MY_DATA="$TLS_MY_DIR/data"
TLS_MY_PID="$TLS_MY_DIR/pid"
TLS_MY_STARTED=0

start_tls_mariadb() {
    [ -x "$MARIADBD" ] || apt_install mariadb-server mariadb-client
    local owner port
    owner=$(server_user mysql)
    port=$(free_port 23306)
    server_dirs "$owner" "$TLS_MY_DIR" "$TLS_MY_DATA" MariaDB "$port"
    setup_or_die "mariadb-install-db of the throwaway MariaDB" \
        mariadb-install-db --no-defaults --user="$owner" --datadir="$TLS_MY_DATA" \
        --auth-root-authentication-method=normal --skip-test-db
    TLS_MY_STARTED=1
    "$MARIADBD" --no-defaults --user="$owner" --datadir="$TLS_MY_DATA" --port="$port" \
        --bind-address=127.0.0.1 --socket="$TLS_MY_DIR/sock" --pid-file="$TLS_MY_PID" \
        --log-error="$TLS_MY_DIR/err" --log-bin="$TLS_MY_DIR/binlog" --server-id=1 \
        --innodb-buffer-pool-size=16M \
        --ssl-ca="$TLS_DIR/ca.crt" --ssl-cert="$TLS_DIR/server.crt" \
        --ssl-key="$TLS_DIR/server-$owner.key" </dev/null >>"$SETUP_LOG" 2>&1 &
    local tls_my=(mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$port" -uroot --connect-timeout=2 -N -B)
    wait_for $((WAIT_SECS * 2)) "${tls_my[@]}" -e 'select 1' </dev/null || {
        tail -n 20 "$TLS_MY_DIR/err" >&2 2>/dev/null
        die "the throwaway MariaDB did not start (see $TLS_MY_DIR/err)"
    }
    "${tls_my[@]}" -e 'CREATE DATABASE test' </dev/null || die "could not create database test in the throwaway MariaDB"
    export DBCHUNK_TEST_TLS_MYSQL_URL="mysql://root@127.0.0.1:$port/test"
    [ -n "$("${tls_my[@]}" --ssl --ssl-ca="$TLS_DIR/ca.crt" --ssl-verify-server-cert \
        -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" </dev/null 2>>"$SETUP_LOG" | cut -f2)" ] ||
        die "the throwaway MariaDB does not serve the test certificate (see $TLS_MY_DIR/err)"
}

stop_tls_mariadb() {
    [ "$TLS_MY_STARTED" -eq 1 ] || return 0
    TLS_MY_STARTED=0
    local pid
    pid=$(cat "$TLS_MY_PID" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null || return 0
    wait_for 30 bash -c '! kill -0 "$1"' _ "$pid" || kill -9 "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Rust

ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
        export PATH="${HOME:-/root}/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found (looked on PATH and in ${HOME:-/root}/.cargo/bin). Install a Rust toolchain with rustup (https://rustup.rs), then rerun."
    log "using $(cargo --version 2>/dev/null || echo cargo)"
}

# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Readers nobody here wrote: the tests check dbchunk's Parquet with DuckDB and
# pyarrow (from PyPI, in a virtual environment under target/, git-ignored,
# kept between runs) and its compressed files with the zstd and gzip tools.
# The docs' examples run with GNU parallel and read their YAML with PyYAML.

READER_VENV="$REPO_ROOT/target/test-venv"
READER_PACKAGES=(duckdb==2.0.1 pyarrow==26.0.1 PyYAML==6.0.3)

gnu_parallel() { [[ "$(parallel --version 2>/dev/null </dev/null)" == "GNU parallel"* ]]; }

ensure_readers() {
    command -v zstd >/dev/null 2>&1 || apt_install zstd
    command -v gzip >/dev/null 2>&1 || apt_install gzip
    # GNU parallel, for docs/distributed.md's parallel line (moreutils has another `parallel`).
    gnu_parallel || apt_install parallel
    gnu_parallel || die "GNU parallel is not on PATH after apt-get install parallel (tests/distributed_examples.rs runs it)"
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        apt_install python3 python3-venv
    fi
    local python="$READER_VENV/bin/python"
    if ! "$python" -c 'import duckdb, pyarrow, yaml' >/dev/null 2>&1; then
        log "installing ${READER_PACKAGES[*]} into $READER_VENV (output in $SETUP_LOG)"
        python3 -m venv "$READER_VENV" >>"$SETUP_LOG" 2>&1 || die "python3 -m venv $READER_VENV failed"
        "$python" -m pip install -q --disable-pip-version-check "${READER_PACKAGES[@]}" >>"$SETUP_LOG" 2>&1 || {
            tail -n 20 "$SETUP_LOG" >&2
            die "pip could not install ${READER_PACKAGES[*]} from PyPI"
        }
    fi
    export DBCHUNK_TEST_PYTHON="$python"
}

# ---------------------------------------------------------------------------
# This run's databases, and what the servers held before it

# The server-wide objects a test could leave behind, one per line.
pg_objects() {
    pg_tcp -d postgres -c "select 'database ' || datname from pg_database
                           union all select 'role ' || rolname from pg_roles" | LC_ALL=C sort
}
my_objects() {
    my_tcp -e "select concat('database ', schema_name) from information_schema.schemata
               union all select concat('user ', user, '@', host) from mysql.user" | LC_ALL=C sort
}

create_run_databases() {
    if [ "$PG_OURS" -eq 1 ]; then
        pg_objects >"$RUN_DIR/pg-before" || die "cannot list PostgreSQL's databases and roles"
        pg_tcp -d postgres -c "create database $RUN_DB template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'" ||
            die "could not create the run database $RUN_DB in PostgreSQL"
        PG_RUN_DB_MADE=1
        export DBCHUNK_TEST_PG_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/$RUN_DB"
        # A second one with PostGIS (which adds a table, spatial_ref_sys,
        # that the run database's tests would otherwise meet).
        pg_tcp -d postgres -c "create database ${RUN_DB}_gis template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'" ||
            die "could not create the PostGIS run database ${RUN_DB}_gis in PostgreSQL"
        pg_tcp -d "${RUN_DB}_gis" -c "create extension postgis" ||
            die "could not create the extension postgis in ${RUN_DB}_gis"
        export DBCHUNK_TEST_PG_GIS_URL="postgres://postgres@${PG_HOST}:${PG_PORT}/${RUN_DB}_gis"
    fi
    if [ "$MY_OURS" -eq 1 ]; then
        my_objects >"$RUN_DIR/my-before" || die "cannot list MariaDB's databases and users"
        my_tcp -e "CREATE DATABASE $RUN_DB" || die "could not create the run database $RUN_DB in MariaDB"
        MY_RUN_DB_MADE=1
        export DBCHUNK_TEST_MYSQL_URL="mysql://root@${MY_HOST}:${MY_PORT}/$RUN_DB"
    fi
}

PG_RUN_DB_MADE=0
MY_RUN_DB_MADE=0
drop_run_databases() {
    if [ "$PG_RUN_DB_MADE" -eq 1 ]; then
        PG_RUN_DB_MADE=0
        pg_tcp -d postgres -c "drop database if exists $RUN_DB with (force)" ||
            log "could not drop the PostgreSQL run database $RUN_DB"
        pg_tcp -d postgres -c "drop database if exists ${RUN_DB}_gis with (force)" ||
            log "could not drop the PostgreSQL run database ${RUN_DB}_gis"
    fi
    if [ "$MY_RUN_DB_MADE" -eq 1 ]; then
        MY_RUN_DB_MADE=0
        my_tcp -e "DROP DATABASE IF EXISTS $RUN_DB" || log "could not drop the MariaDB run database $RUN_DB"
    fi
}

# Passes the lines of `comm` through, minus the run databases of other
# runs of this script that are still going (two checkouts testing at once).
not_other_live_runs() {
    local line pid
    while IFS= read -r line; do
        case "$line" in
        "database dbchunk_run_"*)
            pid=${line#database dbchunk_run_}
            pid=${pid%_gis}
            if [ "$pid" != "$$" ] && [ -n "$pid" ] && [ -z "${pid//[0-9]/}" ] && kill -0 "$pid" 2>/dev/null; then
                continue
            fi
            ;;
        esac
        printf '%s\n' "$line"
    done
}

# Fails when the servers hold databases, roles or users they did not hold
# before the run, or when a test left a file in the run's TMPDIR.
check_leftovers() {
    local left=0 extra server name
    for server in pg:PostgreSQL my:MariaDB; do
        name=${server#*:} server=${server%%:*}
        [ -s "$RUN_DIR/$server-before" ] || continue
        extra=$("${server}_objects" | LC_ALL=C comm -13 "$RUN_DIR/$server-before" - | not_other_live_runs) ||
            extra="(cannot list)"
        if [ -n "$extra" ]; then
            log "LEFTOVER in $name after the suite (a test did not drop it):"
            printf '  %s\n' "$extra" >&2
            left=1
        fi
    done
    # dbchunk-it-shared-PID is the one fixture shared by the tests of a run
    # (a big SQLite file, built once); it goes with the run directory.
    extra=$(find "$RUN_DIR/tmp" -mindepth 1 -maxdepth 1 ! -name 'dbchunk-it-shared-*' -printf '%f\n' 2>/dev/null |
        head -n 20)
    if [ -n "$extra" ]; then
        log "LEFTOVER files in the tests' TMPDIR ($RUN_DIR/tmp):"
        printf '  %s\n' "$extra" >&2
        left=1
    fi
    [ "$left" -eq 0 ] && log "the servers and TMPDIR hold what they held before the run"
    return "$left"
}

# Runs on every exit (success, failure, die, Ctrl-C): nothing of this run
# stays on the machine unless DBCHUNK_TEST_KEEP=1 asks for the run directory.
cleanup() {
    stop_tls_postgres
    stop_tls_mariadb
    drop_run_databases
    restore_mariadb_settings
    if [ "${DBCHUNK_TEST_KEEP:-0}" = "1" ]; then
        log "kept $RUN_DIR"
    else
        rm -rf "$RUN_DIR"
    fi
}
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------

# cargo first: no point installing databases for a run that cannot compile.
[ "${SKIP_CARGO:-0}" = "1" ] || ensure_cargo
ensure_postgres
ensure_mariadb

if [ "${SKIP_CARGO:-0}" = "1" ]; then
    log "SKIP_CARGO=1: databases ready, not running cargo test"
    exit 0
fi

ensure_readers
create_run_databases
if [ "$TLS_OURS" -eq 1 ]; then
    make_test_certs
    export DBCHUNK_TEST_TLS_CA="$TLS_DIR/ca.crt"
    start_tls_postgres
    start_tls_mariadb
fi

cd "$REPO_ROOT"
mkdir -p "$RUN_DIR/tmp"
log "running: cargo test --all-targets $* (PostgreSQL: $DBCHUNK_TEST_PG_URL, MariaDB: $DBCHUNK_TEST_MYSQL_URL)"
rc=0
TMPDIR="$RUN_DIR/tmp" cargo test --all-targets "$@" || rc=$?
stop_tls_postgres
stop_tls_mariadb
drop_run_databases
restore_mariadb_settings
# Tests drop what they make also when they fail, so the check holds for a
# failing run too; only DBCHUNK_TEST_KEEP=1 keeps a failing test's files.
if [ "${DBCHUNK_TEST_KEEP:-0}" != "1" ]; then
    check_leftovers || rc=1
fi
exit "$rc"
