//! `dbchunk import`: read records, check every field against its column's
//! type, and write them in batches through the [`BatchWriter`].
//!
//! Whatever goes wrong, the error names the input line (and column), and
//! says how many rows were committed before it, so a rerun can go on from
//! there without losing or doubling a row.

use std::io::BufRead;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};

use crate::config::ImportPlan;
use crate::db::{Db, TargetColumn, TargetTable};
use crate::error::UsageError;
use crate::input::{Reader, Record};
use crate::plan::insert::{Insert, OnConflict};
use crate::progress::Progress;
use crate::url::Engine;
use crate::values::{self, TargetType};
use crate::writer::{Batch, BatchWriter, Rejects};

pub async fn run(plan: ImportPlan) -> Result<()> {
    let label = format!("table {}", plan.table.display());
    let mut db = Db::connect_for_import(&plan.url)
        .await
        .with_context(|| format!("connecting to {}", plan.url.shown))?;
    let table = db
        .describe_target(&plan.table)
        .await
        .with_context(|| format!("looking up {label}"))?;
    let (input, size) = open_input(plan.input.as_deref())?;
    let mut reader = Reader::new(
        plan.format,
        input,
        plan.header,
        &plan.null,
        plan.max_line_bytes,
    );
    let header = reader
        .names()
        .map_err(|e| anyhow!(e))
        .context("reading the header")?;
    let names = match (&plan.columns, header) {
        (Some(columns), _) => columns.clone(),
        (None, Some(names)) => names,
        (None, None) => Vec::new(), // empty input
    };
    let columns = map_columns(&names, &table, &label)?;
    if plan.on_conflict == OnConflict::Update && table.key.is_empty() {
        return Err(UsageError(format!(
            "--on-conflict update needs a primary key or unique NOT NULL key on {label} to find \
             the row to update"
        ))
        .into());
    }
    let insert = insert_statement(db.engine(), &table, &columns, plan.on_conflict);
    let mut rejects = plan
        .reject_file
        .as_deref()
        .map(|path| Rejects::create(path, plan.max_errors))
        .transpose()?;
    let progress = Progress::for_input(plan.progress, plan.quiet, size);
    let started = Instant::now();
    let mut writer = BatchWriter::start(&mut db, insert, plan.strategy, plan.atomic).await?;
    if plan.truncate {
        writer.truncate().await?;
    }
    // Reading and checking the next batch overlaps with writing this one.
    let (parsed, receiver) = std::sync::mpsc::sync_channel(2);
    let keep_raw = rejects.is_some();
    let (batch_rows, parse_columns) = (plan.batch, columns.clone());
    let parser = std::thread::Builder::new()
        .name("dbchunk-reader".into())
        .spawn(move || parse_input(reader, &parse_columns, batch_rows, keep_raw, &parsed))
        .context("starting the input thread")?;
    let copied = copy_rows(&plan, &receiver, &mut writer, rejects.as_mut(), &progress).await;
    drop(receiver);
    // After a failure the input thread may be waiting on a slow stdin: it
    // is not waited for, and ends with the process.
    let bytes_read = match copied {
        Ok(()) => parser.join().expect("the input thread panicked"),
        Err(_) => 0,
    };
    let (written, batches, replayed) = (writer.written, writer.batches, writer.replayed);
    let result = match copied {
        Ok(()) => writer.finish().await,
        // An --atomic transaction left open is rolled back when the
        // connection closes.
        Err(err) => Err(err),
    };
    progress.finish();
    let rejected = rejects.as_ref().map_or(0, |r| r.count);
    if let Some(rejects) = rejects {
        rejects.finish()?;
    }
    result.with_context(|| format!("importing into {label}"))?;
    if !plan.quiet {
        let rejected_note = match (rejected, &plan.reject_file) {
            (0, _) | (_, None) => String::new(),
            (n, Some(path)) => format!("; {n} bad rows are in {}", path.display()),
        };
        eprintln!("dbchunk: imported {written} rows into {label}{rejected_note}");
    }
    if plan.stats {
        let seconds = started.elapsed().as_secs_f64();
        let stats = serde_json::json!({
            "rows": written,
            "rejected": rejected,
            "bytes": bytes_read,
            "batches": batches,
            "replayed_batches": replayed,
            "strategy": crate::config::strategy_name(plan.strategy),
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "rows_per_sec": if seconds > 0.0 { (written as f64 / seconds).round() } else { 0.0 },
        });
        eprintln!("{stats}");
    }
    Ok(())
}

/// What the input thread hands the writer, in input order.
enum Parsed {
    /// Good rows (a full batch, or the last one), and the input bytes read
    /// so far.
    Batch(Batch, u64),
    /// A record that cannot go in. `fatal`: the input itself failed.
    Bad {
        line: u64,
        raw: Vec<u8>,
        reason: String,
        fatal: bool,
    },
}

/// The input thread: reads records and checks every field, sending full
/// batches and bad records. Stops when the writer hangs up, or after a
/// fatal error. Returns the input bytes read.
fn parse_input<R: BufRead>(
    mut reader: Reader<R>,
    columns: &[TargetColumn],
    batch_rows: u64,
    keep_raw: bool,
    out: &std::sync::mpsc::SyncSender<Parsed>,
) -> u64 {
    let mut batch = Batch::default();
    let mut record = Record::new();
    loop {
        let message = match reader.read(&mut record) {
            Ok(false) => break,
            Ok(true) => match parse_record(&record, columns) {
                Ok(values) => {
                    batch.push(record.line(), keep_raw.then(|| record.raw()), values);
                    if (batch.len() as u64) < batch_rows {
                        continue;
                    }
                    Parsed::Batch(std::mem::take(&mut batch), reader.bytes_read())
                }
                Err(reason) => Parsed::Bad {
                    line: record.line(),
                    raw: record.raw().to_vec(),
                    reason,
                    fatal: false,
                },
            },
            Err(err) => Parsed::Bad {
                line: err.line,
                raw: record.raw().to_vec(),
                reason: err.to_string(),
                fatal: err.fatal,
            },
        };
        let fatal = matches!(message, Parsed::Bad { fatal: true, .. });
        if out.send(message).is_err() || fatal {
            return reader.bytes_read();
        }
    }
    let _ = out.send(Parsed::Batch(batch, reader.bytes_read()));
    reader.bytes_read()
}

/// Writes what the input thread sends. On the first failure the error
/// says where, and how much of the input is in the table.
async fn copy_rows(
    plan: &ImportPlan,
    parsed: &std::sync::mpsc::Receiver<Parsed>,
    writer: &mut BatchWriter<'_>,
    mut rejects: Option<&mut Rejects>,
    progress: &Progress,
) -> Result<()> {
    // recv blocks this thread, which has nothing else to do meanwhile.
    while let Ok(message) = parsed.recv() {
        match message {
            Parsed::Batch(batch, bytes) => {
                writer
                    .write(&batch, rejects.as_deref_mut())
                    .await
                    .map_err(|e| committed(e, writer, plan))?;
                progress.update(writer.written, bytes);
                // A Ctrl-C or SIGTERM stops between batches, after a commit.
                crate::signals::check().map_err(|stop| committed(stop.into(), writer, plan))?;
            }
            Parsed::Bad {
                line,
                raw,
                reason,
                fatal,
            } => match rejects.as_deref_mut() {
                Some(r) if !fatal => r
                    .reject(line, &raw, &reason)
                    .map_err(|e| committed(e, writer, plan))?,
                _ => return Err(committed(anyhow!(reason), writer, plan)),
            },
        }
    }
    Ok(())
}

/// Adds to an import error what the table now holds.
fn committed(err: anyhow::Error, writer: &BatchWriter<'_>, plan: &ImportPlan) -> anyhow::Error {
    if err.downcast_ref::<crate::signals::Interrupted>().is_some() {
        let note = match plan.atomic {
            true => "nothing was committed (--atomic rolled the import back)".to_string(),
            false => format!(
                "{} rows were committed; rerun with the input that follows them",
                writer.committed()
            ),
        };
        return err.context(note);
    }
    let reason = crate::error::one_line(&err);
    if plan.atomic {
        return anyhow!("{reason}; nothing was committed (--atomic rolled the import back)");
    }
    let rows = writer.committed();
    anyhow!(
        "{reason}; {rows} rows were committed before this error: rerun with the input that \
         follows them, or with --on-conflict skip"
    )
}

/// Each field checked against its column's type, or the reason it does
/// not fit, with its line and column.
fn parse_record(record: &Record, columns: &[TargetColumn]) -> Result<Vec<values::Value>, String> {
    if record.len() != columns.len() {
        return Err(format!(
            "line {}: expected {} fields, found {}",
            record.line(),
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
                "line {}, column {} ({}): {reason}",
                record.line(),
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
            let known: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(UsageError(format!(
                "the input has a field {name:?}, which is not a column of {label} (it has: {}); \
                 rename it with --columns",
                known.join(", ")
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
/// (for the progress bar). `.gz` files are decompressed as they are read.
fn open_input(path: Option<&std::path::Path>) -> Result<(Box<dyn BufRead + Send>, Option<u64>)> {
    const BUFFER: usize = 256 * 1024;
    let Some(path) = path else {
        return Ok((
            Box::new(std::io::BufReader::with_capacity(BUFFER, std::io::stdin())),
            None,
        ));
    };
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot open the input file {}: check the path",
            path.display()
        )
    })?;
    let gzipped = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    if gzipped {
        let decoder = flate2::read::MultiGzDecoder::new(file);
        return Ok((
            Box::new(std::io::BufReader::with_capacity(BUFFER, decoder)),
            None,
        ));
    }
    let size = file.metadata().ok().map(|m| m.len());
    Ok((
        Box::new(std::io::BufReader::with_capacity(BUFFER, file)),
        size,
    ))
}
