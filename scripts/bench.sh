#!/usr/bin/env bash
# scripts/bench.sh - dbchunk's side-by-side benchmark (issues 4, 11 and 16).
#
# Measures, in one run, dbchunk's export strategies and import strategies
# against the tools users would pick instead (psql COPY, mariadb --batch,
# mydumper, LOAD DATA, a SQLAlchemy 2 script) on PostgreSQL, MariaDB and
# SQLite, and writes docs/benchmarks.md: median and min-max wall time,
# rows/s, MB/s, peak RSS, and the ratios the issue's targets are stated in.
#
# The formats comparison (issue 16, PostgreSQL only) puts dbchunk's Parquet
# export next to its CSV export and to ConnectorX + pyarrow
# (scripts/bench/connectorx_export.py; wall time, CPU time and peak RSS),
# zstd and gzip CSV next to plain CSV, Parquet export's peak RSS at 1M and
# 10M rows (the table accounts_10m), and Parquet import next to CSV import
# (files made by dbchunk). sling is not in it: its Parquet writer
# (sling-linux-amd64 1.4.11 from PyPI) downloads the DuckDB CLI
# at run time, which a machine without general internet access cannot do.
#
# The strategies comparison (issue 11, "Resumable at cursor speed") puts
# dbchunk's export strategies (auto, keyset, cursor, copy, and auto with
# --state, the resumable export) next to psql COPY and mariadb --quick
# --batch and to the peers a user would try instead, sling (the
# sling-linux-amd64 wheel, which carries its binary; sling's CSV output needs
# no internet) and ConnectorX + pyarrow.csv, on pgbench_accounts and typed of
# both engines; the pgbench_accounts imports (copy against psql \copy,
# load-data against LOAD DATA LOCAL INFILE); --parallel 2 against one psql
# COPY; and, with psql alone, one COPY against two at once over half the heap
# each (TID range scans) or half the keys each (scripts/bench/psql_copy.sh,
# which also records the server backends' CPU time).
#
# Expected duration on the reference machine (2 cores, 24 GiB, local
# PostgreSQL 15 and MariaDB 10.11), RUNS=3:
#   - datasets, the first time (or with --rebuild): about 1-2 minutes
#     (pgbench -i -s 50, the MariaDB copy, the typed tables, SQLite);
#   - measurements: about 27 minutes, growing linearly with RUNS (the
#     SQLAlchemy baselines are half of it), plus the strategies comparison
#     (--only strategies below);
#   - --quick: about 3 minutes;
#   - --only formats: about 5 minutes (plus about 2 minutes the first time,
#     for pgbench -i, typed and the 10M-row table accounts_10m);
#   - --only dump: about 25 minutes (pgloader's runs are most of it);
#   - --only strategies: about 20 minutes at load average 8-10 on the
#     reference machine, less on a quiet one (sling's runs are a third of it).
#
# Usage:
#   scripts/bench.sh              full run, writes docs/benchmarks.md
#   RUNS=5 scripts/bench.sh       5 runs of every command (default 3)
#   scripts/bench.sh --rebuild    recreate the datasets first
#   scripts/bench.sh --quick      small datasets (database bench_quick), RUNS=1,
#                                 report to a temporary file; tests the script
#   scripts/bench.sh --datasets-only   make the datasets (if missing) and stop
#   scripts/bench.sh --only incremental   only the incremental runs (issue 14,
#                                 scripts/bench/incremental.sh): rewrites only
#                                 the section "Incremental runs (issue 14)"
#   scripts/bench.sh --only formats    only the formats comparison (issue 16:
#                                 Parquet, gzip/zstd CSV, Parquet import), on
#                                 PostgreSQL; makes only the PostgreSQL datasets
#                                 and rewrites only the section "Formats:
#                                 Parquet and compression (issue 16)" of the
#                                 report (added before "Where the time goes"
#                                 when missing), leaving the rest as it is
#   scripts/bench.sh --only dump  only the whole-database dump, restore and
#                                 MariaDB -> PostgreSQL migration (issue 12,
#                                 scripts/bench/dump.sh): rewrites only the
#                                 section "Dump, restore and migration
#                                 (issue 12)"
#   scripts/bench.sh --only strategies  only the strategies comparison (issue
#                                 11): rewrites only the section "Resumable
#                                 at cursor speed (issue 11)"; measures the
#                                 dbchunk built from this script's worktree
#
# Needs: the local PostgreSQL (postgres@127.0.0.1:5432, trust auth) and
# MariaDB (root@127.0.0.1:3306, no password, local_infile=ON) that
# scripts/test.sh sets up (this script runs `SKIP_CARGO=1 scripts/test.sh`
# when either does not answer), root or sudo for apt-get, and cargo.
# Installs when missing: mydumper (with myloader), pgloader, GNU time,
# pgbench (postgresql-contrib or postgresql-client-NN), the sqlite3 shell,
# and (not for --only dump or incremental) a Python venv with
# sqlalchemy>=2, psycopg2-binary, pymysql, connectorx and pyarrow (pinned:
# CX_VERSION, PYARROW_VERSION below) in target/bench-venv, and there (full
# run and --only strategies) sling-linux-amd64 (pinned: SLING_VERSION).
#
# It only creates, fills and drops objects in the databases named "bench"
# (--quick: "bench_quick") and files under target/bench; the dump section
# also creates and drops the databases bench_dump_* it restores into. The split
# reads need the PostgreSQL server on this machine (its backends' CPU time is
# read from /proc). Server-wide, it
# raises MariaDB's innodb_buffer_pool_size for the run (put back at the end),
# turns on local_infile if it is off, and runs CHECKPOINT on PostgreSQL
# before each import run.
#
# Other work on the machine (a build, a test suite) slows the runs it
# overlaps: the report shows the load average when each comparison started;
# rerun on a quiet machine when it is high.
#
# Environment knobs:
#   RUNS=N                  runs per command (default 3; --quick: 1)
#   BENCH_OUT=PATH          where the Markdown report goes
#   BENCH_BUFFER_POOL=BYTES MariaDB innodb_buffer_pool_size to measure with
#                           (default 2147483648 = 2 GiB; "keep" leaves it). The
#                           old value is put back when the script ends.
#   BENCH_SKIP_BUILD=1      use target/release/dbchunk as it is
set -euo pipefail

log() { printf 'bench.sh: %s\n' "$*" >&2; }
die() {
    printf 'bench.sh: ERROR: %s\n' "$*" >&2
    exit 1
}
usage() { sed -n '/^# Usage:/,/^# Needs:/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

QUICK=0
REBUILD=0
DATASETS_ONLY=0
# ONLY: "" (everything), or one section alone: "formats" (issue 16),
# "incremental" (issue 14), "dump" (issue 12) or "strategies" (issue 11).
ONLY=""
while [ "$#" -gt 0 ]; do
    case "$1" in
    --quick) QUICK=1 ;;
    --datasets-only) DATASETS_ONLY=1 ;;
    --rebuild) REBUILD=1 ;;
    --only | --only=*)
        if [ "$1" = --only ]; then
            [ "$#" -ge 2 ] || {
                usage >&2
                exit 2
            }
            ONLY=$2
            shift
        else
            ONLY=${1#--only=}
        fi
        case "$ONLY" in
        formats | incremental | dump | strategies) ;;
        *)
            printf 'bench.sh: --only takes "formats", "incremental", "dump" or "strategies", not "%s"\n' "$ONLY" >&2
            exit 2
            ;;
        esac
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
    shift
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
BENCH_START=$(date +%s)

PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
MY_HOST=127.0.0.1
MY_PORT=3306
MY_USER=root
export PGCONNECT_TIMEOUT=10
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

if [ "$QUICK" -eq 1 ]; then
    DB=bench_quick
    SCALE=1
    TYPED_ROWS=50000
    RUNS="${RUNS:-1}"
    WORK="$REPO_ROOT/target/bench/quick"
    OUT_MD="${BENCH_OUT:-$(mktemp "${TMPDIR:-/tmp}/dbchunk-bench-quick.XXXXXX.md")}"
else
    DB=bench
    SCALE=50
    TYPED_ROWS=1000000
    RUNS="${RUNS:-3}"
    WORK="$REPO_ROOT/target/bench"
    OUT_MD="${BENCH_OUT:-$REPO_ROOT/docs/benchmarks.md}"
fi
case "$RUNS" in '' | *[!0-9]* | 0) die "RUNS must be a positive number, got '$RUNS'" ;; esac
ACCOUNTS_ROWS=$((SCALE * 100000))
# The "1M rows" of the memory comparison and of the pgbench_accounts import
# (1/5 of pgbench_accounts: 1,000,000 rows at full size).
SUBSET_ROWS=$((ACCOUNTS_ROWS / 5))
# Rows the offset strategy reads (--limit): 200,000 at full size.
OFFSET_ROWS=$((TYPED_ROWS / 5))
TYPED_VERSION="dbchunk-bench typed v1, $TYPED_ROWS rows"
# The narrow table whose Parquet export's peak RSS is measured at 1/10 of its
# rows (--limit) and at all of them: 10,000,000 rows at full size, the shape
# of pgbench_accounts.
NARROW_ROWS=$((ACCOUNTS_ROWS * 2))
NARROW_SMALL=$((NARROW_ROWS / 10))
NARROW_VERSION="dbchunk-bench accounts_10m v1, $NARROW_ROWS rows"
CHUNK=5000

PG_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB"
MY_URL="mysql://$MY_USER@$MY_HOST:$MY_PORT/$DB"
SQLITE_DB="$WORK/typed.db"
SQLITE_URL="sqlite://$SQLITE_DB"
SQLITE_IMPORT_DB="$WORK/import.db"
SA_PG_URL="postgresql+psycopg2://$PG_USER@$PG_HOST:$PG_PORT/$DB"
SA_MY_URL="mysql+pymysql://$MY_USER@$MY_HOST:$MY_PORT/$DB?charset=utf8mb4"
SA_SQLITE_URL="sqlite:///$SQLITE_DB"
SA_SQLITE_IMPORT_URL="sqlite:///$SQLITE_IMPORT_DB"
VENV="$REPO_ROOT/target/bench-venv"
PY="$VENV/bin/python"
SA_EXPORT="$REPO_ROOT/scripts/bench/sqlalchemy_export.py"
SA_IMPORT="$REPO_ROOT/scripts/bench/sqlalchemy_import.py"
CX_EXPORT="$REPO_ROOT/scripts/bench/connectorx_export.py"
CX_PG_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$DB"
# The Arrow peers of the formats comparison, pinned so that reruns compare
# the same thing.
CX_VERSION=0.4.6
# The strategies comparison's sling (issue 11): the sling-linux-amd64 wheel,
# whose package carries the binary. The package named `sling` downloads its
# binary from the internet on first use instead, which a machine without
# general internet access cannot do.
SLING_VERSION=1.4.11
SLING=""
PYARROW_VERSION=26.0.1

mkdir -p "$WORK"
# Outputs of the measured commands go to memory (tmpfs) when there is one,
# so that no command waits on the disk and no write-back runs into the next.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    SCRATCH=$(mktemp -d /dev/shm/dbchunk-bench.XXXXXX)
else
    SCRATCH=$(mktemp -d "$WORK/scratch.XXXXXX")
fi
RESULTS="$WORK/results.tsv"
# The split-read runs' server-side CPU time (case, run, seconds).
SERVER_CPU="$WORK/server_cpu.tsv"
CASES="$WORK/cases.tsv"
GROUPS_FILE="$WORK/groups.tsv"
META="$WORK/meta.tsv"
: >"$RESULTS"
: >"$CASES"
: >"$GROUPS_FILE"
: >"$META"
: >"$SERVER_CPU"

# ---------------------------------------------------------------------------
# privileges, packages

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
as_root() {
    if [ "$IS_ROOT" -eq 1 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

SETUP_LOG="$WORK/setup.log"
APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install these packages by hand: $*"
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update (output in $SETUP_LOG)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 update \
            </dev/null >>"$SETUP_LOG" 2>&1 || die "apt-get update failed (see $SETUP_LOG)"
        APT_UPDATED=1
    fi
    log "apt-get install $* (output in $SETUP_LOG)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 \
        --no-install-recommends install "$@" </dev/null >>"$SETUP_LOG" 2>&1
}

# The Python venv: the SQLAlchemy and Arrow baselines and the report
# (report.py); the incremental and dump sections write their own Markdown.
needs_venv() { [ -z "$ONLY" ] || [ "$ONLY" = formats ] || [ "$ONLY" = strategies ]; }

install_tools() {
    local pkgs=()
    command -v mydumper >/dev/null 2>&1 && command -v myloader >/dev/null 2>&1 || pkgs+=(mydumper)
    command -v pgloader >/dev/null 2>&1 || pkgs+=(pgloader)
    [ -x /usr/bin/time ] || pkgs+=(time)
    command -v sqlite3 >/dev/null 2>&1 || pkgs+=(sqlite3)
    command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
    if needs_venv && [ ! -x "$PY" ] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        pkgs+=(python3-venv)
    fi
    if [ "${#pkgs[@]}" -gt 0 ]; then apt_install "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed (see $SETUP_LOG)"; fi

    # pgbench: in the server package up to PostgreSQL 15 on Debian (pulled in
    # by postgresql-contrib), in postgresql-client-NN from 16 on.
    if ! pgbench --version >/dev/null 2>&1; then
        local major
        major=$(psql --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
        apt_install postgresql-contrib || true
        pgbench --version >/dev/null 2>&1 || apt_install "postgresql-client-$major" || true
        pgbench --version >/dev/null 2>&1 || die "pgbench not found after installing postgresql-contrib and postgresql-client-$major"
    fi
    needs_venv || return 0

    if ! "$PY" -c 'import sqlalchemy, psycopg2, pymysql, sys; sys.exit(int(sqlalchemy.__version__.split(".")[0]) < 2)' \
        >/dev/null 2>&1; then
        log "creating the Python venv $VENV (sqlalchemy>=2, psycopg2-binary, pymysql)"
        python3 -m venv "$VENV" || die "python3 -m venv failed"
        "$VENV/bin/pip" install -q --disable-pip-version-check 'sqlalchemy>=2' psycopg2-binary pymysql \
            >>"$SETUP_LOG" 2>&1 || die "pip install into $VENV failed (see $SETUP_LOG)"
    fi
    if ! "$PY" -c "import connectorx, pyarrow, sys
sys.exit(connectorx.__version__ != '$CX_VERSION' or pyarrow.__version__ != '$PYARROW_VERSION')" >/dev/null 2>&1; then
        log "installing connectorx==$CX_VERSION and pyarrow==$PYARROW_VERSION into $VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check "connectorx==$CX_VERSION" "pyarrow==$PYARROW_VERSION" \
            >>"$SETUP_LOG" 2>&1 || die "pip install connectorx pyarrow into $VENV failed (see $SETUP_LOG)"
    fi
    install_sling
}

# sling's wheel is for x86-64 Linux only: elsewhere its rows are left out.
install_sling() {
    [ -z "$ONLY" ] || [ "$ONLY" = strategies ] || return 0
    if [ "$(uname -sm)" != "Linux x86_64" ]; then
        log "sling-linux-amd64 does not run on $(uname -sm): the comparison leaves sling out"
        return 0
    fi
    if [ "$("$PY" -c 'import sling_linux_amd64 as s; print(s.SLING_VERSION)' 2>/dev/null)" != "$SLING_VERSION" ]; then
        log "installing sling-linux-amd64==$SLING_VERSION into $VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check "sling-linux-amd64==$SLING_VERSION" \
            >>"$SETUP_LOG" 2>&1 || die "pip install sling-linux-amd64 into $VENV failed (see $SETUP_LOG)"
    fi
    SLING=$("$PY" -c 'import sling_linux_amd64 as s; print(s.SLING_BIN)')
    [ -x "$SLING" ] || die "the sling-linux-amd64 package has no binary at $SLING"
}

find_cargo() {
    if command -v cargo >/dev/null 2>&1; then
        CARGO=cargo
    elif [ -x "$HOME/.cargo/bin/cargo" ]; then
        CARGO="$HOME/.cargo/bin/cargo"
    else
        die "cargo not found (install Rust 1.85+ with rustup)"
    fi
}

build_dbchunk() {
    find_cargo
    if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
        log "cargo build --release"
        "$CARGO" build --release --quiet || die "cargo build --release failed"
    fi
    [ -x target/release/dbchunk ] || die "target/release/dbchunk is missing"
    # Measure a copy, so that a rebuild during the run cannot swap the binary.
    DBCHUNK="$WORK/dbchunk"
    cp target/release/dbchunk "$DBCHUNK"
    # The source the measured binary was built from, taken now: edits made
    # while the benchmark runs are not in it.
    BUILT_COMMIT=$(git -C "$REPO_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
    BUILT_DIRTY=""
    if [ -n "$(git -C "$REPO_ROOT" status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
        BUILT_DIRTY=" (with uncommitted changes in src/)"
    fi
}

# ---------------------------------------------------------------------------
# database helpers

pg() { psql -X -w -q -A -t -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@" </dev/null; }
pgdb() { pg -d "$DB" "$@"; }
my() { mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --default-character-set=utf8mb4 "$@" </dev/null; }
mydb() { my -N -B "$DB" "$@"; }

ensure_servers() {
    if ! pg -d postgres -c 'select 1' >/dev/null 2>&1 || ! my -N -e 'select 1' >/dev/null 2>&1; then
        log "PostgreSQL or MariaDB does not answer: running SKIP_CARGO=1 scripts/test.sh to set them up"
        SKIP_CARGO=1 "$REPO_ROOT/scripts/test.sh" || die "scripts/test.sh could not provide the servers"
    fi
    pg -d postgres -c 'select 1' >/dev/null || die "cannot connect to PostgreSQL at $PG_HOST:$PG_PORT as $PG_USER"
    my -N -e 'select 1' >/dev/null || die "cannot connect to MariaDB at $MY_HOST:$MY_PORT as $MY_USER"
    if [ "$(pg -d postgres -c "select 1 from pg_database where datname = '$DB'")" != 1 ]; then
        log "creating PostgreSQL database $DB"
        pg -d postgres -c "create database $DB template template0 encoding 'UTF8' lc_collate 'C.UTF-8' lc_ctype 'C.UTF-8'"
    fi
    my -e "CREATE DATABASE IF NOT EXISTS \`$DB\` CHARACTER SET utf8mb4"
    [ "$(my -N -e 'select @@local_infile')" = 1 ] || my -e 'SET GLOBAL local_infile = 1'
}

# MariaDB's buffer pool: 128 MB by default, which makes every large scan a
# disk read (InnoDB reads with O_DIRECT). Raised for the run, put back after.
ORIG_BUFFER_POOL=""
set_buffer_pool() {
    ORIG_BUFFER_POOL=$(my -N -e 'select @@innodb_buffer_pool_size')
    local want="${BENCH_BUFFER_POOL:-2147483648}"
    if [ "$want" = keep ] || [ "$ORIG_BUFFER_POOL" -ge "$want" ]; then
        ORIG_BUFFER_POOL=""
        return 0
    fi
    log "SET GLOBAL innodb_buffer_pool_size = $want (was $ORIG_BUFFER_POOL; put back at the end)"
    my -e "SET GLOBAL innodb_buffer_pool_size = $want" || {
        log "could not resize the buffer pool; measuring with $ORIG_BUFFER_POOL"
        ORIG_BUFFER_POOL=""
        return 0
    }
    local i
    for ((i = 0; i < 120; i++)); do
        case "$(my -N -e "show status like 'Innodb_buffer_pool_resize_status'" | cut -f2)" in
        *omplete* | "") break ;;
        esac
        sleep 0.5
    done
}
restore_buffer_pool() {
    if [ -n "$ORIG_BUFFER_POOL" ]; then
        my -e "SET GLOBAL innodb_buffer_pool_size = $ORIG_BUFFER_POOL" >/dev/null 2>&1 || true
        ORIG_BUFFER_POOL=""
    fi
}

cleanup() {
    restore_buffer_pool
    rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# datasets

# The typed table: one column per kind of the export issue's type table,
# about 10% NULLs in each nullable column, text with quotes, commas, line
# breaks, tabs, backslashes and non-ASCII. Deterministic: the same rows in
# both engines (bytes and uuids from md5 of the id).
PG_TYPED_SQL=$(
    cat <<'SQL'
DROP TABLE IF EXISTS typed;
CREATE TABLE typed (
    id   bigint PRIMARY KEY,
    i    integer,
    b    bigint,
    n    numeric(20,6),
    d    double precision,
    flag boolean,
    t    text,
    ts   timestamp,
    tstz timestamptz,
    j    json,
    bin  bytea,
    u    uuid
);
INSERT INTO typed
SELECT g,
    CASE WHEN g % 10 <> 1 THEN (g * 7919) % 2000001 - 1000000 END,
    CASE WHEN g % 10 <> 2 THEN g * 1000000007 END,
    CASE WHEN g % 10 <> 3 THEN (g % 100000 - 50000) * 1234.567891 END,
    CASE WHEN g % 10 <> 4 THEN g::float8 / 7 END,
    CASE WHEN g % 10 <> 5 THEN g % 3 = 0 END,
    CASE WHEN g % 10 <> 6 THEN CASE g % 5
        WHEN 0 THEN 'plain text ' || g
        WHEN 1 THEN 'has "double quotes", commas, and ''single'' quotes ' || g
        WHEN 2 THEN E'first line\nsecond line\r\nthird line ' || g
        WHEN 3 THEN 'unicode: Zoë Müller, Ελληνικά, 日本語, emoji 🚀 ' || g
        ELSE E'tab\there, back\\slash ' || g END END,
    CASE WHEN g % 10 <> 7 THEN timestamp '2020-01-01 00:00:00' + g * interval '37 seconds'
        + (g % 1000) * interval '1 millisecond' END,
    CASE WHEN g % 10 <> 8 THEN timestamptz '2000-01-01 00:00:00+00' + g * interval '53 seconds'
        + (g % 7) * interval '500 milliseconds' END,
    CASE WHEN g % 10 <> 9 THEN ('{"id": ' || g || ', "tag": "t' || g % 100 || '", "arr": [' || g % 7
        || ', ' || g % 11 || '], "ok": ' || (g % 2 = 0) || '}')::json END,
    CASE WHEN g % 10 <> 0 THEN decode(md5(g::text), 'hex') END,
    CASE WHEN g % 20 <> 13 THEN md5('u' || g)::uuid END
FROM generate_series(1::bigint, @ROWS@) AS g;
COMMENT ON TABLE typed IS '@VERSION@';
SQL
)

MY_TYPED_SQL=$(
    cat <<'SQL'
SET time_zone = '+00:00';
DROP TABLE IF EXISTS typed;
CREATE TABLE typed (
    id   bigint NOT NULL PRIMARY KEY,
    i    int,
    b    bigint,
    n    decimal(20,6),
    d    double,
    flag tinyint(1),
    t    text,
    ts   datetime(6),
    tstz timestamp(6) NULL,
    j    json,
    bin  varbinary(16),
    u    char(36)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='@VERSION@';
INSERT INTO typed
SELECT g,
    IF(g % 10 <> 1, (g * 7919) % 2000001 - 1000000, NULL),
    IF(g % 10 <> 2, g * 1000000007, NULL),
    IF(g % 10 <> 3, (g % 100000 - 50000) * 1234.567891, NULL),
    IF(g % 10 <> 4, g / 7e0, NULL),
    IF(g % 10 <> 5, g % 3 = 0, NULL),
    IF(g % 10 <> 6, CASE g % 5
        WHEN 0 THEN CONCAT('plain text ', g)
        WHEN 1 THEN CONCAT('has "double quotes", commas, and ''single'' quotes ', g)
        WHEN 2 THEN CONCAT('first line', CHAR(10 USING utf8mb4), 'second line', CHAR(13, 10 USING utf8mb4),
                           'third line ', g)
        WHEN 3 THEN CONCAT('unicode: Zoë Müller, Ελληνικά, 日本語, emoji 🚀 ', g)
        ELSE CONCAT('tab', CHAR(9 USING utf8mb4), 'here, back\\slash ', g) END, NULL),
    IF(g % 10 <> 7, TIMESTAMP'2020-01-01 00:00:00' + INTERVAL g * 37 SECOND
        + INTERVAL (g % 1000) * 1000 MICROSECOND, NULL),
    IF(g % 10 <> 8, TIMESTAMP'2000-01-01 00:00:00' + INTERVAL g * 53 SECOND
        + INTERVAL (g % 7) * 500000 MICROSECOND, NULL),
    IF(g % 10 <> 9, CONCAT('{"id": ', g, ', "tag": "t', g % 100, '", "arr": [', g % 7, ', ', g % 11,
        '], "ok": ', IF(g % 2 = 0, 'true', 'false'), '}'), NULL),
    IF(g % 10 <> 0, UNHEX(MD5(g)), NULL),
    IF(g % 20 <> 13, CONCAT_WS('-', SUBSTR(m, 1, 8), SUBSTR(m, 9, 4), SUBSTR(m, 13, 4), SUBSTR(m, 17, 4),
        SUBSTR(m, 21, 12)), NULL)
FROM (SELECT CAST(seq AS SIGNED) AS g, MD5(CONCAT('u', seq)) AS m FROM seq_1_to_@ROWS@) AS s;
ANALYZE TABLE typed;
SQL
)

SQLITE_TYPED_DDL='CREATE TABLE typed (id INTEGER PRIMARY KEY, i INTEGER, b INTEGER, n TEXT, d REAL, flag INTEGER,
    t TEXT, ts TEXT, tstz TEXT, j TEXT, bin BLOB, u TEXT)'

fill() { # SQL: substitute @ROWS@ and @VERSION@
    local s=$1
    s=${s//@ROWS@/$TYPED_ROWS}
    printf '%s\n' "${s//@VERSION@/$TYPED_VERSION}"
}

pg_count() {
    if [ "$(pgdb -c "select to_regclass('$1') is not null")" = t ]; then
        pgdb -c "select count(*) from $1"
    else
        echo -1
    fi
}
my_count() {
    if [ "$(mydb -e "select count(*) from information_schema.tables where table_schema = '$DB' and table_name = '$1'")" = 1 ]; then
        mydb -e "select count(*) from \`$1\`"
    else
        echo -1
    fi
}
sqlite_state() { # prints "rows user_version", or "-1 0"
    "$PY" - "$1" <<'PY'
import os, sqlite3, sys
path = sys.argv[1]
if not os.path.exists(path):
    print(-1, 0); sys.exit()
db = sqlite3.connect(path)
try:
    print(db.execute("select count(*) from typed").fetchone()[0], db.execute("pragma user_version").fetchone()[0])
except sqlite3.Error:
    print(-1, 0)
PY
}

REBUILT_PG_TYPED=0
datasets() {
    local t0 n
    t0=$(date +%s)

    # PostgreSQL pgbench_accounts
    n=$(pg_count pgbench_accounts)
    if [ "$REBUILD" -eq 1 ] || [ "$n" != "$ACCOUNTS_ROWS" ]; then
        log "PostgreSQL $DB: pgbench -i -s $SCALE ($ACCOUNTS_ROWS rows in pgbench_accounts)"
        pgbench -i -s "$SCALE" -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$DB" >>"$SETUP_LOG" 2>&1 ||
            die "pgbench -i failed (see $SETUP_LOG)"
    fi

    # typed, PostgreSQL
    n=$(pg_count typed)
    if [ "$REBUILD" -eq 1 ] || [ "$n" != "$TYPED_ROWS" ] ||
        [ "$(pgdb -c "select obj_description('typed'::regclass, 'pg_class')")" != "$TYPED_VERSION" ]; then
        log "PostgreSQL $DB: typed ($TYPED_ROWS rows)"
        fill "$PG_TYPED_SQL" | psql -X -w -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" \
            >/dev/null || die "creating PostgreSQL typed failed"
        pgdb -c 'VACUUM (FREEZE, ANALYZE) typed'
        REBUILT_PG_TYPED=1
    fi

    # accounts_10m, PostgreSQL: the formats comparison's memory rows
    n=$(pg_count accounts_10m)
    if { [ -z "$ONLY" ] || [ "$ONLY" = formats ]; } && { [ "$REBUILD" -eq 1 ] || [ "$n" != "$NARROW_ROWS" ] ||
        [ "$(pgdb -c "select obj_description('accounts_10m'::regclass, 'pg_class')")" != "$NARROW_VERSION" ]; }; then
        log "PostgreSQL $DB: accounts_10m ($NARROW_ROWS rows, the shape of pgbench_accounts)"
        pgdb -c "DROP TABLE IF EXISTS accounts_10m;
            CREATE TABLE accounts_10m (aid int NOT NULL, bid int, abalance int, filler char(84));
            INSERT INTO accounts_10m SELECT g, (g - 1) / 100000 + 1, (g::bigint * 7919) % 10001 - 5000, ''
                FROM generate_series(1, $NARROW_ROWS) AS g;
            ALTER TABLE accounts_10m ADD PRIMARY KEY (aid);
            COMMENT ON TABLE accounts_10m IS '$NARROW_VERSION';" || die "creating PostgreSQL accounts_10m failed"
        pgdb -c 'VACUUM (FREEZE, ANALYZE) accounts_10m'
    fi

    if [ "$ONLY" = formats ] || [ "$ONLY" = incremental ]; then
        log "datasets ready ($(($(date +%s) - t0)) s; --only $ONLY: PostgreSQL's only)"
        return 0
    fi

    # MariaDB pgbench_accounts: the same rows, through COPY text and LOAD DATA
    n=$(my_count pgbench_accounts)
    if [ "$REBUILD" -eq 1 ] || [ "$n" != "$ACCOUNTS_ROWS" ]; then
        log "MariaDB $DB: pgbench_accounts ($ACCOUNTS_ROWS rows copied from PostgreSQL)"
        local f="$SCRATCH/accounts.tsv"
        pgdb -c "COPY (SELECT aid, bid, abalance, filler FROM pgbench_accounts ORDER BY aid) TO STDOUT" >"$f"
        mydb -e "DROP TABLE IF EXISTS pgbench_accounts;
            CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84),
                PRIMARY KEY (aid)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"
        mydb --local-infile=1 -e "SET unique_checks = 0; LOAD DATA LOCAL INFILE '$f' INTO TABLE pgbench_accounts;
            ANALYZE TABLE pgbench_accounts;" >/dev/null
        rm -f "$f"
        n=$(my_count pgbench_accounts)
        [ "$n" = "$ACCOUNTS_ROWS" ] || die "MariaDB pgbench_accounts has $n rows after loading, not $ACCOUNTS_ROWS"
    fi

    # pgbench's three other tables, MariaDB: the same rows, so that a dump
    # of the database (issue 12) holds all four on both engines
    # (pgbench_history is empty after pgbench -i, on both).
    if [ "$REBUILD" -eq 1 ] || [ "$(my_count pgbench_branches)" != "$SCALE" ] ||
        [ "$(my_count pgbench_tellers)" != $((SCALE * 10)) ] || [ "$(my_count pgbench_history)" = -1 ]; then
        log "MariaDB $DB: pgbench_branches, pgbench_tellers, pgbench_history (copied from PostgreSQL)"
        mydb -e "DROP TABLE IF EXISTS pgbench_branches, pgbench_tellers, pgbench_history;
            CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88), PRIMARY KEY (bid))
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84), PRIMARY KEY (tid))
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
            CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime datetime, filler char(22))
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;"
        local t
        for t in pgbench_branches pgbench_tellers pgbench_history; do
            pgdb -c "COPY $t TO STDOUT" >"$SCRATCH/$t.tsv"
            mydb --local-infile=1 -e "LOAD DATA LOCAL INFILE '$SCRATCH/$t.tsv' INTO TABLE $t; ANALYZE TABLE $t;" >/dev/null
            rm -f "$SCRATCH/$t.tsv"
        done
        [ "$(my_count pgbench_tellers)" = $((SCALE * 10)) ] || die "MariaDB pgbench_tellers is not as in PostgreSQL"
    fi

    # typed, MariaDB
    n=$(my_count typed)
    if [ "$REBUILD" -eq 1 ] || [ "$n" != "$TYPED_ROWS" ] ||
        [ "$(mydb -e "select table_comment from information_schema.tables where table_schema = '$DB' and table_name = 'typed'")" != "$TYPED_VERSION" ]; then
        log "MariaDB $DB: typed ($TYPED_ROWS rows)"
        fill "$MY_TYPED_SQL" | mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --default-character-set=utf8mb4 "$DB" \
            >/dev/null || die "creating MariaDB typed failed"
    fi

    if [ "$ONLY" = dump ] || [ "$ONLY" = strategies ]; then
        log "datasets ready ($(($(date +%s) - t0)) s; --only $ONLY: PostgreSQL's and MariaDB's)"
        return 0
    fi

    # typed, SQLite: PostgreSQL's rows exported and imported by dbchunk itself
    local state
    state=$(sqlite_state "$SQLITE_DB")
    if [ "$REBUILD" -eq 1 ] || [ "$REBUILT_PG_TYPED" -eq 1 ] || [ "$state" != "$TYPED_ROWS 1" ]; then
        log "SQLite $SQLITE_DB: typed ($TYPED_ROWS rows, exported from PostgreSQL and imported with dbchunk)"
        rm -f "$SQLITE_DB"
        "$PY" -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit()' \
            "$SQLITE_DB" "$SQLITE_TYPED_DDL"
        "$DBCHUNK" export --url "$PG_URL" --key id --format csv --query \
            'SELECT id, i, b, n, d, flag::int AS flag, t, ts, tstz, j, bin, u FROM typed' >"$SCRATCH/typed_sqlite.csv" ||
            die "exporting typed from PostgreSQL for SQLite failed"
        "$DBCHUNK" import --url "$SQLITE_URL" --table typed --input "$SCRATCH/typed_sqlite.csv" --quiet ||
            die "importing typed into SQLite failed"
        rm -f "$SCRATCH/typed_sqlite.csv"
        "$PY" -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("pragma user_version = 1"); db.commit()' \
            "$SQLITE_DB"
        state=$(sqlite_state "$SQLITE_DB")
        [ "$state" = "$TYPED_ROWS 1" ] || die "SQLite typed has '$state' (rows user_version) after loading"
    fi
    log "datasets ready ($(($(date +%s) - t0)) s)"
}

# ---------------------------------------------------------------------------
# measuring

# shq ARGS...: the arguments as one shell-quoted line (for the report).
shq() {
    local a e words=()
    for a in "$@"; do
        if [[ "$a" =~ ^[][A-Za-z0-9_./:=@%+,{}^-]+$ ]]; then
            words+=("$a")
        elif [[ "$a" != *"'"* ]]; then
            words+=("'$a'")
        else
            e=${a//\\/\\\\}
            e=${e//\"/\\\"}
            e=${e//\$/\\\$}
            e=${e//\`/\\\`}
            words+=("\"$e\"")
        fi
    done
    printf '%s' "${words[*]}"
}
# pretty: replace this machine's paths with the names a reader knows.
pretty() {
    local s=$1
    s=${s//"$DBCHUNK"/dbchunk}
    s=${s//"$PY"/python}
    [ -z "$SLING" ] || s=${s//"$SLING"/sling}
    s=${s//"$REPO_ROOT/"/}
    s=${s//"$SCRATCH"/\$TMP}
    printf '%s' "$s"
}

# group ID TITLE BASELINE_CASE_ID NOTE (also records the 1-minute load average)
group() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$(cut -d' ' -f1 /proc/loadavg)" >>"$GROUPS_FILE"; }

RUN=1
# bench GROUP CASE_ID LABEL ROWS -- CMD...
#   Runs CMD once (the RUN-th time), timed, and appends a line to $RESULTS.
#   stdout goes to $SCRATCH/out and counts as the output bytes, unless
#   B_DIR (an output directory: bytes = its *.sql/*.csv files), B_FILE (an
#   output file the command writes itself: bytes = its size, stdout
#   discarded) or B_INPUT (an import: bytes = the input file, stdout
#   discarded) is set. Records wall time, peak RSS and CPU time (user+sys).
#   B_PRE / B_POST: commands run before / after (untimed); a failing B_POST
#   (an import check) marks the run failed.
bench() {
    local group=$1 id=$2 label=$3 rows=$4
    shift 4
    [ "$1" = -- ] && shift
    local out="$SCRATCH/out" errf="$SCRATCH/err" tf="$SCRATCH/time"
    if [ "$RUN" -eq 1 ]; then
        local shown
        shown=$(pretty "$(shq "$@")")
        if [ -n "${B_INPUT:-}${B_DIR:-}${B_FILE:-}" ]; then :; else shown="$shown > \$TMP/out"; fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$group" "$label" "$rows" "$shown" >>"$CASES"
    fi
    rm -rf "$out" "$errf" "$tf"
    local status=ok
    if [ -n "${B_PRE:-}" ]; then
        if ! eval "$B_PRE" >"$errf" 2>&1; then status="fail: setup: $(tail -n 1 "$errf")"; fi
    fi
    if [ -n "${B_DIR:-}" ]; then
        rm -rf "$B_DIR"
        mkdir -p "$B_DIR"
    fi
    [ -n "${B_FILE:-}" ] && rm -f "$B_FILE"
    local t0 t1 rc=0 wall rss=0 bytes=0 cpu=0
    if [ "$status" = ok ]; then
        t0=$(date +%s%N)
        if [ -n "${B_INPUT:-}${B_DIR:-}${B_FILE:-}" ]; then
            /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >/dev/null 2>"$errf" || rc=$?
        else
            /usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >"$out" 2>"$errf" || rc=$?
        fi
        t1=$(date +%s%N)
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
        rss=$(tail -n 1 "$tf" 2>/dev/null | awk '{ print $2 + 0 }')
        # CPU time of the command (user + sys, its threads and waited-for
        # children): the client's side only, the database server's is not in it.
        cpu=$(tail -n 1 "$tf" 2>/dev/null | awk '{ printf "%.2f", $3 + $4 }')
        if [ -n "${B_INPUT:-}" ]; then
            bytes=$(stat -c %s "$B_INPUT")
        elif [ -n "${B_FILE:-}" ]; then
            bytes=$(stat -c %s "$B_FILE" 2>/dev/null || echo 0)
        elif [ -n "${B_DIR:-}" ]; then
            bytes=$(find "$B_DIR" -type f \( -name '*.sql' -o -name '*.csv' \) ! -name '*-schema*' -printf '%s\n' |
                awk '{ s += $1 } END { print s + 0 }')
        else
            bytes=$(stat -c %s "$out")
        fi
        if [ "$rc" -ne 0 ]; then
            status="fail: exit $rc: $(grep -v '^Command exited' "$errf" | tail -n 1 | cut -c1-300)"
        elif [ -n "${B_POST:-}" ] && ! eval "$B_POST" >"$errf" 2>&1; then
            status="fail: check: $(tail -n 1 "$errf" | cut -c1-300)"
        fi
    else
        wall=0
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$RUN" "$status" "$wall" "$rss" "$bytes" "$rows" "$cpu" \
        >>"$RESULTS"
    if [ "$status" = ok ]; then
        printf 'bench.sh:   run %d  %-36s %8.2f s %8.2f s cpu %8.1f MB %-3s %6.1f MB rss\n' "$RUN" "$label" "$wall" \
            "$cpu" "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$([ -n "${B_INPUT:-}" ] && echo in || echo out)" \
            "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" >&2
    else
        printf 'bench.sh:   run %d  %-36s %s\n' "$RUN" "$label" "$status" >&2
    fi
    rm -rf "$out"
    [ -n "${B_DIR:-}" ] && rm -rf "$B_DIR"
    [ -n "${B_FILE:-}" ] && rm -f "$B_FILE"
    return 0
}

# rounds FUNCTION ARGS...: call FUNCTION (which runs each command of one
# comparison once) RUNS times; the commands take turns, so that a slow
# minute on the machine spreads over all of them rather than one.
rounds() {
    for ((RUN = 1; RUN <= RUNS; RUN++)); do "$@"; done
    RUN=1
}

warm_pg() { pgdb -c "COPY (SELECT * FROM $1) TO STDOUT" >/dev/null; }
warm_my() { mydb --quick -e "SELECT * FROM \`$1\`" >/dev/null; }

# --- export ------------------------------------------------------------------

# offset re-reads every earlier row for each chunk, so a whole 1M-row table
# costs O(rows^2/chunk): measured here at 167 s on PostgreSQL, 51 s on MariaDB
# and 12 s on SQLite for one run. It runs on the first OFFSET_ROWS rows only
# (--limit), next to keyset with the same --limit.
offset_cases() { # GROUP URL TABLE
    local g=$1 url=$2 table=$3 f
    for f in csv ndjson; do
        bench "$g" "$g.dbchunk-offset-$f-limit" "dbchunk offset $f --limit $OFFSET_ROWS" "$OFFSET_ROWS" -- \
            "$DBCHUNK" export --url "$url" --table "$table" --strategy offset --format "$f" --chunk "$CHUNK" \
            --limit "$OFFSET_ROWS" --quiet
    done
    bench "$g" "$g.dbchunk-keyset-csv-limit" "dbchunk keyset csv --limit $OFFSET_ROWS" "$OFFSET_ROWS" -- \
        "$DBCHUNK" export --url "$url" --table "$table" --strategy keyset --format csv --chunk "$CHUNK" \
        --limit "$OFFSET_ROWS"
}

# Each of dbchunk's STRATEGIES, in CSV and in NDJSON.
strategy_cases() { # GROUP URL TABLE ROWS STRATEGIES...
    local g=$1 url=$2 table=$3 rows=$4 f s
    shift 4
    for f in csv ndjson; do
        for s in "$@"; do
            bench "$g" "$g.dbchunk-$s-$f" "dbchunk $s $f" "$rows" -- \
                "$DBCHUNK" export --url "$url" --table "$table" --strategy "$s" --format "$f" --chunk "$CHUNK"
        done
    done
}

# --parallel 2, where this build of dbchunk has it.
parallel_case() { # GROUP URL TABLE ROWS
    local g=$1 url=$2 table=$3 rows=$4
    if [ "$HAS_PARALLEL" -eq 1 ]; then
        bench "$g" "$g.dbchunk-parallel2-csv" "dbchunk auto --parallel 2 csv" "$rows" -- \
            "$DBCHUNK" export --url "$url" --table "$table" --parallel 2 --format csv --chunk "$CHUNK"
    fi
}

export_pg() { # DATASET TABLE ROWS KEY
    local ds=$1 table=$2 rows=$3 key=$4 g="export.pg.$1"
    strategy_cases "$g" "$PG_URL" "$table" "$rows" auto copy keyset cursor
    if [ "$ds" = typed ]; then offset_cases "$g" "$PG_URL" "$table"; fi
    parallel_case "$g" "$PG_URL" "$table" "$rows"
    bench "$g" "$g.psql-copy" "psql COPY CSV" "$rows" -- \
        psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" -c "COPY (SELECT * FROM $table) TO STDOUT CSV HEADER"
    # A reference, not a competitor: the ordered query dbchunk's copy runs
    # (key order is part of its output), timed through psql.
    bench "$g" "$g.psql-copy-ordered" "psql COPY CSV, ORDER BY key" "$rows" -- \
        psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" \
        -c "COPY (SELECT * FROM $table ORDER BY $key) TO STDOUT CSV HEADER"
    bench "$g" "$g.sqlalchemy" "SQLAlchemy + psycopg2" "$rows" -- \
        "$PY" "$SA_EXPORT" --url "$SA_PG_URL" --table "$table"
}

export_my() { # DATASET TABLE ROWS KEY
    local ds=$1 table=$2 rows=$3 key=$4 g="export.my.$1"
    strategy_cases "$g" "$MY_URL" "$table" "$rows" auto keyset cursor
    if [ "$ds" = typed ]; then offset_cases "$g" "$MY_URL" "$table"; fi
    parallel_case "$g" "$MY_URL" "$table" "$rows"
    # A reference, not a competitor: the keyset queries dbchunk sends (one
    # per chunk; the keys of both tables run 1..N without gaps), run by the
    # mariadb client.
    local queries="$SCRATCH/keyset-$table.sql"
    [ -f "$queries" ] || awk -v n="$rows" -v c="$CHUNK" -v t="$table" -v k="$key" 'BEGIN {
        for (a = 0; a < n; a += c) printf "SELECT * FROM %s WHERE %s > %d ORDER BY %s LIMIT %d;\n", t, k, a, k, c }' >"$queries"
    bench "$g" "$g.mariadb-keyset" "mariadb --quick --batch, keyset queries" "$rows" -- \
        mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --default-character-set=utf8mb4 --quick --batch "$DB" \
        -e "source $queries"
    bench "$g" "$g.mariadb-batch" "mariadb --quick --batch" "$rows" -- \
        mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --default-character-set=utf8mb4 --quick --batch "$DB" \
        -e "SELECT * FROM $table"
    B_DIR="$SCRATCH/dump" bench "$g" "$g.mydumper" "mydumper --threads 2" "$rows" -- \
        mydumper --host "$MY_HOST" --port "$MY_PORT" --user "$MY_USER" --database "$DB" --tables-list "$table" \
        --threads 2 --rows $((rows / 10)) --trx-consistency-only --no-schemas --outputdir "$SCRATCH/dump" --verbose 1
    bench "$g" "$g.sqlalchemy" "SQLAlchemy + pymysql" "$rows" -- \
        "$PY" "$SA_EXPORT" --url "$SA_MY_URL" --table "$table"
}

export_sqlite() { # DATASET TABLE ROWS
    local ds=$1 table=$2 rows=$3 g="export.sqlite.$1"
    strategy_cases "$g" "$SQLITE_URL" "$table" "$rows" auto keyset cursor
    offset_cases "$g" "$SQLITE_URL" "$table"
    bench "$g" "$g.sqlite3" "sqlite3 -csv -header" "$rows" -- \
        sqlite3 -readonly -csv -header "$SQLITE_DB" "SELECT * FROM $table"
    bench "$g" "$g.sqlalchemy" "SQLAlchemy + sqlite3" "$rows" -- \
        "$PY" "$SA_EXPORT" --url "$SA_SQLITE_URL" --table "$table"
}

# --- memory ------------------------------------------------------------------

memory_runs() { # the same export limited to SUBSET_ROWS rows (the full ones are measured above)
    local s
    for s in auto keyset cursor; do
        bench "memory" "memory.pg.dbchunk-$s-csv" "PostgreSQL dbchunk $s csv --limit $SUBSET_ROWS" "$SUBSET_ROWS" -- \
            "$DBCHUNK" export --url "$PG_URL" --table pgbench_accounts --strategy "$s" --format csv --chunk "$CHUNK" \
            --limit "$SUBSET_ROWS"
        bench "memory" "memory.my.dbchunk-$s-csv" "MariaDB dbchunk $s csv --limit $SUBSET_ROWS" "$SUBSET_ROWS" -- \
            "$DBCHUNK" export --url "$MY_URL" --table pgbench_accounts --strategy "$s" --format csv --chunk "$CHUNK" \
            --limit "$SUBSET_ROWS"
    done
}

# --- import ------------------------------------------------------------------

IMPORT_DIR="$WORK/import"
# The input files, exported once per run:
#   PostgreSQL: psql's own COPY CSV (what psql \copy FROM reads back exactly:
#     t/f, \x hex bytea); dbchunk and the SQLAlchemy script read it too.
#   MariaDB, SQLite: dbchunk's CSV export of the same table.
import_inputs() {
    mkdir -p "$IMPORT_DIR"
    log "exporting the import inputs to $IMPORT_DIR"
    pgdb -c "COPY (SELECT * FROM pgbench_accounts WHERE aid <= $SUBSET_ROWS ORDER BY aid) TO STDOUT CSV HEADER" \
        >"$IMPORT_DIR/pg_accounts.csv"
    pgdb -c "COPY (SELECT * FROM typed ORDER BY id) TO STDOUT CSV HEADER" >"$IMPORT_DIR/pg_typed.csv"
    "$DBCHUNK" export --url "$MY_URL" --table pgbench_accounts --limit "$SUBSET_ROWS" >"$IMPORT_DIR/my_accounts.csv"
    "$DBCHUNK" export --url "$MY_URL" --table typed >"$IMPORT_DIR/my_typed.csv"
    "$DBCHUNK" export --url "$SQLITE_URL" --table typed >"$IMPORT_DIR/sqlite_typed.csv"
    # Empty copies of the tables to import into.
    pgdb -c "DROP TABLE IF EXISTS accounts_import, typed_import;
        CREATE TABLE accounts_import (LIKE pgbench_accounts INCLUDING ALL);
        CREATE TABLE typed_import (LIKE typed INCLUDING ALL);"
    mydb -e "DROP TABLE IF EXISTS accounts_import, typed_import;
        CREATE TABLE accounts_import LIKE pgbench_accounts; CREATE TABLE typed_import LIKE typed;"
}
# Before each import run: an empty table (and, on PostgreSQL, no checkpoint
# debt left from the previous run).
pg_truncate() { pgdb -c "TRUNCATE $1" && pgdb -c CHECKPOINT; }
my_truncate() { mydb -e "TRUNCATE TABLE $1"; }
sqlite_fresh() {
    rm -f "$SQLITE_IMPORT_DB"
    "$PY" -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute(sys.argv[2]); db.commit()' \
        "$SQLITE_IMPORT_DB" "${SQLITE_TYPED_DDL/CREATE TABLE typed/CREATE TABLE typed_import}"
}
# After each: the table holds exactly the expected number of rows.
expect_rows() { # ACTUAL EXPECTED
    [ "$1" = "$2" ] || {
        echo "the table holds $1 rows, expected $2"
        return 1
    }
}
pg_check() { expect_rows "$(pgdb -c "select count(*) from $1")" "$2"; }
my_check() { expect_rows "$(mydb -e "select count(*) from $1")" "$2"; }
sqlite_check() {
    expect_rows "$("$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from typed_import").fetchone()[0])' \
        "$SQLITE_IMPORT_DB")" "$1"
}

# The LOAD DATA statements a user writes for dbchunk's CSV: quoted fields,
# "" inside quotes, an empty field is NULL, bytes as hex, TIMESTAMP without
# its +00:00 (the session runs in UTC).
MY_LOAD_OPTS="CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''"
MY_LOAD_OPTS="$MY_LOAD_OPTS IGNORE 1 LINES"
MY_LOAD_ACCOUNTS="LOAD DATA LOCAL INFILE '@FILE@' INTO TABLE accounts_import $MY_LOAD_OPTS (aid, bid, abalance, filler)"
MY_LOAD_TYPED="SET time_zone = '+00:00'; LOAD DATA LOCAL INFILE '@FILE@' INTO TABLE typed_import $MY_LOAD_OPTS"
MY_LOAD_TYPED="$MY_LOAD_TYPED (id, @i, @b, @n, @d, @flag, @t, @ts, @tstz, @j, @bin, @u)"
MY_LOAD_TYPED="$MY_LOAD_TYPED SET i = NULLIF(@i, ''), b = NULLIF(@b, ''), n = NULLIF(@n, ''), d = NULLIF(@d, ''),"
MY_LOAD_TYPED="$MY_LOAD_TYPED flag = NULLIF(@flag, ''), t = NULLIF(@t, ''), ts = NULLIF(@ts, ''),"
MY_LOAD_TYPED="$MY_LOAD_TYPED tstz = NULLIF(REPLACE(@tstz, '+00:00', ''), ''), j = NULLIF(@j, ''),"
MY_LOAD_TYPED="$MY_LOAD_TYPED bin = UNHEX(NULLIF(@bin, '')), u = NULLIF(@u, '')"

import_pg() { # DATASET TARGET_TABLE INPUT ROWS
    local ds=$1 table=$2 input=$3 rows=$4 g="import.pg.$1" s
    local -x B_INPUT="$input" B_PRE="pg_truncate $table" B_POST="pg_check $table $rows"
    for s in copy insert; do
        bench "$g" "$g.dbchunk-$s" "dbchunk import $s" "$rows" -- \
            "$DBCHUNK" import --url "$PG_URL" --table "$table" --input "$input" --strategy "$s"
    done
    # One transaction, as psql's \copy is.
    bench "$g" "$g.dbchunk-copy-atomic" "dbchunk import copy --atomic" "$rows" -- \
        "$DBCHUNK" import --url "$PG_URL" --table "$table" --input "$input" --strategy copy --atomic
    bench "$g" "$g.psql-copy-from" "psql \\copy FROM CSV" "$rows" -- \
        psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" -c "\\copy $table FROM '$input' CSV HEADER"
    bench "$g" "$g.sqlalchemy" "SQLAlchemy executemany" "$rows" -- \
        "$PY" "$SA_IMPORT" --url "$SA_PG_URL" --table "$table" --input "$input" --batch "$CHUNK"
}

import_my() { # DATASET TARGET_TABLE INPUT ROWS LOAD_STATEMENT
    local ds=$1 table=$2 input=$3 rows=$4 load=${5//@FILE@/$3} g="import.my.$1" s
    local -x B_INPUT="$input" B_PRE="my_truncate $table" B_POST="my_check $table $rows"
    for s in load-data insert; do
        bench "$g" "$g.dbchunk-$s" "dbchunk import $s" "$rows" -- \
            "$DBCHUNK" import --url "$MY_URL" --table "$table" --input "$input" --strategy "$s"
    done
    # One transaction, as a single LOAD DATA statement is.
    bench "$g" "$g.dbchunk-load-data-atomic" "dbchunk import load-data --atomic" "$rows" -- \
        "$DBCHUNK" import --url "$MY_URL" --table "$table" --input "$input" --strategy load-data --atomic
    bench "$g" "$g.mariadb-load-data" "mariadb LOAD DATA LOCAL" "$rows" -- \
        mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --default-character-set=utf8mb4 --local-infile=1 "$DB" \
        -e "$load"
    bench "$g" "$g.sqlalchemy" "SQLAlchemy executemany" "$rows" -- \
        "$PY" "$SA_IMPORT" --url "$SA_MY_URL" --table "$table" --input "$input" --batch "$CHUNK"
}

import_sqlite() { # ROWS
    local rows=$1 g="import.sqlite.typed" input="$IMPORT_DIR/sqlite_typed.csv"
    local -x B_INPUT="$input" B_PRE="sqlite_fresh" B_POST="sqlite_check $rows"
    bench "$g" "$g.dbchunk-insert" "dbchunk import insert" "$rows" -- \
        "$DBCHUNK" import --url "sqlite://$SQLITE_IMPORT_DB" --table typed_import --input "$input" --strategy insert
    bench "$g" "$g.sqlalchemy" "SQLAlchemy executemany" "$rows" -- \
        "$PY" "$SA_IMPORT" --url "$SA_SQLITE_IMPORT_URL" --table typed_import --input "$input" --batch "$CHUNK"
}

# --- formats (issue 16) -------------------------------------------------------

FORMATS_DIR="$WORK/formats"

# Parquet and compressed CSV next to plain CSV, and next to ConnectorX +
# pyarrow, on one PostgreSQL table. Every command writes a file
# on tmpfs (-o), as a user making a data-lake file would.
formats_export() { # DATASET TABLE ROWS
    local ds=$1 table=$2 rows=$3 g="formats.export.$1"
    B_FILE="$SCRATCH/$ds.csv" bench "$g" "$g.dbchunk-csv" "dbchunk csv" "$rows" -- \
        "$DBCHUNK" export --url "$PG_URL" --table "$table" --chunk "$CHUNK" -o "$SCRATCH/$ds.csv"
    B_FILE="$SCRATCH/$ds.parquet" bench "$g" "$g.dbchunk-parquet" "dbchunk parquet (zstd)" "$rows" -- \
        "$DBCHUNK" export --url "$PG_URL" --table "$table" --chunk "$CHUNK" --format parquet -o "$SCRATCH/$ds.parquet"
    B_FILE="$SCRATCH/$ds.cx.parquet" bench "$g" "$g.connectorx" "ConnectorX + pyarrow (zstd)" "$rows" -- \
        "$PY" "$CX_EXPORT" --url "$CX_PG_URL" --table "$table" --output "$SCRATCH/$ds.cx.parquet"
    B_FILE="$SCRATCH/$ds.csv.zst" bench "$g" "$g.dbchunk-csv-zstd" "dbchunk csv.zst (zstd level 1)" "$rows" -- \
        "$DBCHUNK" export --url "$PG_URL" --table "$table" --chunk "$CHUNK" -o "$SCRATCH/$ds.csv.zst"
    B_FILE="$SCRATCH/$ds.csv.gz" bench "$g" "$g.dbchunk-csv-gzip" "dbchunk csv.gz (gzip level 6)" "$rows" -- \
        "$DBCHUNK" export --url "$PG_URL" --table "$table" --chunk "$CHUNK" -o "$SCRATCH/$ds.csv.gz"
}

formats_memory() { # Parquet export of accounts_10m: a tenth of it (--limit) and all of it
    B_FILE="$SCRATCH/narrow_small.parquet" bench formats.memory formats.memory.dbchunk-parquet-small \
        "dbchunk parquet --limit $NARROW_SMALL" "$NARROW_SMALL" -- \
        "$DBCHUNK" export --url "$PG_URL" --table accounts_10m --chunk "$CHUNK" --limit "$NARROW_SMALL" \
        -o "$SCRATCH/narrow_small.parquet"
    B_FILE="$SCRATCH/narrow_full.parquet" bench formats.memory formats.memory.dbchunk-parquet-full \
        "dbchunk parquet, all $NARROW_ROWS rows" "$NARROW_ROWS" -- \
        "$DBCHUNK" export --url "$PG_URL" --table accounts_10m --chunk "$CHUNK" -o "$SCRATCH/narrow_full.parquet"
}

# The import inputs: dbchunk's own CSV, zstd CSV and Parquet of the same rows,
# and empty copies of the tables.
formats_import_inputs() {
    mkdir -p "$FORMATS_DIR"
    log "exporting the formats import inputs to $FORMATS_DIR"
    local ext
    for ext in csv csv.zst parquet; do
        "$DBCHUNK" export --url "$PG_URL" --table pgbench_accounts --limit "$SUBSET_ROWS" --quiet \
            -o "$FORMATS_DIR/accounts.$ext" || die "exporting $FORMATS_DIR/accounts.$ext failed"
        "$DBCHUNK" export --url "$PG_URL" --table typed --quiet -o "$FORMATS_DIR/typed.$ext" ||
            die "exporting $FORMATS_DIR/typed.$ext failed"
    done
    pgdb -c "DROP TABLE IF EXISTS fmt_accounts_import, fmt_typed_import;
        CREATE TABLE fmt_accounts_import (LIKE pgbench_accounts INCLUDING ALL);
        CREATE TABLE fmt_typed_import (LIKE typed INCLUDING ALL);"
}

formats_import() { # DATASET TARGET_TABLE ROWS
    local ds=$1 table=$2 rows=$3 g="formats.import.$1" ext
    local -x B_PRE="pg_truncate $table" B_POST="pg_check $table $rows"
    for ext in csv parquet csv.zst; do
        B_INPUT="$FORMATS_DIR/$ds.$ext" bench "$g" "$g.dbchunk-copy-${ext/./-}" "dbchunk import copy, $ext" "$rows" -- \
            "$DBCHUNK" import --url "$PG_URL" --table "$table" --input "$FORMATS_DIR/$ds.$ext" --strategy copy
    done
}

run_formats() {
    log "formats: PostgreSQL pgbench_accounts ($ACCOUNTS_ROWS rows)"
    group formats.export.accounts "PostgreSQL export to files, pgbench_accounts ($ACCOUNTS_ROWS rows)" \
        formats.export.accounts.dbchunk-csv ""
    warm_pg pgbench_accounts
    rounds formats_export accounts pgbench_accounts "$ACCOUNTS_ROWS"

    log "formats: PostgreSQL typed ($TYPED_ROWS rows)"
    group formats.export.typed "PostgreSQL export to files, typed ($TYPED_ROWS rows)" formats.export.typed.dbchunk-csv ""
    warm_pg typed
    rounds formats_export typed typed "$TYPED_ROWS"

    log "formats: Parquet peak RSS, accounts_10m ($NARROW_SMALL and $NARROW_ROWS rows)"
    group formats.memory "Parquet export's peak RSS, accounts_10m ($NARROW_SMALL rows with --limit, and all $NARROW_ROWS)" \
        formats.memory.dbchunk-parquet-small ""
    warm_pg accounts_10m
    rounds formats_memory

    formats_import_inputs
    log "formats: PostgreSQL import, Parquet and CSV"
    group formats.import.accounts "PostgreSQL import, pgbench_accounts ($SUBSET_ROWS rows, files made by dbchunk)" \
        formats.import.accounts.dbchunk-copy-csv ""
    rounds formats_import accounts fmt_accounts_import "$SUBSET_ROWS"
    group formats.import.typed "PostgreSQL import, typed ($TYPED_ROWS rows, files made by dbchunk)" \
        formats.import.typed.dbchunk-copy-csv ""
    rounds formats_import typed fmt_typed_import "$TYPED_ROWS"
    pgdb -c "DROP TABLE IF EXISTS fmt_accounts_import, fmt_typed_import" || true
}

# --- resumable at cursor speed (issue 11) -------------------------------------

# One run compares, on PostgreSQL and MariaDB, what each of dbchunk's
# strategies costs against the engine's own client and against the peers a
# user would try instead: sling (the sling-linux-amd64 wheel, which carries
# the binary; the `sling` package downloads its binary from the internet on
# first use, which a machine without general internet access cannot do) and
# ConnectorX + pyarrow writing CSV. Every command writes its CSV to tmpfs.
STRAT_DIR="$WORK/strategies"
STATE_FILE="$SCRATCH/export.state"
BACKEND_CPU="$SCRATCH/backend_cpu"
PSQL_COPY="$REPO_ROOT/scripts/bench/psql_copy.sh"
CX_MY_URL="mysql://$MY_USER@$MY_HOST:$MY_PORT/$DB"
# sling's connections: the same servers; on PostgreSQL with TLS, as psql's
# and dbchunk's sslmode=prefer end up (sling's driver has no "prefer").
SLING_PG_URL="postgresql://$PG_USER@$PG_HOST:$PG_PORT/$DB?sslmode=require"
SLING_MY_URL="mysql://$MY_USER@$MY_HOST:$MY_PORT/$DB"

strat_export() { # ENGINE DATASET TABLE ROWS
    local eng=$1 ds=$2 table=$3 rows=$4 g="strategies.export.$1.$2" url s strategies
    if [ "$eng" = pg ]; then
        url=$PG_URL
        strategies="auto keyset cursor copy"
    else
        url=$MY_URL
        strategies="auto keyset cursor"
    fi
    for s in $strategies; do
        bench "$g" "$g.dbchunk-$s-csv" "dbchunk $s" "$rows" -- \
            "$DBCHUNK" export --url "$url" --table "$table" --strategy "$s" --format csv --chunk "$CHUNK"
    done
    # The resumable default: auto with a state file (checkpointed after every
    # chunk), into a file, as a user who wants to resume writes it.
    if [ "$HAS_STATE" -eq 1 ]; then
        B_PRE="rm -f $STATE_FILE $STATE_FILE.lock" B_FILE="$SCRATCH/state.csv" \
            bench "$g" "$g.dbchunk-auto-state-csv" "dbchunk auto --state FILE -o FILE" "$rows" -- \
            "$DBCHUNK" export --url "$url" --table "$table" --format csv --chunk "$CHUNK" --state "$STATE_FILE" \
            -o "$SCRATCH/state.csv"
    fi
    if [ "$eng" = pg ] && [ "$ds" = accounts ] && [ "$HAS_PARALLEL" -eq 1 ]; then
        bench "$g" "$g.dbchunk-parallel2-csv" "dbchunk auto --parallel 2" "$rows" -- \
            "$DBCHUNK" export --url "$url" --table "$table" --parallel 2 --format csv --chunk "$CHUNK"
    fi
    if [ "$eng" = pg ]; then
        bench "$g" "$g.psql-copy" "psql COPY CSV HEADER" "$rows" -- \
            psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" -c "COPY (SELECT * FROM $table) TO STDOUT CSV HEADER"
    else
        bench "$g" "$g.mariadb-batch" "mariadb --quick --batch" "$rows" -- \
            mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --default-character-set=utf8mb4 --quick --batch "$DB" \
            -e "SELECT * FROM $table"
    fi
    if [ -n "$SLING" ]; then
        local src=$SLING_PG_URL stream="public.$table"
        [ "$eng" = my ] && src=$SLING_MY_URL stream="$DB.$table"
        B_FILE="$SCRATCH/sling.csv" bench "$g" "$g.sling" "sling run (CSV file)" "$rows" -- \
            env SLING_DISABLE_TELEMETRY=true "$SLING" run --src-conn "$src" --src-stream "$stream" \
            --tgt-object "file://$SCRATCH/sling.csv"
    fi
    local cx=$CX_PG_URL
    [ "$eng" = my ] && cx=$CX_MY_URL
    B_FILE="$SCRATCH/cx.csv" bench "$g" "$g.connectorx" "ConnectorX + pyarrow.csv" "$rows" -- \
        "$PY" "$CX_EXPORT" --url "$cx" --table "$table" --output "$SCRATCH/cx.csv"
}

# The pgbench_accounts import inputs (as the full run's: psql's COPY CSV for
# PostgreSQL, dbchunk's CSV for MariaDB) and empty copies to load into.
strat_import_inputs() {
    mkdir -p "$STRAT_DIR"
    log "exporting the strategies import inputs to $STRAT_DIR"
    pgdb -c "COPY (SELECT * FROM pgbench_accounts WHERE aid <= $SUBSET_ROWS ORDER BY aid) TO STDOUT CSV HEADER" \
        >"$STRAT_DIR/pg_accounts.csv"
    "$DBCHUNK" export --url "$MY_URL" --table pgbench_accounts --limit "$SUBSET_ROWS" --quiet \
        -o "$STRAT_DIR/my_accounts.csv" || die "exporting $STRAT_DIR/my_accounts.csv failed"
    pgdb -c "DROP TABLE IF EXISTS strat_accounts_import;
        CREATE TABLE strat_accounts_import (LIKE pgbench_accounts INCLUDING ALL);"
    mydb -e "DROP TABLE IF EXISTS strat_accounts_import; CREATE TABLE strat_accounts_import LIKE pgbench_accounts;"
}

strat_import() { # each run into a freshly truncated copy, then the row count checked
    local rows=$SUBSET_ROWS t=strat_accounts_import input="$STRAT_DIR/pg_accounts.csv" g=strategies.import.pg.accounts
    B_INPUT="$input" B_PRE="pg_truncate $t" B_POST="pg_check $t $rows" \
        bench "$g" "$g.dbchunk-copy" "dbchunk import --strategy copy" "$rows" -- \
        "$DBCHUNK" import --url "$PG_URL" --table "$t" --input "$input" --strategy copy
    B_INPUT="$input" B_PRE="pg_truncate $t" B_POST="pg_check $t $rows" \
        bench "$g" "$g.psql-copy-from" "psql \\copy FROM CSV" "$rows" -- \
        psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" -c "\\copy $t FROM '$input' CSV HEADER"
    input="$STRAT_DIR/my_accounts.csv" g=strategies.import.my.accounts
    local load=${MY_LOAD_ACCOUNTS//@FILE@/$input}
    load=${load//accounts_import/$t}
    B_INPUT="$input" B_PRE="my_truncate $t" B_POST="my_check $t $rows" \
        bench "$g" "$g.dbchunk-load-data" "dbchunk import --strategy load-data" "$rows" -- \
        "$DBCHUNK" import --url "$MY_URL" --table "$t" --input "$input" --strategy load-data
    B_INPUT="$input" B_PRE="my_truncate $t" B_POST="my_check $t $rows" \
        bench "$g" "$g.mariadb-load-data" "mariadb LOAD DATA LOCAL INFILE" "$rows" -- \
        mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" --default-character-set=utf8mb4 --local-infile=1 "$DB" \
        -e "$load"
}

# --- one COPY against two, split by heap position (ctid) or by key ---------
#
# psql alone, no dbchunk: can two connections, each copying half of the
# table, beat one COPY on this machine? Halves of the heap are TID range
# scans (PostgreSQL 14+), in heap order; halves of the key are index range
# scans, in key order (what dbchunk --parallel reads). Each COPY writes its
# own file on tmpfs; the backends' CPU time is recorded by psql_copy.sh.
SPLIT_PAGES=0
split_setup() {
    SPLIT_PAGES=$(pgdb -c "select pg_relation_size('pgbench_accounts') / current_setting('block_size')::int")
    SPLIT_HALF_PAGE=$(((SPLIT_PAGES + 1) / 2))
    SPLIT_HALF_KEY=$((ACCOUNTS_ROWS / 2))
    SPLIT_CTID_LO="SELECT * FROM pgbench_accounts WHERE ctid < '($SPLIT_HALF_PAGE,0)'::tid"
    SPLIT_CTID_HI="SELECT * FROM pgbench_accounts WHERE ctid >= '($SPLIT_HALF_PAGE,0)'::tid"
    SPLIT_KEY_LO="SELECT * FROM pgbench_accounts WHERE aid <= $SPLIT_HALF_KEY ORDER BY aid"
    SPLIT_KEY_HI="SELECT * FROM pgbench_accounts WHERE aid > $SPLIT_HALF_KEY ORDER BY aid"
}
# After each split run: the backends' CPU seconds, summed, for report.py.
record_backend_cpu() { # CASE_ID
    [ -s "$BACKEND_CPU" ] || {
        echo "no backend CPU time recorded in $BACKEND_CPU"
        return 1
    }
    printf '%s\t%s\t%s\n' "$1" "$RUN" "$(awk '{ s += $1 } END { printf "%.2f", s }' "$BACKEND_CPU")" >>"$SERVER_CPU"
}
split_case() { # CASE LABEL QUERY [QUERY]: one COPY per query, all at once
    local id="strategies.split.$1" label=$2 q
    shift 2
    local cmd="" i=0
    for q in "$@"; do
        i=$((i + 1))
        cmd+="$(shq "$PSQL_COPY" "$CX_PG_URL" "$q" "$SCRATCH/split/$i.csv" "$BACKEND_CPU") & "
    done
    B_DIR="$SCRATCH/split" B_PRE="rm -f $BACKEND_CPU" B_POST="record_backend_cpu $id" \
        bench strategies.split "$id" "$label" "$ACCOUNTS_ROWS" -- bash -c "${cmd}wait"
}
split_runs() {
    split_case psql-copy "one COPY, heap order" "SELECT * FROM pgbench_accounts"
    split_case psql-copy-ctid2 "two COPYs at once, TID ranges (half the heap each)" "$SPLIT_CTID_LO" "$SPLIT_CTID_HI"
    split_case psql-copy-ordered "one COPY, ORDER BY aid" "SELECT * FROM pgbench_accounts ORDER BY aid"
    split_case psql-copy-key2 "two COPYs at once, aid ranges ORDER BY aid" "$SPLIT_KEY_LO" "$SPLIT_KEY_HI"
}
# The first line of each split query's plan, for the report.
split_plans() {
    meta split_pages "$SPLIT_PAGES"
    meta split_half_page "$SPLIT_HALF_PAGE"
    meta split_plan_ctid "$(pgdb -c "EXPLAIN $SPLIT_CTID_HI" | head -n 2 | sed 's/  */ /g' | paste -sd';' -)"
    meta split_plan_key "$(pgdb -c "EXPLAIN $SPLIT_KEY_HI" | head -n 2 | sed 's/  */ /g' | paste -sd';' -)"
    meta split_plan_ordered "$(pgdb -c "EXPLAIN SELECT * FROM pgbench_accounts ORDER BY aid" | head -n 1 | sed 's/  */ /g')"
}

# --- a table without a key: --parallel 2 over page ranges -----------------
#
# pgbench_accounts copied without its primary key (the same rows in the
# same heap order): dbchunk cuts such a table by its pages (TID range
# scans), one COPY per worker, the output in storage order.
NOKEY_TABLE=strat_accounts_nokey
nokey_runs() {
    local g=strategies.nokey
    bench "$g" "$g.dbchunk-auto-csv" "dbchunk auto (one COPY)" "$ACCOUNTS_ROWS" -- \
        "$DBCHUNK" export --url "$PG_URL" --table "$NOKEY_TABLE" --format csv --chunk "$CHUNK"
    bench "$g" "$g.dbchunk-parallel2-csv" "dbchunk auto --parallel 2 (page ranges)" "$ACCOUNTS_ROWS" -- \
        "$DBCHUNK" export --url "$PG_URL" --table "$NOKEY_TABLE" --parallel 2 --format csv --chunk "$CHUNK"
    bench "$g" "$g.psql-copy" "psql COPY CSV HEADER" "$ACCOUNTS_ROWS" -- \
        psql -X -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" \
        -c "COPY (SELECT * FROM $NOKEY_TABLE) TO STDOUT CSV HEADER"
}

run_strategies() {
    local eng ds table rows name
    for eng in pg my; do
        name=PostgreSQL
        [ "$eng" = my ] && name=MariaDB
        for ds in accounts typed; do
            table=$ds rows=$TYPED_ROWS
            [ "$ds" = accounts ] && table=pgbench_accounts rows=$ACCOUNTS_ROWS
            log "strategies: $name $table ($rows rows)"
            group "strategies.export.$eng.$ds" "$name export to CSV, $table ($rows rows)" \
                "strategies.export.$eng.$ds.$([ "$eng" = pg ] && echo psql-copy || echo mariadb-batch)" ""
            if [ "$eng" = pg ]; then warm_pg "$table"; else warm_my "$table"; fi
            rounds strat_export "$eng" "$ds" "$table" "$rows"
        done
    done

    strat_import_inputs
    log "strategies: imports of pgbench_accounts' first $SUBSET_ROWS rows"
    group strategies.import.pg.accounts "PostgreSQL import, pgbench_accounts ($SUBSET_ROWS rows, psql COPY CSV input)" \
        strategies.import.pg.accounts.psql-copy-from ""
    group strategies.import.my.accounts "MariaDB import, pgbench_accounts ($SUBSET_ROWS rows, dbchunk CSV input)" \
        strategies.import.my.accounts.mariadb-load-data ""
    rounds strat_import
    pgdb -c "DROP TABLE IF EXISTS strat_accounts_import" || true
    mydb -e "DROP TABLE IF EXISTS strat_accounts_import" || true

    split_setup
    split_plans
    log "strategies: one COPY against two, split by ctid or by key (psql only)"
    group strategies.split "PostgreSQL, psql alone: one COPY against two at once, pgbench_accounts ($ACCOUNTS_ROWS rows)" \
        strategies.split.psql-copy ""
    warm_pg pgbench_accounts
    rounds split_runs

    log "strategies: pgbench_accounts without its key, --parallel 2 over page ranges"
    pgdb -c "DROP TABLE IF EXISTS $NOKEY_TABLE" -c "CREATE TABLE $NOKEY_TABLE AS SELECT * FROM pgbench_accounts" \
        -c "VACUUM ANALYZE $NOKEY_TABLE"
    group strategies.nokey "PostgreSQL export to CSV, pgbench_accounts without its key ($ACCOUNTS_ROWS rows)" \
        strategies.nokey.psql-copy ""
    warm_pg "$NOKEY_TABLE"
    rounds nokey_runs
    pgdb -c "DROP TABLE IF EXISTS $NOKEY_TABLE" || true
}

# ---------------------------------------------------------------------------
# facts about the run

meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }

record_meta() {
    local commit=$BUILT_COMMIT dirty=$BUILT_DIRTY
    meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
    meta mode "$([ "$QUICK" -eq 1 ] && echo quick || echo full)"
    meta runs "$RUNS"
    meta chunk "$CHUNK"
    meta nproc "$(nproc)"
    meta memory "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
    meta cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    meta kernel "$(uname -sr)"
    meta os "$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-}")"
    meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
    meta dbchunk "$("$DBCHUNK" --version 2>/dev/null | head -n1), git $commit$dirty"
    meta rustc "$(rustc --version 2>/dev/null || "$(dirname "$(command -v "$CARGO")")/rustc" --version 2>/dev/null || echo unknown)"
    meta pg_server "$(pg -d "$DB" -c 'select version()' | sed 's/ on .*//')"
    meta psql "$(psql --version)"
    meta pgbench "$(pgbench --version)"
    meta pg_shared_buffers "$(pg -d "$DB" -c 'show shared_buffers')"
    meta my_server "$(my -N -e 'select concat(@@version_comment, " ", @@version)')"
    meta mariadb_client "$(mariadb --version)"
    meta mydumper "$(mydumper --version 2>&1 | head -n1)"
    meta sqlite3 "sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
    meta python "$("$PY" --version 2>&1)"
    meta python_libs "$("$PY" -c 'import sqlalchemy, psycopg2, pymysql, sqlite3
print(f"SQLAlchemy {sqlalchemy.__version__}, psycopg2 {psycopg2.__version__.split()[0]}, PyMySQL {pymysql.__version__}, sqlite {sqlite3.sqlite_version}")')"
    meta buffer_pool_orig "${ORIG_BUFFER_POOL:-$(my -N -e 'select @@innodb_buffer_pool_size')}"
    meta buffer_pool "$(my -N -e 'select @@innodb_buffer_pool_size')"
    meta innodb_flush_method "$(my -N -e 'select @@innodb_flush_method')"
    meta has_parallel "$HAS_PARALLEL"
    meta has_state "$HAS_STATE"
    meta sling "$(if [ -n "$SLING" ]; then "$SLING" --version 2>&1 | sed 's/^Version: //' | head -n1; fi)"
    meta accounts_rows "$ACCOUNTS_ROWS"
    meta typed_rows "$TYPED_ROWS"
    meta subset_rows "$SUBSET_ROWS"
    meta scale "$SCALE"
    meta db "$DB"
    meta load_data_typed "$(pretty "${MY_LOAD_TYPED//@FILE@/$IMPORT_DIR/my_typed.csv}")"
    meta narrow_rows "$NARROW_ROWS"
    meta only "$ONLY"
    meta arrow_libs "$("$PY" -c 'import connectorx, pyarrow
print(f"connectorx {connectorx.__version__}, pyarrow {pyarrow.__version__}")')"
    meta pg_settings "$(pg -d "$DB" -F ' ' -c "select string_agg(name || ' = ' || setting || coalesce(unit, ''), ', ' order by name)
        from pg_settings where name in ('shared_buffers', 'work_mem', 'max_wal_size', 'synchronous_commit', 'fsync',
            'wal_level', 'ssl', 'checkpoint_timeout', 'effective_io_concurrency')")"
}

# ---------------------------------------------------------------------------
# main

log "mode: $([ "$QUICK" -eq 1 ] && echo quick || echo full), RUNS=$RUNS, databases $DB, report to $OUT_MD"
install_tools
build_dbchunk
ensure_servers
[ "$ONLY" = formats ] || set_buffer_pool
HAS_PARALLEL=0
if "$DBCHUNK" export --help | grep -q -- '--parallel'; then HAS_PARALLEL=1; fi
HAS_STATE=0
if "$DBCHUNK" export --help | grep -q -- '--state'; then HAS_STATE=1; fi
datasets
if [ "$DATASETS_ONLY" -eq 1 ]; then
    log "datasets ready in $(($(date +%s) - BENCH_START)) s (--datasets-only: nothing measured)"
    exit 0
fi

MEASURE_START=$(date +%s)

write_report() { # extra arguments for report.py
    "$PY" "$REPO_ROOT/scripts/bench/report.py" --meta "$META" --groups "$GROUPS_FILE" --cases "$CASES" \
        --results "$RESULTS" --server-cpu "$SERVER_CPU" --output "$OUT_MD" "$@" || die "writing the report failed"
    log "done in $(($(date +%s) - BENCH_START)) s; report: $OUT_MD"
    if grep -q $'\tfail' "$RESULTS"; then
        log "some commands failed (marked FAILED in the report):"
        awk -F'\t' '$3 ~ /^fail/ { print "  " $1 " run " $2 ": " $3 }' "$RESULTS" >&2
    fi
}

# splice_section FILE: the Markdown section in FILE (its first line its
# "## " title) replaces the section of the same title in the report, or
# goes before "## Where the time goes", or at the end.
splice_section() {
    python3 - "$OUT_MD" "$1" <<'EOF' || die "writing the section of $1 into $OUT_MD failed"
import os, re, sys
report, section = sys.argv[1], open(sys.argv[2]).read().rstrip() + "\n\n"
text = open(report).read() if os.path.exists(report) else ""
title = section.splitlines()[0]
pattern = re.compile("^" + re.escape(title) + r"\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
elif "\n## Where the time goes\n" in text:
    text = text.replace("\n## Where the time goes\n", "\n" + section + "## Where the time goes\n", 1)
else:
    text = text.rstrip() + "\n\n" + section
open(report, "w").write(text)
EOF
}

# The incremental runs (issue 14) and the dump section (issue 12) have their
# own scripts, which print their sections.
incremental_section() {
    local section="$SCRATCH/incremental.md"
    RUNS="$RUNS" "$REPO_ROOT/scripts/bench/incremental.sh" "$DBCHUNK" >"$section" ||
        die "scripts/bench/incremental.sh failed"
    splice_section "$section"
}
# Measured while the buffer pool is raised; spliced in after the report is
# written (write_report rewrites the whole file).
DUMP_SECTION="$SCRATCH/dump.md"
measure_dump() {
    RUNS="$RUNS" BENCH_DB="$DB" "$REPO_ROOT/scripts/bench/dump.sh" "$DBCHUNK" >"$DUMP_SECTION" ||
        die "scripts/bench/dump.sh failed"
}

if [ "$ONLY" = incremental ] || [ "$ONLY" = dump ]; then
    if [ "$ONLY" = dump ]; then
        measure_dump
        splice_section "$DUMP_SECTION"
    else
        incremental_section
    fi
    log "done in $(($(date +%s) - BENCH_START)) s; report: $OUT_MD"
    exit 0
fi
record_meta

if [ "$ONLY" = formats ] || [ "$ONLY" = strategies ]; then
    if [ "$ONLY" = formats ]; then run_formats; else run_strategies; fi
    meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
    meta measure_seconds "$(($(date +%s) - MEASURE_START))"
    meta total_seconds "$(($(date +%s) - BENCH_START))"
    write_report --section "$ONLY"
    exit 0
fi

PAR_NOTE=""
[ "$HAS_PARALLEL" -eq 1 ] || PAR_NOTE=" dbchunk --parallel is not implemented yet (not in dbchunk export --help), so it has no row."

log "export: PostgreSQL pgbench_accounts ($ACCOUNTS_ROWS rows)"
group export.pg.accounts "PostgreSQL export, pgbench_accounts ($ACCOUNTS_ROWS rows)" export.pg.accounts.psql-copy \
    "offset is left out here: it re-reads every earlier row for each chunk (quadratic).$PAR_NOTE"
warm_pg pgbench_accounts
rounds export_pg accounts pgbench_accounts "$ACCOUNTS_ROWS" aid

log "export: PostgreSQL typed ($TYPED_ROWS rows)"
OFFSET_NOTE="offset reads only the first $OFFSET_ROWS rows (--limit): over the whole table it re-reads every earlier row for each chunk, O(rows²/chunk), which took 167 s (PostgreSQL), 51 s (MariaDB) and 12 s (SQLite) for one CSV export of the 1M-row table on the reference machine. Its ratio is to keyset with the same --limit."
group export.pg.typed "PostgreSQL export, typed ($TYPED_ROWS rows)" export.pg.typed.psql-copy "$OFFSET_NOTE$PAR_NOTE"
warm_pg typed
rounds export_pg typed typed "$TYPED_ROWS" id

log "export: MariaDB pgbench_accounts ($ACCOUNTS_ROWS rows)"
group export.my.accounts "MariaDB export, pgbench_accounts ($ACCOUNTS_ROWS rows)" export.my.accounts.mariadb-batch \
    "offset is left out here (quadratic). mydumper writes SQL INSERT files (--rows $((ACCOUNTS_ROWS / 10)), so both threads work on the one table).$PAR_NOTE"
warm_my pgbench_accounts
rounds export_my accounts pgbench_accounts "$ACCOUNTS_ROWS" aid

log "export: MariaDB typed ($TYPED_ROWS rows)"
group export.my.typed "MariaDB export, typed ($TYPED_ROWS rows)" export.my.typed.mariadb-batch \
    "$OFFSET_NOTE mariadb --batch writes binary columns raw and NULL as the word NULL; mydumper writes SQL INSERT files.$PAR_NOTE"
warm_my typed
rounds export_my typed typed "$TYPED_ROWS" id

log "export: SQLite typed ($TYPED_ROWS rows)"
group export.sqlite.typed "SQLite export, typed ($TYPED_ROWS rows)" export.sqlite.typed.sqlite3 \
    "$OFFSET_NOTE The sqlite3 shell writes blobs raw, not as hex."
rounds export_sqlite typed typed "$TYPED_ROWS"

log "memory: exports limited to $SUBSET_ROWS rows"
group memory "Peak RSS: pgbench_accounts, $SUBSET_ROWS rows (--limit) against all $ACCOUNTS_ROWS" "" ""
rounds memory_runs

import_inputs
log "import: PostgreSQL"
group import.pg.accounts "PostgreSQL import, pgbench_accounts ($SUBSET_ROWS rows, psql COPY CSV input)" \
    import.pg.accounts.psql-copy-from ""
rounds import_pg accounts accounts_import "$IMPORT_DIR/pg_accounts.csv" "$SUBSET_ROWS"
group import.pg.typed "PostgreSQL import, typed ($TYPED_ROWS rows, psql COPY CSV input)" import.pg.typed.psql-copy-from ""
rounds import_pg typed typed_import "$IMPORT_DIR/pg_typed.csv" "$TYPED_ROWS"

log "import: MariaDB"
group import.my.accounts "MariaDB import, pgbench_accounts ($SUBSET_ROWS rows, dbchunk CSV input)" \
    import.my.accounts.mariadb-load-data ""
rounds import_my accounts accounts_import "$IMPORT_DIR/my_accounts.csv" "$SUBSET_ROWS" "$MY_LOAD_ACCOUNTS"
group import.my.typed "MariaDB import, typed ($TYPED_ROWS rows, dbchunk CSV input)" import.my.typed.mariadb-load-data \
    "The LOAD DATA statement maps empty fields to NULL, hex to bytes and drops the +00:00 of TIMESTAMP values (see Commands)."
rounds import_my typed typed_import "$IMPORT_DIR/my_typed.csv" "$TYPED_ROWS" "$MY_LOAD_TYPED"

log "import: SQLite"
group import.sqlite.typed "SQLite import, typed ($TYPED_ROWS rows, dbchunk CSV input)" import.sqlite.typed.sqlalchemy ""
rounds import_sqlite "$TYPED_ROWS"

# Leave the servers as they were: the import copies go, the datasets stay.
pgdb -c "DROP TABLE IF EXISTS accounts_import, typed_import" || true
mydb -e "DROP TABLE IF EXISTS accounts_import, typed_import" || true
rm -f "$SQLITE_IMPORT_DB"

run_formats
run_strategies

meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta measure_seconds "$(($(date +%s) - MEASURE_START))"
meta total_seconds "$(($(date +%s) - BENCH_START))"

log "dump, restore and migration (issue 12)"
measure_dump
restore_buffer_pool

write_report

log "incremental runs (issue 14)"
incremental_section
splice_section "$DUMP_SECTION"
