//! `dbchunk import`: read records, check every field against its column's
//! type, and write them in batches through the [`BatchWriter`].
//!
//! Whatever goes wrong, the error names the input line (and column), says
//! how many rows were committed before it, and where the input that is not
//! committed starts (line and byte), with the command that goes on from
//! there, so a rerun neither loses nor doubles a row.
//!
//! A successful import is silent unless asked (`--verbose`, `--stats`,
//! `--progress always`), so cron mails nothing; one that completed with
//! rows in the reject file says so on stderr and exits 3.

use std::io::BufRead;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};

use crate::config::ImportPlan;
use crate::db::{Db, TargetColumn, TargetTable};
use crate::engine::Engine;
use crate::error::{ExitCode, UsageError};
use crate::format::Format;
use crate::input::{Reader, Record};
use crate::plan::insert::{Insert, OnConflict};
use crate::progress::Progress;
use crate::state::ImportState;
use crate::values::{self, TargetType};
use crate::writer::{Batch, BatchWriter, Committed, Journal, Reconnect, Rejects};

pub async fn run(plan: ImportPlan) -> Result<ExitCode> {
    let label = format!("table {}", plan.table.display());
    let mut db = before_rows(&plan, "while connecting", async {
        Db::connect_for_import(&plan.url)
            .await
            .with_context(|| format!("connecting to {}", plan.url.shown))
    })
    .await?;
    let looking_up = format!("while looking up {label}");
    let table = before_rows(&plan, &looking_up, async {
        db.describe_target(&plan.table)
            .await
            .with_context(|| format!("looking up {label}"))
    })
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
    let columns = map_columns(&names, &table, &label)?;
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
                return Ok(ExitCode::Success);
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
    let starting = format!("while starting to import into {label}");
    let start = BatchWriter::start(
        &mut db, insert, plan.strategy, plan.atomic, journal, reconnect,
    );
    let mut writer = before_rows(&plan, &starting, start).await?;
    if parquet {
        writer.input_unit = "row";
    }
    if plan.truncate {
        before_rows(&plan, &starting, writer.truncate()).await?;
    }
    // Reading and checking the next batch overlaps with writing this one.
    let (parsed, receiver) = std::sync::mpsc::sync_channel(2);
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
    let code = match (rejected, &plan.reject_file) {
        (0, _) | (_, None) => ExitCode::Success,
        (n, Some(path)) => {
            // Not plain success: said even with --quiet.
            eprintln!(
                "dbchunk: imported {written} rows into {label}; {n} rows rejected, written to {}",
                path.display()
            );
            ExitCode::Rejected
        }
    };
    if plan.verbose && code == ExitCode::Success {
        eprintln!("dbchunk: imported {written} rows into {label}");
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
        eprintln!("{stats}");
    }
    Ok(code)
}

/// Where a resumed import's input thread starts sending rows.
#[derive(Clone, Copy, Debug, Default)]
struct Skip {
    /// Records ending at or before this offset are already done.
    until: u64,
    /// Records up to this offset may be in the table already: they go in
    /// as one careful batch.
    careful_until: Option<u64>,
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
            eprintln!(
                "dbchunk: {} says this import finished ({} rows); nothing to do",
                path.display(),
                state.rows
            );
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
        eprintln!(
            "dbchunk: resuming after {} committed rows (input {} {})",
            state.rows,
            position_unit(plan.format),
            state.bytes
        );
    }
    let journal = Journal {
        path: path.to_path_buf(),
        state,
    };
    Ok(Some((Some(journal), skip)))
}

/// What the input thread hands the writer, in input order.
enum Parsed {
    /// Good rows: a full batch, or the last one (whose `end` is then the
    /// end of the input).
    Batch(Batch),
    /// A record that cannot go in. `fatal`: the input itself failed.
    Bad {
        line: u64,
        raw: Vec<u8>,
        reason: String,
        fatal: bool,
    },
}

/// How the input thread fills its batches.
struct Batching {
    rows: u64,
    /// Keep each record's text for the reject file.
    keep_raw: bool,
    /// Encode the rows for the fast path as they come.
    bulk: Option<crate::bulk::BulkFormat>,
}

/// The input thread: reads records and checks every field, sending full
/// batches and bad records. Stops when the writer hangs up, or after a
/// fatal error. Returns the input bytes read.
fn parse_input<R: BufRead>(
    mut reader: Reader<R>,
    columns: &[TargetColumn],
    batching: Batching,
    skip: Skip,
    out: &std::sync::mpsc::SyncSender<Parsed>,
) -> u64 {
    let mut batch = Batch {
        careful: skip.careful_until.is_some(),
        ..Batch::default()
    };
    let mut record = Record::new();
    let unit = match reader {
        Reader::Parquet(_) => "row",
        _ => "byte",
    };
    let mismatch = |offset: u64| Parsed::Bad {
        line: 0,
        raw: Vec::new(),
        reason: format!(
            "--resume: the state says the input was done up to {unit} {offset}, but no record of \
             this input ends there: resume with the same input file, format and options"
        ),
        fatal: true,
    };
    if let Err(err) = reader.skip_to(skip.until) {
        let _ = out.send(Parsed::Bad {
            line: err.line,
            raw: Vec::new(),
            reason: err.to_string(),
            fatal: true,
        });
        return reader.bytes_read();
    }
    loop {
        let read = reader.read(&mut record);
        // At most two messages per record (no allocation per record): a
        // batch or a bad record, then the end of a resume's careful batch.
        let mut messages: [Option<Parsed>; 2] = [None, None];
        let has_record = match &read {
            Ok(more) => *more,
            Err(err) => !err.fatal,
        };
        if has_record {
            match resumed_position(&record, skip) {
                Position::Done => continue,
                Position::New => {}
                Position::Mismatch(offset) => {
                    let _ = out.send(mismatch(offset));
                    return reader.bytes_read();
                }
            }
        }
        match read {
            Ok(false) => break,
            Ok(true) => match parse_record(&record, columns) {
                Ok(values) => {
                    batch.push(&record, batching.keep_raw, batching.bulk, values);
                    if batch.len() as u64 >= batching.rows {
                        messages[0] = Some(Parsed::Batch(std::mem::take(&mut batch)));
                        batch.careful = skip.careful_until > Some(record.end_offset());
                    }
                }
                Err(reason) => {
                    messages[0] = Some(Parsed::Bad {
                        line: record.line(),
                        raw: record.raw().to_vec(),
                        reason,
                        fatal: false,
                    })
                }
            },
            Err(err) => {
                messages[0] = Some(Parsed::Bad {
                    line: err.line,
                    raw: record.raw().to_vec(),
                    reason: err.to_string(),
                    fatal: err.fatal,
                })
            }
        }
        // The careful batch of a resume ends exactly where the batch it
        // redoes did; the rows after it go in as usual.
        if batch.careful && skip.careful_until == Some(record.end_offset()) {
            batch.end = record.end_offset();
            batch.end_line = record.next_line();
            messages[1] = Some(Parsed::Batch(std::mem::take(&mut batch)));
        }
        for message in messages.into_iter().flatten() {
            let fatal = matches!(message, Parsed::Bad { fatal: true, .. });
            if out.send(message).is_err() || fatal {
                return reader.bytes_read();
            }
        }
    }
    let end = reader.bytes_read();
    let done_until = skip.careful_until.unwrap_or(0).max(skip.until);
    if end < done_until {
        let _ = out.send(mismatch(done_until));
        return end;
    }
    batch.end = end;
    let _ = out.send(Parsed::Batch(batch));
    end
}

enum Position {
    /// Already committed (or rejected) before the resume.
    Done,
    New,
    /// No record ends at this offset the state recorded: the input is not
    /// the one the state was written for.
    Mismatch(u64),
}

/// Where a record stands against a resumed import's state; every record
/// is `New` without `--resume`.
fn resumed_position(record: &Record, skip: Skip) -> Position {
    if record.end_offset() <= skip.until {
        return Position::Done;
    }
    if record.start_offset() < skip.until {
        return Position::Mismatch(skip.until);
    }
    match skip.careful_until {
        Some(end) if record.start_offset() < end && record.end_offset() > end => {
            Position::Mismatch(end)
        }
        _ => Position::New,
    }
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
                crate::signals::check()
                    .map_err(|stop| committed(stop.into(), writer, plan, header_bytes))?;
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match message {
            Parsed::Batch(batch) => {
                crate::signals::until_stopped(writer.write(&batch, rejects.as_deref_mut()))
                    .await
                    .map_err(|stop| committed(stop.into(), writer, plan, header_bytes))?
                    .map_err(|e| committed(e, writer, plan, header_bytes))?;
                progress.update(writer.written, shown_bytes(batch.end));
                // A Ctrl-C or SIGTERM stops between batches, after a commit.
                crate::signals::check()
                    .map_err(|stop| committed(stop.into(), writer, plan, header_bytes))?;
            }
            Parsed::Bad {
                line,
                raw,
                reason,
                fatal,
            } => match rejects.as_deref_mut() {
                Some(r) if !fatal => r
                    .reject(line, &raw, &reason)
                    .map_err(|e| committed(e, writer, plan, header_bytes))?,
                _ => return Err(committed(anyhow!(reason), writer, plan, header_bytes)),
            },
        }
    }
    Ok(())
}

/// Runs a step before any row is written: a signal stops it with nothing
/// imported.
async fn before_rows<T>(
    plan: &ImportPlan,
    stage: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let outcome = match (&plan.state_file, plan.resume) {
        (Some(state), true) => format!(
            "this run imported nothing, and {} still records what was: rerun with --resume",
            state.display()
        ),
        _ => "nothing was imported".to_string(),
    };
    crate::signals::until_stopped(work)
        .await
        .map_err(|stop| stop.left(stage, outcome))?
}

/// A signal cut the last batch (or `--atomic`'s COMMIT) off while the
/// server had it: the server rolls it back, unless its COMMIT had already
/// reached it (which the `--state` journal finds out on `--resume`).
fn stopped_at_end(
    stop: crate::signals::Interrupted,
    committed: u64,
    plan: &ImportPlan,
) -> anyhow::Error {
    let stage = format!(
        "while finishing the import into table {}",
        plan.table.display()
    );
    let note = match (&plan.state_file, plan.atomic) {
        (_, true) => "the import is rolled back unless its COMMIT had reached the server: \
                      check the table before running it again"
            .to_string(),
        (Some(state), false) => format!(
            "{committed} rows were committed before that batch, and {} records whether it was: \
             go on with --resume",
            state.display()
        ),
        (None, false) => format!(
            "{committed} rows were committed before that batch, which is rolled back unless its \
             COMMIT had reached the server: check the table's last rows, then rerun with the \
             input that follows them"
        ),
    };
    anyhow!(stop.left(stage, note))
}

/// Adds to an import error what the table now holds, and how to go on:
/// `--resume` with a state file, else the place in the input where the
/// uncommitted records start and a command that imports just those.
fn committed(
    err: anyhow::Error,
    writer: &BatchWriter<'_>,
    plan: &ImportPlan,
    header_bytes: u64,
) -> anyhow::Error {
    let note = match plan.atomic {
        true => "nothing was committed (--atomic rolled the import back)".to_string(),
        false => go_on(writer.committed(), writer.committed_at, plan, header_bytes),
    };
    let message = format!("{}; {note}", crate::error::one_line(&err));
    // A Ctrl-C or SIGTERM stays in the chain for its exit code; the
    // message, which already holds its text, is all that is printed.
    if err.downcast_ref::<crate::signals::Interrupted>().is_some() {
        return err.context(message);
    }
    anyhow!(message)
}

/// How many rows are in, where the rest of the input starts, and how to
/// import the rest.
fn go_on(rows: u64, at: Option<Committed>, plan: &ImportPlan, header_bytes: u64) -> String {
    let done = format!("{rows} rows were committed before this error");
    let Some(at) = at else {
        return format!("{done}: fix the cause and run the same command again");
    };
    let place = match (at.line, plan.format) {
        (_, Format::Parquet) => format!("row {} (counting from 1)", at.bytes + 1),
        (Some(line), _) => format!("line {line}, byte offset {}", at.bytes),
        (None, _) => format!("byte offset {}", at.bytes),
    };
    if let Some(state) = &plan.state_file {
        return format!(
            "{done}; the rest of the input starts at {place}, as {} records: fix the cause and \
             rerun with --resume to go on from there",
            state.display()
        );
    }
    if plan.format == Format::Parquet {
        // A Parquet file cannot be cut at a row with head or tail.
        return format!(
            "{done}; the rest of the input starts at {place} of {}: rerun with --on-conflict \
             skip to pass over the rows already in (the table needs a key), or import into an \
             empty table again; with --state FILE a failed import goes on with --resume",
            input_label(plan)
        );
    }
    let Some(input) = &plan.input else {
        return format!(
            "{done}; the rest of the input starts at {place} of stdin: feed the input from there \
             (with the header line in front), or give --state FILE so that --resume finds it"
        );
    };
    let rejects = match &plan.reject_file {
        Some(path) => format!(
            "; {} holds the {} rows rejected before it",
            path.display(),
            at.rejects.0
        ),
        None => String::new(),
    };
    format!(
        "{done}; the rest of the input starts at {place} of {}{rejects}; continue with: {}",
        input.display(),
        continuation(input, plan, header_bytes, at.bytes)
    )
}

/// The shell command that imports the input from byte `offset` on: the
/// same `dbchunk import` fed by `tail -c` (with `head -c` for the header),
/// without `--truncate`, which would empty the table of the rows already
/// in, and with a reject file of its own.
fn continuation(
    input: &std::path::Path,
    plan: &ImportPlan,
    header_bytes: u64,
    offset: u64,
) -> String {
    let file = shell_quote(&input.to_string_lossy());
    let gzipped = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let (head, tail) = match gzipped {
        true => (
            format!("zcat {file} | head -c {header_bytes}"),
            format!("zcat {file} | tail -c +{}", offset + 1),
        ),
        false => (
            format!("head -c {header_bytes} {file}"),
            format!("tail -c +{} {file}", offset + 1),
        ),
    };
    let feed = match header_bytes {
        0 => tail,
        _ => format!("({head}; {tail})"),
    };
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut command = vec!["dbchunk".to_string()];
    command.extend(
        continuation_args(&args, plan)
            .iter()
            .map(|a| shell_quote(a)),
    );
    format!("{feed} | {}", command.join(" "))
}

/// The command line of the import, for reading the rest of the input from
/// stdin: without `--input` and `--truncate`, with `--format` (the input's
/// name said it), and `--reject-file F` made `F.rest`.
fn continuation_args(args: &[String], plan: &ImportPlan) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut args = args.iter();
    let mut has_format = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg.as_str(), None),
        };
        match flag {
            "--input" | "-i" => {
                if inline.is_none() {
                    args.next();
                }
            }
            _ if flag.starts_with("-i") && !flag.starts_with("--") => {} // -iFILE
            "--truncate" => {}
            "--reject-file" => {
                if inline.is_none() {
                    args.next();
                }
                if let Some(path) = &plan.reject_file {
                    out.push("--reject-file".to_string());
                    out.push(format!("{}.rest", path.display()));
                }
            }
            _ => {
                has_format |= flag == "--format";
                out.push(arg.clone());
            }
        }
    }
    if !has_format {
        out.push("--format".to_string());
        out.push(plan.format.name().to_string());
    }
    out
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Each field checked against its column's type, or the reason it does
/// not fit, with its line and column.
fn parse_record(record: &Record, columns: &[TargetColumn]) -> Result<Vec<values::Value>, String> {
    if record.len() != columns.len() {
        return Err(format!(
            "{}: expected {} fields, found {}",
            record.place(),
            columns.len(),
            record.len()
        ));
    }
    let mut values = Vec::with_capacity(columns.len());
    for (i, (field, column)) in record.iter().zip(columns).enumerate() {
        // An NDJSON string going into a JSON column is a JSON string.
        let quoted = match field {
            Some(text) if column.target == TargetType::Json && record.is_json_string(i) => {
                Some(serde_json::to_string(&String::from_utf8_lossy(text)).expect("a string"))
            }
            _ => None,
        };
        let field = quoted.as_deref().map(str::as_bytes).or(field);
        let value = values::parse(field, column.target).map_err(|reason| {
            format!(
                "{}, column {} ({}): {reason}",
                record.place(),
                i + 1,
                column.name
            )
        })?;
        values.push(value);
    }
    Ok(values)
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

/// The input as a buffered reader, and its size when it is a plain file
/// (for the progress bar). gzip and zstd are decompressed as they are
/// read: a `.gz`/`.zst` name must hold that, and stdin or any other file
/// is decompressed when it starts with their magic bytes.
fn open_input(path: Option<&std::path::Path>) -> Result<(Box<dyn BufRead + Send>, Option<u64>)> {
    use crate::compress::{buffered, Suffix};
    const BUFFER: usize = 256 * 1024;
    let Some(path) = path else {
        let (input, _) =
            buffered(Box::new(std::io::stdin()), None, "stdin", BUFFER).context("reading stdin")?;
        return Ok((input, None));
    };
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot open the input file {}: check the path",
            path.display()
        )
    })?;
    let name = path.to_string_lossy();
    let codec = match Suffix::of(&name) {
        Suffix::Compressed(codec, _) => Some(codec),
        Suffix::Plain(_) | Suffix::Unsupported(_) => None,
    };
    let size = file.metadata().ok().map(|m| m.len());
    let (input, found) = buffered(Box::new(file), codec, &name, BUFFER)
        .with_context(|| format!("reading the input file {}", path.display()))?;
    // The progress bar counts decompressed bytes: a compressed file's
    // size would not be their total.
    Ok((input, size.filter(|_| found.is_none())))
}

/// The input's name in messages.
fn input_label(plan: &ImportPlan) -> String {
    match &plan.input {
        Some(path) => path.display().to_string(),
        None => "stdin".to_string(),
    }
}

/// What `--state`'s position counts for this format.
fn position_unit(format: Format) -> &'static str {
    match format {
        Format::Parquet => "row",
        _ => "byte",
    }
}

type InputReader = Reader<Box<dyn BufRead + Send>>;

/// The Parquet reader, and the file's size for progress. Parquet is read
/// from its footer, which comes last, so stdin (or a pipe given as
/// `--input`) is first copied to an unnamed temporary file in `$TMPDIR`:
/// unnamed, it is gone when dbchunk exits, however it exits.
fn open_parquet(
    path: Option<&std::path::Path>,
    max_record_bytes: usize,
) -> Result<(InputReader, Option<u64>)> {
    let name = path.map_or("stdin".to_string(), |p| p.display().to_string());
    let file = match path {
        Some(path) => Some(std::fs::File::open(path).with_context(|| {
            format!(
                "cannot open the input file {}: check the path",
                path.display()
            )
        })?),
        None => None,
    };
    let seekable = match &file {
        Some(f) => f.metadata().is_ok_and(|m| m.is_file()),
        None => false,
    };
    let file = match (file, seekable) {
        (Some(file), true) => file,
        (file, _) => spool(file, &name)?,
    };
    let size = file.metadata().ok().map(|m| m.len());
    check_parquet_magic(&file, &name)?;
    let reader = crate::input::parquet::ParquetReader::open(file, max_record_bytes)
        .with_context(|| format!("reading {name}"))?;
    Ok((Reader::Parquet(Box::new(reader)), size))
}

/// Copies a stream (stdin, or a pipe given as `--input`) into an unnamed
/// temporary file in `$TMPDIR`, so that the footer can be read first.
fn spool(stream: Option<std::fs::File>, name: &str) -> Result<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    let dir = std::env::temp_dir();
    let context = || {
        format!(
            "copying {name} to a temporary file in {} (Parquet is read from its end): set \
             TMPDIR to a directory with room for the whole file, or give --input FILE",
            dir.display()
        )
    };
    let mut spooled = tempfile::tempfile().with_context(context)?;
    let copied = match stream {
        Some(mut file) => std::io::copy(&mut file, &mut spooled),
        None => std::io::copy(&mut std::io::stdin().lock(), &mut spooled),
    };
    copied.with_context(context)?;
    spooled.seek(SeekFrom::Start(0)).with_context(context)?;
    Ok(spooled)
}

/// A Parquet file starts and ends with `PAR1`; anything else gets a
/// message that says what it looks like instead.
fn check_parquet_magic(file: &std::fs::File, name: &str) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    let ok = len >= 12
        && file.read_exact_at(&mut head, 0).is_ok()
        && file.read_exact_at(&mut tail, len - 4).is_ok()
        && &head == b"PAR1"
        && &tail == b"PAR1";
    if ok {
        return Ok(());
    }
    let looks = match head {
        [0x1f, 0x8b, ..] => {
            "it is gzip-compressed: decompress it first (Parquet compresses inside)"
        }
        [0x28, 0xb5, 0x2f, 0xfd] => {
            "it is zstd-compressed: decompress it first (Parquet compresses inside)"
        }
        _ if len == 0 => "it is empty",
        _ if &head == b"PAR1" => {
            "it has no Parquet footer: the file was cut short, or is still being written"
        }
        _ => "give --format csv, tsv or ndjson if it is text",
    };
    Err(UsageError(format!(
        "{name} is not a Parquet file (no PAR1 at its start and end): {looks}"
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn plan(args: &[&str]) -> ImportPlan {
        let mut all = vec!["dbchunk", "import"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Import(args) => ImportPlan::from_args(args).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_continuation_reads_stdin_keeps_the_table_and_its_own_rejects() {
        let args = [
            "import", "--url", "sqlite://a.db", "-t", "t", "--truncate", "-i", "in.tsv",
            "--reject-file=bad.txt", "--batch", "5",
        ];
        let plan = plan(&args[1..]);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            continuation_args(&args, &plan).join(" "),
            "import --url sqlite://a.db -t t --reject-file bad.txt.rest --batch 5 --format tsv"
        );
        let args: Vec<String> = ["import", "--input=x.csv", "--format", "csv", "-ix.csv"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            continuation_args(&args, &plan).join(" "),
            "import --format csv"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_quote("postgres://u@h:5432/db"),
            "postgres://u@h:5432/db"
        );
        assert_eq!(shell_quote("my file.csv"), "'my file.csv'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("id % 2 = 0"), "'id % 2 = 0'");
    }
}
