//! `dbchunk import`: read records, check every field against its column's
//! type, and write them in batches through the [`BatchWriter`]. This file
//! is the orchestration: connect, look up the table, map the input's
//! fields to its columns, open the `--state` journal, start the input
//! thread ([`parse`]) and write what it sends, then report.
//!
//! Whatever goes wrong, the error names the input line (and column), says
//! how many rows were committed before it, and where the input that is not
//! committed starts, with the command that goes on from there
//! ([`continuation`]).
//!
//! A successful import is silent unless asked (`--verbose`, `--stats`,
//! `--progress always`), so cron mails nothing; one that completed with
//! rows in the reject file says so on stderr and exits 3.

use std::time::Instant;

use anyhow::{anyhow, Context, Result};

mod continuation;
mod open;
mod parse;

use continuation::{committed, stopped_at_end};
use open::{input_label, open_input, open_parquet, position_unit};
use parse::{parse_input, Batching, Parsed, Skip};

use super::step::{connect, look_up, step};
use crate::config::ImportPlan;
use crate::db::{Db, TargetColumn, TargetTable};
use crate::engine::Engine;
use crate::error::{ExitCode, UsageError};
use crate::format::Format;
use crate::input::Reader;
use crate::plan::insert::{Insert, OnConflict};
use crate::progress::Progress;
use crate::state::ImportState;
use crate::values::{SpatialForm, TargetType};
use crate::writer::{BatchWriter, Journal, Reconnect, Rejects, WriteOptions};

/// What an import did, for a command that runs imports of its own
/// (restore): the rows it wrote and the rows it put in the reject file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Imported {
    pub rows: u64,
    pub rejected: u64,
}

/// `dbchunk import`: exit 3 when rows went to the reject file.
pub async fn run(plan: ImportPlan) -> Result<ExitCode> {
    let imported = import(plan).await?;
    Ok(match imported.rejected {
        0 => ExitCode::Success,
        _ => ExitCode::Rejected,
    })
}

pub async fn import(plan: ImportPlan) -> Result<Imported> {
    let label = format!("table {}", plan.table.display());
    let mut db = connect(&plan.url, true, nothing_imported(&plan)).await?;
    let looking_up = format!("while looking up {label}");
    let table = look_up(
        &label,
        nothing_imported(&plan),
        db.describe_target(&plan.table),
    )
    .await?;
    // A stdin that never sends its first bytes (which tell a compressed
    // input) or its header blocks this thread in a read that nothing can
    // wake; nothing is written yet, so a signal may end the process from
    // the signal thread.
    let (stage, outcome) = ("while reading the input's header", "nothing was imported");
    let waiting = crate::signals::exit_while(stage, outcome);
    crate::signals::check().map_err(|stop| stop.left(stage, outcome))?;
    let parquet = plan.format == Format::Parquet;
    let (mut reader, size) = match parquet {
        true => open_parquet(plan.input.as_deref(), plan.max_line_bytes)?,
        false => {
            let (input, size) = open_input(plan.input.as_deref())?;
            let reader = Reader::new(
                plan.format, input, plan.header, &plan.null, plan.max_line_bytes,
            );
            (reader, size)
        }
    };
    let header = reader
        .names()
        .map_err(|e| anyhow!(e))
        .context("reading the header")?;
    drop(waiting);
    // The header, which a continuation of a failed import puts back in
    // front of the rest of the input.
    let header_bytes = match (plan.header, plan.format) {
        (true, Format::Csv | Format::Tsv) => reader.bytes_read(),
        _ => 0,
    };
    // Parquet: how far through the file the rows read are, for progress.
    let parquet_rows = match &reader {
        Reader::Parquet(r) => Some(r.total_rows()),
        _ => None,
    };
    let names = match (&plan.columns, header) {
        (Some(columns), Some(fields)) if parquet && columns.len() != fields.len() => {
            return Err(UsageError(format!(
                "--columns names {} columns, but the Parquet file has {} fields ({}): name \
                 each field, in order",
                columns.len(),
                fields.len(),
                crate::ident::display_list(&fields, ", ")
            ))
            .into());
        }
        (Some(columns), _) => columns.clone(),
        (None, Some(names)) => names,
        (None, None) => Vec::new(), // empty input
    };
    let mut columns = map_columns(&names, &table, &label)?;
    if let Some((from, names)) = &plan.geometry {
        spatial_columns(&mut columns, *from, names, db.engine());
    }
    if let Reader::Parquet(r) = &mut reader {
        let targets: Vec<(String, TargetType)> =
            columns.iter().map(|c| (c.name.clone(), c.target)).collect();
        r.bind(&targets)
            .with_context(|| format!("reading {}", input_label(&plan)))?;
        r.keep_raw(plan.reject_file.is_some());
    }
    if plan.on_conflict == OnConflict::Update && table.key.is_empty() {
        return Err(UsageError(format!(
            "--on-conflict update needs a primary key or unique NOT NULL key on {label} to find \
             the row to update"
        ))
        .into());
    }
    let insert = insert_statement(db.engine(), &table, &columns, plan.on_conflict);
    let (journal, skip) = match &plan.state_file {
        None => (None, Skip::default()),
        Some(path) => {
            let journal = open_journal(&mut db, &plan, path, &label, &insert);
            let Some(resumed) = before_rows(&plan, &looking_up, journal).await? else {
                return Ok(Imported::default());
            };
            resumed
        }
    };
    let mut rejects = match (&plan.reject_file, &journal) {
        (None, _) => None,
        (Some(path), Some(journal)) => Some(Rejects::reopen(
            path, plan.max_errors, journal.state.rejected, journal.state.reject_bytes,
        )?),
        (Some(path), None) => Some(Rejects::create(path, plan.max_errors)?),
    };
    let progress = Progress::for_input(plan.progress, plan.quiet, size);
    let started = Instant::now();
    let reconnect = Reconnect {
        url: plan.url.clone(),
        retries: crate::retry::Retries {
            max: plan.retries,
            quiet: plan.quiet,
        },
    };
    let reconnect = (plan.retries > 0 && db.engine() != Engine::Sqlite).then_some(reconnect);
    // Each batch's COMMIT overlaps with writing the next one, on a second
    // connection; --atomic has one transaction, SQLite one writer.
    let overlap = (!plan.atomic && db.engine() != Engine::Sqlite).then(|| plan.url.clone());
    let starting = format!("while starting to import into {label}");
    let options = WriteOptions {
        insert,
        strategy: plan.strategy,
        atomic: plan.atomic,
        journal,
        reconnect,
        overlap,
    };
    let start = BatchWriter::start(&mut db, options);
    let mut writer = before_rows(&plan, &starting, start).await?;
    if parquet {
        writer.input_unit = "row";
    }
    if plan.truncate {
        before_rows(&plan, &starting, writer.truncate()).await?;
    }
    // Reading and checking the next batch overlaps with writing this one.
    // One more waits, ready: with the batch being read, the one being
    // written and the one committing, four at most (writer::MAX_BYTES).
    let (parsed, receiver) = std::sync::mpsc::sync_channel(1);
    let batching = Batching {
        rows: plan.batch,
        keep_raw: rejects.is_some(),
        bulk: crate::bulk::BulkFormat::for_strategy(plan.strategy),
    };
    let parse_columns = columns.clone();
    let parser = std::thread::Builder::new()
        .name("dbchunk-reader".into())
        .spawn(move || parse_input(reader, &parse_columns, batching, skip, &parsed))
        .context("starting the input thread")?;
    // The bar counts input bytes; Parquet's positions count rows, shown
    // as the same share of the file's bytes.
    let shown_bytes = move |position: u64| match (parquet_rows, size) {
        (Some(rows), Some(size)) if rows > 0 => {
            (u128::from(position) * u128::from(size) / u128::from(rows)) as u64
        }
        _ => position,
    };
    let copied = copy_rows(
        &plan,
        header_bytes,
        &receiver,
        &mut writer,
        rejects.as_mut(),
        &progress,
        &shown_bytes,
    )
    .await;
    drop(receiver);
    // After a failure the input thread may be waiting on a slow stdin: it
    // is not waited for, and ends with the process.
    let bytes_read = match copied {
        Ok(()) => parser.join().expect("the input thread panicked"),
        Err(_) => 0,
    };
    let (written, batches, replayed) = (writer.written, writer.batches, writer.replayed);
    let committed_at = writer.committed_at;
    let result = match copied {
        Ok(()) => {
            let committed = writer.committed();
            crate::signals::until_stopped(writer.finish(bytes_read, rejects.as_mut()))
                .await
                .unwrap_or_else(|stop| Err(stopped_at_end(stop, committed, &plan)))
        }
        // An --atomic transaction left open is rolled back when the
        // connection closes.
        Err(err) => Err(err),
    };
    // Without --state, the continuation the error gives writes its own
    // reject file: this one keeps the rejects of the committed input only,
    // so every bad row ends up in exactly one of the two. (--resume cuts
    // the file back to what its state records by itself.)
    if let (Err(_), Some(rejects), Some(at)) = (&result, rejects.as_mut(), committed_at) {
        if plan.state_file.is_none() && !plan.atomic {
            rejects.rewind(at.rejects)?;
        }
    }
    progress.finish();
    let rejected = rejects.as_ref().map_or(0, |r| r.count);
    if let Some(rejects) = rejects {
        rejects.finish()?;
    }
    result.with_context(|| format!("importing into {label}"))?;
    if let (n @ 1.., Some(path)) = (rejected, &plan.reject_file) {
        // Not plain success: said even with --quiet.
        crate::log::info(&format!(
            "imported {written} rows into {label}; {n} rows rejected, written to {}",
            path.display()
        ));
    }
    if plan.verbose && rejected == 0 {
        crate::log::info(&format!("imported {written} rows into {label}"));
    }
    if plan.stats {
        let seconds = started.elapsed().as_secs_f64();
        let stats = serde_json::json!({
            "rows": written,
            "rejected": rejected,
            "bytes": shown_bytes(bytes_read),
            "batches": batches,
            "replayed_batches": replayed,
            "strategy": crate::config::strategy_name(plan.strategy),
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "rows_per_sec": if seconds > 0.0 { (written as f64 / seconds).round() } else { 0.0 },
        });
        crate::log::stats(&stats);
    }
    Ok(Imported {
        rows: written,
        rejected,
    })
}

/// Opens the `--state` journal: a fresh state, or, with `--resume`, the
/// saved one with its pending batch settled. `None`: the state says the
/// import already finished.
async fn open_journal(
    db: &mut Db,
    plan: &ImportPlan,
    path: &std::path::Path,
    label: &str,
    insert: &Insert,
) -> Result<Option<(Option<Journal>, Skip)>> {
    let format = plan.format.name().to_string();
    if !plan.resume {
        let state = ImportState {
            table: label.to_string(),
            format,
            ..ImportState::default()
        };
        state.save(path)?;
        let journal = Journal {
            path: path.to_path_buf(),
            state,
        };
        return Ok(Some((Some(journal), Skip::default())));
    }
    let mut state = ImportState::load(path).map_err(|e| UsageError(format!("--resume: {e:#}")))?;
    if state.table != label || state.format != format {
        return Err(UsageError(format!(
            "--resume: {} records an import of {} into {}, not of {format} into {label}",
            path.display(),
            state.format,
            state.table
        ))
        .into());
    }
    if state.done {
        if plan.verbose {
            crate::log::info(&format!(
                "{} says this import finished ({} rows); nothing to do",
                path.display(),
                state.rows
            ));
        }
        return Ok(None);
    }
    let mut skip = Skip::default();
    if let Some(pending) = state.pending.take() {
        let landed = match &pending.xid {
            Some(xid) => db
                .transaction_committed(xid)
                .await
                .context("asking whether the last batch committed")?,
            None => None,
        };
        match landed {
            Some(true) => {
                state.rows += pending.rows;
                state.bytes = pending.bytes;
                (state.rejected, state.reject_bytes) = (pending.rejected, pending.reject_bytes);
            }
            Some(false) => {}
            None if insert.key_is_in_input() => {
                skip.careful_until = Some(pending.bytes);
            }
            None => {
                return Err(anyhow!(
                    "the import stopped while committing the batch that ends at input byte {}, \
                     and {label} has no key in the input to tell whether that batch is in the \
                     table: look for its {} rows (after the first {}), then in {} either delete \
                     \"pending\" to write them again or set \"rows\" and \"bytes\" to the \
                     pending ones to go on after them",
                    pending.bytes,
                    pending.rows,
                    state.rows,
                    path.display()
                ))
            }
        }
    }
    skip.until = state.bytes;
    state.save(path)?;
    if plan.verbose {
        crate::log::info(&format!(
            "resuming after {} committed rows (input {} {})",
            state.rows,
            position_unit(plan.format),
            state.bytes
        ));
    }
    let journal = Journal {
        path: path.to_path_buf(),
        state,
    };
    Ok(Some((Some(journal), skip)))
}

/// Writes what the input thread sends. On the first failure the error
/// says where, and how much of the input is in the table.
async fn copy_rows(
    plan: &ImportPlan,
    header_bytes: u64,
    parsed: &std::sync::mpsc::Receiver<Parsed>,
    writer: &mut BatchWriter<'_>,
    mut rejects: Option<&mut Rejects>,
    progress: &Progress,
    shown_bytes: &dyn Fn(u64) -> u64,
) -> Result<()> {
    // recv blocks this thread, which has nothing else to do meanwhile; it
    // wakes now and then to see whether a signal asks to stop (the input
    // thread may be waiting for a stdin that never comes).
    loop {
        let message = match parsed.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(message) => message,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // The input pauses: the batch waiting to commit with the
                // next one commits now.
                settle(plan, header_bytes, writer, rejects.as_deref_mut()).await?;
                crate::signals::check()
                    .map_err(|stop| committed(stop.into(), writer, plan, header_bytes))?;
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                // The input is done: the last batch commits now, so that
                // the counts reported from here on are final.
                settle(plan, header_bytes, writer, rejects.as_deref_mut()).await?;
                break;
            }
        };
        match message {
            Parsed::Batch(batch) => {
                let end = batch.end;
                crate::signals::until_stopped(writer.write(batch, rejects.as_deref_mut()))
                    .await
                    .map_err(|stop| committed(stop.into(), writer, plan, header_bytes))?
                    .map_err(|e| committed(e, writer, plan, header_bytes))?;
                progress.update(writer.written, shown_bytes(end));
                // A Ctrl-C or SIGTERM stops between batches, after a commit.
                if let Err(stop) = crate::signals::check() {
                    settle(plan, header_bytes, writer, rejects.as_deref_mut()).await?;
                    return Err(committed(stop.into(), writer, plan, header_bytes));
                }
            }
            Parsed::Bad {
                line,
                raw,
                reason,
                fatal,
            } => {
                // The reject file and the error must stand where the
                // committed input ends: the batch before this record
                // commits first.
                settle(plan, header_bytes, writer, rejects.as_deref_mut()).await?;
                match rejects.as_deref_mut() {
                    Some(r) if !fatal => r
                        .reject(line, &raw, &reason)
                        .map_err(|e| committed(e, writer, plan, header_bytes))?,
                    _ => return Err(committed(anyhow!(reason), writer, plan, header_bytes)),
                }
            }
        }
    }
    Ok(())
}

/// Commits the batch the writer holds back for the next one
/// ([`BatchWriter::settle`]); a failure says how much is committed.
async fn settle(
    plan: &ImportPlan,
    header_bytes: u64,
    writer: &mut BatchWriter<'_>,
    rejects: Option<&mut Rejects>,
) -> Result<()> {
    crate::signals::until_stopped(writer.settle(rejects))
        .await
        .map_err(|stop| committed(stop.into(), writer, plan, header_bytes))?
        .map_err(|e| committed(e, writer, plan, header_bytes))
}

/// Runs a step before any row is written: a signal stops it with nothing
/// imported.
async fn before_rows<T>(
    plan: &ImportPlan,
    stage: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    step(stage, nothing_imported(plan), work).await
}

/// What an import stopped before its first row leaves.
fn nothing_imported(plan: &ImportPlan) -> String {
    match (&plan.state_file, plan.resume) {
        (Some(state), true) => format!(
            "this run imported nothing, and {} still records what was: rerun with --resume",
            state.display()
        ),
        _ => "nothing was imported".to_string(),
    }
}

/// The target column of each input field, in input order.
fn map_columns(names: &[String], table: &TargetTable, label: &str) -> Result<Vec<TargetColumn>> {
    let mut columns = Vec::with_capacity(names.len());
    for name in names {
        let Some(column) = table.columns.iter().find(|c| &c.name == name) else {
            let known: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
            return Err(UsageError(format!(
                "the input has a field {name:?}, which is not a column of {label} (it has: {}); \
                 rename it with --columns",
                crate::ident::display_list(&known, ", ")
            ))
            .into());
        };
        if columns.iter().any(|c: &TargetColumn| &c.name == name) {
            return Err(UsageError(format!("the input names column {name:?} twice")).into());
        }
        columns.push(column.clone());
    }
    Ok(columns)
}

/// The columns `names` hold spatial values of the form `from`: each
/// goes in laid out as its column keeps it (PostGIS's geometry: EWKB;
/// MySQL's spatial types: MySQL's; a binary column elsewhere: the WKB).
fn spatial_columns(
    columns: &mut [TargetColumn],
    from: SpatialForm,
    names: &[String],
    engine: Engine,
) {
    for column in columns.iter_mut().filter(|c| names.contains(&c.name)) {
        let to = match (column.target, engine) {
            (TargetType::Geometry, _) => SpatialForm::Ewkb,
            (TargetType::Bytes, Engine::Mysql) => SpatialForm::Mysql,
            (TargetType::Bytes, _) => SpatialForm::Wkb,
            _ => continue,
        };
        column.target = TargetType::Spatial { from, to };
    }
}

fn insert_statement(
    engine: Engine,
    table: &TargetTable,
    columns: &[TargetColumn],
    on_conflict: OnConflict,
) -> Insert {
    let (dialect, values) = match engine {
        Engine::Postgres => (
            crate::db::Dialect::Postgres,
            columns
                .iter()
                .map(crate::db::postgres::value_expression)
                .collect(),
        ),
        Engine::Mysql => (
            crate::db::Dialect::Mysql,
            vec!["{}".to_string(); columns.len()],
        ),
        Engine::Sqlite => (
            crate::db::Dialect::Sqlite,
            vec!["{}".to_string(); columns.len()],
        ),
    };
    Insert {
        dialect,
        table: table.quoted.clone(),
        columns: columns.iter().map(|c| c.name.clone()).collect(),
        values,
        on_conflict,
        key: table.key.clone(),
        types: columns.iter().map(|c| c.target).collect(),
    }
}
