//! TSV as `dbchunk export` writes it: PostgreSQL's text `COPY` format.
//! One record per line, fields split on TAB, backslash escapes decoded,
//! and a field whose raw text is the NULL text (`\N` by default) is NULL.
//!
//! Since TAB, LF and CR inside values are always escaped, a record is
//! exactly one line, and the reader splits lines before it looks inside.

use std::io::BufRead;

use super::check_record;
use super::header::{Headed, ReadRecord};
use super::record::{InputError, Record};
use super::source::{reserve_capped, Lines};

/// The header is handled as CSV handles it, by [`Headed`].
pub type TsvReader<R> = Headed<TsvParser<R>>;

impl<R: BufRead> TsvReader<R> {
    pub fn new(input: R, header: bool, null: &str, max_record_bytes: usize) -> TsvReader<R> {
        let parser = TsvParser {
            lines: Lines::new(input),
            null: null.as_bytes().to_vec(),
            expected: None,
            max: max_record_bytes,
        };
        Headed::wrap(parser, header)
    }
}

/// Public only because [`TsvReader`] names it; its parts are private.
pub struct TsvParser<R> {
    lines: Lines<R>,
    null: Vec<u8>,
    expected: Option<usize>,
    max: usize,
}

impl<R: BufRead> ReadRecord for TsvParser<R> {
    fn read_record(
        &mut self,
        record: &mut Record,
        header: bool,
        names: &[String],
    ) -> Result<bool, InputError> {
        if !self.lines.read(record, self.max, 0)? {
            return Ok(false);
        }
        let cap = self.expected.unwrap_or(usize::MAX);
        let null = (!header).then_some(self.null.as_slice());
        let (found, error) = split(record, null, cap);
        let error = error.map(|(field, message)| (record.line, field, message));
        check_record(record, names, &mut self.expected, found, error)
    }

    fn bytes_read(&self) -> u64 {
        self.lines.offset()
    }
}

/// Splits `record.raw` into fields, keeping the first `cap`. Returns the
/// number of fields and the first escape error (field index, message).
fn split(
    record: &mut Record,
    null: Option<&[u8]>,
    cap: usize,
) -> (usize, Option<(usize, &'static str)>) {
    let Record {
        raw, buf, fields, ..
    } = record;
    reserve_capped(buf, raw.len(), raw.len());
    let mut error = None;
    let mut count = 0;
    for (i, text) in raw.split(|&b| b == b'\t').enumerate() {
        count += 1;
        if i >= cap {
            continue;
        }
        if null == Some(text) {
            fields.push(None);
            continue;
        }
        let start = buf.len();
        if let Err(message) = unescape(text, buf) {
            error.get_or_insert((i, message));
        }
        fields.push(Some((start, buf.len())));
    }
    (count, error)
}

/// Decodes PostgreSQL's text escapes: the letter escapes export writes,
/// and the octal and hex ones PostgreSQL also accepts. Any other escaped
/// byte stands for itself.
fn unescape(text: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    let mut i = 0;
    while let Some(at) = text[i..].iter().position(|&b| b == b'\\') {
        out.extend_from_slice(&text[i..i + at]);
        i += at + 1;
        // PostgreSQL would take `\` before TAB or LF as an escaped TAB or
        // LF; export never writes that, so it is far more likely a value
        // that lost its escaping (a Windows path ending in `\`), which
        // would silently merge two fields.
        let Some(&c) = text.get(i) else {
            return Err("backslash at the end of a field (write a backslash as \\\\)");
        };
        i += 1;
        let byte = match c {
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match text.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                // As PostgreSQL does: `\777` keeps the low byte.
                (value & 0xff) as u8
            }
            b'x' => match text.get(i).and_then(|&d| hex(d)) {
                Some(high) => {
                    i += 1;
                    match text.get(i).and_then(|&d| hex(d)) {
                        Some(low) => {
                            i += 1;
                            high * 16 + low
                        }
                        None => high,
                    }
                }
                None => b'x',
            },
            other => other,
        };
        out.push(byte);
    }
    out.extend_from_slice(&text[i..]);
    Ok(())
}

fn hex(d: u8) -> Option<u8> {
    char::from(d).to_digit(16).map(|v| v as u8)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, read_all, row, texts, Rows, AWKWARD_TEXTS};
    use super::*;
    use crate::cell::Cell;
    use crate::format::Format;

    /// The header's names and the rows of `input`, NULL written `\N`.
    fn tsv(input: &[u8], header: bool) -> (Option<Vec<String>>, Rows) {
        read_all(Format::Tsv, input, header, "\\N", 64)
    }

    #[test]
    fn round_trip_of_export_output() {
        let mut rows: Vec<Vec<Cell<'_>>> = AWKWARD_TEXTS
            .iter()
            .map(|t| vec![Cell::Text(t), Cell::Null, Cell::UInt(u64::MAX)])
            .collect();
        rows.push(vec![Cell::Null, Cell::Null, Cell::Null]);
        for null in ["\\N", "NULL_VALUE"] {
            assert_round_trip(Format::Tsv, null, &rows);
        }
    }

    #[test]
    fn escapes_postgres_accepts() {
        let mut out = Vec::new();
        unescape(b"\\101\\x41\\x4g\\0\\7777\\q\\\\\\.\\N", &mut out).unwrap();
        assert_eq!(out, b"AA\x04g\0\xff7q\\.N");
        out.clear();
        assert!(unescape(b"ends in \\", &mut out).is_err());
    }

    #[test]
    fn errors_name_line_and_column() {
        let (names, rows) = tsv(b"a\tb\n1\t2\n\\N\t\\x\xff\nx\\\ty\n3\n4\t5\n\n", true);
        assert_eq!(names, Some(vec!["a".into(), "b".into()]));
        assert_eq!(rows[0], Ok(texts(&["1", "2"])));
        let err = rows[1].as_ref().unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3, column 2 (b): invalid UTF-8 at byte 2 of the field"
        );
        let err = rows[2].as_ref().unwrap_err();
        assert_eq!((err.line, err.column), (4, Some(1)));
        assert!(err.message.starts_with("backslash at the end"), "{err}");
        let err = rows[3].as_ref().unwrap_err();
        assert_eq!(err.to_string(), "line 5: expected 2 fields, found 1");
        assert_eq!(rows[4], Ok(texts(&["4", "5"])));
        assert_eq!(rows[5].as_ref().unwrap_err().line, 7);
        assert_eq!(rows.len(), 6);
    }

    #[test]
    fn header_is_decoded_and_raw_cr_is_data() {
        let (names, rows) = tsv(b"\xEF\xBB\xBFa\\tb\t\\N\r\nx\ty\r\nlast\t\\N", true);
        assert_eq!(names, Some(vec!["a\tb".into(), "N\r".into()]));
        assert_eq!(rows[0], Ok(texts(&["x", "y\r"])));
        assert_eq!(rows[1], Ok(row(&[Cell::Text(b"last"), Cell::Null])));
        assert_eq!(tsv(b"", true), (None, vec![]));
        // One column: an empty line is one empty string; the final newline ends it.
        let (_, rows) = tsv(b"a\n\n\\N\n", false);
        assert_eq!(
            rows,
            vec![Ok(texts(&["a"])), Ok(texts(&[""])), Ok(vec![None])]
        );
    }
}
