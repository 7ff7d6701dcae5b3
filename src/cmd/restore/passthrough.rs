//! Restore's pass-through: a dump's own CSV files streamed into
//! PostgreSQL's `COPY ... FROM STDIN` as they are decompressed, rewritten
//! on the way into `COPY`'s text format ([`CsvToText`], a walk over the
//! bytes, no value parsed). The ordinary import reads every record and
//! checks every field against its column's type (`cmd::import`), which is
//! most of a restore's client CPU; for a file dbchunk wrote from the same
//! engine, and whose size and SHA-256 were checked against the manifest
//! before anything was loaded, the server's own input functions are check
//! enough.
//!
//! Only where the dump's text is what `COPY` reads back as the same value
//! ([`eligible`]): PostgreSQL into PostgreSQL, CSV with NULL as the
//! unquoted empty field, into a table whose every column of the file has
//! the type the dump recorded. One type's text needs a touch: dbchunk
//! writes `bytea` as plain hex, which `bytea`'s input would take as
//! escaped text, so `\x` goes before each non-empty value of a `bytea`
//! column; arrays of `bytea` are not passed through. Booleans (`true`),
//! timestamps (`2024-05-26T10:00:00+00:00`), intervals (ISO 8601), arrays,
//! JSON and every other type's canonical text are PostgreSQL's own input
//! forms; the every-type round trip in tests/restore.rs checks that the
//! exports match byte for byte.
//!
//! MariaDB gets none: `LOAD DATA` reads an unquoted empty field and `""`
//! alike, so NULL and the empty string cannot both pass unchanged (the
//! import's `LOAD DATA` text writes `\N`), nor booleans and hex binary.
//!
//! A file's `COPY` is one statement, so a failure (a constraint, a value
//! the column refuses) leaves nothing of it in the table, and the file is
//! then loaded by the ordinary import, whose errors and `--reject-dir`
//! name the table, line and column as without the pass-through.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use crate::config::restore::RestorePlan;
use crate::db::{Db, TargetTable};
use crate::engine::Engine;
use crate::manifest::{Manifest, TableEntry};
use crate::plan::insert::{ImportStrategy, OnConflict};
use crate::url::DbUrl;

/// What a table's pass-through needs: the target table, quoted, the
/// columns of its files in order (their header), and which are `bytea`.
#[derive(Clone, Debug)]
pub struct Passthrough {
    pub table: String,
    pub columns: Vec<String>,
    pub binary: Vec<bool>,
}

/// The restore as a whole can pass files through: same engine
/// (PostgreSQL), the dump's CSV with its own NULL, the default strategy
/// and no `--on-conflict` (which `COPY` cannot do); not with `--check`.
pub fn possible(plan: &RestorePlan, manifest: &Manifest, target: Engine) -> bool {
    !plan.check
        && target == Engine::Postgres
        && manifest.engine == Engine::Postgres.key()
        && manifest.format == "csv"
        && manifest.null.is_empty()
        && matches!(plan.strategy, ImportStrategy::Auto | ImportStrategy::Copy)
        && plan.on_conflict == OnConflict::Error
}

/// The pass-through of one table, when its files can take it: every
/// column of the dump is a column of the target with the type the dump
/// recorded (as `format_type` writes both), and none is an array of
/// `bytea` (or a type named after it).
pub fn eligible(table: &TableEntry, target: &TargetTable) -> Option<Passthrough> {
    let mut binary = Vec::with_capacity(table.schema.columns.len());
    for column in &table.schema.columns {
        let there = target.columns.iter().find(|c| c.name == column.name)?;
        let bytea = column.engine_type == "bytea";
        if there.sql_type != column.engine_type || (!bytea && column.engine_type.contains("bytea"))
        {
            return None;
        }
        binary.push(bytea);
    }
    Some(Passthrough {
        table: target.quoted.clone(),
        columns: table
            .schema
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect(),
        binary,
    })
}

/// Bytes handed to `COPY` at a time.
const CHUNK: usize = 256 * 1024;

/// Streams one file into its table: a thread decompresses (gzip or zstd
/// by the file's name) while this one sends. Returns the rows `COPY`
/// loaded.
pub async fn load(url: &DbUrl, how: &Passthrough, path: &Path) -> Result<u64> {
    let mut db = Db::connect_for_import(url).await?;
    let Db::Postgres(pg) = &mut db else {
        unreachable!("the pass-through is PostgreSQL's")
    };
    let (sender, chunks) = tokio::sync::mpsc::channel(4);
    let file = path.to_path_buf();
    let text = CsvToText::new(&how.binary);
    let reader = std::thread::Builder::new()
        .name("dbchunk-passthrough".into())
        .spawn(move || {
            let sent = decompress(&file, text, &sender);
            if let Err(err) = sent {
                let _ = sender.blocking_send(Err(err));
            }
        })
        .context("starting the decompressing thread")?;
    let loaded = pg.copy_text_in(&how.table, &how.columns, chunks).await;
    // The thread ends at the end of the file, or at its next send once
    // the receiver is gone.
    let _ = reader.join();
    loaded.with_context(|| format!("COPY of {} into {}", path.display(), how.table))
}

/// Sends the file's decompressed CSV rewritten as `COPY` text, about
/// `CHUNK` at a time, until its end or until the receiving side has gone.
fn decompress(
    path: &Path,
    mut text: CsvToText,
    sender: &tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
) -> std::io::Result<()> {
    use crate::compress::{buffered, Suffix};
    let name = path.to_string_lossy();
    let codec = match Suffix::of(&name) {
        Suffix::Compressed(codec, _) => Some(codec),
        _ => None,
    };
    let file = std::fs::File::open(path)?;
    let (mut input, _) = buffered(Box::new(file), codec, &name, CHUNK)?;
    // The file's bytes land here, then go rewritten into a new buffer,
    // which is what is sent.
    let mut chunk = vec![0; CHUNK];
    loop {
        let mut filled = 0;
        while filled < CHUNK {
            match input.read(&mut chunk[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return Ok(());
        }
        let mut rewritten = Vec::new();
        text.rewrite(&chunk[..filled], &mut rewritten);
        if sender.blocking_send(Ok(rewritten.into())).is_err() {
            return Ok(());
        }
    }
}

/// Rewrites a dump's CSV, as it streams by in pieces of any size, in
/// `COPY`'s text format, which PostgreSQL reads faster: `COPY` of
/// pgbench_accounts' 5M rows took 4.8 s from CSV and 4.1 s from the same
/// rows as text, of the `typed` table's 1M rows 3.5 s and 2.9 s (psql
/// `\copy`, the same run). The header line is left out; a field's quotes
/// come off (a doubled `"` inside is one), a separating comma becomes a
/// tab, an empty unquoted field (NULL) `\N`, and a backslash, tab, newline
/// or carriage return in a value its escape. A non-empty value of a
/// `bytea` column gets `\x` before it (written `\\x`), since dbchunk
/// writes plain hex, which `bytea`'s input would take as escaped text.
pub struct CsvToText {
    binary: Vec<bool>,
    field: usize,
    state: Field,
    past_header: bool,
    /// `\x` is still to go before the field's first byte.
    prefix: bool,
}

/// Where in a CSV field the last byte left the reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Start,
    Unquoted,
    Quoted,
    /// A `"` inside quotes: the field's end, or the first of two.
    QuoteInQuoted,
}

/// Bytes that end a run copied as it is: CSV's own, and those the text
/// format escapes.
const SPECIAL: [bool; 256] = {
    let mut special = [false; 256];
    let mut i = 0;
    while i < 6 {
        special[[b'"', b',', b'\n', b'\\', b'\t', b'\r'][i] as usize] = true;
        i += 1;
    }
    special
};

impl CsvToText {
    pub fn new(binary: &[bool]) -> CsvToText {
        CsvToText {
            binary: binary.to_vec(),
            field: 0,
            state: Field::Start,
            past_header: false,
            prefix: false,
        }
    }

    pub fn rewrite(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 16);
        let mut i = 0;
        while i < input.len() {
            let byte = input[i];
            // A run of plain bytes inside a value goes out as it is.
            if matches!(self.state, Field::Unquoted | Field::Quoted)
                && self.past_header
                && !self.prefix
                && !SPECIAL[byte as usize]
            {
                let run = input[i..]
                    .iter()
                    .position(|&b| SPECIAL[b as usize])
                    .map_or(input.len(), |n| i + n);
                out.extend_from_slice(&input[i..run]);
                i = run;
                continue;
            }
            i += 1;
            match (self.state, byte) {
                (Field::Start, b'"') => self.state = Field::Quoted,
                (Field::Start, b',') => {
                    self.null(out);
                    self.next_field(out);
                }
                (Field::Start, b'\n') => {
                    self.null(out);
                    self.end_record(out);
                }
                (Field::Quoted, b'"') => self.state = Field::QuoteInQuoted,
                (Field::QuoteInQuoted, b'"') => {
                    self.state = Field::Quoted;
                    self.value_byte(b'"', out);
                }
                (Field::Unquoted | Field::QuoteInQuoted, b',') => self.next_field(out),
                (Field::Unquoted | Field::QuoteInQuoted, b'\n') => self.end_record(out),
                (Field::Start | Field::QuoteInQuoted, _) => {
                    self.state = Field::Unquoted;
                    self.value_byte(byte, out);
                }
                (Field::Unquoted | Field::Quoted, _) => self.value_byte(byte, out),
            }
        }
    }

    fn value_byte(&mut self, byte: u8, out: &mut Vec<u8>) {
        if !self.past_header {
            return;
        }
        if std::mem::take(&mut self.prefix) {
            out.extend_from_slice(b"\\\\x");
        }
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(byte),
        }
    }

    fn null(&mut self, out: &mut Vec<u8>) {
        if self.past_header {
            out.extend_from_slice(b"\\N");
        }
    }

    fn next_field(&mut self, out: &mut Vec<u8>) {
        if self.past_header {
            out.push(b'\t');
        }
        self.field += 1;
        self.start_field();
    }

    fn end_record(&mut self, out: &mut Vec<u8>) {
        if self.past_header {
            out.push(b'\n');
        }
        self.past_header = true;
        self.field = 0;
        self.start_field();
    }

    fn start_field(&mut self) {
        self.state = Field::Start;
        self.prefix = self.past_header && self.binary.get(self.field) == Some(&true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_becomes_copy_text_in_pieces_of_any_size() {
        let csv = concat!(
            "id,\"b,\"\"x\",t,bin\n",
            "1,plain,\"a,\"\"quoted\"\"\nline\",00ff\n",
            "2,,\"\",\n",
            "3,back\\slash\ttab,\"cr\r\nlf\",\"\"\n",
            "4,\"\",x,0a\n",
        );
        let want = concat!(
            "1\tplain\ta,\"quoted\"\\nline\t\\\\x00ff\n",
            "2\t\\N\t\t\\N\n",
            "3\tback\\\\slash\\ttab\tcr\\r\\nlf\t\n",
            "4\t\tx\t\\\\x0a\n",
        );
        for size in [1, 2, 3, 7, 16, csv.len()] {
            let mut text = CsvToText::new(&[false, false, false, true]);
            let mut out = Vec::new();
            for piece in csv.as_bytes().chunks(size) {
                text.rewrite(piece, &mut out);
            }
            assert_eq!(String::from_utf8(out).unwrap(), want, "pieces of {size}");
        }
    }

    #[test]
    fn a_one_column_null_row_is_an_empty_line() {
        let mut text = CsvToText::new(&[false]);
        let mut out = Vec::new();
        text.rewrite(b"v\n\n\"\"\nx\n", &mut out);
        assert_eq!(out, b"\\N\n\nx\n");
    }
}
