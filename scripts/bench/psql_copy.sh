#!/usr/bin/env bash
# scripts/bench/psql_copy.sh - one psql `COPY (QUERY) TO STDOUT CSV` into a
# file, and the CPU time the server's backend spent on it.
#
# The split-read measurement of scripts/bench.sh (issue 11) runs one of these,
# or two at once, and needs both sides of the cost: the client's CPU time
# comes from GNU time around this script, the server's from here. The
# backend's user + sys time is read from /proc/PID/stat just before psql
# disconnects (the backend exits with the session), so the PostgreSQL server
# must run on this machine, in this PID namespace.
#
# Usage: psql_copy.sh URL QUERY OUTPUT CPU_FILE
#   URL       a libpq connection string (postgresql://user@host:port/db)
#   QUERY     the SELECT to copy out (no trailing semicolon)
#   OUTPUT    the CSV file to write (no header line)
#   CPU_FILE  gets one line appended: the backend's CPU seconds (user + sys)
set -euo pipefail

[ "$#" -eq 4 ] || {
    sed -n '/^# Usage:/,/^# *CPU_FILE/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
url=$1 query=$2 output=$3 cpu_file=$4

# \gset and \setenv hand the backend's PID to the shell of \!, which runs
# after the COPY (its statement ends at the semicolon) and before psql quits.
psql -X -w -q -A -t -v ON_ERROR_STOP=1 -d "$url" >"$output" <<SQL
SELECT pg_backend_pid() AS backend_pid \gset
\setenv BACKEND_PID :backend_pid
\setenv CPU_FILE $cpu_file
COPY ($query) TO STDOUT CSV;
\! awk -v hz="\$(getconf CLK_TCK)" '{ printf "%.2f\n", (\$14 + \$15) / hz }' "/proc/\$BACKEND_PID/stat" >>"\$CPU_FILE"
SQL
