//! The command line, as clap parses it. [`crate::config`] turns it into a
//! checked plan before anything connects.

use clap::{Args, Parser, Subcommand};

use crate::format::Format;
use crate::log::LogFormat;
use crate::plan::insert::{ImportStrategy, OnConflict};
use crate::plan::Strategy;
use crate::progress::ProgressMode;

/// Export huge tables from PostgreSQL, MySQL/MariaDB and SQLite in chunks,
/// with memory that stays flat however big the table is.
#[derive(Debug, Parser)]
#[command(name = "dbchunk", version, propagate_version = true)]
pub struct Cli {
    /// How stderr lines are written: text (`dbchunk: ...`), or json, one
    /// object a line (level, message, ts, fields) for log collectors.
    #[arg(long, value_enum, global = true, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once and matched once: boxing the big variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a table or query to CSV, TSV or NDJSON, chunk by chunk.
    Export(ExportArgs),
    /// Print how many rows a table or query has (one integer on stdout).
    Count(CountArgs),
    /// Load CSV, TSV or NDJSON into an existing table, batch by batch.
    Import(ImportArgs),
    /// Cut a table into N key ranges of about equal rows and write them
    /// down (JSON), for `export --plan` workers on any machine.
    Plan(PlanArgs),
    /// Write every table of a database (or those named) to a directory,
    /// one file each, from one consistent snapshot, with a manifest.
    Dump(DumpArgs),
    /// Load a dump directory (its manifest.json) into a database,
    /// creating the tables with --create.
    Restore(RestoreArgs),
    /// PostgreSQL: hold a snapshot open and print its id, for `plan` and
    /// `export --snapshot` to read in, until stdin closes or SIGTERM.
    Snapshot(SnapshotArgs),
    /// Print a shell completion script on stdout:
    /// `dbchunk completions bash > /etc/bash_completion.d/dbchunk`.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout: `dbchunk man > dbchunk.1`.
    Man,
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Export(_) => "export",
            Command::Count(_) => "count",
            Command::Import(_) => "import",
            Command::Plan(_) => "plan",
            Command::Dump(_) => "dump",
            Command::Restore(_) => "restore",
            Command::Snapshot(_) => "snapshot",
            Command::Completions(_) => "completions",
            Command::Man => "man",
        }
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ConnectOpts {
    /// Database URL: postgres://user:pass@host:5432/db, mysql://user:pass@host:3306/db,
    /// sqlite://path/to/file.db or sqlite::memory:
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_name = "URL")]
    pub url: Option<String>,

    /// Read the password from the first line of this file instead of the
    /// URL (PGPASSWORD or MYSQL_PWD are used when neither gives one).
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<std::path::PathBuf>,

    /// Give up on a server that has not accepted the connection and
    /// logged in within this many seconds (TCP, TLS and authentication
    /// together) [default: 10, or a PostgreSQL URL's connect_timeout].
    #[arg(long, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub connect_timeout: Option<u64>,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SourceOpts {
    /// Table to read: name or schema.name (database.name on MySQL). Double-quote
    /// a part that holds a dot: '"my.table"'.
    #[arg(long, short = 't', value_name = "TABLE")]
    pub table: Option<String>,

    /// SQL query to read instead of a table. Raw SQL, run as you give it.
    #[arg(long, short = 'q', value_name = "SQL")]
    pub query: Option<String>,
}

/// What is read of the source: `export`, and `plan` for its partitions.
#[derive(Debug, Args)]
pub struct SelectOpts {
    /// Columns to export, in this order (default: all).
    #[arg(long, value_name = "a,b,c")]
    pub columns: Option<String>,

    /// SQL condition rows must meet. Raw SQL, added as `WHERE (...)`.
    #[arg(long = "where", value_name = "SQL")]
    pub filter: Option<String>,

    /// Column(s) that order and split the rows (default: the primary key,
    /// else a NOT NULL unique index).
    #[arg(long, value_name = "col[,col...]")]
    pub key: Option<String>,
}

/// The text an export writes: `export`, and `plan` for its partitions.
#[derive(Debug, Args)]
pub struct TextOutputOpts {
    /// Output format (default: from the export's --output extension, else
    /// csv).
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Do not write the CSV/TSV header line.
    #[arg(long)]
    pub no_header: bool,

    /// Text written for NULL in CSV (default: empty, unquoted) and TSV (default: \N).
    #[arg(long, value_name = "STR")]
    pub null: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,

    #[command(flatten)]
    pub source: SourceOpts,

    #[command(flatten)]
    pub select: SelectOpts,

    /// How rows are read: auto picks from the engine and the table's keys.
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    pub strategy: Strategy,

    /// Rows per chunk: each chunk ends at the key of its last row, where
    /// a resumed or reconnected export goes on. Offset runs a query per
    /// chunk; keyset starts with one and reads more chunks a query while
    /// its queries take under 125 ms; cursor and copy stream one
    /// statement.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub chunk: u64,

    #[command(flatten)]
    pub text: TextOutputOpts,

    /// Output file, or - for stdout (default). A file is written under a
    /// temporary name beside it (beside a symlink's target, keeping the
    /// link) and renamed when complete. A device or FIFO (/dev/null, a
    /// named pipe) is written directly: not atomic.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<String>,

    /// Compress the output: gzip or zstd, with an optional level
    /// (gzip:1..9, default 6; zstd:1..22, default 1). Implied by an
    /// --output name ending in .gz or .zst; given with one, it must agree.
    #[arg(long, value_name = "CODEC[:LEVEL]")]
    pub compress: Option<String>,

    /// Write the export as numbered parts of N rows each (the last may
    /// hold fewer), named after --output: orders.00001.csv.zst, ... Each
    /// part is complete on its own (header, compressed stream, Parquet
    /// footer) and renamed into place when written.
    #[arg(long, value_name = "N", conflicts_with = "split_bytes",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub split_rows: Option<u64>,

    /// As --split-rows, but a part ends at the first row after it holds
    /// SIZE bytes of the format before gzip/zstd (Parquet: after the row
    /// group that reaches SIZE in the file): 100MB, 1GiB, or bytes.
    #[arg(long, value_name = "SIZE")]
    pub split_bytes: Option<String>,

    /// With --split-rows/--split-bytes: remove the parts an earlier export
    /// wrote under the same name before writing new ones (without it,
    /// existing parts stop the export, exit 2).
    #[arg(long)]
    pub overwrite: bool,

    /// Parquet: values buffered per row group before it is written, which
    /// bounds memory (default 32MiB; 64MB, 512KiB, 1GB, or bytes).
    #[arg(long, value_name = "SIZE")]
    pub row_group_size: Option<String>,

    /// Parquet: the codec inside the file: zstd (default), zstd:LEVEL,
    /// snappy, gzip, gzip:LEVEL or none.
    #[arg(long, value_name = "CODEC")]
    pub parquet_compression: Option<String>,

    /// Stop after N rows.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Print the SQL of the first and of a later chunk with the engine's
    /// plan for each, then exit without exporting.
    #[arg(long)]
    pub explain: bool,

    /// Show the progress bar on stderr: auto = when stderr is a terminal.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,

    /// No warnings, and no progress bar unless --progress always (errors are
    /// still printed).
    #[arg(long)]
    pub quiet: bool,

    /// Export with N connections over one consistent snapshot, each
    /// reading one range of the key (split by the real key distribution);
    /// the output stays in key order. A PostgreSQL table without a key is
    /// split by its pages, in storage order.
    #[arg(long, default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,

    /// With --parallel on MySQL: start the workers' snapshots without the
    /// brief FLUSH TABLES WITH READ LOCK (for users without the RELOAD
    /// privilege; the workers' snapshots may then differ slightly).
    #[arg(long)]
    pub no_lock: bool,

    /// Export one partition of a plan written by `dbchunk plan`, which
    /// names the table or query, columns, key and ranges.
    #[arg(long, value_name = "FILE", group = "SourceOpts",
          conflicts_with_all = ["columns", "filter", "key", "parallel", "limit"])]
    pub plan: Option<String>,

    /// Which of the plan's partitions (1..N); default: from
    /// JOB_COMPLETION_INDEX (Kubernetes, 0-based) or SLURM_ARRAY_TASK_ID
    /// (Slurm, 1-based). {partition} in --output and --state becomes K.
    #[arg(long, value_name = "K", requires = "plan",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub partition: Option<u32>,

    /// PostgreSQL: read in this exported snapshot (printed by `dbchunk
    /// snapshot`, which must still be running); default: the plan's.
    #[arg(long, value_name = "ID", conflicts_with = "parallel")]
    pub snapshot: Option<String>,

    /// Record where the export stands after every chunk in this JSON file
    /// (written atomically), so an interrupted export can --resume. Needs a
    /// key; not with --strategy offset.
    #[arg(long, value_name = "FILE")]
    pub state: Option<String>,

    /// Go on from the last chunk the --state file records. With --output,
    /// the partial file is cut back to that chunk and continued.
    #[arg(long, requires = "state", conflicts_with = "resume_from")]
    pub resume: bool,

    /// Go on after the chunk a resume token names (printed when an export
    /// stops; the output is the rest, to append to what was written).
    #[arg(long, value_name = "TOKEN")]
    pub resume_from: Option<String>,

    /// Read no faster than this: rows a second (5000/s) or output bytes
    /// (20MB/s), to spare a production server.
    #[arg(long, value_name = "RATE")]
    pub max_rate: Option<String>,

    /// When the connection drops mid-export, reconnect this many times
    /// (with backoff) and go on from the last complete chunk; needs a key
    /// (a cursor or COPY over rows with no key cannot continue).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,

    /// Print one JSON line of totals to stderr at the end.
    #[arg(long)]
    pub stats: bool,

    /// Export only the rows whose COL changed since the last successful
    /// run recorded in --state FILE (the first run exports every row), in
    /// (COL, key) order. COL: a timestamp the writing transaction stamps
    /// (now(), ON UPDATE CURRENT_TIMESTAMP) or an ever-growing id. See
    /// docs/incremental.md.
    #[arg(long, value_name = "COL", requires = "state")]
    pub incremental: Option<String>,

    /// With --incremental: when no row changed, write nothing (no file,
    /// not even a header line) instead of an output without rows.
    #[arg(long, requires = "incremental")]
    pub skip_empty: bool,

    /// When another run holds the lock of the --state file, wait up to
    /// this long for it (30s, 5m, 1h) instead of exiting 75 at once.
    #[arg(long, value_name = "DURATION", requires = "state")]
    pub wait_lock: Option<String>,
}

#[derive(Debug, Args)]
pub struct CountArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,

    #[command(flatten)]
    pub source: SourceOpts,

    /// SQL condition rows must meet. Raw SQL, added as `WHERE (...)`.
    #[arg(long = "where", value_name = "SQL")]
    pub filter: Option<String>,

    /// Print the planner's or catalog's estimate instead of counting: instant
    /// on huge tables, but approximate.
    #[arg(long)]
    pub estimate: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,

    /// Table to write into (it must exist): name or schema.name.
    #[arg(long, short = 't', value_name = "TABLE")]
    pub table: String,

    /// Input file, or - for stdin (default). gzip and zstd input (a .gz or
    /// .zst name, or their magic bytes on stdin) is decompressed. Parquet
    /// on stdin (or from a pipe) is first copied to an unnamed temporary
    /// file in $TMPDIR, since it is read from its footer; it is gone when
    /// dbchunk exits.
    #[arg(long, short = 'i', value_name = "PATH")]
    pub input: Option<String>,

    /// Input format (default: from the --input extension, else csv).
    /// parquet: fields matched to columns by name, stdin spooled to
    /// $TMPDIR.
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Names of the input's fields, in order: with --no-header, or to
    /// rename a header's fields.
    #[arg(long, value_name = "a,b,c")]
    pub columns: Option<String>,

    /// The CSV/TSV input has no header line (give --columns).
    #[arg(long)]
    pub no_header: bool,

    /// Text that stands for NULL in CSV (default: an unquoted empty field)
    /// and TSV (default: \N).
    #[arg(long, value_name = "STR")]
    pub null: Option<String>,

    /// Rows per batch: one round trip and, without --atomic, one commit.
    /// A batch also ends once it holds about 4 MiB. Default: 5000 for
    /// insert; copy and load-data fill the 4 MiB.
    #[arg(long, value_name = "N")]
    pub batch: Option<u64>,

    /// How rows are written.
    #[arg(long, value_enum, default_value_t = ImportStrategy::Auto)]
    pub strategy: ImportStrategy,

    /// What to do with a row whose key is already in the table.
    #[arg(long, value_enum, default_value_t = OnConflict::Error)]
    pub on_conflict: OnConflict,

    /// One transaction for the whole input: all rows or none.
    #[arg(long)]
    pub atomic: bool,

    /// Empty the table first (in the same transaction with --atomic).
    #[arg(long)]
    pub truncate: bool,

    /// Write bad rows here (with the reason) and go on with the good ones,
    /// however many bad ones there are (see --max-errors). Exit code 3 then
    /// says the import completed with rejects.
    #[arg(long, value_name = "PATH")]
    pub reject_file: Option<String>,

    /// With --reject-file: fail once more than N rows are bad (default: no
    /// limit).
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,

    /// Longest input record accepted, in bytes.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_line_bytes: usize,

    /// When the connection drops, reconnect this many times (with backoff)
    /// and write the batch again, unless it is known to have committed.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub retries: u32,

    /// Record in this JSON file (written atomically) how far the input is
    /// committed, after every batch, so an interrupted import can --resume.
    #[arg(long, value_name = "FILE", conflicts_with = "atomic")]
    pub state: Option<String>,

    /// Go on after the last batch the --state file records, skipping
    /// exactly the input that is already in the table.
    #[arg(long, requires = "state", conflicts_with = "truncate")]
    pub resume: bool,

    /// When another run holds the lock of the --state file, wait up to
    /// this long for it (30s, 5m, 1h) instead of exiting 75 at once.
    #[arg(long, value_name = "DURATION", requires = "state")]
    pub wait_lock: Option<String>,

    /// Show the progress bar on stderr: auto = when stderr is a terminal.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,

    /// No warnings, and no progress bar unless --progress always (errors
    /// and the summary of rejected rows are still printed).
    #[arg(long)]
    pub quiet: bool,

    /// Print a summary line on success (rows imported, into which table);
    /// without it a successful import prints nothing.
    #[arg(long, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print one JSON line of totals to stderr at the end.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,

    #[command(flatten)]
    pub source: SourceOpts,

    /// How many partitions (workers) to cut the rows into.
    #[arg(long, short = 'n', value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub partitions: u32,

    #[command(flatten)]
    pub select: SelectOpts,

    /// PostgreSQL: cut the ranges in this exported snapshot (from `dbchunk
    /// snapshot`) and record it, so every partition reads in it too.
    #[arg(long, value_name = "ID")]
    pub snapshot: Option<String>,

    /// Never count the rows: on a big table the cuts come from a sample
    /// (the default there too); elsewhere they are placed at the
    /// planner's row estimate, so the last partition takes what it missed.
    #[arg(long, conflicts_with = "exact")]
    pub estimate: bool,

    /// Cut at counted row positions (walking the key's index) and record
    /// each partition's counted rows, also on a big table, where by
    /// default the cuts come from a sample and the rows are estimated.
    #[arg(long)]
    pub exact: bool,

    /// Where to write the plan (JSON), or - for stdout (default).
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<String>,

    /// No warnings.
    #[arg(long)]
    pub quiet: bool,

    // Last: the heading holds for every flag after it.
    #[command(
        flatten,
        next_help_heading = "What every partition writes (default: each worker's own flags)"
    )]
    pub text: TextOutputOpts,
}

/// `--tables` and `--exclude` of the commands that take many tables.
#[derive(Debug, Args)]
pub struct TableChoiceOpts {
    /// Only these tables: names or patterns with * (`orders,sales.*`; a
    /// pattern with a dot matches schema.table).
    #[arg(long, value_name = "a,b,'s.*'")]
    pub tables: Option<String>,

    /// Leave out these tables (names or patterns with *).
    #[arg(long, value_name = "a,b,'s.*'")]
    pub exclude: Option<String>,
}

/// What the commands over many tables say on stderr.
#[derive(Debug, Args)]
pub struct ReportOpts {
    /// Show the progress on stderr: auto = when stderr is a terminal.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,

    /// No progress and no warnings.
    #[arg(long)]
    pub quiet: bool,

    /// Print a JSON summary on stderr at the end (tables, rows, seconds).
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,

    /// The directory to write: one file per table and manifest.json, which
    /// is written last (a directory without it is an unfinished dump).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: std::path::PathBuf,

    #[command(flatten)]
    pub choice: TableChoiceOpts,

    /// The schema to dump (PostgreSQL; a database on MySQL, an attached
    /// database on SQLite) [default: PostgreSQL's search path, the URL's
    /// database, SQLite's main].
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,

    /// Format of the table files.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,

    /// Compression of the table files: zstd[:LEVEL], gzip[:LEVEL] or none
    /// (Parquet compresses inside the file: none).
    #[arg(long, value_name = "CODEC[:LEVEL]", default_value = "zstd")]
    pub compress: String,

    /// Tables read at once, each on its own connection, all in the same
    /// snapshot (SQLite: 1).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: u32,

    /// Cut a table of more than 1.5 N rows (the planner's estimate) into
    /// parts of about N rows, read by several jobs, each part a file of its
    /// own; 0: never [default: with --jobs 2 or more, 1,000,000, or the
    /// dump's rows over --jobs when fewer, at least 100,000].
    #[arg(long, value_name = "N")]
    pub part_rows: Option<u64>,

    /// Go on with an unfinished dump in DIR: tables whose files are
    /// complete (checked against their checksums) are kept, the rest are
    /// dumped again, in a new snapshot.
    #[arg(long)]
    pub resume: bool,

    /// MySQL/MariaDB: start the workers' snapshots without the brief global
    /// read lock (FLUSH TABLES WITH READ LOCK needs the RELOAD privilege);
    /// the tables may then be read at slightly different points.
    #[arg(long)]
    pub no_lock: bool,

    /// Rows fetched per round trip.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk: u64,

    #[command(flatten)]
    pub report: ReportOpts,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,

    /// The dump directory (written by `dbchunk dump`).
    #[arg(value_name = "DIR")]
    pub dir: std::path::PathBuf,

    #[command(flatten)]
    pub choice: TableChoiceOpts,

    /// The schema to restore into (PostgreSQL; a database on MySQL, an
    /// attached database on SQLite) [default: the URL's own].
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,

    /// Create the tables that do not exist, from the manifest, translated
    /// to this engine (docs/types.md); indexes and foreign keys are added
    /// after the rows, and on PostgreSQL the primary key too (unless
    /// --on-conflict needs it).
    #[arg(long)]
    pub create: bool,

    /// With --create: a column whose type has no counterpart here becomes
    /// a text column instead of an error.
    #[arg(long)]
    pub unmapped_as_text: bool,

    /// With --create: no secondary indexes.
    #[arg(long)]
    pub no_indexes: bool,

    /// With --create: no foreign keys.
    #[arg(long)]
    pub no_foreign_keys: bool,

    /// Empty each table before loading it (in the transaction of the
    /// first batch).
    #[arg(long)]
    pub truncate: bool,

    /// What to do with a row whose key is already there: error, skip, or
    /// update (insert strategy).
    #[arg(long, value_enum, default_value_t = OnConflict::Error)]
    pub on_conflict: OnConflict,

    /// Rows a table refuses (a value its column cannot take, a duplicate
    /// key) go to DIR/TABLE.rejects.FORMAT instead of stopping the restore;
    /// it then ends with exit 3.
    #[arg(long, value_name = "DIR")]
    pub reject_dir: Option<std::path::PathBuf>,

    /// Go on with a restore that stopped: a table holding the dump's row
    /// count is kept, any other one is emptied and loaded again; with
    /// --create, the indexes and foreign keys not there yet are added.
    #[arg(long)]
    pub resume: bool,

    /// Files loaded at once (tables, and the parts of a table dumped in
    /// parts), each on its own connection.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: u32,

    /// Load every file through the checked import (each value parsed
    /// against its column's type, in batches), also where a PostgreSQL
    /// dump's file would stream into PostgreSQL's COPY unparsed.
    #[arg(long)]
    pub check: bool,

    /// Rows per batch: one round trip and one commit (fewer once a batch
    /// holds about 4 MiB).
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,

    #[command(flatten)]
    pub report: ReportOpts,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub connect: ConnectOpts,

    /// Hold the snapshot until SIGTERM or SIGINT only, whatever stdin
    /// does (for a container or service whose stdin is /dev/null).
    #[arg(long)]
    pub until_signal: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn table_and_query_are_exclusive_and_one_is_required() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        assert!(parse(&["dbchunk", "export", "--url", "sqlite::memory:"]).is_err());
        assert!(
            parse(&["dbchunk", "export", "--url", "sqlite::memory:", "-t", "a", "-q", "b"])
                .is_err()
        );
        assert!(parse(&["dbchunk", "export", "--url", "sqlite::memory:", "-t", "a"]).is_ok());
    }
}
