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
    let copied = copy_rows(
        &plan,
        &mut reader,
        &columns,
        &mut writer,
        rejects.as_mut(),
        &progress,
    )
    .await;
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
            "bytes": reader.bytes_read(),
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

/// Reads every record, batch by batch. On the first failure the error
/// says where, and how much of the input is in the table.
async fn copy_rows<R: BufRead>(
    plan: &ImportPlan,
    reader: &mut Reader<R>,
    columns: &[TargetColumn],
    writer: &mut BatchWriter<'_>,
    mut rejects: Option<&mut Rejects>,
    progress: &Progress,
) -> Result<()> {
    let mut batch = Batch::default();
    let mut record = Record::new();
    loop {
        let more = match reader.read(&mut record) {
            Ok(more) => more,
            Err(err) => {
                let reason = err.to_string();
                match rejects.as_deref_mut() {
                    Some(r) if !err.fatal => {
                        r.reject(err.line, record.raw(), &reason)
                            .map_err(|e| committed(e, writer, plan))?;
                        continue;
                    }
                    _ => return Err(committed(anyhow!(reason), writer, plan)),
                }
            }
        };
        if !more {
            break;
        }
        match parse_record(&record, columns) {
            Ok(values) => {
                let raw = rejects.is_some().then(|| record.raw());
                batch.push(record.line(), raw, values);
            }
            Err(reason) => match rejects.as_deref_mut() {
                Some(r) => r
                    .reject(record.line(), record.raw(), &reason)
                    .map_err(|e| committed(e, writer, plan))?,
                None => return Err(committed(anyhow!(reason), writer, plan)),
            },
        }
        if batch.len() as u64 >= plan.batch {
            writer
                .write(&batch, rejects.as_deref_mut())
                .await
                .map_err(|e| committed(e, writer, plan))?;
            batch.clear();
            progress.update(writer.written, reader.bytes_read());
        }
    }
    writer
        .write(&batch, rejects)
        .await
        .map_err(|e| committed(e, writer, plan))?;
    progress.update(writer.written, reader.bytes_read());
    Ok(())
}

/// Adds to an import error what the table now holds.
fn committed(err: anyhow::Error, writer: &BatchWriter<'_>, plan: &ImportPlan) -> anyhow::Error {
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
fn open_input(path: Option<&std::path::Path>) -> Result<(Box<dyn BufRead>, Option<u64>)> {
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
