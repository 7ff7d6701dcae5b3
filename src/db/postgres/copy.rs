//! The `copy` strategy: `COPY (SELECT ...) TO STDOUT`. CSV and TSV bytes
//! pass straight through; for NDJSON and Parquet, and where a column's
//! raw text needs finishing on the client, each text-format row is
//! decoded into cells. PostgreSQL sends one message per row, so a chunk
//! can end at any row, and its key is read back from that row's text:
//! `COPY` checkpoints as keyset chunks do, at the speed of one statement.

use anyhow::Result;
use futures_util::{pin_mut, TryStreamExt};

use super::{fixed_cell, literal, Postgres};
use crate::cell::{Cell, RowSink};
use crate::db::relation::{ChunkRead, Chunks, Key, Relation};
use crate::format::Format;
use crate::plan::Select;

/// A `COPY ... TO STDOUT` export.
pub struct Copy {
    pub statement: String,
    /// The `SELECT` inside it, for `--explain`.
    pub query: String,
    /// Each text-format row is decoded into cells; otherwise CSV and TSV
    /// bytes pass straight through.
    decode_rows: bool,
    /// The rows passed through are CSV (else the text format).
    csv: bool,
    /// Where each key column's text stands in a row.
    key_positions: Vec<usize>,
}

impl Postgres {
    /// The `COPY` statement of an export of `select`'s rows (the
    /// relation's, or those after a key), and the query inside it.
    pub fn copy_plan(
        &self,
        select: &Select,
        limit: Option<u64>,
        format: Format,
        null: &str,
    ) -> Copy {
        let mut select = select.clone();
        select.list = self.copy_list.clone();
        let query = select.full(limit);
        let options = match format {
            Format::Csv => format!("FORMAT csv, NULL {}", literal(null)),
            Format::Tsv => format!("FORMAT text, NULL {}", literal(null)),
            // Decoded into cells: the text format has the simplest escapes.
            Format::Ndjson | Format::Parquet => "FORMAT text".to_string(),
        };
        // Raw columns that need finishing on the client, or a key column
        // read only to checkpoint: decode every row.
        let decode_rows = !format.is_text()
            || format == Format::Ndjson
            || self.copy_fixups.iter().any(|f| *f != super::Fixup::None)
            || self.copy_list.len() > self.copy_fixups.len();
        let options = if decode_rows {
            "FORMAT text".to_string()
        } else {
            options
        };
        Copy {
            statement: format!("COPY ({query}) TO STDOUT WITH ({options})"),
            query,
            decode_rows,
            csv: !decode_rows && format == Format::Csv,
            key_positions: self.copy_key_positions.clone(),
        }
    }

    /// Runs `copy`, ending a chunk every `chunk` rows at that row's key.
    pub async fn copy_out(
        &mut self,
        relation: &Relation,
        copy: &Copy,
        chunk: u64,
        sink: &mut impl RowSink,
    ) -> Result<ChunkRead> {
        let stream = self.client.copy_out(&copy.statement).await?;
        pin_mut!(stream);
        let mut chunks = Chunks::new(chunk, relation);
        let mut scratch = Vec::new();
        let mut fields = Vec::new();
        let mut fixed = Vec::new();
        while let Some(bytes) = stream.try_next().await? {
            let more = if copy.decode_rows {
                decode_text_row(&bytes, &mut scratch, &mut fields);
                for (i, field) in fields.iter().enumerate().take(relation.columns.len()) {
                    let cell = match field {
                        None => Cell::Null,
                        Some((a, b)) => fixed_cell(
                            self.kinds[i],
                            self.copy_fixups[i],
                            &scratch[*a..*b],
                            &mut fixed,
                        ),
                    };
                    sink.cell(cell);
                }
                sink.end_row()?
            } else {
                sink.raw_rows(&bytes, 1)?
            };
            chunks.row(sink, || match copy.decode_rows {
                true => Ok(key_of(&copy.key_positions, &scratch, &fields)),
                false => Ok(raw_row_key(&bytes, copy)),
            })?;
            if !more {
                break;
            }
        }
        chunks.finish(sink)
    }
}

/// The key of a row passed through raw, decoded on its own (once a chunk).
fn raw_row_key(row: &[u8], copy: &Copy) -> Key {
    let mut scratch = Vec::new();
    let mut fields = Vec::new();
    match copy.csv {
        true => decode_csv_row(row, &mut scratch, &mut fields),
        false => decode_text_row(row, &mut scratch, &mut fields),
    }
    key_of(&copy.key_positions, &scratch, &fields)
}

fn key_of(positions: &[usize], scratch: &[u8], fields: &[Option<(usize, usize)>]) -> Key {
    let text = |p: usize| {
        fields
            .get(p)
            .copied()
            .flatten()
            .map(|(a, b)| String::from_utf8_lossy(&scratch[a..b]).into_owned())
    };
    Key::Text(positions.iter().map(|&p| text(p)).collect())
}

/// Each field's range in the scratch buffer a row is decoded into, `None`
/// for NULL.
type Fields = Vec<Option<(usize, usize)>>;

/// Splits one `COPY ... (FORMAT text)` row into fields, unescaping into
/// `scratch`; `fields` gets each field's range there, `None` for `\N`.
pub(super) fn decode_text_row(line: &[u8], scratch: &mut Vec<u8>, fields: &mut Fields) {
    scratch.clear();
    fields.clear();
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    for raw in memchr::memchr_iter(b'\t', line)
        .chain(std::iter::once(line.len()))
        .scan(0, |start, end| {
            let field = &line[*start..end];
            *start = end + 1;
            Some(field)
        })
    {
        if raw == b"\\N" {
            fields.push(None);
            continue;
        }
        let start = scratch.len();
        // Most fields hold no backslash: copied whole, not byte by byte.
        let mut rest = raw;
        while let Some(at) = memchr::memchr(b'\\', rest) {
            scratch.extend_from_slice(&rest[..at]);
            let unescaped = match rest.get(at + 1) {
                Some(b'n') => b'\n',
                Some(b't') => b'\t',
                Some(b'r') => b'\r',
                Some(b'b') => 0x08,
                Some(b'f') => 0x0c,
                Some(b'v') => 0x0b,
                Some(&other) => other,
                None => b'\\',
            };
            scratch.push(unescaped);
            rest = rest.get(at + 2..).unwrap_or_default();
        }
        scratch.extend_from_slice(rest);
        fields.push(Some((start, scratch.len())));
    }
}

/// Splits one `COPY ... (FORMAT csv)` row (one message: a quoted field
/// may hold line breaks) into fields, unquoting into `scratch`. An
/// unquoted empty field is `None`; a key column is never NULL, so the
/// custom `--null` text does not matter here.
fn decode_csv_row(line: &[u8], scratch: &mut Vec<u8>, fields: &mut Fields) {
    scratch.clear();
    fields.clear();
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut at = 0;
    loop {
        let start = scratch.len();
        let quoted = line.get(at) == Some(&b'"');
        if quoted {
            at += 1;
            while at < line.len() {
                match (line[at], line.get(at + 1)) {
                    (b'"', Some(b'"')) => {
                        scratch.push(b'"');
                        at += 2;
                    }
                    (b'"', _) => {
                        at += 1;
                        break;
                    }
                    (byte, _) => {
                        scratch.push(byte);
                        at += 1;
                    }
                }
            }
        } else {
            let end = memchr::memchr(b',', &line[at..]).map_or(line.len(), |i| at + i);
            scratch.extend_from_slice(&line[at..end]);
            at = end;
        }
        let empty = !quoted && scratch.len() == start;
        fields.push((!empty).then_some((start, scratch.len())));
        if at >= line.len() {
            break;
        }
        at += 1; // the comma
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(
        decode: fn(&[u8], &mut Vec<u8>, &mut Fields),
        line: &[u8],
    ) -> Vec<Option<Vec<u8>>> {
        let mut scratch = Vec::new();
        let mut fields = Vec::new();
        decode(line, &mut scratch, &mut fields);
        fields
            .iter()
            .map(|f| f.map(|(a, b)| scratch[a..b].to_vec()))
            .collect()
    }

    fn some(text: &str) -> Option<Vec<u8>> {
        Some(text.as_bytes().to_vec())
    }

    #[test]
    fn text_copy_rows_decode() {
        let got = fields_of(decode_text_row, b"a\\tb\t\\N\t\tx\\\\y\\nz\n");
        assert_eq!(got, vec![some("a\tb"), None, some(""), some("x\\y\nz")]);
        // A field that ends in a lone backslash keeps it; an empty line is
        // one empty field.
        let got = fields_of(decode_text_row, b"plain\tend\\");
        assert_eq!(got, vec![some("plain"), some("end\\")]);
        assert_eq!(fields_of(decode_text_row, b""), vec![some("")]);
    }

    #[test]
    fn csv_copy_rows_decode() {
        let got = fields_of(decode_csv_row, b"1,\"a,\"\"b\"\"\nc\",,\"\",x\n");
        assert_eq!(
            got,
            vec![some("1"), some("a,\"b\"\nc"), None, some(""), some("x")]
        );
        assert_eq!(fields_of(decode_csv_row, b"7"), vec![some("7")]);
        assert_eq!(fields_of(decode_csv_row, b"7,"), vec![some("7"), None]);
    }
}
