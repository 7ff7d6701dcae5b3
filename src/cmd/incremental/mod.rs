//! `dbchunk export --incremental COL --state FILE`: the rows whose `COL`
//! changed since the last successful run, in `(COL, key)` order.
//!
//! A run reads in two ranges, both by keyset on `(COL, key)`:
//!
//! 1. the overlap: rows from the start the previous run chose (see
//!    [`watermark`]) up to the last row it sent. They may have been sent
//!    already, or be rows a transaction committed late; their count is
//!    `overlap_rows` in `--stats`.
//! 2. the rows after that last row.
//!
//! The start of the next run is measured before anything is read, and the
//! state file is replaced only once the output is complete, so a failed
//! or killed run leaves it as it was.

mod watermark;

use std::time::Instant;

use anyhow::{anyhow, Context, Result};

use super::prepare::{
    before_output, check_distinct_names, check_key_identifies_rows, nothing_written, peak_rss_kb,
};
use super::read::keyset_chunk_after;
use super::step::look_up;
use crate::config::{ExportPlan, Incremental};
use crate::db::{Db, Key, KeyCheck, Relation, Request};
use crate::error::{warn, UsageError};
use crate::format::Format;
use crate::output::Output;
use crate::pipeline::Pipeline;
use crate::plan::keyset::{self, Comparison};
use crate::progress::Progress;
use crate::signals::until_stopped;
use crate::state::IncrementalState;
use crate::throttle::Throttle;
use watermark::Kind;

pub async fn export(plan: &ExportPlan, incremental: &Incremental, mut db: Db) -> Result<()> {
    let label = plan.request.source.label();
    let state_path = &incremental.state_file;
    let column = &incremental.column;
    let request = Request {
        columns: None,
        filter: None,
        ..plan.request.clone()
    };
    let base = look_up(&label, nothing_written(plan), db.describe(&request)).await?;
    let Some(col) = base.columns.iter().find(|c| &c.name == column) else {
        let names: Vec<String> = base.columns.iter().map(|c| c.name.clone()).collect();
        return Err(UsageError(format!(
            "--incremental {column:?} is not a column of {label}, which has: {}",
            crate::ident::display_list(&names, ", ")
        ))
        .into());
    };
    let kind = Kind::of(column, &col.type_name, &col.ty, matches!(db, Db::Sqlite(_)))?;
    if base.key_names.is_empty() {
        return Err(UsageError(format!(
            "--incremental orders rows by ({column}, key) so that rows sharing a value are \
             neither lost nor sent twice, and {label} has no primary key or NOT NULL unique \
             index: name one with --key"
        ))
        .into());
    }
    let tie_key: Vec<String> = base
        .key_names
        .iter()
        .filter(|k| *k != column)
        .cloned()
        .collect();
    let state = match IncrementalState::load(state_path)? {
        Some(state) => check_state(state, &label, column, &tie_key, state_path)?,
        None => IncrementalState::first(label.clone(), column.clone(), tie_key.clone()),
    };
    if base.key_check == KeyCheck::Unproven {
        let checking = format!("while checking that --key identifies the rows of {label}");
        let check =
            check_key_identifies_rows(&mut db, &base, crate::plan::Strategy::Keyset, &label);
        before_output(plan, &checking, check).await?;
    }
    let dialect = base.select.dialect;
    let quoted_column = dialect.quote(column);
    let next = before_output(plan, "while finding where the next run starts", async {
        watermark::next_start(&mut db, kind, &base.select.from, &quoted_column)
            .await
            .context("finding where the next run starts")
    })
    .await?;
    if let (Some(held), false) = (&next.held, plan.quiet) {
        warn(held);
    }

    let mut conditions: Vec<String> = plan
        .request
        .filter
        .iter()
        .map(|w| format!("({w})"))
        .collect();
    conditions.push(format!("{quoted_column} IS NOT NULL"));
    if let Some(from) = &state.from {
        let op = if state.from_inclusive { ">=" } else { ">" };
        conditions.push(format!("{quoted_column} {op} {}", from.literals()[0]));
    }
    let this_from = shown(&state.from);
    let mut key = vec![column.clone()];
    key.extend(tie_key.iter().cloned());
    let request = Request {
        key: Some(key),
        filter: Some(conditions.join(" AND ")),
        ..plan.request.clone()
    };
    let after = look_up(&label, nothing_written(plan), db.describe(&request)).await?;
    if matches!(plan.format, Format::Ndjson | Format::Parquet) {
        check_distinct_names(&after, &label, plan.format)?;
    }
    // The overlap: from the start up to the last row sent, which keyset
    // reads with the rows after it as its end.
    let overlap = state.last.as_ref().map(|last| {
        let literals = last.literals();
        let beyond = keyset::compare(dialect, &after.select.key, &literals, Comparison::After);
        let mut overlap = after.clone();
        let bounded = format!(
            "{} AND {quoted_column} <= {} AND NOT ({})",
            conditions.join(" AND "),
            literals[0],
            beyond.sql
        );
        overlap.select.filter = Some(bounded);
        overlap
    });
    if plan.explain {
        let explain = super::explain::run(&mut db, &after, crate::plan::Strategy::Keyset, plan);
        return until_stopped(explain).await.map_err(|stop| {
            stop.left("while running --explain", "the plans are not all printed")
        })?;
    }
    if incremental.skip_empty && !any_row(&mut db, &after, plan).await? {
        let state = advanced(state, &next, None);
        state.save(state_path)?;
        if plan.stats {
            print_stats(this_from, 0, 0, 0, &state, &next, Instant::now());
        }
        return Ok(());
    }

    let output = Output::open(plan.destination.clone(), plan.compress)?;
    let pipeline = Pipeline::new(
        plan.format,
        &after.columns,
        &plan.null,
        plan.header,
        plan.parquet,
        output,
        Progress::new(plan.progress, plan.quiet, None),
        None,
    )?;
    let mut pipeline = pipeline.with_throttle(plan.max_rate.map(Throttle::new));
    if plan.retries > 0 {
        pipeline = pipeline.with_whole_chunks();
    }
    let started = Instant::now();
    let unchanged = format!(
        "--state {} is unchanged: the next run sends these rows again",
        state_path.display()
    );
    let reading = until_stopped(async {
        if let Some(overlap) = &overlap {
            read_range(&mut db, overlap, plan, &mut pipeline, None).await?;
        }
        let overlap_rows = pipeline.rows();
        let last = read_range(&mut db, &after, plan, &mut pipeline, state.last.clone()).await?;
        Ok::<_, anyhow::Error>((overlap_rows, last))
    })
    .await;
    let (overlap_rows, last) = match reading {
        Ok(Ok(read)) => read,
        Ok(Err(err)) => {
            return Err(pipe_closed(err, &unchanged).context(format!("exporting {label}")))
        }
        Err(stop) => {
            let stage = format!("while exporting {label}, after {} rows", pipeline.rows());
            pipeline.abandon();
            return Err(stop.left(stage, unchanged).into());
        }
    };
    let rows = pipeline.rows();
    let totals = pipeline
        .finish()
        .map_err(|err| match crate::signals::take_stop(err) {
            Ok(stop) => anyhow!(stop.left(
                format!("while writing the end of {label}, after {rows} rows"),
                unchanged.clone()
            )),
            Err(err) => pipe_closed(err, &unchanged),
        })?;
    let state = advanced(state, &next, last);
    state.save(state_path).with_context(|| {
        format!("the output is complete, but the state is not advanced: the next run sends these {rows} rows again")
    })?;
    if plan.stats {
        print_stats(
            this_from, totals.rows, totals.bytes, overlap_rows, &state, &next, started,
        );
    }
    Ok(())
}

/// A state is only ever applied to the export it was written by.
fn check_state(
    state: IncrementalState,
    label: &str,
    column: &str,
    tie_key: &[String],
    path: &std::path::Path,
) -> Result<IncrementalState> {
    if state.source != label || state.column != column || state.key != tie_key {
        return Err(UsageError(format!(
            "--state {} is of an --incremental {} export of {} ordered by ({}), not of \
             --incremental {column} of {label} ordered by ({}): give another --state file",
            path.display(),
            state.column,
            state.source,
            crate::ident::display_list(
                &[vec![state.column.clone()], state.key.clone()].concat(),
                ", "
            ),
            crate::ident::display_list(
                &[vec![column.to_string()], tie_key.to_vec()].concat(),
                ", "
            ),
        ))
        .into());
    }
    Ok(state)
}

/// The state after a successful run that sent up to `last`.
fn advanced(
    mut state: IncrementalState,
    next: &watermark::Next,
    last: Option<Key>,
) -> IncrementalState {
    if let Some((from, inclusive)) = &next.from {
        state.from = Some(from.clone());
        state.from_inclusive = *inclusive;
    }
    state.last = last.or(state.last);
    state.runs += 1;
    state
}

/// Whether the run would read any row.
async fn any_row(db: &mut Db, relation: &Relation, plan: &ExportPlan) -> Result<bool> {
    let sql = relation.select.offset_chunk(1, 0).sql;
    let probe = format!("SELECT 1 FROM ({sql}) AS probe");
    before_output(plan, "while looking for changed rows", async {
        Ok(db.first_row(&probe).await?.is_some())
    })
    .await
}

/// Reads `relation` by keyset from after `start` to its end; returns the
/// key of the last row read (`start` when none).
async fn read_range(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
    start: Option<Key>,
) -> Result<Option<Key>> {
    let mut after = start;
    loop {
        let read = keyset_chunk_after(db, relation, plan, pipeline, after.as_ref()).await?;
        if read.rows == plan.chunk {
            after = read.last_key;
            continue;
        }
        // The key of the last row, read again: rows that changed in
        // between only move the split between the next run's overlap and
        // the rows after it, never what it reads in all.
        if read.rows > 0 {
            let last = db.key_after(relation, after.as_ref(), read.rows).await;
            after = last
                .context("reading the key of the last row again")?
                .or(after);
        }
        break;
    }
    Ok(after)
}

/// A reader that closed stdout did not get every row: for a scheduled
/// run that is a failure (the state stays), not the quiet success it is
/// for `| head`.
fn pipe_closed(err: anyhow::Error, unchanged: &str) -> anyhow::Error {
    if crate::error::is_broken_pipe(&err) {
        return anyhow!("the reader of stdout closed it before the end: {unchanged}");
    }
    err
}

#[allow(clippy::too_many_arguments)]
fn print_stats(
    from: Option<String>,
    rows: u64,
    bytes: u64,
    overlap_rows: u64,
    state: &IncrementalState,
    next: &watermark::Next,
    started: Instant,
) {
    let seconds = started.elapsed().as_secs_f64();
    let stats = serde_json::json!({
        "rows": rows,
        "bytes": bytes,
        "overlap_rows": overlap_rows,
        "strategy": "keyset",
        "incremental": state.column,
        "from": from,
        "next_from": shown(&state.from),
        "held": next.held,
        "runs": state.runs,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "peak_rss_kb": peak_rss_kb(),
    });
    crate::log::stats(&stats);
}

/// A start value as text, for `--stats`.
fn shown(key: &Option<Key>) -> Option<String> {
    let literal = key.as_ref()?.literals().remove(0);
    Some(literal.trim_matches('\'').to_string())
}
