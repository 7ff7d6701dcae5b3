//! Turns the parsed command line into a checked plan. Every mistake that
//! can be found without a database is found here, and is a usage error
//! (exit 2) before anything connects.

use crate::cli::{ConnectOpts, CountArgs, ExportArgs, ImportArgs, ImportStrategy, SourceOpts};
use crate::db::{Request, Source};
use crate::error::UsageError;
use crate::format::Format;
use crate::ident::{split_list, QualifiedName};
use crate::output::Destination;
use crate::plan::insert::OnConflict;
use crate::plan::Strategy;
use crate::progress::ProgressMode;
use crate::url::{DbUrl, Engine};

#[derive(Clone)]
pub struct ExportPlan {
    pub url: DbUrl,
    pub request: Request,
    pub strategy: Strategy,
    pub chunk: u64,
    pub format: Format,
    pub destination: Destination,
    pub header: bool,
    pub null: String,
    pub limit: Option<u64>,
    pub max_rate: Option<crate::throttle::Rate>,
    /// `--retries N`: reconnections allowed after a lost connection.
    pub retries: u32,
    /// `--state FILE`: checkpoints after every chunk.
    pub state_file: Option<std::path::PathBuf>,
    /// `--resume` or `--resume-from`: where to go on from.
    pub resume: Option<crate::state::Checkpoint>,
    /// Workers for `--parallel` (1: no parallelism).
    pub parallel: usize,
    /// `--no-lock`: MySQL workers start their snapshots without a brief
    /// global read lock.
    pub no_lock: bool,
    pub explain: bool,
    pub progress: ProgressMode,
    pub quiet: bool,
    pub stats: bool,
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
    pub max_errors: u64,
    pub max_line_bytes: usize,
    /// `--state FILE`: where committed batches are recorded.
    pub state_file: Option<std::path::PathBuf>,
    /// `--resume`: go on from what the state file records.
    pub resume: bool,
    /// `--retries N`: reconnections allowed per batch.
    pub retries: u32,
    pub progress: ProgressMode,
    pub quiet: bool,
    pub stats: bool,
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
        let destination = match args.output.as_deref() {
            None | Some("-") => Destination::Stdout,
            Some(path) => {
                check_uncompressed(path)?;
                Destination::File(path.into())
            }
        };
        let format = args
            .format
            .or_else(|| args.output.as_deref().and_then(Format::from_path))
            .unwrap_or(Format::Csv);
        if args.null.is_some() && format == Format::Ndjson {
            return Err(UsageError(
                "--null applies to csv and tsv; NDJSON always writes NULL as null".into(),
            ));
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
        let resumable = resume.is_some() || args.state.is_some();
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
            header: !args.no_header,
            null: args
                .null
                .unwrap_or_else(|| format.default_null().to_string()),
            limit: args.limit,
            retries: args.retries,
            max_rate: args
                .max_rate
                .as_deref()
                .map(crate::throttle::Rate::parse)
                .transpose()
                .map_err(UsageError)?,
            state_file: args.state.map(Into::into),
            resume,
            parallel: usize::from(args.parallel),
            no_lock: args.no_lock,
            explain: args.explain,
            progress: args.progress,
            quiet: args.quiet,
            stats: args.stats,
        })
    }
}

impl ImportPlan {
    pub fn from_args(args: ImportArgs) -> Result<ImportPlan, UsageError> {
        let url = parse_url(&args.connect)?;
        let input = args.input.filter(|i| i != "-");
        let format = args
            .format
            .or_else(|| {
                input
                    .as_deref()
                    .map(|i| i.trim_end_matches(".gz"))
                    .and_then(Format::from_path)
            })
            .unwrap_or(Format::Csv);
        let columns = args
            .columns
            .as_deref()
            .map(|text| split_list(text, url.engine))
            .transpose()?;
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
        if args.max_errors > 0 && args.reject_file.is_none() {
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
            stats: args.stats,
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

fn parse_url(connect: &ConnectOpts) -> Result<DbUrl, UsageError> {
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

fn parse_source(source: &SourceOpts, engine: Engine) -> Result<Source, UsageError> {
    match (&source.table, &source.query) {
        (Some(table), None) => Ok(Source::Table(QualifiedName::parse(table, engine)?)),
        (None, Some(query)) if !query.trim().is_empty() => Ok(Source::Query(query.clone())),
        (None, Some(_)) => Err(UsageError("--query is empty".into())),
        _ => Err(UsageError("give exactly one of --table or --query".into())),
    }
}

/// Compressed output is not written yet; a `.gz` name holding plain text
/// would be worse than an error.
fn check_uncompressed(path: &str) -> Result<(), UsageError> {
    let lower = path.to_ascii_lowercase();
    for ext in [".gz", ".zst", ".bz2", ".xz"] {
        if lower.ends_with(ext) {
            return Err(UsageError(format!(
                "dbchunk does not compress output yet ({path:?}): write plain text and pipe it, \
                 e.g. dbchunk export ... | gzip > {path}"
            )));
        }
    }
    Ok(())
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
        assert!(plan(&[
            "--url",
            "postgres://r@h/db",
            "-t",
            "t",
            "--strategy",
            "copy"
        ])
        .is_ok());
    }

    #[test]
    fn format_comes_from_flag_then_extension_then_csv() {
        let p = plan(&["--url", "sqlite::memory:", "-t", "t", "-o", "x.ndjson"]).unwrap();
        assert_eq!(p.format, Format::Ndjson);
        let p = plan(&[
            "--url",
            "sqlite::memory:",
            "-t",
            "t",
            "-o",
            "x.ndjson",
            "--format",
            "tsv",
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
    fn compressed_names_are_refused() {
        assert!(plan(&["--url", "sqlite::memory:", "-t", "t", "-o", "x.csv.gz"]).is_err());
    }
}
