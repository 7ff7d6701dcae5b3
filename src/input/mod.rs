//! Readers for the input side of `dbchunk import`: CSV, TSV and NDJSON
//! exactly as `dbchunk export` writes them (see [`crate::format`]), one
//! record at a time.
//!
//! Memory is bounded by the record limit, never by the input: a reader
//! pulls `BufRead` chunks and keeps at most one record's raw bytes and its
//! decoded fields (each at most `max_record_bytes`), so a 2 GB line without
//! a newline is an error after `max_record_bytes`, not an allocation.
//!
//! Every problem is an [`InputError`] naming the line (and field, when it is
//! in one), and the reader is left after the bad record, so that an import
//! with a reject file can keep the good rows and set the bad ones aside.

pub mod csv;
mod header;
mod json;
pub mod ndjson;
pub mod parquet;
mod record;
mod source;
pub mod tsv;

use std::io::{self, BufRead};

use crate::format::Format;

pub use record::{InputError, Record};

/// A reader for one of the formats `dbchunk export` writes.
pub enum Reader<R: BufRead> {
    Csv(csv::CsvReader<R>),
    Tsv(tsv::TsvReader<R>),
    Ndjson(ndjson::NdjsonReader<R>),
    /// Reads its own file (Parquet needs its footer first, so it is never
    /// a stream): `R` is unused.
    Parquet(Box<parquet::ParquetReader>),
}

impl<R: BufRead> Reader<R> {
    /// `header`: the CSV/TSV input starts with a line of names (NDJSON names
    /// its fields with its keys). `null`: the text of NULL in CSV/TSV, as
    /// given to export's `--null` (CSV default `""`: an unquoted empty field;
    /// TSV default `\N`). `max_record_bytes`: the longest record accepted.
    pub fn new(
        format: Format,
        input: R,
        header: bool,
        null: &str,
        max_record_bytes: usize,
    ) -> Reader<R> {
        match format {
            Format::Csv => Reader::Csv(csv::CsvReader::new(input, header, null, max_record_bytes)),
            Format::Tsv => Reader::Tsv(tsv::TsvReader::new(input, header, null, max_record_bytes)),
            Format::Ndjson => Reader::Ndjson(ndjson::NdjsonReader::new(input, max_record_bytes)),
            Format::Parquet => unreachable!("Parquet input is opened with Reader::Parquet"),
        }
    }

    /// The field names: the CSV/TSV header, or the keys of the first NDJSON
    /// object. `None` without a header, or when the input is empty.
    ///
    /// A broken CSV/TSV header is not a row, so its error comes back from
    /// here (every time) and is not repeated by `read()`. A broken first
    /// NDJSON line is a row: its error comes back from here and `read()`
    /// then hands the line out, so that it can go to a reject file; the
    /// next object after it names the fields.
    pub fn names(&mut self) -> Result<Option<Vec<String>>, InputError> {
        match self {
            Reader::Csv(r) => r.names(),
            Reader::Tsv(r) => r.names(),
            Reader::Ndjson(r) => r.names(),
            Reader::Parquet(r) => Ok(Some(r.names())),
        }
    }

    /// Reads the next record into `record`; `Ok(false)` once the whole
    /// input has been read, and only then, so that stopping early can never
    /// pass for a complete import. After an error that is not
    /// [`InputError::fatal`] the reader is after the bad record and
    /// `record.raw()` holds it (except after "record longer than"), so the
    /// caller may set it aside and go on. An unterminated quoted field runs
    /// to the end of the input: its error is the last thing read.
    pub fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        match self {
            Reader::Csv(r) => r.read(record),
            Reader::Tsv(r) => r.read(record),
            Reader::Ndjson(r) => r.read(record),
            Reader::Parquet(r) => r.read(record),
        }
    }

    /// Bytes consumed from the input so far (a BOM included), for progress;
    /// NDJSON's `names()` reads one line ahead. Parquet counts rows.
    pub fn bytes_read(&self) -> u64 {
        match self {
            Reader::Csv(r) => r.bytes_read(),
            Reader::Tsv(r) => r.bytes_read(),
            Reader::Ndjson(r) => r.bytes_read(),
            Reader::Parquet(r) => r.position(),
        }
    }

    /// A resumed import starts reading at `offset`. Text is read up to
    /// there and each record compared (an offset that is not a record
    /// boundary means another input); Parquet's offsets count rows, so it
    /// goes straight there.
    pub fn skip_to(&mut self, offset: u64) -> Result<(), InputError> {
        match self {
            Reader::Parquet(r) => r.skip_to(offset),
            _ => Ok(()),
        }
    }
}

/// Fields are handed out as bytes, but dbchunk's formats carry binary as
/// hex, so text that is not UTF-8 is damaged input, reported where it is.
fn check_utf8(record: &Record, names: &[String]) -> Result<(), InputError> {
    for (i, field) in record.iter().enumerate() {
        if let Err(err) = std::str::from_utf8(field.unwrap_or_default()) {
            let message = format!(
                "invalid UTF-8 at byte {} of the field",
                err.valid_up_to() + 1
            );
            return Err(InputError::new(record.line, message).in_field(i, names));
        }
    }
    Ok(())
}

/// The checks of a CSV or TSV record its parser has split into `found`
/// fields: the first error the parser met (line, field, message), then
/// the count against `expected` (the header's, or the first record's,
/// which sets it), then UTF-8.
fn check_record(
    record: &Record,
    names: &[String],
    expected: &mut Option<usize>,
    found: usize,
    error: Option<(u64, usize, &'static str)>,
) -> Result<bool, InputError> {
    let expected = *expected.get_or_insert(found);
    if let Some((line, field, message)) = error {
        return Err(InputError::new(line, message).in_field(field, names));
    }
    if found != expected {
        let message = format!("expected {expected} fields, found {found}");
        return Err(InputError::new(record.line, message));
    }
    check_utf8(record, names)?;
    Ok(true)
}

/// Drops what was read of an over-long record (it is never kept whole, so
/// a partial copy must not end up in a reject file as if it were the row).
fn too_long(record: &mut Record, max: usize, offset: u64) -> InputError {
    record.clear();
    record.end = offset;
    InputError::new(
        record.line,
        format!("record longer than {max} bytes (raise --max-line-bytes)"),
    )
}

fn io_error(line: u64, err: &io::Error) -> InputError {
    InputError {
        fatal: true,
        ..InputError::new(line, format!("cannot read the input: {err}"))
    }
}

#[cfg(test)]
mod tests;
