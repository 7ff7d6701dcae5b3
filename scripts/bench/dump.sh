#!/usr/bin/env bash
# scripts/bench/dump.sh - whole databases: dump, restore and migration (issue 12).
#
# The five tables of the bench databases (pgbench's four at scale 50 and
# typed; the same rows on PostgreSQL and MariaDB), side by side, the
# commands taking turns, RUNS rounds of each comparison:
#   - dump:      dbchunk dump --jobs 2 next to pg_dump -Fd -j 2 and
#                mydumper --threads 2;
#   - restore:   dbchunk restore --jobs 2 --create next to pg_restore -j 2
#                and myloader --threads 2, each into a new database
#                (bench_dump_restore), of the dumps the last dump round made;
#   - migration: MariaDB -> PostgreSQL, dbchunk dump + dbchunk restore
#                --create next to pgloader, each into a new PostgreSQL
#                database (bench_dump_migrate);
# and, as references, dbchunk dump --compress none (the price of zstd) and
# the pieces of dbchunk's own checks timed alone (sha256sum of the dump's
# files, count(*) of every table). After every restore and migration the
# row count of every table is checked against the source's. Prints a
# Markdown section on stdout.
#
# Usage: scripts/bench/dump.sh [path/to/dbchunk] > section.md
#   Run by `scripts/bench.sh --only dump` (which installs mydumper and
#   pgloader, makes the datasets and raises MariaDB's buffer pool first).
#   Alone it needs the bench databases of scripts/bench.sh with MariaDB's
#   pgbench tables (`scripts/bench.sh --datasets-only`) and a release
#   build (default target/release/dbchunk). RUNS (default 3); BENCH_DB
#   the source databases (default bench; --quick: bench_quick).
#   Creates and drops the databases bench_dump_restore and
#   bench_dump_migrate (PostgreSQL and MariaDB); outputs go to /dev/shm.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DBCHUNK="${1:-$REPO_ROOT/target/release/dbchunk}"
RUNS="${RUNS:-3}"
PG_HOST=127.0.0.1
PG_PORT=5432
MY_HOST=127.0.0.1
MY_PORT=3306
SRC="${BENCH_DB:-bench}"
RESTORE_DB=bench_dump_restore
MIGRATE_DB=bench_dump_migrate
PG_BASE="postgres://postgres@$PG_HOST:$PG_PORT"
MY_BASE="mysql://root@$MY_HOST:$MY_PORT"
TABLE_LIST=(pgbench_accounts pgbench_branches pgbench_history pgbench_tellers typed)
TABLES=$(
    IFS=,
    echo "${TABLE_LIST[*]}"
)
export PGCONNECT_TIMEOUT=10
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    WORK=$(mktemp -d /dev/shm/dbchunk-bench-dump.XXXXXX)
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/dbchunk-bench-dump.XXXXXX")
fi
log() { printf 'dump.sh: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

pg() { psql -X -w -q -A -t -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres "$@" </dev/null; }
my() { mariadb -h "$MY_HOST" -P "$MY_PORT" -u root --default-character-set=utf8mb4 -N -B "$@" </dev/null; }
drop_dbs() {
    local db
    for db in "$RESTORE_DB" "$MIGRATE_DB"; do
        pg -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
        my -e "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    done
}
cleanup() {
    drop_dbs
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$DBCHUNK" ] || die "no dbchunk at $DBCHUNK: cargo build --release first"
for tool in pg_dump pg_restore mydumper myloader pgloader /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (scripts/bench.sh --only dump installs it)"
done

# The source's row counts, which every restore and migration must reproduce.
declare -A EXPECT
TOTAL_ROWS=0
for t in "${TABLE_LIST[@]}"; do
    n=$(pg -d "$SRC" -c "select count(*) from $t") || die "PostgreSQL $SRC has no $t: run scripts/bench.sh --datasets-only"
    m=$(my "$SRC" -e "select count(*) from \`$t\`") || die "MariaDB $SRC has no $t: run scripts/bench.sh --datasets-only"
    [ "$n" = "$m" ] || die "$t has $n rows on PostgreSQL and $m on MariaDB: run scripts/bench.sh --rebuild"
    EXPECT[$t]=$n
    TOTAL_ROWS=$((TOTAL_ROWS + n))
done

# check_counts ENGINE DB [SCHEMA]: every table holds the source's rows.
check_counts() {
    local engine=$1 db=$2 schema=${3:-public} t n
    for t in "${TABLE_LIST[@]}"; do
        case $engine in
        pg) n=$(pg -d "$db" -c "select count(*) from \"$schema\".\"$t\"" 2>&1) || n="missing ($n)" ;;
        my) n=$(my "$db" -e "select count(*) from \`$t\`" 2>&1) || n="missing ($n)" ;;
        esac
        if [ "$n" != "${EXPECT[$t]}" ]; then
            echo "$engine $db: table $t holds $n rows, the source ${EXPECT[$t]}"
            return 1
        fi
    done
}
# fresh ENGINE DB: an empty database (PostgreSQL: and no checkpoint debt).
fresh() {
    case $1 in
    pg)
        pg -d postgres -c "DROP DATABASE IF EXISTS $2" &&
            pg -d postgres -c "CREATE DATABASE $2 TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'" &&
            pg -d postgres -c CHECKPOINT
        ;;
    my) my -e "DROP DATABASE IF EXISTS $2; CREATE DATABASE $2 CHARACTER SET utf8mb4" ;;
    esac
}
dir_bytes() { find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
dir_files() { find "$1" -type f 2>/dev/null | wc -l; }

# The cases, in the order they are shown: ID <tab> shown command.
CASES="$WORK/cases.tsv"
: >"$CASES"
# run ID PRE POST -- CMD...: PRE (untimed, eval'd) then CMD timed with GNU
# time, then POST (untimed, eval'd; failing marks the run failed). Appends
# "wall rss_kb cpu status" to $WORK/ID.runs; CMD's output is in $WORK/ID.log.
run() {
    local id=$1 pre=$2 post=$3
    shift 4
    grep -q "^$id	" "$CASES" || printf '%s\t%s\n' "$id" "$(shown "$@")" >>"$CASES"
    local t0 t1 status=ok rc=0
    if ! eval "$pre" >"$WORK/$id.log" 2>&1; then status="setup failed: $(tail -n 1 "$WORK/$id.log")"; fi
    t0=$(date +%s%N)
    [ "$status" = ok ] && { /usr/bin/time -f '%M %U %S' -o "$WORK/$id.time" "$@" >>"$WORK/$id.log" 2>&1 || rc=$?; }
    t1=$(date +%s%N)
    if [ "$status" != ok ]; then
        :
    elif [ "$rc" -ne 0 ]; then
        status="exit $rc: $(grep -v '^Command exited' "$WORK/$id.log" | tail -n 1 | cut -c1-200)"
    elif [ -n "$post" ] && ! eval "$post" >"$WORK/$id.check" 2>&1; then
        status="check: $(tail -n 1 "$WORK/$id.check")"
    fi
    local wall rss cpu
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    rss=$(tail -n 1 "$WORK/$id.time" 2>/dev/null | awk '{ print $1 + 0 }')
    cpu=$(tail -n 1 "$WORK/$id.time" 2>/dev/null | awk '{ printf "%.2f", $2 + $3 }')
    printf '%s %s %s %s\n' "$wall" "${rss:-0}" "${cpu:-0}" "${status// /_}" >>"$WORK/$id.runs"
    if [ "$status" = ok ]; then
        log "  $(printf '%-26s %8.2f s  cpu %6.2f s  rss %6.1f MB' "$id" "$wall" "$cpu" "$(awk -v r="${rss:-0}" 'BEGIN { print r / 1024 }')")"
    else
        log "  $id FAILED: $status"
    fi
}
# shown CMD...: the command as a reader would type it.
shown() {
    local a out=""
    for a in "$@"; do
        [[ "$a" =~ ^[][A-Za-z0-9_./:=@%+,-]+$ ]] || a="'$a'"
        out="$out $a"
    done
    out=${out# }
    out=${out//"$DBCHUNK"/dbchunk}
    out=${out//"$WORK"/\$TMP}
    printf '%s' "$out"
}

PG_DUMP_ARGS=(-h "$PG_HOST" -p "$PG_PORT" -U postgres)
for t in "${TABLE_LIST[@]}"; do PG_DUMP_ARGS+=(-t "$t"); done
MY_ARGS=(--host "$MY_HOST" --port "$MY_PORT" --user root)

# --- dump ----------------------------------------------------------------------
# Each writes a new directory; the last round's stays for the restores.
manifest_rows() { # DIR: the manifest's rows equal the source's
    local n
    n=$(python3 -c 'import json, sys; print(sum(t["rows"] for t in json.load(open(sys.argv[1]))["tables"]))' \
        "$1/manifest.json")
    [ "$n" = "$TOTAL_ROWS" ] || {
        echo "the manifest holds $n rows, the source $TOTAL_ROWS"
        return 1
    }
}
dump_round() {
    run pg.dump.dbchunk "rm -rf $WORK/pg.dbchunk" "manifest_rows $WORK/pg.dbchunk" -- \
        "$DBCHUNK" dump --url "$PG_BASE/$SRC" --tables "$TABLES" --jobs 2 -o "$WORK/pg.dbchunk" --stats
    run pg.dump.pg_dump "rm -rf $WORK/pg.pg_dump" "" -- \
        pg_dump "${PG_DUMP_ARGS[@]}" -Fd -j 2 -f "$WORK/pg.pg_dump" "$SRC"
    run pg.dump.dbchunk-nozstd "rm -rf $WORK/pg.nozstd" "manifest_rows $WORK/pg.nozstd" -- \
        "$DBCHUNK" dump --url "$PG_BASE/$SRC" --tables "$TABLES" --jobs 2 --compress none -o "$WORK/pg.nozstd"
    run my.dump.dbchunk "rm -rf $WORK/my.dbchunk" "manifest_rows $WORK/my.dbchunk" -- \
        "$DBCHUNK" dump --url "$MY_BASE/$SRC" --tables "$TABLES" --jobs 2 -o "$WORK/my.dbchunk" --stats
    run my.dump.mydumper "rm -rf $WORK/my.mydumper" "" -- \
        mydumper "${MY_ARGS[@]}" --database "$SRC" --tables-list "$TABLES" --threads 2 --trx-consistency-only \
        --outputdir "$WORK/my.mydumper" --verbose 1
    run my.dump.dbchunk-nozstd "rm -rf $WORK/my.nozstd" "manifest_rows $WORK/my.nozstd" -- \
        "$DBCHUNK" dump --url "$MY_BASE/$SRC" --tables "$TABLES" --jobs 2 --compress none -o "$WORK/my.nozstd"
}

# --- restore -------------------------------------------------------------------
restore_round() {
    run pg.restore.dbchunk "fresh pg $RESTORE_DB" "check_counts pg $RESTORE_DB" -- \
        "$DBCHUNK" restore --url "$PG_BASE/$RESTORE_DB" --jobs 2 --create "$WORK/pg.dbchunk" --stats
    run pg.restore.pg_restore "fresh pg $RESTORE_DB" "check_counts pg $RESTORE_DB" -- \
        pg_restore -h "$PG_HOST" -p "$PG_PORT" -U postgres -j 2 -d "$RESTORE_DB" "$WORK/pg.pg_dump"
    run my.restore.dbchunk "fresh my $RESTORE_DB" "check_counts my $RESTORE_DB" -- \
        "$DBCHUNK" restore --url "$MY_BASE/$RESTORE_DB" --jobs 2 --create "$WORK/my.dbchunk" --stats
    run my.restore.myloader "fresh my $RESTORE_DB" "check_counts my $RESTORE_DB" -- \
        myloader "${MY_ARGS[@]}" --database "$RESTORE_DB" --directory "$WORK/my.mydumper" --threads 2 --verbose 1
    drop_dbs
}

# --- migration: MariaDB -> PostgreSQL -------------------------------------------
PGLOADER_LOAD="$WORK/migrate.load"
cat >"$PGLOADER_LOAD" <<LOAD
LOAD DATABASE
    FROM mysql://root@$MY_HOST:$MY_PORT/$SRC
    INTO postgresql://postgres@$PG_HOST:$PG_PORT/$MIGRATE_DB
INCLUDING ONLY TABLE NAMES MATCHING $(printf "'%s', " "${TABLE_LIST[@]}" | sed 's/, $//')
ALTER SCHEMA '$SRC' RENAME TO 'public';
LOAD
MIGRATE_SH="$WORK/migrate.sh"
cat >"$MIGRATE_SH" <<SH
#!/bin/sh
# dbchunk's migration: a dump of MariaDB, restored into PostgreSQL.
set -e
"$DBCHUNK" dump --url "$MY_BASE/$SRC" --tables "$TABLES" --jobs 2 -o "$WORK/migrate" --stats
"$DBCHUNK" restore --url "$PG_BASE/$MIGRATE_DB" --jobs 2 --create "$WORK/migrate" --stats
SH
chmod +x "$MIGRATE_SH"
migrate_round() {
    run migrate.dbchunk "rm -rf $WORK/migrate && fresh pg $MIGRATE_DB" "check_counts pg $MIGRATE_DB" -- "$MIGRATE_SH"
    run migrate.pgloader "fresh pg $MIGRATE_DB" "check_counts pg $MIGRATE_DB" -- pgloader "$PGLOADER_LOAD"
    drop_dbs
}

# --- the pieces of dbchunk's checks, timed alone (untimed in the runs above) ----
seconds() { # CMD...: wall seconds of CMD
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'
}
count_all() { # ENGINE DB
    local t
    for t in "${TABLE_LIST[@]}"; do
        case $1 in
        pg) pg -d "$2" -c "select count(*) from $t" ;;
        my) my "$2" -e "select count(*) from \`$t\`" ;;
        esac
    done
}

log "warming the caches (each table read once)"
for t in "${TABLE_LIST[@]}"; do
    pg -d "$SRC" -c "COPY $t TO STDOUT" >/dev/null
    my --quick "$SRC" -e "SELECT * FROM \`$t\`" >/dev/null
done
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
for ((r = 1; r <= RUNS; r++)); do
    log "dump, round $r of $RUNS"
    dump_round
done
for ((r = 1; r <= RUNS; r++)); do
    log "restore, round $r of $RUNS"
    restore_round
done
log "the checks' pieces, once"
SHA_PG=$(seconds sh -c "find '$WORK/pg.dbchunk' -type f ! -name manifest.json -print0 | xargs -0 sha256sum")
SHA_MY=$(seconds sh -c "find '$WORK/my.dbchunk' -type f ! -name manifest.json -print0 | xargs -0 sha256sum")
fresh pg "$RESTORE_DB" >/dev/null && "$DBCHUNK" restore --url "$PG_BASE/$RESTORE_DB" --create "$WORK/pg.dbchunk" --quiet
fresh my "$RESTORE_DB" >/dev/null && "$DBCHUNK" restore --url "$MY_BASE/$RESTORE_DB" --create "$WORK/my.dbchunk" --quiet
COUNT_PG=$(seconds count_all pg "$RESTORE_DB")
COUNT_MY=$(seconds count_all my "$RESTORE_DB")
drop_dbs
for ((r = 1; r <= RUNS; r++)); do
    log "migration, round $r of $RUNS"
    migrate_round
done
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

# --- the section ---------------------------------------------------------------
median() { # ID FIELD: the median of the runs that succeeded
    awk -v f="$2" '$4 == "ok" { print $f }' "$WORK/$1.runs" | sort -n |
        awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "" }'
}
range() { awk '$4 == "ok" { print $1 }' "$WORK/$1.runs" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%.2f–%.2f", lo, hi }'; }
failures() { awk '$4 != "ok" { gsub("_", " ", $4); print $4 }' "$WORK/$1.runs" | head -n 1; }
max_rss() { awk '$4 == "ok" && $2 > m { m = $2 } END { printf "%.0f", m / 1024 }' "$WORK/$1.runs"; }
ratio() { # A B: median A / median B
    local a b
    a=$(median "$1" 1)
    b=$(median "$2" 1)
    [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }'
}
met() { # RATIO OP LIMIT
    [ -n "$1" ] || {
        echo "–"
        return
    }
    awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "le") ? r <= l : r >= l; print ok ? "yes" : "**no**" }'
}
# out_of ID DIR: the output's size and files (dumps), or "–".
size_of() { [ -d "$1" ] && printf '%.1f MB in %d files' "$(awk -v b="$(dir_bytes "$1")" 'BEGIN { print b / 1e6 }')" "$(dir_files "$1")" || echo "–"; }
row() { # ID LABEL OUTPUT
    local id=$1 m
    m=$(median "$id" 1)
    if [ -z "$m" ]; then
        printf '| %s | FAILED: %s | | | | | |\n' "$2" "$(failures "$id")"
        return
    fi
    printf '| %s | %.2f | %s | %s | %s | %s | %s |\n' "$2" "$m" "$(range "$id")" "$(median "$id" 3)" "$(max_rss "$id")" \
        "$(fmt_int "$TOTAL_ROWS")" "$3"
}
target() { # LABEL A B OP LIMIT
    local r
    r=$(ratio "$2" "$3")
    printf '| %s | %s | %s %s | %s |\n' "$1" \
        "${r:-failed} ($(median "$2" 1) s ÷ $(median "$3" 1) s)" "$([ "$4" = le ] && echo ≤ || echo ≥)" "$5" \
        "$(met "$r" "$4" "$5")"
}
speedup() { # A B: B / A, "5.3×"
    local r
    r=$(ratio "$2" "$1")
    [ -n "$r" ] && printf '%s× faster' "$r"
}
stat_seconds() { # LOG KEY-OCCURRENCE: the n-th "seconds" of --stats in a log
    grep -o '"seconds":[0-9.]*' "$WORK/$1.log" | sed -n "${2}p" | cut -d: -f2
}
fmt_int() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }

printf '## Dump, restore and migration (issue 12)\n\n'
printf '<!-- Written by scripts/bench/dump.sh; rerun it rather than editing the numbers. -->\n\n'
printf 'Measured on %s by `scripts/bench/dump.sh`, RUNS=%s, the commands of each comparison taking turns; the median wall time is shown with the fastest and slowest run. The database: the five tables of the `%s` databases, %s rows in all (' \
    "$START_DATE" "$RUNS" "$SRC" "$(fmt_int "$TOTAL_ROWS")"
for t in "${TABLE_LIST[@]}"; do printf '%s %s%s' "$t" "$(fmt_int "${EXPECT[$t]}")" "$([ "$t" = typed ] || echo ', ')"; done
printf '; pgbench_history is empty after `pgbench -i`), the same rows on PostgreSQL and MariaDB. Dumps go to tmpfs; each restore and migration goes into a new, empty database, and afterwards every table'"'"'s row count is checked against the source'"'"'s (untimed). The restores load the dumps of the last dump round. Load average (1 min): %s at the start, %s at the end.\n\n' \
    "$LOAD_START" "$LOAD_END"

printf '| target | measured | target | met |\n|---|---|---|---|\n'
target "PostgreSQL dump: dbchunk dump --jobs 2 ÷ pg_dump -Fd -j 2" pg.dump.dbchunk pg.dump.pg_dump le 1.0
target "MariaDB dump: dbchunk dump --jobs 2 ÷ mydumper --threads 2" my.dump.dbchunk my.dump.mydumper le 1.0
target "PostgreSQL restore: dbchunk restore --jobs 2 --create ÷ pg_restore -j 2" pg.restore.dbchunk pg.restore.pg_restore le 1.0
target "MariaDB restore: dbchunk restore --jobs 2 --create ÷ myloader --threads 2" my.restore.dbchunk my.restore.myloader le 1.0
r=$(ratio migrate.dbchunk migrate.pgloader)
printf '| MariaDB → PostgreSQL: dbchunk dump + restore ÷ pgloader | %s (%s s ÷ %s s), %s | ≤ 0.2 (≥ 5× faster) | %s |\n\n' \
    "${r:-failed}" "$(median migrate.dbchunk 1)" "$(median migrate.pgloader 1)" "$(speedup migrate.dbchunk migrate.pgloader)" \
    "$(met "$r" le 0.2)"

printf '| command | median s | min–max s | client CPU s | peak RSS MB | rows | output |\n|---|---:|---:|---:|---:|---:|---|\n'
row pg.dump.dbchunk "PostgreSQL dump: dbchunk dump --jobs 2 (CSV, zstd)" "$(size_of "$WORK/pg.dbchunk")"
row pg.dump.pg_dump "PostgreSQL dump: pg_dump -Fd -j 2 (COPY text, gzip)" "$(size_of "$WORK/pg.pg_dump")"
row pg.dump.dbchunk-nozstd "PostgreSQL dump: dbchunk dump --jobs 2 --compress none *(reference)*" "$(size_of "$WORK/pg.nozstd")"
row my.dump.dbchunk "MariaDB dump: dbchunk dump --jobs 2 (CSV, zstd)" "$(size_of "$WORK/my.dbchunk")"
row my.dump.mydumper "MariaDB dump: mydumper --threads 2 (SQL INSERT, uncompressed)" "$(size_of "$WORK/my.mydumper")"
row my.dump.dbchunk-nozstd "MariaDB dump: dbchunk dump --jobs 2 --compress none *(reference)*" "$(size_of "$WORK/my.nozstd")"
row pg.restore.dbchunk "PostgreSQL restore: dbchunk restore --jobs 2 --create" "into a new database"
row pg.restore.pg_restore "PostgreSQL restore: pg_restore -j 2" "into a new database"
row my.restore.dbchunk "MariaDB restore: dbchunk restore --jobs 2 --create" "into a new database"
row my.restore.myloader "MariaDB restore: myloader --threads 2" "into a new database"
row migrate.dbchunk "MariaDB → PostgreSQL: dbchunk dump + dbchunk restore --create" "$(size_of "$WORK/migrate") between"
row migrate.pgloader "MariaDB → PostgreSQL: pgloader" "–"

printf '\nWhere dbchunk'"'"'s time goes (the last run'"'"'s `--stats`, and its checks timed alone):\n\n'
printf -- '- The migration'"'"'s two steps: dump %s s, restore %s s.\n' "$(stat_seconds migrate.dbchunk 1)" "$(stat_seconds migrate.dbchunk 2)"
printf -- '- zstd: `--compress none` dumps in %s s (PostgreSQL) and %s s (MariaDB), against %s s and %s s with zstd (each right after a different command, so compare with care).\n' \
    "$(median pg.dump.dbchunk-nozstd 1)" "$(median my.dump.dbchunk-nozstd 1)" "$(median pg.dump.dbchunk 1)" "$(median my.dump.dbchunk 1)"
printf -- '- The SHA-256 of the dump'"'"'s files, which dump reads back after writing each file and restore reads again before loading: `sha256sum` of all of them takes %s s (PostgreSQL dump) and %s s (MariaDB dump).\n' \
    "$SHA_PG" "$SHA_MY"
printf -- '- The row-count check at the end of a restore (`count(*)` of every table, one after another): %s s on PostgreSQL, %s s on MariaDB.\n\n' \
    "$COUNT_PG" "$COUNT_MY"
printf 'Profiles of the targets missed, probes one table at a time, and what would help: [profile.md](profile.md#dump-restore-and-migration-issue-12).\n\n'

printf 'Commands, exactly as run (`dbchunk` is target/release/dbchunk, `$TMP` a directory on tmpfs; before each restore and migration the target database is dropped and created empty, and PostgreSQL checkpoints):\n\n```sh\n'
cut -f2 "$CASES"
printf '```\n\n`$TMP/migrate.sh` runs:\n\n```sh\n'
sed -n '4,$p' "$MIGRATE_SH" | sed "s#$DBCHUNK#dbchunk#g; s#$WORK#\$TMP#g; s/\"//g"
printf '```\n\n`$TMP/migrate.load` (pgloader'"'"'s defaults otherwise: 4 workers, concurrency 1, create tables, indexes after the data, reset sequences):\n\n```\n'
cat "$PGLOADER_LOAD"
printf '```\n\nVersions: %s; %s; %s; %s; %s.\n\n' "$("$DBCHUNK" --version | head -n 1)" "$(pg_dump --version)" \
    "$(mydumper --version 2>&1 | head -n 1)" "$(pgloader --version 2>&1 | head -n 1)" \
    "MariaDB $(my -e 'select @@version') (innodb_buffer_pool_size $(($(my -e 'select @@innodb_buffer_pool_size') / 1048576)) MiB)"
printf 'Rerun: `scripts/bench.sh --only dump` (rewrites only this section; RUNS=5 for 5 rounds).\n'
