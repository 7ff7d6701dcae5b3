#!/usr/bin/env python3
"""Turn scripts/bench.sh's measurements into docs/benchmarks.md.

Inputs (tab-separated, written by bench.sh):
  --meta     key, value                        facts about the machine and the run
  --groups   group, title, baseline case, note, load average (1 min) at its start
  --cases    case, group, label, rows, command in the order they ran
  --results  case, run, status, wall s, peak RSS KiB, bytes, rows, CPU s (user+sys)

  --server-cpu case, run, CPU s of the PostgreSQL backends (the split-read runs)

With --section formats, only the section "Formats: Parquet and compression
(issue 16)" is written: it replaces that section of --output (or goes before
"Where the time goes", or at the end), and the rest of the file is kept.
--section strategies does the same for "Resumable at cursor speed (issue 11)".
"""

import argparse
import os
import statistics
from collections import OrderedDict, defaultdict


def read_tsv(path, ncols):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                parts = line.split("\t")
                rows.append(parts + [""] * (ncols - len(parts)))
    return rows


class Case:
    def __init__(self, cid, group, label, rows, command):
        self.id, self.group, self.label, self.rows, self.command = cid, group, label, int(rows), command
        self.walls, self.rss, self.bytes, self.cpus, self.failures = [], [], [], [], []
        self.server_cpus = []

    @property
    def ok(self):
        return bool(self.walls) and not self.failures

    @property
    def median(self):
        return statistics.median(self.walls) if self.walls else None

    @property
    def cpu(self):
        return statistics.median(self.cpus) if self.cpus else None

    @property
    def server_cpu(self):
        return statistics.median(self.server_cpus) if self.server_cpus else None

    @property
    def peak_rss_mb(self):
        return max(self.rss) / 1024 if self.rss else None

    @property
    def mb(self):
        return statistics.median(self.bytes) / 1e6 if self.bytes else None


def load(args):
    meta = OrderedDict((k, v) for k, v in read_tsv(args.meta, 2))
    groups = OrderedDict((g[0], g) for g in read_tsv(args.groups, 5))
    cases = OrderedDict()
    for cid, group, label, rows, command in read_tsv(args.cases, 5):
        cases[cid] = Case(cid, group, label, rows, command)
    for cid, run, status, wall, rss, nbytes, rows, cpu in read_tsv(args.results, 8):
        c = cases.get(cid)
        if c is None:
            continue
        if status == "ok":
            c.walls.append(float(wall))
            c.rss.append(int(float(rss)))
            c.bytes.append(int(nbytes))
            if cpu:
                c.cpus.append(float(cpu))
        else:
            c.failures.append(f"run {run}: {status}")
    if args.server_cpu and os.path.exists(args.server_cpu):
        for cid, _run, secs in read_tsv(args.server_cpu, 3):
            if cid in cases:
                cases[cid].server_cpus.append(float(secs))
    return meta, groups, cases


def f2(x):
    return "–" if x is None else f"{x:.2f}"


def thousands(x):
    return "–" if x is None else f"{x:,.0f}"


def ratio_text(r):
    return "–" if r is None else f"{r:.2f}×"


def members_of(cases, gid):
    return [c for c in cases.values() if c.group == gid]


def command_blocks(groups, cases):
    """Each group's commands, as run, in a sh block under its title (groups without cases left out)."""
    out = []
    for g in groups:
        members = members_of(cases, g[0])
        if not members:
            continue
        out += [f"{g[1]}:", "", "```sh"]
        out += [c.command for c in members]
        out += ["```", ""]
    return out


def closing_note(note, load):
    """The lines that end a comparison's table: its note, with the load average when it started."""
    if load:
        note = (note + " " if note else "") + f"Load average (1 min) when this comparison started: {load}."
    return (["", note] if note else []) + [""]


def group_table(g, cases, import_kind):
    gid, title, baseline_id, note, load = g[:5]
    members = members_of(cases, gid)
    base = cases.get(baseline_id)
    base_med = base.median if base is not None and base.ok else None
    mb_head = "input MB" if import_kind else "output MB"
    lines = [
        f"### {title}",
        "",
        f"| command | median s | min–max s | rows/s | {mb_head} | MB/s | peak RSS MB | time ÷ {base.label if base else 'baseline'} |"
        if base
        else f"| command | median s | min–max s | rows/s | {mb_head} | MB/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|" + ("---:|" if base else ""),
    ]
    for c in members:
        if not c.ok:
            why = "; ".join(c.failures) if c.failures else "not run"
            lines.append(f"| {c.label} | FAILED | {why.replace('|', '/')} | | | | |" + (" |" if base else ""))
            continue
        med = c.median
        cells = [
            c.label,
            f2(med),
            f"{min(c.walls):.2f}–{max(c.walls):.2f}",
            thousands(c.rows / med if med else None),
            f"{c.mb:.1f}",
            f"{c.mb / med:.1f}" if med else "–",
            f"{c.peak_rss_mb:.1f}",
        ]
        if base:
            if c.rows == base.rows:
                cells.append(ratio_text(med / base_med) if base_med else "–")
            else:
                # A --limit run (offset): compared with keyset under the same --limit.
                ref = cases.get(f"{gid}.dbchunk-keyset-csv-limit")
                if ref is not None and ref is not c and ref.ok and ref.rows == c.rows:
                    cells.append(f"{med / ref.median:.2f}× keyset --limit")
                else:
                    cells.append("–")
        if c.id == baseline_id:
            cells[0] = f"**{c.label}** (baseline)"
        lines.append("| " + " | ".join(cells) + " |")
    return lines + closing_note(note, load)


class Targets:
    """The issue's targets, each checked against the measured medians."""

    def __init__(self, cases):
        self.cases = cases
        self.rows = []

    def med(self, cid):
        c = self.cases.get(cid)
        return c.median if c is not None and c.ok else None

    def time_ratio(self, what, num, den, limit, faster=False):
        """A target; `limit` None marks a reference ratio that explains one."""
        a, b = self.med(num), self.med(den)
        shown_limit = "–" if limit is None else f"≤ {limit:g}"
        if num not in self.cases and den in self.cases:
            self.rows.append((what, "not measured", shown_limit, "not measured"))
            return
        if a is None or b is None:
            if num in self.cases or den in self.cases:
                self.rows.append((what, "failed run", shown_limit, "–"))
            return
        r = a / b
        shown = f"{r:.2f} ({a:.2f} s ÷ {b:.2f} s)"
        if faster:
            shown += f", {b / a:.1f}× faster" if a <= b else f", {a / b:.1f}× slower"
        if limit is None:
            self.rows.append((what, shown, "–", "(reference)"))
            return
        self.rows.append((what, shown, f"≤ {limit:g}", "yes" if r <= limit else "**no**"))

    def rss_max(self, what, ids, limit_mb):
        vals = [(self.cases[i].peak_rss_mb, self.cases[i].label) for i in ids if i in self.cases and self.cases[i].ok]
        if not vals:
            return
        mb, label = max(vals)
        self.rows.append((what, f"{mb:.1f} MB ({label})", f"≤ {limit_mb:g} MB", "yes" if mb <= limit_mb else "**no**"))

    def rss_ratio(self, what, full, part, limit):
        a, b = self.cases.get(full), self.cases.get(part)
        if a is None or b is None or not a.ok or not b.ok:
            return
        r = a.peak_rss_mb / b.peak_rss_mb
        self.rows.append(
            (what, f"{r:.2f} ({a.peak_rss_mb:.1f} MB ÷ {b.peak_rss_mb:.1f} MB)", f"≤ {limit:g}", "yes" if r <= limit else "**no**")
        )


def client_ratios(t, what, g, base, same):
    """dbchunk auto CSV against the engine's own client (`base`: case, label[, short label]), and
    against that client running what dbchunk runs (`same`: case, label, what it costs, note)."""
    base_id, base_label = base[:2]
    base_short = base[2] if len(base) > 2 else base_label
    same_id, same_label, cost, note = same
    t.time_ratio(f"{what}: dbchunk auto CSV ÷ {base_label}", f"{g}.dbchunk-auto-csv", f"{g}.{base_id}", 1.0)
    t.time_ratio(f"{what}: {same_label} ÷ {base_short} {cost}", f"{g}.{same_id}", f"{g}.{base_id}", None)
    t.time_ratio(f"{what}: dbchunk auto CSV ÷ {same_label} {note}", f"{g}.dbchunk-auto-csv", f"{g}.{same_id}", None)


def build_targets(cases, meta):
    t = Targets(cases)
    big, subset = meta.get("accounts_rows", "?"), meta.get("subset_rows", "?")
    for ds in ("accounts", "typed"):
        g = f"export.pg.{ds}"
        client_ratios(t, f"PostgreSQL {ds}", g, ("psql-copy", "psql COPY"),
                      ("psql-copy-ordered", "psql COPY ORDER BY key", "(the price of key order)", "(the same query)"))
        for s in ("keyset", "cursor"):
            t.time_ratio(f"PostgreSQL {ds}: dbchunk {s} CSV ÷ psql COPY", f"{g}.dbchunk-{s}-csv", f"{g}.psql-copy", 1.3)
        for s in ("auto", "keyset", "cursor"):
            t.time_ratio(f"PostgreSQL {ds}: dbchunk {s} NDJSON ÷ {s} CSV", f"{g}.dbchunk-{s}-ndjson", f"{g}.dbchunk-{s}-csv", 1.3)
    for ds in ("accounts", "typed"):
        g = f"export.my.{ds}"
        client_ratios(t, f"MariaDB {ds}", g, ("mariadb-batch", "mariadb --quick --batch", "one SELECT"),
                      ("mariadb-keyset", "mariadb running the keyset queries", "(the price of a query per chunk)",
                       "(the same queries)"))
        t.time_ratio(f"MariaDB {ds}: dbchunk cursor CSV ÷ mariadb --quick --batch (one query, as the client)",
                     f"{g}.dbchunk-cursor-csv", f"{g}.mariadb-batch", None)
    for ds in ("accounts", "typed"):
        t.time_ratio(f"PostgreSQL {ds}: dbchunk --parallel 2 ÷ psql COPY", f"export.pg.{ds}.dbchunk-parallel2-csv",
                     f"export.pg.{ds}.psql-copy", 0.8)
        t.time_ratio(f"MariaDB {ds}: dbchunk --parallel 2 ÷ mydumper --threads 2", f"export.my.{ds}.dbchunk-parallel2-csv",
                     f"export.my.{ds}.mydumper", 1.0)
    for eng, name in (("pg", "PostgreSQL"), ("my", "MariaDB"), ("sqlite", "SQLite")):
        for ds in ("accounts", "typed"):
            g = f"export.{eng}.{ds}"
            t.time_ratio(f"{name} {ds}: dbchunk auto CSV ÷ SQLAlchemy export", f"{g}.dbchunk-auto-csv", f"{g}.sqlalchemy", 0.1,
                         faster=True)
    for eng, name in (("pg", "PostgreSQL"), ("my", "MariaDB"), ("sqlite", "SQLite")):
        for ds in ("accounts", "typed"):
            g = f"export.{eng}.{ds}"
            ids = [cid for cid in cases if cid.startswith(g + ".dbchunk-") and "offset" not in cid]
            t.rss_max(f"{name} {ds}: highest dbchunk peak RSS (--chunk 5000, not offset)", ids, 32)
    for eng, name in (("pg", "PostgreSQL"), ("my", "MariaDB")):
        for s in ("auto", "keyset", "cursor"):
            t.rss_ratio(f"{name} dbchunk {s}: peak RSS {big} rows ÷ {subset} rows",
                        f"export.{eng}.accounts.dbchunk-{s}-csv", f"memory.{eng}.dbchunk-{s}-csv", 1.1)
    for ds in ("accounts", "typed"):
        g = f"import.pg.{ds}"
        t.time_ratio(f"PostgreSQL import {ds}: dbchunk copy ÷ psql \\copy FROM", f"{g}.dbchunk-copy", f"{g}.psql-copy-from", 1.0)
        t.time_ratio(f"PostgreSQL import {ds}: dbchunk copy --atomic ÷ psql \\copy FROM (both one transaction)",
                     f"{g}.dbchunk-copy-atomic", f"{g}.psql-copy-from", None)
        g = f"import.my.{ds}"
        t.time_ratio(f"MariaDB import {ds}: dbchunk load-data ÷ mariadb LOAD DATA LOCAL", f"{g}.dbchunk-load-data",
                     f"{g}.mariadb-load-data", 1.0)
        t.time_ratio(f"MariaDB import {ds}: dbchunk load-data --atomic ÷ mariadb LOAD DATA LOCAL (both one transaction)",
                     f"{g}.dbchunk-load-data-atomic", f"{g}.mariadb-load-data", None)
    for eng, name in (("pg", "PostgreSQL"), ("my", "MariaDB"), ("sqlite", "SQLite")):
        for ds in ("accounts", "typed"):
            g = f"import.{eng}.{ds}"
            t.time_ratio(f"{name} import {ds}: dbchunk insert ÷ SQLAlchemy executemany", f"{g}.dbchunk-insert",
                         f"{g}.sqlalchemy", 0.2, faster=True)
    return t.rows


FORMATS_TITLE = "## Formats: Parquet and compression (issue 16)"

# Each formats row's pair: the row it is divided by in the tables (suffixes
# of case ids within a group).
FORMATS_PAIRS = {
    "dbchunk-parquet": "dbchunk-csv",
    "connectorx": "dbchunk-parquet",
    "dbchunk-csv-zstd": "dbchunk-csv",
    "dbchunk-csv-gzip": "dbchunk-csv",
    "dbchunk-parquet-full": "dbchunk-parquet-small",
    "dbchunk-copy-parquet": "dbchunk-copy-csv",
    "dbchunk-copy-csv-zst": "dbchunk-copy-csv",
}


def spread(values):
    if not values:
        return "–"
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def formats_targets(cases, meta):
    """Issue 16's benchmark targets: (what, measured, target, met)."""
    rows = []

    def get(cid):
        c = cases.get(cid)
        return c if c is not None and c.ok else None

    def ratio(what, num, den, limit, figure="wall"):
        a, b = get(num), get(den)
        if a is None or b is None:
            if num in cases or den in cases:
                rows.append((what, "failed or not run", "–" if limit is None else f"≤ {limit:g}", "–"))
            return
        x, y = (a.median, b.median) if figure == "wall" else (a.cpu, b.cpu)
        if x is None or y is None or y == 0:
            return
        r = x / y
        shown = f"{r:.2f} ({x:.2f} s ÷ {y:.2f} s)"
        if limit is None:
            rows.append((what, shown, "–", "(reference)"))
        else:
            rows.append((what, shown, f"≤ {limit:g}", "yes" if r <= limit else "**no**"))

    def rss(what, cid, limit):
        c = get(cid)
        if c is None:
            return
        shown = f"{c.peak_rss_mb:.1f} MB"
        if limit is None:
            rows.append((what, shown, "–", "(reference)"))
        else:
            rows.append((what, shown, f"≤ {limit:g} MB", "yes" if c.peak_rss_mb <= limit else "**no**"))

    for ds in ("accounts", "typed"):
        g = f"formats.export.{ds}"
        ratio(f"{ds}: dbchunk Parquet ÷ dbchunk CSV, wall", f"{g}.dbchunk-parquet", f"{g}.dbchunk-csv", 1.3)
        ratio(f"{ds}: dbchunk Parquet ÷ ConnectorX + pyarrow, wall", f"{g}.dbchunk-parquet", f"{g}.connectorx", 0.8)
        ratio(f"{ds}: dbchunk Parquet ÷ ConnectorX + pyarrow, CPU (user+sys of the client)",
              f"{g}.dbchunk-parquet", f"{g}.connectorx", 0.5, figure="cpu")
        ratio(f"{ds}: dbchunk CSV ÷ ConnectorX + pyarrow, wall", f"{g}.dbchunk-csv", f"{g}.connectorx", None)
        ratio(f"{ds}: dbchunk CSV ÷ ConnectorX + pyarrow, CPU", f"{g}.dbchunk-csv", f"{g}.connectorx", None,
              figure="cpu")
        rss(f"{ds}: dbchunk Parquet peak RSS", f"{g}.dbchunk-parquet", 128)
        rss(f"{ds}: ConnectorX + pyarrow peak RSS", f"{g}.connectorx", None)
        ratio(f"{ds}: dbchunk zstd CSV ÷ plain CSV, wall", f"{g}.dbchunk-csv-zstd", f"{g}.dbchunk-csv", 1.2)
        ratio(f"{ds}: dbchunk gzip CSV ÷ plain CSV, wall", f"{g}.dbchunk-csv-gzip", f"{g}.dbchunk-csv", None)
    small = get("formats.memory.dbchunk-parquet-small")
    full = get("formats.memory.dbchunk-parquet-full")
    if small is not None:
        rss(f"dbchunk Parquet peak RSS, {small.rows:,} rows", "formats.memory.dbchunk-parquet-small", 128)
    if full is not None:
        rss(f"dbchunk Parquet peak RSS, {full.rows:,} rows", "formats.memory.dbchunk-parquet-full", 128)
    if small is not None and full is not None:
        r = full.peak_rss_mb / small.peak_rss_mb
        rows.append((f"dbchunk Parquet peak RSS, {full.rows:,} ÷ {small.rows:,} rows (flat)",
                     f"{r:.2f} ({full.peak_rss_mb:.1f} MB ÷ {small.peak_rss_mb:.1f} MB)", "≤ 1.1",
                     "yes" if r <= 1.1 else "**no**"))
    for ds in ("accounts", "typed"):
        g = f"formats.import.{ds}"
        ratio(f"import {ds}: dbchunk Parquet ÷ CSV (copy), wall", f"{g}.dbchunk-copy-parquet", f"{g}.dbchunk-copy-csv", 1.2)
        ratio(f"import {ds}: dbchunk zstd CSV ÷ CSV (copy), wall", f"{g}.dbchunk-copy-csv-zst", f"{g}.dbchunk-copy-csv",
              None)
    return rows


def formats_group_table(g, cases):
    gid, title, _baseline, note, load = g[:5]
    members = members_of(cases, gid)
    import_kind = gid.startswith("formats.import.")
    mb_head = "input MB" if import_kind else "output MB"
    lines = [
        f"### {title}",
        "",
        f"| command | wall s, median (min–max) | CPU s (user+sys), median (min–max) | rows/s | {mb_head} "
        "| peak RSS MB | pair | wall ÷ pair | CPU ÷ pair |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for c in members:
        if not c.ok:
            why = "; ".join(c.failures) if c.failures else "not run"
            lines.append(f"| {c.label} | FAILED | {why.replace('|', '/')} | | | | | | |")
            continue
        suffix = c.id[len(gid) + 1:]
        pair = cases.get(f"{gid}.{FORMATS_PAIRS[suffix]}") if suffix in FORMATS_PAIRS else None
        if pair is not None and pair.ok:
            pair_cells = [pair.label, ratio_text(c.median / pair.median),
                          ratio_text(c.cpu / pair.cpu) if c.cpu and pair.cpu else "–"]
        else:
            pair_cells = ["–", "–", "–"]
        lines.append("| " + " | ".join([
            c.label,
            spread(c.walls),
            spread(c.cpus),
            thousands(c.rows / c.median if c.median else None),
            f"{c.mb:.1f}",
            f"{c.peak_rss_mb:.1f}",
        ] + pair_cells) + " |")
    return lines + closing_note(note, load)


FORMATS_METHOD = (
    ": every command run {runs} times, the commands of one comparison taking turns, each writing a "
    "file on tmpfs. Times are the median with the fastest and slowest run; CPU time is the client "
    "process's user + sys (its threads included) from GNU time, without the PostgreSQL server's; peak RSS "
    "is the largest of the runs. Ratios are between medians of the same run.")

STRATEGIES_METHOD = (
    " with {dbchunk} (the worktree's target/release/dbchunk): every command run {runs} times, the "
    "commands of one comparison taking turns, each writing its CSV to tmpfs (stdout redirected to a file, or "
    "the tool's own output file). Times are the median with the fastest and slowest run; client CPU is the "
    "command's user + sys from GNU time (its threads and children), without the database server's; peak RSS is "
    "the largest of the runs. Ratios are between medians of the same run.")


def setup_head(m):
    """The first rows of a section's setup table: the machine and its load."""
    return [
        "### Setup",
        "",
        "| | |",
        "|---|---|",
        f"| machine | {m('nproc')} CPUs ({m('cpu')}), {m('memory')} memory, {m('os')}, {m('kernel')} |",
        f"| load average (1, 5, 15 min) | at the start {m('load_start')}; at the end {m('load_end')} "
        "(other work on the machine at the same time slows the runs it overlaps) |",
    ]


def section_start(meta, title, only, method, targets):
    """The opening of a section: its title, the note not to edit its
    numbers, how it was measured (`method` follows the command) and its
    targets table."""
    how = f"`scripts/bench.sh --only {only}`" if meta.get("only") == only else "`scripts/bench.sh`"
    note = f"<!-- Written by {how.strip('`')} (scripts/bench/report.py); rerun it rather than editing the numbers. -->"
    quick = " **in --quick mode (small datasets, not representative)**" if meta.get("mode") == "quick" else ""
    out = [title, "", note, "", f"Measured on {meta.get('date')} by {how}{quick}{method}", "",
           "### Targets", "", "| target | measured | target | met |", "|---|---|---|---|"]
    return out + [f"| {what} | {shown} | {limit} | {met} |" for what, shown, limit, met in targets]


def formats_section(meta, groups, cases):
    m = meta.get
    fgroups = [g for gid, g in groups.items() if gid.startswith("formats.")]
    if not fgroups:
        return []
    out = section_start(meta, FORMATS_TITLE, "formats", FORMATS_METHOD.format(runs=m("runs")),
                        formats_targets(cases, meta))
    out.append("")
    for g in fgroups:
        out += formats_group_table(g, cases)
    out += setup_head(m) + [
        f"| dbchunk | {m('dbchunk')}, `cargo build --release`, {m('rustc')}; defaults: `--chunk {m('chunk')}`, "
        "Parquet zstd level 1 inside the file, `--row-group-size 32MiB`; `.csv.zst` zstd level 1 (the default), `.csv.gz` "
        "gzip level 6; strategy auto |",
        f"| PostgreSQL | server {m('pg_server')}; {m('pg_settings')} |",
        "| MariaDB | not used by these rows (the bench's `innodb_buffer_pool_size` change is skipped with "
        "`--only formats`) |",
        f"| Python | {m('python')}: {m('arrow_libs')} (pinned in scripts/bench.sh) |",
        "| sling | not measured: its Parquet writer (sling-linux-amd64 1.4.11 from PyPI) downloads the DuckDB CLI at "
        "run time, which this machine cannot reach |",
        f"| time | measurements {minutes(m('measure_seconds', '0'))}, {minutes(m('total_seconds', '0'))} in all |",
        "",
        f"Datasets (database `{m('db')}`): `pgbench_accounts` (`pgbench -i -s "
        f"{m('scale')}`), `typed` (see Method above), and `accounts_10m`: {int(m('narrow_rows', '0')):,} rows of "
        "pgbench_accounts' shape (`aid int` primary key, `bid`, `abalance int`, `filler char(84)`) from "
        "`generate_series`. The import inputs are dbchunk's own exports of the same rows (CSV, `.csv.zst`, "
        f"Parquet; pgbench_accounts' first {int(m('subset_rows', '0')):,} rows), loaded with `--strategy copy` "
        "into a freshly truncated `(LIKE ... INCLUDING ALL)` copy after a `CHECKPOINT`; the row count is "
        "checked after each run. ConnectorX + pyarrow is "
        "[scripts/bench/connectorx_export.py](../scripts/bench/connectorx_export.py): "
        "`cx.read_sql(url, \"SELECT * FROM table\", return_type=\"arrow\")` (one connection, binary protocol, "
        "no TLS), then `pyarrow.parquet.write_table(t, path, compression=\"zstd\")`; dbchunk connects with TLS "
        "(sslmode=prefer, as everywhere in this file) and reads, for Parquet, PostgreSQL's COPY text in key order.",
        "",
        "Where the time goes in the targets missed (client and server CPU, profiles): "
        "[profile.md](profile.md#formats-issue-16-parquet-and-zstd).",
        "",
        "Commands, exactly as run (`dbchunk` is target/release/dbchunk, `python` the venv's, `$TMP` the "
        "scratch directory on tmpfs):",
        "",
    ]
    out += command_blocks(fgroups, cases)
    out += [
        "Rerun this section alone (about 5 minutes; the rest of this file is kept):",
        "",
        "```sh",
        "scripts/bench.sh --only formats          # RUNS=3",
        "RUNS=5 scripts/bench.sh --only formats   # 5 runs of every command",
        "```",
        "",
    ]
    return out


STRATEGIES_TITLE = "## Resumable at cursor speed (issue 11)"


def strategies_targets(cases, meta):
    """Issue 11's targets and the reference ratios that explain them: (what, measured, target, met)."""
    t = Targets(cases)
    for eng, name, base, base_label in (("pg", "PostgreSQL", "psql-copy", "psql COPY"),
                                        ("my", "MariaDB", "mariadb-batch", "mariadb --quick --batch")):
        for ds in ("accounts", "typed"):
            g = f"strategies.export.{eng}.{ds}"
            t.time_ratio(f"{name} {ds}: dbchunk auto CSV ÷ {base_label}", f"{g}.dbchunk-auto-csv", f"{g}.{base}", 1.0)
            t.time_ratio(f"{name} {ds}: dbchunk auto --state FILE (resumable) ÷ {base_label}",
                         f"{g}.dbchunk-auto-state-csv", f"{g}.{base}", 1.0)
            t.time_ratio(f"{name} {ds}: dbchunk keyset ÷ dbchunk cursor", f"{g}.dbchunk-keyset-csv",
                         f"{g}.dbchunk-cursor-csv", 1.15)
    for eng, name in (("pg", "PostgreSQL"), ("my", "MariaDB")):
        for ds in ("accounts", "typed"):
            g = f"strategies.export.{eng}.{ds}"
            ids = [cid for cid in cases if cid.startswith(g + ".dbchunk-")]
            t.rss_max(f"{name} {ds}: highest dbchunk peak RSS (--chunk {meta.get('chunk', '5000')})", ids, 32)
    t.time_ratio("PostgreSQL import: dbchunk import --strategy copy ÷ psql \\copy FROM",
                 "strategies.import.pg.accounts.dbchunk-copy", "strategies.import.pg.accounts.psql-copy-from", 1.0)
    t.time_ratio("MariaDB import: dbchunk import --strategy load-data ÷ LOAD DATA LOCAL INFILE",
                 "strategies.import.my.accounts.dbchunk-load-data", "strategies.import.my.accounts.mariadb-load-data", 1.0)
    # References: where the time of a missed target goes, and the peers.
    for eng, name, base, base_label in (("pg", "PostgreSQL", "psql-copy", "psql COPY"),
                                        ("my", "MariaDB", "mariadb-batch", "mariadb --quick --batch")):
        for ds in ("accounts", "typed"):
            g = f"strategies.export.{eng}.{ds}"
            t.time_ratio(f"{name} {ds}: dbchunk auto --state ÷ dbchunk auto (the price of resumability)",
                         f"{g}.dbchunk-auto-state-csv", f"{g}.dbchunk-auto-csv", None)
            t.time_ratio(f"{name} {ds}: dbchunk cursor ÷ {base_label}", f"{g}.dbchunk-cursor-csv", f"{g}.{base}", None)
            t.time_ratio(f"{name} {ds}: dbchunk auto ÷ sling", f"{g}.dbchunk-auto-csv", f"{g}.sling", None, faster=True)
            t.time_ratio(f"{name} {ds}: dbchunk auto ÷ ConnectorX + pyarrow.csv", f"{g}.dbchunk-auto-csv",
                         f"{g}.connectorx", None, faster=True)
    t.time_ratio("PostgreSQL accounts: dbchunk --parallel 2 ÷ psql COPY (see the split below)",
                 "strategies.export.pg.accounts.dbchunk-parallel2-csv", "strategies.export.pg.accounts.psql-copy", None)
    t.time_ratio("PostgreSQL accounts without a key: dbchunk --parallel 2 (page ranges) ÷ psql COPY",
                 "strategies.nokey.dbchunk-parallel2-csv", "strategies.nokey.psql-copy", None)
    t.time_ratio("psql alone: two COPYs over TID ranges ÷ one COPY", "strategies.split.psql-copy-ctid2",
                 "strategies.split.psql-copy", None)
    t.time_ratio("psql alone: two COPYs over aid ranges, ORDER BY aid ÷ one COPY ORDER BY aid",
                 "strategies.split.psql-copy-key2", "strategies.split.psql-copy-ordered", None)
    return t.rows


def strategies_group_table(g, cases):
    gid, title, baseline_id, note, load = g[:5]
    members = members_of(cases, gid)
    base = cases.get(baseline_id)
    base_med = base.median if base is not None and base.ok else None
    server = any(c.server_cpus for c in members)
    mb_head = "input MB" if gid.startswith("strategies.import.") else "output MB"
    head = ["command", "wall s, median (min–max)", "CPU s client (user+sys), median (min–max)"]
    if server:
        head.append("CPU s server backends, median (min–max)")
    head += ["rows/s", mb_head, "peak RSS MB", f"wall ÷ {base.label if base else 'baseline'}"]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for c in members:
        if not c.ok:
            why = "; ".join(c.failures) if c.failures else "not run"
            lines.append(f"| {c.label} | FAILED | {why.replace('|', '/')} |" + " |" * (len(head) - 3))
            continue
        label = f"**{c.label}** (baseline)" if c.id == baseline_id else c.label
        cells = [label, spread(c.walls), spread(c.cpus)]
        if server:
            cells.append(spread(c.server_cpus))
        cells += [thousands(c.rows / c.median if c.median else None), f"{c.mb:.1f}", f"{c.peak_rss_mb:.1f}",
                  ratio_text(c.median / base_med) if base_med else "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + closing_note(note, load)


def split_model(meta, cases):
    """The split-read measurement read as a model: what a second COPY can gain on this machine and on more cores."""

    def get(cid):
        c = cases.get(cid)
        return c if c is not None and c.ok and c.cpus and c.server_cpus else None

    one, ctid2 = get("strategies.split.psql-copy"), get("strategies.split.psql-copy-ctid2")
    ordered, key2 = get("strategies.split.psql-copy-ordered"), get("strategies.split.psql-copy-key2")
    if one is None or ctid2 is None:
        return []
    cores = int(meta.get("nproc", "2"))
    rows = one.rows

    def us(secs):
        return secs / rows * 1e6

    def bound(server, client, pairs, ncores):
        """The least wall time of `pairs` COPYs sharing server + client CPU seconds on `ncores` cores."""
        return max((server + client) / ncores, max(server, client) / pairs)

    s1, c1, w1 = one.server_cpu, one.cpu, one.median
    s2, c2, w2 = ctid2.server_cpu, ctid2.cpu, ctid2.median
    ideal1 = bound(s1, c1, 1, cores)
    b2 = bound(s2, c2, 2, cores)
    b8 = bound(s2, c2, 4, 8)
    slower = "the backend" if s1 >= c1 else "the client"
    out = [
        "### One COPY or two: splitting the read on PostgreSQL",
        "",
        "What a second connection can gain, measured with psql alone (no dbchunk): one COPY against two at once "
        f"over half the heap each (`WHERE ctid < '({meta.get('split_half_page', '?')},0)'::tid` and `>=`, of "
        f"{meta.get('split_pages', '?')} pages; plan: `{meta.get('split_plan_ctid', '?')}`), and, in key order, one "
        f"COPY `ORDER BY aid` (`{meta.get('split_plan_ordered', '?')}`) against two over half the keys each "
        f"(`{meta.get('split_plan_key', '?')}`). Server CPU is the backends' user + sys time, client CPU psql's.",
        "",
        "| | wall s | server CPU s (µs/row) | client CPU s (µs/row) | (server + client) ÷ wall | least wall on "
        f"{cores} free cores |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c, pairs in ((one, 1), (ctid2, 2), (ordered, 1), (key2, 2)):
        if c is None:
            continue
        out.append(f"| {c.label} | {c.median:.2f} | {c.server_cpu:.2f} ({us(c.server_cpu):.2f}) | "
                   f"{c.cpu:.2f} ({us(c.cpu):.2f}) | {(c.server_cpu + c.cpu) / c.median:.2f} cores | "
                   f"{bound(c.server_cpu, c.cpu, pairs, cores):.2f} |")
    out += [
        "",
        "The model: a COPY is a pipeline of two processes, the backend (scan, output functions, send) and the "
        "client (receive, write). P COPYs at once on K free cores, with S and C the server's and the clients' CPU "
        "seconds in all, cannot take less than max((S + C) ÷ K, max(S, C) ÷ P): the cores must do all the work, "
        "and each pipeline is as slow as its slower side (the last column). On a busy machine the wall times are "
        "longer than that, and a command with more processes gets a larger share of the contended cores, so the "
        "measured gain of two COPYs there overstates what free cores give; the CPU seconds hold either way.",
        "",
        f"- One COPY: {us(s1):.2f} µs of backend CPU and {us(c1):.2f} µs of psql CPU per row; {slower} is the slower "
        f"side, so on free cores it takes about {ideal1:.2f} s (measured {w1:.2f} s, load average "
        f"{meta.get('load_start', '?')} at the start).",
        f"- Two COPYs over TID ranges split the work without adding to it: {s2 + c2:.2f} s of CPU in all, against "
        f"{s1 + c1:.2f} s for one. On {cores} free cores they take at least {b2:.2f} s: at best "
        f"{ideal1 / b2:.2f}× one COPY's speed (measured on this machine {w1 / w2:.2f}×).",
        f"- With more cores the bound falls with P: four COPYs on 8 free cores, at the same CPU per row, at least "
        f"{b8:.2f} s ({ideal1 / b8:.1f}× one COPY), until one output stream (a single writer) or memory bandwidth is "
        "the limit.",
    ]
    if ordered is not None and key2 is not None:
        out.append(f"- In key order: {us(ordered.server_cpu):.2f} µs of backend CPU per row for one COPY `ORDER BY aid` "
                   f"(index scan) against {us(s1):.2f} in heap order, and {us(key2.server_cpu):.2f} µs for the two "
                   f"halves; on free cores two of them take at least {bound(key2.server_cpu, key2.cpu, 2, cores):.2f} s "
                   f"against {ideal1:.2f} s for one COPY in heap order.")
    dbc = cases.get("strategies.export.pg.accounts.dbchunk-copy-csv")
    par = cases.get("strategies.export.pg.accounts.dbchunk-parallel2-csv")
    if dbc is not None and dbc.ok and dbc.cpu:
        text = (f"- dbchunk as the client: {us(dbc.cpu):.2f} µs of CPU per row with the copy strategy (psql: "
                f"{us(c1):.2f})")
        if par is not None and par.ok and par.cpu:
            text += (f", {us(par.cpu):.2f} µs with `--parallel 2` (its second half spooled to a file and copied into "
                     f"the output), which took {par.median:.2f} s here")
            if key2 is not None:
                key_bound = bound(key2.server_cpu, par.cpu, 2, cores)
                heap_bound = bound(s2, par.cpu, 2, cores)
                text += (f". On {cores} free cores, `--parallel 2` in key order takes at least {key_bound:.2f} s, "
                         f"{key_bound / ideal1:.2f}× one psql COPY; split by TID ranges instead (heap order, the "
                         f"same client work), at least {heap_bound:.2f} s, {heap_bound / ideal1:.2f}×")
        out.append(text + ".")
    return out + [""]


def strategies_section(meta, groups, cases):
    m = meta.get
    sgroups = [g for gid, g in groups.items() if gid.startswith("strategies.")]
    if not sgroups:
        return []
    method = STRATEGIES_METHOD.format(runs=m("runs"), dbchunk=m("dbchunk"))
    out = section_start(meta, STRATEGIES_TITLE, "strategies", method, strategies_targets(cases, meta))
    if m("has_state") != "1":
        out += ["", "This build of dbchunk has no `--state`, so the resumable rows are not measured."]
    out.append("")
    for g in sgroups:
        out += strategies_group_table(g, cases)
    out += split_model(meta, cases)
    sling = m("sling") or ""
    out += setup_head(m) + [
        f"| dbchunk | {m('dbchunk')}, `cargo build --release`, {m('rustc')}; `--chunk {m('chunk')}` |",
        f"| PostgreSQL | server {m('pg_server')}; {m('psql')}; {m('pg_settings')} |",
        f"| MariaDB | server {m('my_server')}; client {m('mariadb_client')}; innodb_buffer_pool_size "
        f"{int(m('buffer_pool', '0')) / 2**20:.0f} MiB during the run |",
        f"| sling | {'sling-linux-amd64 ' + sling + ' (the PyPI wheel that carries the binary; the `sling` package downloads its binary from the internet on first use)' if sling else 'not measured: its wheel (sling-linux-amd64) is for x86-64 Linux only'} |",
        f"| Python | {m('python')}: {m('arrow_libs')} (pinned in scripts/bench.sh) |",
        f"| time | measurements {minutes(m('measure_seconds', '0'))}, {minutes(m('total_seconds', '0'))} in all |",
        "",
        f"Datasets: `pgbench_accounts` ({int(m('accounts_rows', '0')):,} rows) and `typed` "
        f"({int(m('typed_rows', '0')):,} rows) in the databases `{m('db')}`, as in Method above. "
        "`dbchunk auto --state FILE` is the resumable export (auto's one streamed statement, a checkpoint after "
        "every chunk at its last row's key; a build older than that took keyset); it writes "
        "with `-o` to tmpfs, where the sync of each checkpoint costs next to nothing (on a disk it would not). "
        "sling reads the table (`--src-stream schema.table`) and writes a CSV file with a header; ConnectorX + "
        "pyarrow is [scripts/bench/connectorx_export.py](../scripts/bench/connectorx_export.py) (the whole table "
        "read into Arrow, then `pyarrow.csv.write_csv`). The imports load pgbench_accounts' first "
        f"{int(m('subset_rows', '0')):,} rows into a freshly truncated copy (PostgreSQL: after a `CHECKPOINT`), and "
        "the row count is checked after each run. The split rows run "
        "[scripts/bench/psql_copy.sh](../scripts/bench/psql_copy.sh), once or twice at once, which reads the "
        "backend's CPU time from /proc before psql disconnects.",
        "",
        "Commands, exactly as run (`dbchunk` is target/release/dbchunk, `python` the venv's, `sling` the wheel's "
        "binary, `$TMP` the scratch directory on tmpfs):",
        "",
    ]
    out += command_blocks(sgroups, cases)
    out += [
        "Rerun this section alone (the rest of this file is kept); it measures the dbchunk built from the "
        "worktree it runs in:",
        "",
        "```sh",
        "scripts/bench.sh --only strategies          # RUNS=3",
        "RUNS=5 scripts/bench.sh --only strategies   # 5 runs of every command",
        "```",
        "",
    ]
    return out


def splice_section(path, title, section_lines):
    """`path` with its section `title` replaced by `section_lines` (the rest kept)."""
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    lines = text.split("\n") if text else []
    new = [ln for ln in section_lines]
    if title in lines:
        start = lines.index(title)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = new
    elif "## Where the time goes" in lines:
        i = lines.index("## Where the time goes")
        lines[i:i] = new
    else:
        if lines and lines[-1] != "":
            lines.append("")
        lines += new
    return "\n".join(lines)


def buffer_pool_text(meta):
    used = int(meta.get("buffer_pool", "0")) / 2**20
    orig = int(meta.get("buffer_pool_orig", "0")) / 2**20
    if used != orig:
        return (f"{used:.0f} MiB during the run: the server's setting is {orig:.0f} MiB (MariaDB's default is "
                f"128 MiB, which makes large scans disk reads), so the script ran `SET GLOBAL "
                f"innodb_buffer_pool_size = {int(meta.get('buffer_pool', '0'))}` before measuring and put the old "
                f"value back at the end")
    return (f"{used:.0f} MiB, the server's own setting (the script raises it to 2 GiB for the run when it is "
            f"smaller)")


def minutes(s):
    s = int(s)
    return f"{s // 60} min {s % 60:02d} s"


def report(meta, groups, cases):
    m = meta.get
    out = [
        "# Benchmarks",
        "",
        "<!-- Written by scripts/bench.sh (scripts/bench/report.py); rerun it rather than editing the numbers. -->",
        "",
        f"Measured on {m('date')} by `scripts/bench.sh`"
        + (" **in --quick mode (small datasets, not representative)**" if m("mode") == "quick" else "")
        + f": every command run {m('runs')} times, the commands of one comparison taking turns; "
        f"the median wall time is shown with the fastest and slowest run. All numbers come from the same run, so "
        f"the ratios between them are what counts; the absolute times depend on the machine.",
        "",
        "## Targets",
        "",
        "The issue's targets are ratios of median wall time, dbchunk's time divided by the other tool's "
        "(below 1 means dbchunk is faster). \"≥ 10× faster than SQLAlchemy\" is a ratio ≤ 0.1, "
        "\"insert ≥ 5× SQLAlchemy\" ≤ 0.2, \"import ≥ 1.0× psql \\copy\" ≤ 1.0.",
        "",
        "| target | measured | target | met |",
        "|---|---|---|---|",
    ]
    for what, shown, limit, met in build_targets(cases, meta):
        out.append(f"| {what} | {shown} | {limit} | {met} |")
    if m("has_parallel") != "1":
        out += ["", "`--parallel` is not implemented yet (`dbchunk export --help` does not list it), so its targets are "
                    "not measured."]
    out += [
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        f"| machine | {m('nproc')} CPUs ({m('cpu')}), {m('memory')} memory, {m('os')}, {m('kernel')} |",
        f"| load average (1, 5, 15 min) | at the start {m('load_start')}; at the end {m('load_end')} |",
        f"| dbchunk | {m('dbchunk')}, `cargo build --release`, {m('rustc')} |",
        f"| PostgreSQL | server {m('pg_server')}, shared_buffers {m('pg_shared_buffers')}; {m('psql')}; {m('pgbench')} |",
        f"| MariaDB | server {m('my_server')}; client {m('mariadb_client')} |",
        f"| innodb_buffer_pool_size | {buffer_pool_text(meta)}; innodb_flush_method {m('innodb_flush_method')} |",
        f"| mydumper | {m('mydumper')} |",
        f"| SQLite | {m('sqlite3')} (shell); dbchunk's is bundled by rusqlite |",
        f"| Python | {m('python')}: {m('python_libs')} |",
        f"| time | datasets and setup {minutes(int(m('total_seconds', '0')) - int(m('measure_seconds', '0')))}, "
        f"measurements {minutes(m('measure_seconds', '0'))} |",
        "",
        "## Method",
        "",
        f"- Datasets, made once and kept (`--rebuild` remakes them), in the databases `{m('db')}`:",
        f"  - `pgbench_accounts`: `pgbench -i -s {m('scale')}` in PostgreSQL ({int(m('accounts_rows')):,} rows: "
        "`aid int` primary key, `bid int`, `abalance int`, `filler char(84)`), and the same rows in MariaDB (loaded "
        "with `COPY ... TO STDOUT` and `LOAD DATA LOCAL INFILE`). MariaDB returns `char(84)` without its trailing "
        "blanks, so its exports are smaller.",
        f"  - `typed`: {int(m('typed_rows')):,} rows generated in SQL (`generate_series` in PostgreSQL, the "
        "`seq_1_to_N` sequence table in MariaDB): `id bigint` primary key, `int`, `bigint`, `numeric(20,6)`/"
        "`decimal(20,6)`, `double`, `boolean`/`tinyint(1)`, `text` with quotes, commas, line breaks, tabs, "
        "backslashes and non-ASCII, `timestamp`/`datetime(6)`, `timestamptz`/`timestamp(6)`, `json`, "
        "`bytea`/`varbinary(16)`, `uuid`/`char(36)`; about 10% NULLs in every column but `id`. In SQLite the "
        "same rows (exported from PostgreSQL and imported with dbchunk; `n` as TEXT, `flag` as 0/1, `bin` a BLOB).",
        "- Timing: wall time of the process, from just before it starts to its exit; peak RSS from GNU time "
        "(`/usr/bin/time -f '%e %M'`, the maximum over the runs). Export output goes to a file on tmpfs "
        "(`$TMP`), whose size is the output MB; MB/s is output (or, for imports, input) bytes per second. Before "
        "each comparison, the table is read once untimed, so every run reads from memory (PostgreSQL's "
        "shared_buffers plus the page cache; InnoDB's buffer pool).",
        f"- dbchunk runs with `--chunk {m('chunk')}` (its default) and no progress output.",
        "- `offset` re-reads every earlier row for each chunk (O(rows²/chunk)), so it is measured on `typed` only, "
        "never on the 5M-row table, and there on the first fifth of the rows (`--limit`), next to keyset with the "
        "same `--limit`.",
        "- mydumper writes SQL INSERT files (its Debian version has no CSV output); its output MB is the size of "
        "those files. It runs with `--trx-consistency-only`, so its global read lock lasts only until its "
        "threads have their snapshots, and `--rows N/10`, so both threads work on the one table.",
        "- The SQLAlchemy baselines are [scripts/bench/sqlalchemy_export.py](../scripts/bench/sqlalchemy_export.py) "
        "(`stream_results=True, yield_per=5000`, the csv module; psycopg2, PyMySQL or sqlite3) and "
        "[scripts/bench/sqlalchemy_import.py](../scripts/bench/sqlalchemy_import.py) (reflected table, values "
        "converted to the columns' Python types, `executemany` of 5,000 rows per transaction).",
        "- Imports: each run loads into a freshly truncated copy of the table (`CREATE TABLE ... (LIKE ...)` / "
        "`CREATE TABLE ... LIKE`; on PostgreSQL followed by a `CHECKPOINT` before the run; SQLite a new file), "
        "and afterwards the row count is checked. The input is exported once per run: for PostgreSQL by "
        "`psql COPY ... CSV HEADER` (what `\\copy FROM` reads back exactly), for MariaDB and SQLite by dbchunk. "
        f"The pgbench_accounts imports take its first {int(m('subset_rows')):,} rows.",
        "- Reference rows (marked *(reference)* in the targets) are not competitors: they time what dbchunk must "
        "do through the other tool, to show where a missed target's time goes. `psql COPY CSV, ORDER BY key` is "
        "the ordered query dbchunk's `copy` runs (key order is part of dbchunk's output, psql's plain COPY reads "
        "in heap order). `mariadb --quick --batch, keyset queries` runs the keyset queries dbchunk sends, one per "
        "chunk. `dbchunk import ... --atomic` loads in one transaction, as `\\copy` and a single `LOAD DATA` do; "
        "without it dbchunk commits every batch. The imports run with dbchunk's default batch (copy and load-data: "
        "as many rows as fit in 4 MiB; insert: 5000 rows).",
        "- Both servers have TLS on (scripts/test.sh turns it on). psql, the mariadb client and dbchunk on "
        "PostgreSQL use it (sslmode=prefer); dbchunk on MySQL does not on a loopback address (ssl-mode "
        "PREFERRED there asks for none).",
        "- Other work on the machine (the test suite, builds) can slow single runs: the min–max columns show it.",
        "",
    ]
    sections = [("Export", "export."), ("Memory", "memory"), ("Import", "import.")]
    for title, prefix in sections:
        out += [f"## {title}", ""]
        if prefix == "memory":
            out += [
                "dbchunk's peak RSS exporting pgbench_accounts with `--limit` (the first 1/5 of the rows) against "
                "the full table (from the export runs above); the target is the full export within 10% of the "
                "limited one, and both ≤ 32 MB.",
                "",
            ]
        for gid, g in groups.items():
            if gid.startswith(prefix):
                out += group_table(g, cases, prefix == "import.")
    out += formats_section(meta, groups, cases)
    out += strategies_section(meta, groups, cases)
    out += [
        "## Where the time goes",
        "",
        "Profiles of the runs that miss their targets, with what they say: [profile.md](profile.md).",
        "",
        "## Commands",
        "",
        "Exactly as run (`dbchunk` is target/release/dbchunk, `python` the venv's, `$TMP` the scratch "
        "directory). Each comparison's commands ran in turn, in this order, once per round.",
        "",
    ]
    out += command_blocks([g for gid, g in groups.items() if not gid.startswith(("formats.", "strategies."))], cases)
    out += [
        "## Rerunning",
        "",
        "```sh",
        "scripts/bench.sh              # builds dbchunk, makes the datasets if missing, measures, rewrites this file",
        "RUNS=5 scripts/bench.sh       # 5 runs of every command instead of 3",
        "scripts/bench.sh --rebuild    # recreate the datasets first",
        "scripts/bench.sh --quick      # small datasets (database bench_quick), 1 run, report to a temporary file",
        "scripts/bench.sh --only formats   # the issue-16 formats section alone (rewrites only that section)",
        "scripts/bench.sh --only dump      # the issue-12 dump, restore and migration section alone",
        "scripts/bench.sh --only strategies   # the issue-11 section alone (strategies, peers, split reads)",
        "```",
        "",
        "The script needs the local PostgreSQL and MariaDB of `scripts/test.sh`, installs what else it needs "
        "(mydumper and myloader, pgloader, GNU time, pgbench, the sqlite3 shell, a Python venv in "
        "target/bench-venv), and touches only the `bench` databases (`bench_quick` with `--quick`), the "
        "`bench_dump_*` databases the dump section restores into and drops, and target/bench. This run took "
        f"{minutes(m('total_seconds', '0'))} in all; making the datasets the first time adds about 2 minutes.",
        "",
    ]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("meta", "groups", "cases", "results", "output"):
        ap.add_argument(f"--{name}", required=True)
    ap.add_argument("--server-cpu", help="the split-read runs' server CPU times (optional)")
    ap.add_argument("--section", choices=["formats", "strategies"], help="rewrite only this section of --output")
    args = ap.parse_args()
    meta, groups, cases = load(args)
    if args.section == "formats":
        text = splice_section(args.output, FORMATS_TITLE, formats_section(meta, groups, cases))
    elif args.section == "strategies":
        text = splice_section(args.output, STRATEGIES_TITLE, strategies_section(meta, groups, cases))
    else:
        text = report(meta, groups, cases)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
