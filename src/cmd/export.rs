//! `dbchunk export`: connect, describe, pick a strategy, then push chunks
//! through the [`Pipeline`] until the source is exhausted.

use std::time::Instant;

use anyhow::{anyhow, Context, Result};

use crate::config::ExportPlan;
use crate::db::{Db, KeyCheck, Relation};
use crate::error::{warn, UsageError};
use crate::format::Format;
use crate::output::Output;
use crate::pipeline::{Checkpoints, Pipeline, Totals};
use crate::plan::Strategy;
use crate::progress::{Progress, ProgressMode};
use crate::signals::until_stopped;
use crate::split::{Part, Parts};
use crate::state::Checkpoint;
use crate::throttle::Throttle;

use super::prepare::{
    before_output, check_distinct_names, check_key_identifies_rows, nothing_written, peak_rss_kb,
};
use super::read::{read, reads_by_key};
use super::step::look_up;
use crate::engine::Engine;

pub async fn run(plan: ExportPlan) -> Result<()> {
    let request = plan.request.clone();
    export(plan)
        .await
        .map_err(|err| crate::db::hint_raw_sql(err, &request))
}

async fn export(plan: ExportPlan) -> Result<()> {
    let label = plan.request.source.label();
    let mut db = super::step::connect(&plan.url, false, nothing_written(&plan)).await?;
    if let Some(incremental) = &plan.incremental {
        return super::incremental::export(&plan, incremental, db).await;
    }
    let relation = look_up(&label, nothing_written(&plan), db.describe(&plan.request)).await?;
    let resumable = plan.state_file.is_some() || plan.resume.is_some();
    let strategy = resolve(plan.strategy, db.engine(), &relation, &label)?;
    if resumable && !reads_by_key(strategy, &relation) {
        return Err(UsageError(format!(
            "--state and --resume go on after the key of the last row written, and {label} has \
             no primary key or NOT NULL unique index: name one with --key col[,col...]"
        ))
        .into());
    }
    if let Some(resume) = &plan.resume {
        check_resume(resume, &label, plan.format, plan.compress)?;
    }
    if matches!(plan.format, Format::Ndjson | Format::Parquet) {
        check_distinct_names(&relation, &label, plan.format)?;
    }
    if plan.explain {
        let explain = super::explain::run(&mut db, &relation, strategy, &plan);
        return until_stopped(explain).await.map_err(|stop| {
            stop.left("while running --explain", "the plans are not all printed")
        })?;
    }
    // Keyset chunks, and a resumed read, go on after a key: a key that
    // does not identify rows would skip the rows that share the last
    // one's value. A one-statement read only orders by a key it is not
    // sure of, and does not go on after it when the connection is lost.
    let mut relation = relation;
    if relation.key_check == KeyCheck::Unproven && !uses_key(strategy) && !resumable {
        relation = relation.ordered_only();
    }
    if (uses_key(strategy) || resumable) && relation.key_check == KeyCheck::Unproven {
        let checking = format!("while checking that --key identifies the rows of {label}");
        before_output(
            &plan,
            &checking,
            check_key_identifies_rows(&mut db, &relation, strategy, &label),
        )
        .await?;
    }
    if strategy == Strategy::Offset && !plan.quiet {
        warn(&offset_warning(db.engine(), &relation));
    }
    let looking_up = format!("while looking up {label}");
    let estimated = before_output(&plan, &looking_up, async {
        Ok(estimate(&mut db, &relation, &plan).await)
    })
    .await?;
    let progress = Progress::new(plan.progress, plan.quiet, estimated);
    if plan.parallel > 1 {
        let started = Instant::now();
        let workers = format!("while exporting {label} with {} workers", plan.parallel);
        let parallel = super::parallel::run(&plan, &mut db, &relation, strategy, progress);
        let totals = until_stopped(parallel)
            .await
            .map_err(|stop| stop.left(workers, unfinished(&plan)))?
            .with_context(|| format!("exporting {label} with {} workers", plan.parallel))?;
        if plan.stats {
            print_stats(&totals, strategy, started);
        }
        return Ok(());
    }
    if let Some(Checkpoint { last_key: None, .. }) = &plan.resume {
        if let crate::output::Destination::File(path) = &plan.destination {
            if crate::output::finished(path) {
                if !plan.quiet {
                    crate::log::info(&format!(
                        "the export to {} had finished: nothing to resume",
                        path.display()
                    ));
                }
                return Ok(());
            }
        }
    }
    // Every export to stdout that reads in key order checkpoints too, so
    // that when it stops it can say how to go on (a file needs --state:
    // its partial file is kept only then).
    // Parquet cannot be continued (its footer comes last).
    let resumable = resumable
        || (reads_by_key(strategy, &relation)
            && plan.destination == crate::output::Destination::Stdout
            && plan.format.is_text());
    let mut parts = None;
    let output = match (resumable, &plan.split) {
        (true, _) => Output::open_resumable(
            plan.destination.clone(),
            plan.resume.as_ref().map(crate::output::ResumeAt::of),
            plan.compress,
        )?,
        (false, Some(split)) => {
            let (first_parts, first) = Parts::start(split.clone(), plan.compress)?;
            parts = Some(first_parts);
            first
        }
        (false, None) => Output::open(plan.destination.clone(), plan.compress)?,
    };
    let pipeline = Pipeline::new(
        plan.format,
        &relation.columns,
        &plan.null,
        plan.header && plan.resume.is_none(),
        plan.parquet,
        output,
        progress,
        plan.limit,
    )?;
    let mut pipeline = pipeline.with_throttle(plan.max_rate.map(Throttle::new));
    if let Some(parts) = parts {
        pipeline = pipeline.with_parts(
            parts, plan.format, &relation.columns, &plan.null, plan.header, plan.parquet,
        );
    }
    // A chunk read again after a lost connection must not be half written
    // (a SQLite file has no connection to lose).
    let retried = plan.retries > 0 && db.engine() != Engine::Sqlite;
    if retried && (reads_by_key(strategy, &relation) || strategy == Strategy::Offset) {
        pipeline = pipeline.with_whole_chunks();
    }
    if resumable {
        let checkpoints = Checkpoints {
            source: label.clone(),
            format: plan.format.name().to_string(),
            state_file: plan.state_file.clone(),
        };
        pipeline = pipeline.with_checkpoints(checkpoints, plan.resume.as_ref());
    }
    let started = Instant::now();
    let reading = until_stopped(read(&mut db, &relation, strategy, &plan, &mut pipeline)).await;
    let result = match reading {
        Ok(result) => result,
        Err(stop) => {
            let stage = format!("while exporting {label}, after {} rows", pipeline.rows());
            let saved = pipeline.abandon();
            let left = match plan.split {
                Some(_) => parts_left(&plan, pipeline.parts_done()),
                None => stopped_output(&plan, resumable, saved),
            };
            return Err(stop.left(stage, left).into());
        }
    };
    if let Err(err) = result {
        // A reader that closed the pipe is success, and quiet.
        if resumable && !crate::error::is_broken_pipe(&err) {
            print_resume_hint(&plan, pipeline.last_saved());
        }
        let exporting = match (&plan.split, pipeline.parts_done()) {
            (Some(split), done @ 1..) => format!(
                "exporting {label} (parts {} to {} were complete and are kept; rerun with \
                 --overwrite)",
                crate::split::part_path(&split.base, 1).display(),
                crate::split::part_path(&split.base, done as u64).display()
            ),
            _ => format!("exporting {label}"),
        };
        return Err(err.context(exporting));
    }
    let rows = pipeline.rows();
    let (totals, parts) =
        pipeline
            .finish_parts()
            .map_err(|err| match crate::signals::take_stop(err) {
                // Stopped while the last bytes waited for room in a full pipe.
                Ok(stop) => anyhow!(stop.left(
                    format!("while writing the end of {label}, after {rows} rows"),
                    unfinished(&plan)
                )),
                Err(err) => err,
            })?;
    if plan.stats {
        print_stats_with_parts(&totals, strategy, started, &parts);
    }
    Ok(())
}

/// What a failed or stopped split export left: the parts complete so
/// far, each valid alone; the part being written was removed.
fn parts_left(plan: &ExportPlan, done: usize) -> String {
    let Some(split) = &plan.split else {
        return unfinished(plan);
    };
    match done {
        0 => "no part was complete, and none was written: run the export again".to_string(),
        _ => format!(
            "parts {} to {} are complete and kept, the part being written was removed: rerun \
             with --overwrite to export the whole again",
            crate::split::part_path(&split.base, 1).display(),
            crate::split::part_path(&split.base, done as u64).display()
        ),
    }
}

/// What a stopped export left, when no checkpoint tells more.
pub(super) fn unfinished(plan: &ExportPlan) -> String {
    match (&plan.destination, &plan.state_file) {
        (_, Some(state)) => format!(
            "{} records the last complete chunk: rerun with --state {0} --resume",
            state.display()
        ),
        (crate::output::Destination::Stdout, None) => {
            "the output on stdout is incomplete".to_string()
        }
        (crate::output::Destination::File(_), None) => {
            "the output file was not created".to_string()
        }
    }
}

/// What a stopped export left: the output, and the checkpoint (`saved`,
/// a resume token) that a rerun goes on from.
fn stopped_output(plan: &ExportPlan, resumable: bool, saved: Option<String>) -> String {
    let checkpoint = saved.and_then(|token| Some((Checkpoint::from_token(&token).ok()?, token)));
    let stdout = plan.destination == crate::output::Destination::Stdout;
    match (&plan.state_file, checkpoint) {
        _ if !resumable => unfinished(plan),
        (Some(state), Some((checkpoint, _))) => {
            let kept = checkpoint.compressed_bytes.unwrap_or(checkpoint.bytes);
            let keep = match stdout {
                true => format!(" (keep the first {kept} bytes of stdout)"),
                false => String::new(),
            };
            format!(
                "--state {} records {} rows{keep}: rerun with --resume",
                state.display(),
                checkpoint.rows
            )
        }
        (Some(state), None) if plan.resume.is_some() => format!(
            "--state {} still records where the export stood: rerun with --resume",
            state.display()
        ),
        (None, Some((checkpoint, token))) => format!(
            "stdout holds {} rows up to a checkpoint: keep the first {} bytes written to stdout, \
             then append the output of a rerun with --resume-from '{token}'",
            checkpoint.rows,
            checkpoint.compressed_bytes.unwrap_or(checkpoint.bytes)
        ),
        (_, None) => match stdout {
            true => "no chunk was written out in full yet, so the output on stdout is \
                     incomplete: run the export again"
                .to_string(),
            false => "no chunk was written out in full yet: run the export again".to_string(),
        },
    }
}

/// A state or token from another export would resume the wrong data; one
/// compressed otherwise would append a stream of another kind.
fn check_resume(
    resume: &Checkpoint,
    label: &str,
    format: Format,
    compress: Option<crate::compress::Compression>,
) -> Result<()> {
    if resume.source != label || resume.format != format.name() {
        return Err(UsageError(format!(
            "the state to resume is of a {} export of {}, not of a {} export of {label}",
            resume.format,
            resume.source,
            format.name()
        ))
        .into());
    }
    let asked = compress.map(|c| c.codec.name());
    if resume.compression.as_deref() != asked {
        let kind = |codec: Option<&str>| match codec {
            None => "an uncompressed export".to_string(),
            Some(codec) => format!("a {codec}-compressed export"),
        };
        return Err(UsageError(format!(
            "the state to resume is of {}, but this one would be {}: resume with the same \
             --output name and --compress",
            kind(resume.compression.as_deref()),
            kind(asked)
        ))
        .into());
    }
    Ok(())
}

/// After a failure: how to go on from the last chunk that is written.
fn print_resume_hint(plan: &ExportPlan, token: Option<String>) {
    let Some(token) = token else { return };
    match &plan.state_file {
        Some(path) => crate::log::info(&format!("resume with --state {} --resume", path.display())),
        None => crate::log::info(&format!("resume with --resume-from '{token}'")),
    }
    if plan.destination == crate::output::Destination::Stdout {
        if let Ok(checkpoint) = Checkpoint::from_token(&token) {
            crate::log::info(&format!(
                "keep the first {} bytes written to stdout (the chunks before the checkpoint), \
                 then append the resumed output",
                checkpoint.compressed_bytes.unwrap_or(checkpoint.bytes)
            ));
        }
    }
}

/// `auto` becomes a concrete strategy; a forced key-based strategy on a
/// source without a key is refused with the way out.
///
/// `auto` streams one statement where the server has a per-query cost
/// worth saving: PostgreSQL's `COPY`, and elsewhere one streamed `SELECT`
/// (cursor). Either still ends a chunk every `--chunk` rows at the key of
/// its last row when there is a key, so it resumes and reconnects as
/// keyset does (docs/strategies.md). SQLite keeps keyset: its queries
/// cost nothing to start in-process, and short ones let writers in
/// between chunks, where one long read would hold the database's lock.
fn resolve(asked: Strategy, engine: Engine, relation: &Relation, label: &str) -> Result<Strategy> {
    let has_key = !relation.key_names.is_empty();
    let chosen = match asked {
        Strategy::Auto if engine == Engine::Postgres => Strategy::Copy,
        Strategy::Auto if has_key && engine == Engine::Sqlite => Strategy::Keyset,
        Strategy::Auto => Strategy::Cursor,
        other => other,
    };
    if uses_key(chosen) && !has_key {
        return Err(UsageError(format!(
            "--strategy {} needs a key to order by, and {label} has no primary key or NOT NULL \
             unique index: name one with --key col[,col...], or use --strategy cursor",
            chosen.name()
        ))
        .into());
    }
    Ok(chosen)
}

/// Strategies that split the rows by key, and so need a key that
/// identifies rows.
fn uses_key(strategy: Strategy) -> bool {
    matches!(strategy, Strategy::Keyset | Strategy::Offset)
}

fn offset_warning(engine: Engine, relation: &Relation) -> String {
    let faster = if engine == Engine::Postgres {
        "keyset (or copy)"
    } else {
        "keyset"
    };
    format!(
        "--strategy offset re-reads every earlier row for each chunk, so its cost grows with the \
         offset; --strategy {faster} on key ({}) reads each row once",
        crate::ident::display_list(&relation.key_names, ", ")
    )
}

/// The planner's estimate of the rows this export's query returns, for
/// the progress bar's total and ETA, only when a bar is shown. No total is
/// better than a wrong one: a failed or missing estimate gives none.
async fn estimate(db: &mut Db, relation: &Relation, plan: &ExportPlan) -> Option<u64> {
    if plan.progress == ProgressMode::Never || plan.quiet && plan.progress == ProgressMode::Auto {
        return None;
    }
    let estimate = db
        .estimate_returned(&relation.select)
        .await
        .ok()
        .flatten()?;
    Some(plan.limit.map_or(estimate, |limit| limit.min(estimate)))
}

fn print_stats(totals: &Totals, strategy: Strategy, started: Instant) {
    print_stats_with_parts(totals, strategy, started, &[]);
}

/// The `--stats` line; a split export adds `parts`: each part's name, rows
/// and size on disk.
fn print_stats_with_parts(totals: &Totals, strategy: Strategy, started: Instant, parts: &[Part]) {
    let seconds = started.elapsed().as_secs_f64();
    let mut stats = serde_json::json!({
        "rows": totals.rows,
        "bytes": totals.bytes,
        "chunks": totals.chunks,
        "strategy": strategy.name(),
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "rows_per_sec": if seconds > 0.0 { (totals.rows as f64 / seconds).round() } else { 0.0 },
        "peak_rss_kb": peak_rss_kb(),
    });
    if !parts.is_empty() {
        let parts: Vec<_> = parts
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.path.display().to_string(),
                    "rows": p.rows,
                    "bytes": p.bytes,
                })
            })
            .collect();
        stats["parts"] = serde_json::Value::from(parts);
    }
    crate::log::stats(&stats);
}
