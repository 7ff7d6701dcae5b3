//! The checks and steps an export takes before its rows are read, shared by
//! a plain export and an incremental one: a signal then leaves nothing
//! written; the output's names must be distinct; an unproven key must
//! identify the rows; and the peak memory for `--stats`.

use std::future::Future;

use anyhow::{Context, Result};

use crate::config::ExportPlan;
use crate::db::{Db, Relation};
use crate::error::UsageError;
use crate::format::Format;
use crate::plan::Strategy;

/// Runs a step that comes before any output: a signal stops it with
/// nothing written.
pub(super) async fn before_output<T>(
    plan: &ExportPlan,
    stage: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    super::step::step(stage, nothing_written(plan), work).await
}

pub(super) fn nothing_written(plan: &ExportPlan) -> &'static str {
    match plan.destination {
        crate::output::Destination::Stdout => "nothing was written",
        crate::output::Destination::File(_) => "the output file was not created",
    }
}

/// A `--key` that no unique index proves is checked against the data: on a
/// key with duplicates or NULLs, keyset and offset would skip or repeat
/// rows without any error.
pub(super) async fn check_key_identifies_rows(
    db: &mut Db,
    relation: &Relation,
    strategy: Strategy,
    label: &str,
) -> Result<()> {
    let duplicates = db
        .key_has_duplicates(&relation.select)
        .await
        .with_context(|| {
            format!(
                "checking that --key {} identifies rows",
                crate::ident::display_list(&relation.key_names, ",")
            )
        })?;
    if duplicates {
        return Err(UsageError(format!(
            "--key {} does not identify rows of {label}: some rows share a key value or have a NULL \
             in it, and {} would skip or repeat them; use a unique NOT NULL key, or {}",
            crate::ident::display_list(&relation.key_names, ","),
            match strategy {
                Strategy::Keyset | Strategy::Offset => format!("--strategy {}", strategy.name()),
                _ => "going on after a key (--state, --resume)".to_string(),
            },
            match strategy {
                Strategy::Keyset | Strategy::Offset =>
                    "--strategy cursor (which only orders by --key)",
                _ => "drop --state and --resume (the export then only orders by --key)",
            }
        ))
        .into());
    }
    Ok(())
}

/// NDJSON objects cannot hold two keys of the same name, nor a Parquet
/// schema two fields.
pub(super) fn check_distinct_names(relation: &Relation, label: &str, format: Format) -> Result<()> {
    let holder = match format {
        Format::Parquet => "one Parquet schema",
        _ => "one NDJSON object",
    };
    let mut seen = std::collections::HashSet::new();
    for column in &relation.columns {
        if !seen.insert(column.name.as_str()) {
            return Err(UsageError(format!(
                "{label} has two columns named {:?}, which {holder} cannot hold: give \
                 them distinct aliases (AS ...) or use --format csv",
                column.name
            ))
            .into());
        }
    }
    Ok(())
}

/// The process's peak resident memory, from `/proc` (Linux only).
pub(super) fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
