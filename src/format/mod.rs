//! Encoders: turn pushed [`Cell`]s into CSV, TSV, NDJSON or Parquet bytes.
//!
//! An encoder appends to an in-memory chunk buffer and never touches I/O;
//! the export loop hands full buffers to the writer thread in
//! [`crate::output`]. That keeps encoders synchronous, testable on a `Vec`,
//! and lets reading the next chunk overlap with writing the current one.

mod delimited;
pub mod float;
mod ndjson;
pub mod parquet;

use crate::cell::{Cell, Column};
pub use parquet::ParquetOptions;

/// The output formats dbchunk writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV with PostgreSQL's NULL convention: NULL is an unquoted
    /// empty field, the empty string is `""`.
    Csv,
    /// Tab-separated, with PostgreSQL `COPY` text escapes (`\t`, `\n`,
    /// `\\`, …) and `\N` for NULL.
    Tsv,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet: typed columns from the catalog, compressed row
    /// groups (export only).
    Parquet,
}

/// The file name extensions dbchunk knows, and the format each implies:
/// the one list that `--output` and `--input` names are checked against.
const EXTENSIONS: &[(&str, Format)] = &[
    ("csv", Format::Csv),
    ("tsv", Format::Tsv),
    ("tab", Format::Tsv),
    ("ndjson", Format::Ndjson),
    ("jsonl", Format::Ndjson),
    ("parquet", Format::Parquet),
];

/// A file name whose extension names no format dbchunk knows (`x.json`):
/// writing CSV under it would be a silent wrong format.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownExtension(pub String);

impl std::fmt::Display for UnknownExtension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known: Vec<String> = EXTENSIONS.iter().map(|(e, _)| format!(".{e}")).collect();
        write!(
            f,
            "dbchunk does not know the extension .{} (it knows {})",
            self.0,
            known.join(", ")
        )
    }
}

impl Format {
    /// The format a file name implies: `None` for a name without an
    /// extension (`out`, `/dev/stdout`), which is left to the default.
    pub fn from_path(path: &str) -> Result<Option<Format>, UnknownExtension> {
        let Some(ext) = std::path::Path::new(path)
            .extension()
            .filter(|e| !e.is_empty())
        else {
            return Ok(None);
        };
        let ext = ext.to_string_lossy().to_ascii_lowercase();
        EXTENSIONS
            .iter()
            .find(|(known, _)| *known == ext)
            .map(|&(_, format)| Some(format))
            .ok_or(UnknownExtension(ext))
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Ndjson => "ndjson",
            Format::Parquet => "parquet",
        }
    }

    /// Whether the format is text (CSV, TSV, NDJSON): `--null`,
    /// `--no-header` and the `COPY` pass-through only mean something there.
    pub fn is_text(self) -> bool {
        self != Format::Parquet
    }

    /// How NULL is written when the user gives no `--null`.
    pub fn default_null(self) -> &'static str {
        match self {
            Format::Csv | Format::Ndjson | Format::Parquet => "",
            Format::Tsv => "\\N",
        }
    }
}

/// Writes rows of one result set in one format.
pub struct Encoder {
    kind: Kind,
    buf: Vec<u8>,
    /// Reused space for values that must be formatted before they are
    /// quoted or escaped (numbers, hex).
    scratch: Vec<u8>,
    column: usize,
    /// The first value this encoder could not represent; reported by
    /// [`Encoder::end_row`], because `cell` is on the hot path and cannot fail.
    error: Option<String>,
}

enum Kind {
    Delimited(delimited::Delimited),
    Ndjson(ndjson::Ndjson),
    Parquet(Box<parquet::Parquet>),
}

/// Where an encoder stood, to go back to when a chunk is read again.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    buffered: usize,
    parquet: Option<parquet::Mark>,
}

impl Encoder {
    /// A text encoder. `null` is the text written for NULL in CSV and TSV
    /// (ignored by NDJSON).
    pub fn new(format: Format, columns: &[Column], null: &str) -> Encoder {
        let kind = match format {
            Format::Csv => Kind::Delimited(delimited::Delimited::csv(null, columns.len())),
            Format::Tsv => Kind::Delimited(delimited::Delimited::tsv(null)),
            Format::Ndjson => Kind::Ndjson(ndjson::Ndjson::new(columns)),
            Format::Parquet => unreachable!("Parquet encoders are opened with Encoder::open"),
        };
        Encoder::with_kind(kind)
    }

    /// An encoder for any format; Parquet can fail here (a column type
    /// with no Parquet form, a bad codec level).
    pub fn open(
        format: Format,
        columns: &[Column],
        null: &str,
        options: ParquetOptions,
    ) -> anyhow::Result<Encoder> {
        if format != Format::Parquet {
            return Ok(Encoder::new(format, columns, null));
        }
        let parquet = parquet::Parquet::new(columns, options)?;
        let mut encoder = Encoder::with_kind(Kind::Parquet(Box::new(parquet)));
        if let Kind::Parquet(p) = &mut encoder.kind {
            p.drain(&mut encoder.buf)?; // the magic bytes
        }
        Ok(encoder)
    }

    fn with_kind(kind: Kind) -> Encoder {
        Encoder {
            kind,
            buf: Vec::with_capacity(256 * 1024),
            scratch: Vec::with_capacity(64),
            column: 0,
            error: None,
        }
    }

    /// Writes the header line (CSV and TSV only).
    pub fn header(&mut self, columns: &[Column]) {
        if let Kind::Delimited(d) = &self.kind {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    self.buf.push(d.separator());
                }
                d.write_text(&mut self.buf, column.name.as_bytes());
            }
            self.buf.push(b'\n');
        }
    }

    /// Appends the next value of the current row.
    #[inline]
    pub fn cell(&mut self, cell: Cell<'_>) {
        let column = self.column;
        self.column += 1;
        match &mut self.kind {
            Kind::Delimited(d) => d.write_cell(&mut self.buf, &mut self.scratch, column, cell),
            Kind::Ndjson(j) => {
                if let Err(message) = j.write_cell(&mut self.buf, &mut self.scratch, column, cell) {
                    self.error.get_or_insert(message);
                }
            }
            Kind::Parquet(p) => {
                if let Err(message) = p.cell(column, cell, &mut self.scratch) {
                    self.error.get_or_insert(message);
                }
            }
        }
    }

    /// Ends the current row. Fails if a value of it could not be encoded.
    #[inline]
    pub fn end_row(&mut self) -> Result<(), String> {
        match &mut self.kind {
            Kind::Delimited(_) => self.buf.push(b'\n'),
            Kind::Ndjson(j) => j.end_row(&mut self.buf, self.column),
            Kind::Parquet(p) => p.end_row(),
        }
        self.column = 0;
        match self.error.take() {
            Some(message) => Err(message),
            None => Ok(()),
        }
    }

    /// Appends bytes that are already encoded rows in this format (the
    /// PostgreSQL `COPY` pass-through).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub fn mark(&self) -> Mark {
        Mark {
            buffered: self.buf.len(),
            parquet: match &self.kind {
                Kind::Parquet(p) => Some(p.mark()),
                _ => None,
            },
        }
    }

    /// Drops the rows encoded after `mark`; `false` if that is no longer
    /// possible (a Parquet row group holding them was written).
    pub fn rewind(&mut self, mark: Mark) -> bool {
        if let (Kind::Parquet(p), Some(at)) = (&mut self.kind, mark.parquet) {
            if !p.rewind(at) {
                return false;
            }
        }
        self.buf.truncate(mark.buffered);
        true
    }

    /// Writes a Parquet row group once enough rows are buffered, into the
    /// buffer to ship. Text formats write as they go: nothing to do.
    pub fn cut_if_full(&mut self) -> anyhow::Result<()> {
        if let Kind::Parquet(p) = &mut self.kind {
            if p.full() {
                p.write_row_group()?;
                p.drain(&mut self.buf)?;
            }
        }
        Ok(())
    }

    /// Ends the output: Parquet writes its last row group and its footer.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        if let Kind::Parquet(p) = &mut self.kind {
            p.finish()?;
            p.drain(&mut self.buf)?;
        }
        Ok(())
    }

    /// Hands out the filled buffer and continues in `empty`.
    pub fn take_buffer(&mut self, mut empty: Vec<u8>) -> Vec<u8> {
        empty.clear();
        std::mem::replace(&mut self.buf, empty)
    }
}

/// Appends the lowercase hex form of `bytes`.
pub(crate) fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
}

/// Appends the canonical text of a non-text cell, for formats that write
/// everything as text. Returns `false` for cells that are text already.
pub(crate) fn write_scalar(out: &mut Vec<u8>, cell: Cell<'_>) -> bool {
    match cell {
        Cell::Bool(true) => out.extend_from_slice(b"true"),
        Cell::Bool(false) => out.extend_from_slice(b"false"),
        Cell::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        Cell::UInt(v) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        Cell::F32(v) => float::write_f32(out, v),
        Cell::F64(v) => float::write_f64(out, v),
        Cell::Bytes(b) => write_hex(out, b),
        Cell::Null | Cell::Number(_) | Cell::Text(_) | Cell::Json(_) => return false,
    }
    true
}

/// `value` in decimal, zero-padded to at least `width` digits (dates and
/// clocks, written for every row of a typed export without core::fmt).
pub(crate) fn write_padded(out: &mut Vec<u8>, value: u32, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(value).as_bytes();
    for _ in digits.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(digits);
}

/// What an export writes for `rows`, header included: the encoders'
/// tests check it, and the input readers' tests read it back.
#[cfg(test)]
pub(crate) fn encode_rows<'a>(
    format: Format,
    null: &str,
    rows: &[impl AsRef<[Cell<'a>]>],
) -> Vec<u8> {
    let columns: Vec<Column> = (0..rows[0].as_ref().len())
        .map(|i| Column::new(format!("c{i}"), "text"))
        .collect();
    let mut encoder = Encoder::new(format, &columns, null);
    encoder.header(&columns);
    for row in rows {
        for &cell in row.as_ref() {
            encoder.cell(cell);
        }
        encoder.end_row().unwrap();
    }
    encoder.take_buffer(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_contains;

    pub(super) fn encode(format: Format, null: &str, rows: &[&[Cell<'_>]]) -> String {
        String::from_utf8(encode_rows(format, null, rows)).unwrap()
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path("out/x.CSV"), Ok(Some(Format::Csv)));
        assert_eq!(Format::from_path("x.jsonl"), Ok(Some(Format::Ndjson)));
        assert_eq!(Format::from_path("x.tsv"), Ok(Some(Format::Tsv)));
        assert_eq!(Format::from_path("noext"), Ok(None));
        assert_eq!(Format::from_path("dir.d/noext"), Ok(None));
        assert_eq!(Format::from_path("/dev/stdout"), Ok(None));
        assert_eq!(Format::from_path(".hidden"), Ok(None));
        let unknown = Format::from_path("x.txt").unwrap_err();
        assert_eq!(unknown, UnknownExtension("txt".into()));
        assert_contains(&unknown.to_string(), ".csv, .tsv");
        assert_eq!(Format::from_path("x.Parquet"), Ok(Some(Format::Parquet)));
    }

    #[test]
    fn hex_is_lowercase() {
        let mut out = Vec::new();
        write_hex(&mut out, &[0x00, 0xAB, 0x7f]);
        assert_eq!(out, b"00ab7f");
    }
}
