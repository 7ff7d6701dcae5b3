//! NDJSON: one JSON object per line, keys in column order.
//!
//! NULL is `null`; numbers are JSON numbers written with their exact
//! digits (never through a float), except NaN and the infinities, which JSON
//! cannot hold and which are written as strings; binary is a hex string;
//! JSON columns are embedded as JSON.

use super::{write_hex, write_scalar, Cell, Column};

pub(super) struct Ndjson {
    /// `{"name":` for the first column and `,"name":` for the others,
    /// escaped once up front.
    keys: Vec<Vec<u8>>,
    names: Vec<String>,
}

impl Ndjson {
    pub(super) fn new(columns: &[Column]) -> Ndjson {
        let keys = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut key = vec![if i == 0 { b'{' } else { b',' }];
                serde_json::to_writer(&mut key, &c.name).expect("Vec write");
                key.push(b':');
                key
            })
            .collect();
        let names = columns.iter().map(|c| c.name.clone()).collect();
        Ndjson { keys, names }
    }

    #[inline]
    pub(super) fn write_cell(
        &self,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        column: usize,
        cell: Cell<'_>,
    ) -> Result<(), String> {
        out.extend_from_slice(&self.keys[column]);
        match cell {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Bool(_) | Cell::Int(_) | Cell::UInt(_) => {
                write_scalar(out, cell);
            }
            Cell::F32(_) | Cell::F64(_) => {
                scratch.clear();
                write_scalar(scratch, cell);
                write_number(out, scratch);
            }
            Cell::Number(text) => write_number(out, text),
            Cell::Text(text) => write_string(out, text, &self.names[column])?,
            Cell::Bytes(bytes) => {
                out.push(b'"');
                write_hex(out, bytes);
                out.push(b'"');
            }
            Cell::Json(text) => write_json(out, text),
        }
        Ok(())
    }

    pub(super) fn end_row(&self, out: &mut Vec<u8>, cells: usize) {
        if cells == 0 {
            out.push(b'{');
        }
        out.extend_from_slice(b"}\n");
    }
}

/// A number is written bare if JSON accepts it as a number, else as a
/// string (`"NaN"`, `"Infinity"`, `"-Infinity"`).
fn write_number(out: &mut Vec<u8>, text: &[u8]) {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    if digits.first().is_some_and(u8::is_ascii_digit) {
        out.extend_from_slice(text);
    } else {
        out.push(b'"');
        out.extend_from_slice(text);
        out.push(b'"');
    }
}

fn write_string(out: &mut Vec<u8>, text: &[u8], column: &str) -> Result<(), String> {
    let text = std::str::from_utf8(text).map_err(|e| {
        format!(
            "column {column:?} holds text that is not valid UTF-8 (at byte {}), which NDJSON \
             cannot carry; export with --format csv or tsv, which keep the bytes as they are",
            e.valid_up_to()
        )
    })?;
    serde_json::to_writer(out, text).expect("Vec write");
    Ok(())
}

/// JSON from the database is valid, but may span lines. A raw CR or LF in
/// JSON text can only be whitespace between tokens (inside strings they are
/// escaped), so replacing them with spaces keeps the value and the line.
fn write_json(out: &mut Vec<u8>, text: &[u8]) {
    let start = out.len();
    out.extend_from_slice(text);
    for b in &mut out[start..] {
        if *b == b'\n' || *b == b'\r' {
            *b = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::encode;
    use super::super::Format;
    use crate::cell::Cell;

    #[test]
    fn values_keep_their_json_types() {
        let out = encode(
            Format::Ndjson,
            "",
            &[&[
                Cell::Null,
                Cell::Text(b"a\"b\n\xc3\xa9"),
                Cell::Number(b"12345678901234567890.000000000000000000001"),
                Cell::Number(b"NaN"),
                Cell::F64(f64::NEG_INFINITY),
                Cell::Bool(false),
                Cell::Json(b"{\"k\":\n [1, 2]}"),
                Cell::Bytes(b"\x00\x10"),
            ]],
        );
        assert_eq!(
            out,
            "{\"c0\":null,\"c1\":\"a\\\"b\\né\",\
             \"c2\":12345678901234567890.000000000000000000001,\"c3\":\"NaN\",\
             \"c4\":\"-Infinity\",\"c5\":false,\"c6\":{\"k\":  [1, 2]},\"c7\":\"0010\"}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(parsed["c1"], "a\"b\né");
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_silent_change() {
        use super::super::Encoder;
        let columns = [crate::cell::Column::new("t", "text")];
        let mut encoder = Encoder::new(Format::Ndjson, &columns, "");
        encoder.cell(Cell::Text(b"ok\xff"));
        let err = encoder.end_row().unwrap_err();
        crate::testing::assert_contains(&err, "not valid UTF-8");
    }
}
