#!/usr/bin/env bash
# scripts/test.sh - the one command that runs dbchunk's whole test suite.
#
# On a fresh Debian machine (as root, or as a user with sudo) it:
#   1. makes sure PostgreSQL is installed, running and answering on
#      127.0.0.1:5432 with trust auth for user postgres, with a database "test";
#   2. makes sure MariaDB is installed, running and answering on
#      127.0.0.1:3306 for root with an empty password, with a database "test"
#      and local_infile enabled (the import feature uses LOAD DATA LOCAL);
#   3. makes a test CA and a server certificate for localhost/127.0.0.1
#      (once, with openssl, in $DBCHUNK_TEST_TLS_DIR) and turns TLS on in both
#      servers with them: PostgreSQL by ALTER SYSTEM and a reload, MariaDB by
#      a file in /etc/mysql/mariadb.conf.d/ and one restart when that file
#      changes. The tests find the CA in DBCHUNK_TEST_TLS_CA;
#   4. finds cargo (PATH, then $HOME/.cargo/bin);
#   5. runs `cargo test --all-targets "$@"` from the repository root.
# When everything already runs, steps 1-3 only check (about a second)
# and change nothing. A database that cannot be provided is always an error,
# never a skip (in CI and locally alike).
#
# Usage: scripts/test.sh [extra cargo test args...]
#   e.g. scripts/test.sh --no-run
#        scripts/test.sh -- --nocapture
#
# Environment knobs:
#   DBCHUNK_TEST_PG_URL     default postgres://postgres@127.0.0.1:5432/test
#   DBCHUNK_TEST_MYSQL_URL  default mysql://root@127.0.0.1:3306/test
#       Read by the tests. If you set one to anything other than its default,
#       this script assumes you manage that server yourself and does not
#       install, start or configure the local one.
#   DBCHUNK_TEST_TLS_DIR    where the test CA and certificate live
#                           (default /var/lib/dbchunk-test-tls)
#   DBCHUNK_TEST_TLS_CA     read by the tests: the CA that signed the servers'
#                           certificates (default $DBCHUNK_TEST_TLS_DIR/ca.crt;
#                           set it yourself for servers you manage)
#   SKIP_CARGO=1            do all the database/toolchain steps, then stop
#                           before `cargo test` (for testing this script).
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
export DBCHUNK_TEST_PG_URL="${DBCHUNK_TEST_PG_URL:-$PG_DEFAULT_URL}"
export DBCHUNK_TEST_MYSQL_URL="${DBCHUNK_TEST_MYSQL_URL:-$MY_DEFAULT_URL}"

TLS_DIR="${DBCHUNK_TEST_TLS_DIR:-/var/lib/dbchunk-test-tls}"
export DBCHUNK_TEST_TLS_CA="${DBCHUNK_TEST_TLS_CA:-$TLS_DIR/ca.crt}"

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
SETUP_LOG="${TMPDIR:-/tmp}/dbchunk-test-setup.log"
# Long output (apt-get, pg_createcluster) goes to $SETUP_LOG; its tail is shown on failure.
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
# TLS test certificates: a CA, and one server certificate for localhost and
# 127.0.0.1 that both servers use, each with its own copy of the key (the
# servers insist on owning it, mode 0600).

TLS_CHECKED=0
cert_owner_ok() { [ "$(as_root stat -c '%U %a' "$1" 2>/dev/null)" = "$2 600" ]; }

tls_certs_ok() {
    [ -s "$TLS_DIR/ca.crt" ] && [ -s "$TLS_DIR/server.crt" ] &&
        openssl verify -CAfile "$TLS_DIR/ca.crt" "$TLS_DIR/server.crt" >/dev/null 2>&1 &&
        openssl x509 -checkend $((30 * 86400)) -noout -in "$TLS_DIR/server.crt" >/dev/null 2>&1 &&
        as_root test -s "$TLS_DIR/server.key"
}

# Installs the server key for OS user $1 as $TLS_DIR/server-$1.key.
install_server_key() {
    local user=$1
    if ! cert_owner_ok "$TLS_DIR/server-$user.key" "$user" ||
        ! as_root cmp -s "$TLS_DIR/server.key" "$TLS_DIR/server-$user.key"; then
        as_root install -m 0600 -o "$user" -g "$user" "$TLS_DIR/server.key" "$TLS_DIR/server-$user.key" ||
            die "could not install the test TLS key for $user in $TLS_DIR"
    fi
}

ensure_test_certs() {
    [ "$TLS_CHECKED" -eq 0 ] || return 0
    TLS_CHECKED=1
    command -v openssl >/dev/null 2>&1 || apt_install openssl
    if tls_certs_ok; then return 0; fi
    log "making the test CA and server certificate in $TLS_DIR"
    local tmp
    tmp=$(mktemp -d) || die "mktemp failed"
    # shellcheck disable=SC2064 # expand $tmp now
    trap "rm -rf '$tmp'" EXIT
    printf '%s\n' 'subjectAltName = DNS:localhost, IP:127.0.0.1' \
        'basicConstraints = critical, CA:FALSE' \
        'keyUsage = critical, digitalSignature, keyEncipherment' \
        'extendedKeyUsage = serverAuth' >"$tmp/server.ext"
    if ! {
        openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -subj '/CN=dbchunk test CA' -keyout "$tmp/ca.key" -out "$tmp/ca.crt" \
            -addext 'basicConstraints = critical, CA:TRUE' \
            -addext 'keyUsage = critical, keyCertSign, cRLSign' &&
            openssl req -new -newkey rsa:2048 -nodes -subj '/CN=localhost' \
                -keyout "$tmp/server.key" -out "$tmp/server.csr" &&
            openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" \
                -CAcreateserial -sha256 -days 3650 -extfile "$tmp/server.ext" -out "$tmp/server.crt"
    } >>"$SETUP_LOG" 2>&1; then
        tail -n 20 "$SETUP_LOG" >&2 || true
        die "openssl could not make the test certificates (full output in $SETUP_LOG)"
    fi
    as_root install -d -m 0755 "$TLS_DIR" &&
        as_root install -m 0644 "$tmp/ca.crt" "$tmp/server.crt" "$TLS_DIR/" &&
        as_root install -m 0600 "$tmp/ca.key" "$tmp/server.key" "$TLS_DIR/" ||
        die "could not install the test certificates in $TLS_DIR"
    rm -rf "$tmp"
    trap - EXIT
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
    if [ "$DBCHUNK_TEST_PG_URL" != "$PG_DEFAULT_URL" ]; then
        log "DBCHUNK_TEST_PG_URL is set to a non-default URL; not provisioning a local PostgreSQL"
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
    pg_tcp -d test -c 'select 1' >/dev/null || die "cannot connect to $DBCHUNK_TEST_PG_URL"
    ensure_postgres_tls
    log "PostgreSQL ok: $DBCHUNK_TEST_PG_URL (TLS with $DBCHUNK_TEST_TLS_CA)"
}

# A TLS session whose certificate checks out against the test CA?
pg_tls_ok() {
    [ "$(psql -X -w -q -A -t "host=$PG_HOST port=$PG_PORT user=postgres dbname=postgres sslmode=verify-full sslrootcert=$DBCHUNK_TEST_TLS_CA" \
        -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' </dev/null 2>/dev/null)" = t ]
}

ensure_postgres_tls() {
    ensure_test_certs
    install_server_key postgres
    pg_tls_ok && return 0
    # ssl and the certificate files take effect on a reload (no restart);
    # "host" lines in pg_hba.conf match TLS and plain connections alike.
    log "enabling TLS on PostgreSQL with the test certificate"
    pg_tcp -d postgres \
        -c "ALTER SYSTEM SET ssl_cert_file = '$TLS_DIR/server.crt'" \
        -c "ALTER SYSTEM SET ssl_key_file = '$TLS_DIR/server-postgres.key'" \
        -c "ALTER SYSTEM SET ssl = on" \
        -c "SELECT pg_reload_conf()" >/dev/null || die "could not turn on TLS in PostgreSQL"
    wait_for 10 pg_tls_ok ||
        die "PostgreSQL does not serve the test certificate after a reload (see /var/log/postgresql/ and $TLS_DIR)"
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
    if [ "$DBCHUNK_TEST_MYSQL_URL" != "$MY_DEFAULT_URL" ]; then
        log "DBCHUNK_TEST_MYSQL_URL is set to a non-default URL; not provisioning a local MariaDB"
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
    ensure_mariadb_tls
    if [ "$(my_tcp -e 'SELECT @@GLOBAL.local_infile')" != "1" ]; then
        log "enabling MariaDB local_infile"
        my_tcp -e 'SET GLOBAL local_infile = 1' || die "could not enable local_infile"
    fi
    my_tcp -D test -e 'select 1' >/dev/null || die "cannot connect to $DBCHUNK_TEST_MYSQL_URL"
    log "MariaDB ok: $DBCHUNK_TEST_MYSQL_URL (TLS with $DBCHUNK_TEST_TLS_CA)"
}

MY_TLS_CNF_DIR=/etc/mysql/mariadb.conf.d
MY_TLS_CNF="$MY_TLS_CNF_DIR/90-dbchunk-test.cnf"

# A TLS session whose certificate checks out against the test CA?
my_tls_ok() {
    local cipher
    cipher=$(mariadb --no-defaults --protocol=TCP -h "$MY_HOST" -P "$MY_PORT" -uroot --connect-timeout=5 \
        --ssl --ssl-ca="$DBCHUNK_TEST_TLS_CA" --ssl-verify-server-cert -N -B \
        -e "SHOW SESSION STATUS LIKE 'Ssl_cipher'" </dev/null 2>/dev/null | cut -f2)
    [ -n "$cipher" ]
}

# Stops the running mariadbd and starts it again, as it was started.
restart_mariadb() {
    log "restarting MariaDB to load its TLS settings"
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] &&
        systemctl is-active --quiet mariadb 2>/dev/null; then
        as_root systemctl restart mariadb || die "systemctl restart mariadb failed"
    else
        my_tcp -e 'SHUTDOWN' || die "could not shut MariaDB down for a restart"
        wait_for 60 my_port_closed ||
            die "MariaDB did not stop within 60s"
        # The port closes before the process is gone: wait for the pid file.
        local pidfile
        pidfile=$(my_print_defaults --mysqld 2>/dev/null | sed -n 's/^--pid-file=//p' | tail -1)
        [ -z "$pidfile" ] || wait_for 60 bash -c '! test -e "$1"' _ "$pidfile" ||
            die "MariaDB did not stop within 60s ($pidfile is still there)"
        start_mariadb
    fi
    local secs=$((WAIT_SECS * 2))
    wait_for "$secs" my_ping || die "MariaDB did not come back within ${secs}s (see /var/log/mysql/)"
}

ensure_mariadb_tls() {
    ensure_test_certs
    install_server_key mysql
    my_tls_ok && return 0
    # ssl_cert and ssl_key are read-only variables: they take a config file
    # and a restart. local_infile is set here too, so a restart keeps it.
    local want
    want="# Written by dbchunk scripts/test.sh: TLS for the tests.
[mariadbd]
ssl_ca = $TLS_DIR/ca.crt
ssl_cert = $TLS_DIR/server.crt
ssl_key = $TLS_DIR/server-mysql.key
local_infile = ON"
    local changed=0
    if [ "$(as_root cat "$MY_TLS_CNF" 2>/dev/null)" != "$want" ]; then
        log "writing $MY_TLS_CNF"
        as_root install -d -m 0755 "$MY_TLS_CNF_DIR" &&
            printf '%s\n' "$want" | as_root tee "$MY_TLS_CNF" >/dev/null &&
            as_root chmod 0644 "$MY_TLS_CNF" || die "could not write $MY_TLS_CNF"
        changed=1
    fi
    if ! my_print_defaults --mysqld 2>/dev/null | grep -qxF -- "--ssl_cert=$TLS_DIR/server.crt"; then
        # A my.cnf that does not read mariadb.conf.d/ (Debian's own does).
        local cnf
        cnf=$(readlink -f /etc/mysql/my.cnf)
        log "adding !includedir $MY_TLS_CNF_DIR/ to $cnf"
        printf '\n# added by dbchunk scripts/test.sh\n!includedir %s/\n' "$MY_TLS_CNF_DIR" | as_root tee -a "$cnf" >/dev/null ||
            die "could not edit $cnf"
        my_print_defaults --mysqld 2>/dev/null | grep -qxF -- "--ssl_cert=$TLS_DIR/server.crt" ||
            die "MariaDB does not read $MY_TLS_CNF (check !includedir lines in $cnf)"
        changed=1
    fi
    if [ "$changed" -eq 0 ] && [ "$(my_tcp -e 'SELECT @@have_ssl')" = YES ]; then
        # Same settings, new certificate files: reload them in place.
        log "reloading MariaDB's TLS certificate (FLUSH SSL)"
        my_tcp -e 'FLUSH SSL' || die "FLUSH SSL failed"
    else
        restart_mariadb
    fi
    wait_for 10 my_tls_ok ||
        die "MariaDB does not serve the test certificate (see /var/log/mysql/error.log and $TLS_DIR)"
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

# cargo first: no point installing databases for a run that cannot compile.
[ "${SKIP_CARGO:-0}" = "1" ] || ensure_cargo
ensure_postgres
ensure_mariadb

if [ "${SKIP_CARGO:-0}" = "1" ]; then
    log "SKIP_CARGO=1: databases ready, not running cargo test"
    exit 0
fi

cd "$REPO_ROOT"
log "running: cargo test --all-targets $*"
exec cargo test --all-targets "$@"
