//! The input thread of an import: reads records, checks every field
//! against its column's type ([`crate::values`]), and sends the writer
//! full batches (with the text of the fast paths already built) and bad
//! records, in input order. Reading and checking the next batch so
//! overlaps with writing this one. On `--resume` it passes over the
//! records the state says are done, and refuses an input whose records do
//! not end where the state says.

use std::io::BufRead;
use std::time::{Duration, Instant};

use crate::db::TargetColumn;
use crate::input::{Reader, Record};
use crate::values;
use crate::writer::{bad_field, field_count, json_string, Batch, MAX_BYTES};

/// Where a resumed import's input thread starts sending rows.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Skip {
    /// Records ending at or before this offset are already done.
    pub(super) until: u64,
    /// Records up to this offset may be in the table already: they go in
    /// as one careful batch.
    pub(super) careful_until: Option<u64>,
}

/// What the input thread hands the writer, in input order.
pub(super) enum Parsed {
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

/// How old a batch may grow before it is sent, however few its rows: rows
/// that trickle in (a slow pipe, `tail -f`) are committed within about a
/// second, not once a batch of a few MiB has filled.
const MAX_AGE: Duration = Duration::from_secs(1);

/// The clock is read for each of a batch's first records, then once every
/// this many: a batch of rows that trickle in is seen to be old, and a
/// batch filled from a fast input reads it a few dozen times in all.
const AGE_EVERY: usize = 64;

/// How the input thread fills its batches.
pub(super) struct Batching {
    pub(super) rows: u64,
    /// Keep each record's text for the reject file.
    pub(super) keep_raw: bool,
    /// Encode the rows for the fast path as they come.
    pub(super) bulk: Option<crate::bulk::BulkFormat>,
}

/// The input thread: reads records and checks every field, sending full
/// batches and bad records. Stops when the writer hangs up, or after a
/// fatal error. Returns the input bytes read.
pub(super) fn parse_input<R: BufRead>(
    mut reader: Reader<R>,
    columns: &[TargetColumn],
    batching: Batching,
    skip: Skip,
    out: &std::sync::mpsc::SyncSender<Parsed>,
) -> u64 {
    let mut batch = Batch::default();
    batch.careful = skip.careful_until.is_some();
    let mut record = Record::new();
    let (mut started, mut since_look) = (Instant::now(), 0);
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
            Ok(true) => match add(&mut batch, &record, columns, &batching) {
                Ok(()) => {
                    since_look += 1;
                    if batch.len() == 1 {
                        started = Instant::now();
                    }
                    let old = (batch.len() <= AGE_EVERY || since_look >= AGE_EVERY) && {
                        since_look = 0;
                        started.elapsed() >= MAX_AGE
                    };
                    if batch.len() as u64 >= batching.rows || batch.bytes() >= MAX_BYTES || old {
                        let next = batch.with_room_of();
                        messages[0] = Some(Parsed::Batch(std::mem::replace(&mut batch, next)));
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

/// Checks a record and adds it to the batch: in the fast path's text, or
/// as values for `insert`. The error is the reason it does not fit, with
/// its line and column.
fn add(
    batch: &mut Batch,
    record: &Record,
    columns: &[TargetColumn],
    batching: &Batching,
) -> Result<(), String> {
    match batching.bulk {
        Some(format) => batch.push_bulk(record, batching.keep_raw, format, columns),
        None => {
            let values = parse_record(record, columns)?;
            batch.push(record, batching.keep_raw, values);
            Ok(())
        }
    }
}

/// Each field checked against its column's type, or the reason it does
/// not fit, with its line and column.
fn parse_record(record: &Record, columns: &[TargetColumn]) -> Result<Vec<values::Value>, String> {
    if record.len() != columns.len() {
        return Err(field_count(record, columns.len()));
    }
    let mut values = Vec::with_capacity(columns.len());
    for (i, (field, column)) in record.iter().zip(columns).enumerate() {
        let quoted = json_string(record, i, field, column.target);
        let field = quoted.as_deref().map(str::as_bytes).or(field);
        let value = values::parse(field, column.target)
            .map_err(|reason| bad_field(record, i, column, &reason))?;
        values.push(value);
    }
    Ok(values)
}
