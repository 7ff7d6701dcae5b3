//! Restore's pass-through: a dump's own CSV files streamed into
//! PostgreSQL's `COPY ... FROM STDIN (FORMAT csv, HEADER true)` as they
//! are decompressed, without parsing a value. The ordinary import reads
//! every record and checks every field against its column's type
//! (`cmd::import`), which is most of a restore's client CPU; for a file
//! dbchunk wrote from the same engine, and whose size and SHA-256 were
//! checked against the manifest before anything was loaded, the server's
//! own input functions are check enough.
//!
//! Only where the dump's text is what `COPY ... (FORMAT csv)` reads back
//! as the same value ([`eligible`]): PostgreSQL into PostgreSQL, CSV with
//! NULL as the unquoted empty field (`COPY`'s own CSV convention), into
//! a table whose every column of the file has the type the dump recorded.
//! One type's text needs a touch: dbchunk writes `bytea` as plain hex,
//! which `bytea`'s input would take as escaped text, so [`HexPrefix`]
//! puts `\x` before each non-empty value of a `bytea` column on the way
//! (a walk over the bytes for quotes, commas and newlines, no parsing);
//! arrays of `bytea` are not passed through. Booleans (`true`), timestamps (`2024-05-26T10:00:00+00:00`), intervals
//! (ISO 8601), arrays, JSON and every other type's canonical text are
//! PostgreSQL's own input forms; the every-type round trip in
//! tests/restore.rs checks that the exports match byte for byte.
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
    let hex = HexPrefix::new(&how.binary);
    let reader = std::thread::Builder::new()
        .name("dbchunk-passthrough".into())
        .spawn(move || {
            let sent = decompress(&file, hex, &sender);
            if let Err(err) = sent {
                let _ = sender.blocking_send(Err(err));
            }
        })
        .context("starting the decompressing thread")?;
    let loaded = pg.copy_csv_in(&how.table, &how.columns, chunks).await;
    // The thread ends at the end of the file, or at its next send once
    // the receiver is gone.
    let _ = reader.join();
    loaded.with_context(|| format!("COPY of {} into {}", path.display(), how.table))
}

/// Sends the file's decompressed bytes (`bytea` values prefixed when
/// `hex` is given), `CHUNK` at a time, until its end or until the
/// receiving side has gone.
fn decompress(
    path: &Path,
    mut hex: Option<HexPrefix>,
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
    loop {
        let mut chunk = vec![0; CHUNK];
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
        chunk.truncate(filled);
        if let Some(hex) = &mut hex {
            let mut prefixed = Vec::with_capacity(chunk.len() + chunk.len() / 8);
            hex.rewrite(&chunk, &mut prefixed);
            chunk = prefixed;
        }
        if sender.blocking_send(Ok(chunk.into())).is_err() {
            return Ok(());
        }
    }
}

/// Puts `\x` before every non-empty value of the `bytea` columns of a
/// dump's CSV, as it streams by in pieces of any size: the header line is
/// left as it is, an empty unquoted field (NULL) and a quoted one (`""`,
/// the empty value; hex never needs quotes) too. Only the quotes, commas
/// and newlines outside quotes are looked at: a `"` inside a quoted field
/// comes doubled, so flipping at every `"` keeps the state right.
pub struct HexPrefix {
    binary: Vec<bool>,
    field: usize,
    at_start: bool,
    quoted: bool,
    past_header: bool,
}

impl HexPrefix {
    /// `None` when no column is `bytea`: the bytes pass untouched.
    pub fn new(binary: &[bool]) -> Option<HexPrefix> {
        binary.iter().any(|&b| b).then(|| HexPrefix {
            binary: binary.to_vec(),
            field: 0,
            at_start: true,
            quoted: false,
            past_header: false,
        })
    }

    pub fn rewrite(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut from = 0;
        for (i, &byte) in input.iter().enumerate() {
            if self.at_start {
                self.at_start = false;
                let value = !matches!(byte, b',' | b'\n' | b'"');
                if value && self.past_header && self.binary.get(self.field) == Some(&true) {
                    out.extend_from_slice(&input[from..i]);
                    out.extend_from_slice(b"\\x");
                    from = i;
                }
            }
            match byte {
                b'"' => self.quoted = !self.quoted,
                b',' if !self.quoted => {
                    self.field += 1;
                    self.at_start = true;
                }
                b'\n' if !self.quoted => {
                    self.field = 0;
                    self.at_start = true;
                    self.past_header = true;
                }
                _ => {}
            }
        }
        out.extend_from_slice(&input[from..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_gets_its_prefix_in_pieces_of_any_size() {
        let csv = "id,\"b,\"\"x\",b2\n1,00ff,\"\"\n2,,0a\n3,\"a,\"\"b\"\"\n\",dead\n";
        let want = "id,\"b,\"\"x\",b2\n1,\\x00ff,\"\"\n2,,\\x0a\n3,\"a,\"\"b\"\"\n\",\\xdead\n";
        for size in [1, 2, 3, 7, csv.len()] {
            let mut hex = HexPrefix::new(&[false, true, true]).unwrap();
            let mut out = Vec::new();
            for piece in csv.as_bytes().chunks(size) {
                hex.rewrite(piece, &mut out);
            }
            assert_eq!(String::from_utf8(out).unwrap(), want, "pieces of {size}");
        }
        assert!(HexPrefix::new(&[false, false]).is_none());
    }
}
