//! Turns the parsed command line into a checked plan. Every mistake that
//! can be found without a database is found here, and is a usage error
//! (exit 2) before anything connects.

use crate::cli::{ConnectOpts, CountArgs, ExportArgs, ImportArgs, SourceOpts};
use crate::compress::{Compression, Suffix};
use crate::db::{Request, Source};
use crate::engine::Engine;
use crate::error::UsageError;
use crate::format::{Format, ParquetOptions};
use crate::ident::{split_list, QualifiedName};
use crate::output::Destination;
use crate::plan::insert::{ImportStrategy, OnConflict};
use crate::plan::Strategy;
use crate::progress::ProgressMode;
use crate::url::DbUrl;

pub mod dump;
mod files;
pub mod restore;
use files::*;

#[derive(Clone)]
pub struct ExportPlan {
    pub url: DbUrl,
    pub request: Request,
    pub strategy: Strategy,
    pub chunk: u64,
    pub format: Format,
    pub destination: Destination,
    /// `--compress`, or what the `--output` name's `.gz`/`.zst` implies.
    pub compress: Option<Compression>,
    pub header: bool,
    pub null: String,
    /// Row group size and codec, for `--format parquet`.
    pub parquet: ParquetOptions,
    pub limit: Option<u64>,
    pub max_rate: Option<crate::throttle::Rate>,
    /// `--retries N`: reconnections allowed after a lost connection.
    pub retries: u32,
    /// `--state FILE`: checkpoints after every chunk.
    pub state_file: Option<std::path::PathBuf>,
    /// `--resume` or `--resume-from`: where to go on from.
    pub resume: Option<crate::state::Checkpoint>,
    /// `--split-rows`/`--split-bytes`: numbered parts instead of one file.
    pub split: Option<crate::split::Split>,
    /// Workers for `--parallel` (1: no parallelism).
    pub parallel: usize,
    /// `--no-lock`: MySQL workers start their snapshots without a brief
    /// global read lock.
    pub no_lock: bool,
    pub explain: bool,
    pub progress: ProgressMode,
    pub quiet: bool,
    pub stats: bool,
    /// `--incremental COL --state FILE`: a scheduled run's plan (then
    /// `state_file` is `None`: the file holds no checkpoints).
    pub incremental: Option<Incremental>,
    /// `--wait-lock`: how long to wait for another run's lock of the
    /// `--state` file.
    pub wait_lock: Option<std::time::Duration>,
}

/// `--incremental COL --state FILE [--skip-empty]`.
#[derive(Clone, Debug)]
pub struct Incremental {
    /// Unquoted.
    pub column: String,
    pub state_file: std::path::PathBuf,
    pub skip_empty: bool,
}

pub struct ImportPlan {
    pub url: DbUrl,
    pub table: QualifiedName,
    /// `None` is stdin.
    pub input: Option<std::path::PathBuf>,
    pub format: Format,
    pub columns: Option<Vec<String>>,
    pub header: bool,
    pub null: String,
    pub batch: u64,
    /// Resolved: never `auto`.
    pub strategy: ImportStrategy,
    pub on_conflict: OnConflict,
    pub atomic: bool,
    pub truncate: bool,
    pub reject_file: Option<std::path::PathBuf>,
    /// `None`: no limit.
    pub max_errors: Option<u64>,
    pub max_line_bytes: usize,
    /// `--state FILE`: where committed batches are recorded.
    pub state_file: Option<std::path::PathBuf>,
    /// `--resume`: go on from what the state file records.
    pub resume: bool,
    /// `--retries N`: reconnections allowed per batch.
    pub retries: u32,
    pub progress: ProgressMode,
    pub quiet: bool,
    /// `--verbose`: the summary line on success.
    pub verbose: bool,
    pub stats: bool,
    /// `--wait-lock`: how long to wait for another run's lock of the
    /// `--state` file.
    pub wait_lock: Option<std::time::Duration>,
    /// What a failure says to do, for an import run by another command
    /// (restore), whose own command line the import's continuation would
    /// get wrong; `None`: the import's own advice.
    pub advice: Option<String>,
    /// Columns whose input is another engine's spatial values (a dump
    /// restored across engines), and the form of that input: a binary or
    /// spatial column takes them laid out as its own engine keeps them.
    pub geometry: Option<(crate::values::SpatialForm, Vec<String>)>,
}

pub struct CountPlan {
    pub url: DbUrl,
    pub request: Request,
    pub estimate: bool,
}

impl ExportPlan {
    pub fn from_args(args: ExportArgs) -> Result<ExportPlan, UsageError> {
        let url = parse_url(&args.connect)?;
        if args.strategy == Strategy::Copy && url.engine != Engine::Postgres {
            return Err(UsageError(format!(
                "--strategy copy needs PostgreSQL (it runs COPY ... TO STDOUT), but --url is {}; \
                 use --strategy keyset or cursor",
                url.engine.name()
            )));
        }
        at_least_one("--chunk", args.chunk)?;
        let destination = match args.output.as_deref() {
            None | Some("-") => Destination::Stdout,
            // Reopening the terminal or file behind fd 1 would write at an
            // offset of its own, over what the shell writes after us.
            Some("/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1") => Destination::Stdout,
            Some(path) => {
                let path = crate::schedule::expand_name(path, std::time::SystemTime::now())?;
                check_place("--output", &path)?;
                Destination::File(path.into())
            }
        };
        let output_name = match &destination {
            Destination::File(path) => Some(path.to_string_lossy().into_owned()),
            Destination::Stdout => None,
        };
        check_parquet_not_wrapped(
            args.text.format,
            output_name.as_deref(),
            args.compress.as_deref(),
        )?;
        let compress = args
            .compress
            .as_deref()
            .map(Compression::parse)
            .transpose()
            .map_err(UsageError)?;
        let (compress, name) = output_compression(output_name.as_deref(), compress)?;
        let format = match (args.text.format, name) {
            (Some(format), _) => format,
            (None, Some(name)) => {
                let path = output_name.as_deref().unwrap_or_default();
                format_of("--output", path, name, "write")?
            }
            (None, None) => Format::Csv,
        };
        if let Some(path) = &args.state {
            check_state_file(path)?;
        }
        let incremental = incremental_plan(&args, url.engine)?;
        let wait_lock = wait_lock(args.wait_lock.as_deref())?;
        if args.text.null.is_some() && format == Format::Ndjson {
            return Err(UsageError(
                "--null applies to csv and tsv; NDJSON always writes NULL as null".into(),
            ));
        }
        let mut parquet = parquet_options(&args, format)?;
        let split = split_plan(&args, &destination)?;
        if let Some(crate::split::Split {
            limit: crate::split::Limit::Bytes(size),
            ..
        }) = &split
        {
            // A part ends after a row group: none may be much bigger.
            let size = usize::try_from(*size).unwrap_or(usize::MAX);
            parquet.row_group_bytes = parquet.row_group_bytes.min(size);
        }
        if args.parallel > 1 && args.limit.is_some() {
            return Err(UsageError(
                "--parallel splits the whole key range; it does not go with --limit".into(),
            ));
        }
        if args.parallel > 1 && url.engine == Engine::Sqlite {
            return Err(UsageError(
                "--parallel needs PostgreSQL or MySQL (a SQLite file is read by one process at a time \
                 fastest)"
                    .into(),
            ));
        }
        let resume = match (&args.resume_from, args.resume, &args.state) {
            (Some(token), _, _) => Some(
                crate::state::Checkpoint::from_token(token)
                    .map_err(|e| UsageError(format!("--resume-from: {e:#}")))?,
            ),
            (None, true, Some(path)) => Some(
                crate::state::Checkpoint::load(std::path::Path::new(path))
                    .map_err(|e| UsageError(format!("--resume: {e:#}")))?,
            ),
            _ => None,
        };
        let resumable = resume.is_some() || (args.state.is_some() && incremental.is_none());
        if resumable && args.parallel > 1 {
            return Err(UsageError(
                "--state and --resume do not go with --parallel yet".into(),
            ));
        }
        if resumable && args.strategy == Strategy::Offset {
            return Err(UsageError(
                "an offset export cannot resume (its chunks do not end at a key): drop --strategy \
                 offset"
                    .into(),
            ));
        }
        let names = |text: &str| split_list(text, url.engine);
        let key = args.select.key.as_deref().map(names).transpose()?;
        let request = Request {
            source: parse_source(&args.source, url.engine)?,
            columns: args.select.columns.as_deref().map(names).transpose()?,
            key,
            filter: args.select.filter,
            format,
        };
        Ok(ExportPlan {
            url,
            request,
            strategy: args.strategy,
            chunk: args.chunk,
            format,
            destination,
            compress,
            header: !args.text.no_header,
            null: args
                .text
                .null
                .unwrap_or_else(|| format.default_null().to_string()),
            parquet,
            limit: args.limit,
            retries: args.retries,
            max_rate: args
                .max_rate
                .as_deref()
                .map(crate::throttle::Rate::parse)
                .transpose()
                .map_err(UsageError)?,
            state_file: args.state.filter(|_| incremental.is_none()).map(Into::into),
            resume,
            split,
            parallel: usize::from(args.parallel),
            no_lock: args.no_lock,
            explain: args.explain,
            progress: args.progress,
            quiet: args.quiet,
            stats: args.stats,
            incremental,
            wait_lock,
        })
    }
}

/// `--wait-lock DURATION`.
fn wait_lock(text: Option<&str>) -> Result<Option<std::time::Duration>, UsageError> {
    text.map(|t| crate::schedule::parse_duration("--wait-lock", t))
        .transpose()
}

/// `--incremental COL`: one column of a table, read by keyset from where
/// the state file says, so the flags that read otherwise are refused.
fn incremental_plan(args: &ExportArgs, engine: Engine) -> Result<Option<Incremental>, UsageError> {
    let Some(column) = &args.incremental else {
        return Ok(None);
    };
    let refused = [
        ("--query", args.source.query.is_some(), "give --table"),
        ("--resume", args.resume, "a failed run is simply run again"),
        (
            "--resume-from",
            args.resume_from.is_some(),
            "a failed run is simply run again",
        ),
        (
            "--limit",
            args.limit.is_some(),
            "the state would pass rows never sent",
        ),
        (
            "--parallel",
            args.parallel > 1,
            "one connection reads the changes",
        ),
    ];
    if let Some((flag, _, why)) = refused.iter().find(|(_, given, _)| *given) {
        return Err(UsageError(format!(
            "--incremental does not go with {flag}: {why}"
        )));
    }
    if !matches!(args.strategy, Strategy::Auto | Strategy::Keyset) {
        return Err(UsageError(format!(
            "--incremental reads by keyset in (COL, key) order: drop --strategy {}",
            args.strategy.name()
        )));
    }
    let mut names = split_list(column, engine)?;
    if names.len() != 1 {
        return Err(UsageError(format!(
            "--incremental {column:?}: give one column (a timestamp or an ever-growing id)"
        )));
    }
    Ok(Some(Incremental {
        column: names.remove(0),
        state_file: args.state.clone().unwrap_or_default().into(),
        skip_empty: args.skip_empty,
    }))
}

impl ImportPlan {
    pub fn from_args(args: ImportArgs) -> Result<ImportPlan, UsageError> {
        let url = parse_url(&args.connect)?;
        if let Some(batch) = args.batch {
            at_least_one("--batch", batch)?;
        }
        let input = args.input.filter(|i| i != "-");
        let format = match (args.format, input.as_deref()) {
            (Some(format), _) => format,
            (None, Some(path)) => format_of("--input", path, input_name(path)?, "read")?,
            (None, None) => Format::Csv,
        };
        if let Some(path) = &args.state {
            check_state_file(path)?;
        }
        if let Some(path) = &args.reject_file {
            check_place("--reject-file", path)?;
        }
        let columns = args
            .columns
            .as_deref()
            .map(|text| split_list(text, url.engine))
            .transpose()?;
        if format == Format::Parquet {
            check_parquet_input(args.no_header, args.null.is_some(), input.as_deref())?;
        }
        if args.no_header && columns.is_none() && format != Format::Ndjson {
            return Err(UsageError(
                "--no-header needs --columns to say which column each field goes to".into(),
            ));
        }
        if args.null.is_some() && format == Format::Ndjson {
            return Err(UsageError(
                "--null applies to csv and tsv; in NDJSON, null is NULL".into(),
            ));
        }
        if args.max_errors.is_some() && args.reject_file.is_none() {
            return Err(UsageError(
                "--max-errors goes with --reject-file, where the bad rows are kept".into(),
            ));
        }
        let strategy = import_strategy(args.strategy, url.engine, args.on_conflict)?;
        Ok(ImportPlan {
            strategy,
            table: QualifiedName::parse(&args.table, url.engine)?,
            url,
            input: input.map(Into::into),
            format,
            columns,
            header: !args.no_header,
            null: args
                .null
                .unwrap_or_else(|| format.default_null().to_string()),
            batch: batch_rows(args.batch, strategy),
            on_conflict: args.on_conflict,
            atomic: args.atomic,
            truncate: args.truncate,
            reject_file: args.reject_file.map(Into::into),
            max_errors: args.max_errors,
            max_line_bytes: args.max_line_bytes,
            state_file: args.state.map(Into::into),
            resume: args.resume,
            retries: args.retries,
            progress: args.progress,
            quiet: args.quiet,
            verbose: args.verbose,
            stats: args.stats,
            wait_lock: wait_lock(args.wait_lock.as_deref())?,
            advice: None,
            geometry: None,
        })
    }
}

impl CountPlan {
    pub fn from_args(args: CountArgs) -> Result<CountPlan, UsageError> {
        let url = parse_url(&args.connect)?;
        Ok(CountPlan {
            request: Request {
                source: parse_source(&args.source, url.engine)?,
                columns: None,
                key: None,
                filter: args.filter,
                format: Format::Csv,
            },
            estimate: args.estimate,
            url,
        })
    }
}

/// The rows of an import's batch: `--batch`, or by default as many as fit
/// in a batch's bytes ([`crate::writer::MAX_BYTES`]) for `COPY` and `LOAD
/// DATA`, whose batch is one statement and one commit whatever its rows:
/// committing every few thousand narrow rows was most of what they took
/// over `psql \copy` and a single `LOAD DATA`. `insert` keeps 5000 rows:
/// its statement and its bound values grow with its rows. (`restore` keeps
/// 10000 rows for all: its `--jobs` imports at once add up their batches,
/// and bigger ones measured no faster there.)
fn batch_rows(asked: Option<u64>, strategy: ImportStrategy) -> u64 {
    match (asked, strategy) {
        (Some(asked), _) => asked,
        (None, ImportStrategy::Copy | ImportStrategy::LoadData) => u64::MAX,
        (None, ImportStrategy::Auto | ImportStrategy::Insert) => 5000,
    }
}

/// `auto` becomes the engine's bulk path; a bulk path the engine lacks, or
/// one that cannot honour `--on-conflict`, is a usage error.
pub(crate) fn import_strategy(
    asked: ImportStrategy,
    engine: Engine,
    on_conflict: OnConflict,
) -> Result<ImportStrategy, UsageError> {
    let bulk = match engine {
        Engine::Postgres => ImportStrategy::Copy,
        Engine::Mysql => ImportStrategy::LoadData,
        Engine::Sqlite => ImportStrategy::Insert,
    };
    match asked {
        ImportStrategy::Auto if on_conflict == OnConflict::Error => Ok(bulk),
        ImportStrategy::Auto | ImportStrategy::Insert => Ok(ImportStrategy::Insert),
        bulk_asked if bulk_asked != bulk => Err(UsageError(format!(
            "--strategy {} needs {}; on {} use insert{}",
            if bulk_asked == ImportStrategy::Copy { "copy" } else { "load-data" },
            if bulk_asked == ImportStrategy::Copy { "PostgreSQL" } else { "MySQL/MariaDB" },
            engine.name(),
            if bulk == ImportStrategy::Insert { String::new() } else { format!(" or {}", strategy_name(bulk)) }
        ))),
        bulk_asked if on_conflict != OnConflict::Error => Err(UsageError(format!(
            "--strategy {} cannot skip or update conflicting rows; use --strategy insert with --on-conflict",
            strategy_name(bulk_asked)
        ))),
        bulk_asked => Ok(bulk_asked),
    }
}

pub fn strategy_name(strategy: ImportStrategy) -> &'static str {
    match strategy {
        ImportStrategy::Auto => "auto",
        ImportStrategy::Insert => "insert",
        ImportStrategy::Copy => "copy",
        ImportStrategy::LoadData => "load-data",
    }
}

pub fn parse_url(connect: &ConnectOpts) -> Result<DbUrl, UsageError> {
    let Some(url) = &connect.url else {
        return Err(UsageError(
            "no database URL: give --url or set DATABASE_URL".into(),
        ));
    };
    if url.trim().is_empty() {
        return Err(UsageError(
            "--url is empty: give a database URL or set DATABASE_URL".into(),
        ));
    }
    let url = DbUrl::parse(url)?.with_password_from(connect.password_file.as_deref(), |name| {
        std::env::var(name).ok()
    })?;
    Ok(url.with_connect_timeout(connect.connect_timeout.map(std::time::Duration::from_secs)))
}

pub fn parse_source(source: &SourceOpts, engine: Engine) -> Result<Source, UsageError> {
    match (&source.table, &source.query) {
        (Some(table), None) => Ok(Source::Table(QualifiedName::parse(table, engine)?)),
        (None, Some(query)) if !query.trim().is_empty() => Ok(Source::Query(query.clone())),
        (None, Some(_)) => Err(UsageError("--query is empty".into())),
        _ => Err(UsageError("give exactly one of --table or --query".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::testing::assert_contains;
    use clap::Parser;

    fn plan(args: &[&str]) -> Result<ExportPlan, UsageError> {
        let mut all = vec!["dbchunk", "export"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Export(args) => ExportPlan::from_args(args),
            _ => unreachable!(),
        }
    }

    #[test]
    fn copy_is_postgres_only() {
        let err = plan(&["--url", "mysql://r@h/db", "-t", "t", "--strategy", "copy"])
            .err()
            .unwrap();
        assert_contains(&err.0, "needs PostgreSQL");
        assert!(plan(&["--url", "postgres://r@h/db", "-t", "t", "--strategy", "copy"]).is_ok());
    }

    #[test]
    fn format_comes_from_flag_then_extension_then_csv() {
        let p = plan(&["--url", "sqlite::memory:", "-t", "t", "-o", "x.ndjson"]).unwrap();
        assert_eq!(p.format, Format::Ndjson);
        let p = plan(&[
            "--url", "sqlite::memory:", "-t", "t", "-o", "x.ndjson", "--format", "tsv",
        ])
        .unwrap();
        assert_eq!((p.format, p.null.as_str()), (Format::Tsv, "\\N"));
        let p = plan(&["--url", "sqlite::memory:", "-t", "t"]).unwrap();
        assert_eq!(
            (p.format, p.destination),
            (Format::Csv, Destination::Stdout)
        );
    }

    #[test]
    fn parquet_refuses_text_only_flags_by_name() {
        let base = ["--url", "sqlite::memory:", "-t", "t", "-o", "x.parquet"];
        let p = plan(&base).unwrap();
        assert_eq!(p.format, Format::Parquet);
        for (extra, flag) in [
            (&["--null", "N"][..], "--null"),
            (&["--no-header"][..], "--no-header"),
            (&["--state", "s.json"][..], "--state"),
        ] {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            let err = plan(&args).err().unwrap();
            assert!(err.0.starts_with(flag), "{err}");
        }
        let err = plan(&[
            "--url", "sqlite::memory:", "-t", "t", "--row-group-size", "1MB",
        ])
        .err()
        .unwrap();
        assert_contains(&err.0, "--row-group-size applies to --format parquet");
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("64MB"), Some(64_000_000));
        assert_eq!(parse_size("512KiB"), Some(512 * 1024));
        assert_eq!(parse_size("1 GiB"), Some(1 << 30));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("MB"), None);
        assert_eq!(parse_size("5 parsecs"), None);
    }

    #[test]
    fn parquet_is_never_wrapped_in_gzip_or_zstd() {
        let base = ["--url", "sqlite::memory:", "-t", "t"];
        for more in [
            &["-o", "x.parquet", "--compress", "zstd"][..],
            &["-o", "x.parquet.gz"],
            &["-o", "x.parquet.zst"],
            &["--format", "parquet", "--compress", "gzip"],
            &["-o", "x.out", "--format", "parquet", "--compress", "gzip"],
        ] {
            let mut args = base.to_vec();
            args.extend_from_slice(more);
            let err = plan(&args).err().unwrap();
            assert!(err.0.contains("--parquet-compression"), "{more:?}: {err}");
        }
    }

    #[test]
    fn compression_comes_from_the_name_or_the_flag() {
        use crate::compress::Codec;
        let base = ["--url", "sqlite::memory:", "-t", "t"];
        let with = |more: &[&str]| {
            let mut args = base.to_vec();
            args.extend_from_slice(more);
            plan(&args)
        };
        let p = with(&["-o", "x.tsv.gz"]).unwrap();
        assert_eq!(p.format, Format::Tsv);
        assert_eq!(p.compress, Some(Compression::new(Codec::Gzip)));
        let p = with(&["-o", "x.jsonl.zst", "--compress", "zstd:19"]).unwrap();
        assert_eq!(p.format, Format::Ndjson);
        assert_eq!(
            p.compress.map(|c| (c.codec, c.level)),
            Some((Codec::Zstd, 19))
        );
        let p = with(&["--compress", "gzip"]).unwrap();
        assert_eq!(p.compress.map(|c| c.codec), Some(Codec::Gzip));
        let p = with(&["-o", "x.zst"]).unwrap();
        assert_eq!(p.format, Format::Csv);
        for refused in [
            &["-o", "x.csv.gz", "--compress", "zstd"][..],
            &["-o", "x.csv", "--compress", "zstd"],
            &["-o", "x.csv.bz2"],
            &["-o", "x.csv.xz"],
        ] {
            assert!(with(refused).is_err(), "{refused:?}");
        }
    }
}
