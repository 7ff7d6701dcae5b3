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
            args.format,
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
        let format = match (args.format, name) {
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
        if args.null.is_some() && format == Format::Ndjson {
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
        if resumable && !matches!(args.strategy, Strategy::Auto | Strategy::Keyset) {
            return Err(UsageError(format!(
                "only keyset exports can resume (each chunk ends at a key): drop --strategy {}",
                args.strategy.name()
            )));
        }
        let names = |text: &str| split_list(text, url.engine);
        let key = args.key.as_deref().map(names).transpose()?;
        let request = Request {
            source: parse_source(&args.source, url.engine)?,
            columns: args.columns.as_deref().map(names).transpose()?,
            key,
            filter: args.filter,
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
            header: !args.no_header,
            null: args
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
        at_least_one("--batch", args.batch)?;
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
            batch: args.batch,
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

/// `auto` becomes the engine's bulk path; a bulk path the engine lacks, or
/// one that cannot honour `--on-conflict`, is a usage error.
fn import_strategy(
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

/// `--row-group-size` and `--parquet-compression`, which only Parquet
/// takes; and the flags Parquet does not take, each named.
fn parquet_options(args: &ExportArgs, format: Format) -> Result<ParquetOptions, UsageError> {
    if format != Format::Parquet {
        for (flag, given) in [
            ("--row-group-size", args.row_group_size.is_some()),
            ("--parquet-compression", args.parquet_compression.is_some()),
        ] {
            if given {
                return Err(UsageError(format!(
                    "{flag} applies to --format parquet, but the format is {}",
                    format.name()
                )));
            }
        }
        return Ok(ParquetOptions::default());
    }
    let text_only = [
        ("--null", args.null.is_some()),
        ("--no-header", args.no_header),
    ];
    if let Some((flag, _)) = text_only.iter().find(|(_, given)| *given) {
        return Err(UsageError(format!(
            "{flag} applies to csv and tsv; Parquet has no header line and stores NULL as a \
             missing value: drop {flag}"
        )));
    }
    let resumable = args.state.is_some() && args.incremental.is_none();
    if resumable || args.resume || args.resume_from.is_some() {
        return Err(UsageError(
            "--state and --resume do not work with Parquet yet: its footer is written last, so a \
             stopped export cannot be continued (a failed one leaves no file behind); run it \
             again, or export csv/tsv/ndjson to resume"
                .into(),
        ));
    }
    if args.parallel > 1 {
        return Err(UsageError(
            "--parallel does not work with Parquet yet (one file gets one writer): drop \
             --parallel, or export csv/tsv/ndjson in parallel"
                .into(),
        ));
    }
    let mut options = ParquetOptions::default();
    if let Some(size) = &args.row_group_size {
        options.row_group_bytes = parse_size(size).ok_or_else(|| {
            UsageError(format!(
                "--row-group-size {size:?} is not a size: use bytes, or 64MB, 512KiB, 1GB"
            ))
        })?;
    }
    if let Some(codec) = &args.parquet_compression {
        options.compression =
            crate::format::parquet::Compression::parse(codec).map_err(UsageError)?;
    }
    Ok(options)
}

/// `--split-rows`/`--split-bytes`: a file name to number the parts after,
/// none of the flags splitting cannot honour, and no parts of an earlier
/// export under the name unless `--overwrite` (a rerun must not mix its
/// parts with older ones).
fn split_plan(
    args: &ExportArgs,
    destination: &Destination,
) -> Result<Option<crate::split::Split>, UsageError> {
    use crate::split::{Limit, Split};
    if args.overwrite && args.split_rows.is_none() && args.split_bytes.is_none() {
        return Err(UsageError(
            "--overwrite goes with --split-rows or --split-bytes (a single --output file is \
             always replaced): drop --overwrite"
                .into(),
        ));
    }
    let (flag, limit) = match (args.split_rows, &args.split_bytes) {
        (Some(rows), _) => ("--split-rows", Limit::Rows(rows)),
        (None, Some(size)) => {
            let bytes = parse_size(size).ok_or_else(|| {
                UsageError(format!(
                    "--split-bytes {size:?} is not a size: use bytes, or 100MB, 512KiB, 1GB"
                ))
            })?;
            ("--split-bytes", Limit::Bytes(bytes as u64))
        }
        (None, None) => return Ok(None),
    };
    let base = match destination {
        Destination::File(path) => path,
        Destination::Stdout => {
            return Err(UsageError(format!(
                "{flag} writes numbered files named after --output, and stdout cannot be split: \
                 give -o NAME (e.g. -o orders.csv.zst for orders.00001.csv.zst, ...)"
            )))
        }
    };
    if let Ok(crate::place::Place::Stream(_)) = crate::place::Place::of(base) {
        return Err(UsageError(format!(
            "{flag}: --output {} is a device, FIFO or socket; the parts are numbered files \
             beside the name: give the name of a file",
            base.display()
        )));
    }
    let refused = [
        ("--state", args.state.is_some()),
        ("--resume-from", args.resume_from.is_some()),
        ("--parallel", args.parallel > 1),
    ];
    if let Some((other, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(UsageError(format!(
            "{flag} does not work with {other} yet: a split export is rerun whole (with \
             --overwrite); drop {other}, or export one file"
        )));
    }
    if !args.overwrite {
        let existing = crate::split::existing_parts(base)
            .map_err(|e| UsageError(format!("{flag}: looking for earlier parts: {e}")))?;
        if let Some(first) = existing.first() {
            return Err(UsageError(format!(
                "{flag}: {} and {} other part(s) of an earlier export exist; new parts must not \
                 mix with them: remove them, or give --overwrite to remove them before writing",
                first.display(),
                existing.len() - 1
            )));
        }
    }
    Ok(Some(Split {
        limit,
        base: base.clone(),
        overwrite: args.overwrite,
    }))
}

/// `1048576`, `64MB`, `512KiB`, `1g`: decimal units (kB, MB, GB) and
/// binary ones (KiB, MiB, GiB); at least one byte.
fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number.parse().ok()?;
    let factor: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor).filter(|&n| n > 0)
}

/// `--chunk 0` or `--batch 0` would never move.
fn at_least_one(flag: &str, value: u64) -> Result<(), UsageError> {
    match value {
        0 => Err(UsageError(format!("{flag} must be at least 1"))),
        _ => Ok(()),
    }
}

/// The format the file name `name` implies (`path` less the `.gz` an
/// input may carry), csv for a name without an extension, and a usage
/// error for an extension dbchunk does not know: data in the wrong format
/// under a trusted name is worse than stopping.
fn format_of(flag: &str, path: &str, name: &str, verb: &str) -> Result<Format, UsageError> {
    let format = Format::from_path(name).map_err(|unknown| {
        UsageError(format!(
            "{flag} {path}: {unknown}: give --format csv, tsv, ndjson or parquet to {verb} it \
             anyway (a .gz or .zst after the format's extension compresses it)"
        ))
    })?;
    Ok(format.unwrap_or(Format::Csv))
}

/// An input name without the `.gz` or `.zst` it is decompressed for.
fn input_name(path: &str) -> Result<&str, UsageError> {
    match Suffix::of(path) {
        Suffix::Plain(name) | Suffix::Compressed(_, name) => Ok(name),
        Suffix::Unsupported(tool) => Err(UsageError(format!(
            "--input {path}: dbchunk reads gzip (.gz) and zstd (.zst), not {tool}: decompress it \
             first, e.g. {tool} -dc {path} | dbchunk import ..."
        ))),
    }
}

/// A path dbchunk cannot write to at all (a directory) is found before
/// connecting. Devices and FIFOs are fine: they are written in place.
fn check_place(flag: &str, path: &str) -> Result<crate::place::Place, UsageError> {
    crate::place::Place::of(std::path::Path::new(path))
        .map_err(|e| UsageError(format!("{flag}: {e}")))
}

/// A state file must be a file: `--resume` reads it back, and a device
/// keeps nothing.
fn check_state_file(path: &str) -> Result<(), UsageError> {
    match check_place("--state", path)? {
        crate::place::Place::File(_) => Ok(()),
        crate::place::Place::Stream(_) => Err(UsageError(format!(
            "--state {path} is a device, FIFO or socket, not a regular file: --resume reads the \
             state back from it; give the path of a file"
        ))),
    }
}

/// Parquet input names its fields and stores NULL as a missing value, and
/// compresses inside the file: the text-only flags and a compressed name
/// are refused by name.
fn check_parquet_input(no_header: bool, null: bool, input: Option<&str>) -> Result<(), UsageError> {
    for (flag, given) in [("--no-header", no_header), ("--null", null)] {
        if given {
            return Err(UsageError(format!(
                "{flag} applies to csv and tsv; Parquet names its fields in its schema and \
                 stores NULL as a missing value: drop {flag}"
            )));
        }
    }
    if let Some(path) = input {
        if let Suffix::Compressed(_, _) = Suffix::of(path) {
            return Err(UsageError(format!(
                "--input {path}: Parquet compresses inside the file, and dbchunk does not read \
                 a Parquet file in gzip or zstd: decompress it first"
            )));
        }
    }
    Ok(())
}

/// Parquet compresses each column inside the file; a gzip or zstd stream
/// around it would make a file no Parquet reader opens.
fn check_parquet_not_wrapped(
    format: Option<Format>,
    output: Option<&str>,
    compress: Option<&str>,
) -> Result<(), UsageError> {
    let lower = output.unwrap_or_default().to_ascii_lowercase();
    let wrapped_name = [".parquet.gz", ".parquet.zst", ".parquet.bz2", ".parquet.xz"]
        .iter()
        .any(|suffix| lower.ends_with(suffix));
    let parquet = format == Some(Format::Parquet)
        || (format.is_none() && (lower.ends_with(".parquet") || wrapped_name));
    if parquet && (wrapped_name || compress.is_some()) {
        return Err(UsageError(
            "Parquet compresses inside the file (zstd unless --parquet-compression says \
             snappy, gzip or none): name the file .parquet and drop --compress"
                .into(),
        ));
    }
    Ok(())
}

/// The compression of the output, from `--compress` and the `--output`
/// name, and the name the format is read from (without `.gz`/`.zst`).
/// A name and a flag that disagree, or a plain format's name for
/// compressed bytes, would label a file wrongly: both are usage errors.
fn output_compression(
    path: Option<&str>,
    flag: Option<Compression>,
) -> Result<(Option<Compression>, Option<&str>), UsageError> {
    let Some(path) = path else {
        return Ok((flag, None));
    };
    match Suffix::of(path) {
        Suffix::Unsupported(tool) => Err(UsageError(format!(
            "--output {path}: dbchunk compresses with gzip (.gz) or zstd (.zst), not {tool}: name \
             the file .gz or .zst, or pipe plain output: dbchunk export ... | {tool} > {path}"
        ))),
        Suffix::Compressed(codec, name) => match flag {
            Some(flag) if flag.codec != codec => Err(UsageError(format!(
                "--output {path} names {} data but --compress is {}: name the file .{} or drop \
                 --compress",
                codec.name(),
                flag.codec.name(),
                flag.codec.extension()
            ))),
            Some(flag) => Ok((Some(flag), Some(name))),
            None => Ok((Some(Compression::new(codec)), Some(name))),
        },
        Suffix::Plain(name) => match flag {
            Some(flag) if matches!(Format::from_path(name), Ok(Some(_))) => {
                Err(UsageError(format!(
                    "--output {path} names plain text but --compress is {}: name the file \
                     {path}.{}",
                    flag.codec.name(),
                    flag.codec.extension()
                )))
            }
            flag => Ok((flag, Some(name))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
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
        assert!(err.0.contains("needs PostgreSQL"), "{err}");
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
        assert!(
            err.0
                .contains("--row-group-size applies to --format parquet"),
            "{err}"
        );
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
