//! `dbchunk restore`'s flags, checked before anything connects.

use std::path::PathBuf;

use super::dump::TableChoice;
use crate::cli::RestoreArgs;
use crate::error::UsageError;
use crate::plan::insert::{ImportStrategy, OnConflict};
use crate::progress::ProgressMode;
use crate::url::DbUrl;

/// What `dbchunk restore` was asked to do.
#[derive(Clone, Debug)]
pub struct RestorePlan {
    pub url: DbUrl,
    pub dir: PathBuf,
    pub choice: TableChoice,
    pub schema: Option<String>,
    pub create: bool,
    pub unmapped_as_text: bool,
    pub indexes: bool,
    pub foreign_keys: bool,
    pub truncate: bool,
    /// `--reject-dir`: where each table's refused rows go instead of
    /// stopping the restore.
    pub reject_dir: Option<PathBuf>,
    /// Keep the tables that hold the dump's rows; load the others again.
    pub resume: bool,
    pub on_conflict: OnConflict,
    /// Resolved from the engine and `--on-conflict`: never `auto`.
    pub strategy: ImportStrategy,
    pub jobs: usize,
    /// `--check`: no file passes through unparsed.
    pub check: bool,
    pub batch: u64,
    pub progress: ProgressMode,
    pub quiet: bool,
    pub stats: bool,
}

impl RestorePlan {
    pub fn from_args(args: RestoreArgs) -> Result<RestorePlan, UsageError> {
        let url = super::parse_url(&args.connect)?;
        let only_with_create = [
            ("--unmapped-as-text", args.unmapped_as_text),
            ("--no-indexes", args.no_indexes),
            ("--no-foreign-keys", args.no_foreign_keys),
        ];
        if let Some((flag, _)) = only_with_create
            .iter()
            .find(|(_, set)| *set && !args.create)
        {
            return Err(UsageError(format!(
                "{flag} says how --create makes tables: add --create"
            )));
        }
        Ok(RestorePlan {
            strategy: super::import_strategy(ImportStrategy::Auto, url.engine, args.on_conflict)?,
            // A SQLite file takes one writer at a time.
            jobs: match url.engine {
                crate::engine::Engine::Sqlite => 1,
                _ => args.jobs as usize,
            },
            url,
            dir: args.dir,
            choice: TableChoice::parse(&args.choice)?,
            schema: args.schema,
            create: args.create,
            unmapped_as_text: args.unmapped_as_text,
            indexes: !args.no_indexes,
            foreign_keys: !args.no_foreign_keys,
            truncate: args.truncate,
            resume: args.resume,
            check: args.check,
            reject_dir: args.reject_dir,
            on_conflict: args.on_conflict,
            batch: args.batch,
            progress: args.report.progress,
            quiet: args.report.quiet,
            stats: args.report.stats,
        })
    }
}
