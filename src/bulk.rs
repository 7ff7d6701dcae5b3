//! The text the fast import paths send: PostgreSQL `COPY ... FROM STDIN`
//! (text format) and MySQL `LOAD DATA LOCAL INFILE` (its default escapes).
//!
//! Encoding happens on the input thread, row by row as records are
//! checked, so the writer only sends bytes and the next batch is encoded
//! while the server still loads this one.

use crate::plan::insert::ImportStrategy;
use crate::values::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkFormat {
    /// `COPY` text: `\N` for NULL, backslash escapes for backslash, tab,
    /// newline and carriage return, bytea in its `\x` hex form.
    PostgresCopy,
    /// `LOAD DATA`'s defaults: `\N` for NULL, backslash escapes for
    /// backslash, tab, newline and NUL; binary as its raw bytes, booleans
    /// as 1 and 0, bits in decimal (read back by `CAST(@v AS UNSIGNED)`).
    MysqlLoadData,
}

impl BulkFormat {
    /// The format a (resolved) import strategy sends, if it is a fast path.
    pub fn for_strategy(strategy: ImportStrategy) -> Option<BulkFormat> {
        match strategy {
            ImportStrategy::Copy => Some(BulkFormat::PostgresCopy),
            ImportStrategy::LoadData => Some(BulkFormat::MysqlLoadData),
            ImportStrategy::Auto | ImportStrategy::Insert => None,
        }
    }

    /// Appends one row, tab-separated and newline-terminated.
    pub fn encode_row(self, out: &mut Vec<u8>, row: &[Value]) {
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            match self {
                BulkFormat::PostgresCopy => copy_value(out, value),
                BulkFormat::MysqlLoadData => load_data_value(out, value),
            }
        }
        out.push(b'\n');
    }
}

fn copy_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Text(text) => escape(out, text.as_bytes(), b'\r', b"\\r"),
        Value::Bytes(_) => {
            // `\\x` is the escaped backslash of bytea's `\x`; hex digits
            // need no escaping.
            out.extend_from_slice(b"\\\\x");
            let _ = value.write_text(out);
        }
        // Numbers, dates, times and booleans never hold a separator.
        other => {
            let _ = other.write_text(out);
        }
    }
}

fn load_data_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
        Value::Bits(bits) => {
            use std::io::Write as _;
            let _ = write!(out, "{bits}");
        }
        Value::Bytes(bytes) => escape(out, bytes, 0, b"\\0"),
        Value::Text(text) => escape(out, text.as_bytes(), 0, b"\\0"),
        other => {
            let _ = other.write_text(out);
        }
    }
}

/// Copies `text`, escaping backslash, tab, newline and one more byte
/// (`extra`, written as `extra_escape`). Runs of plain bytes are copied
/// whole.
fn escape(out: &mut Vec<u8>, text: &[u8], extra: u8, extra_escape: &[u8]) {
    let mut plain = 0;
    for (i, &b) in text.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ if b == extra => extra_escape,
            _ => continue,
        };
        out.extend_from_slice(&text[plain..i]);
        out.extend_from_slice(escaped);
        plain = i + 1;
    }
    out.extend_from_slice(&text[plain..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(format: BulkFormat, row: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        format.encode_row(&mut out, row);
        out
    }

    #[test]
    fn copy_text_escapes_separators_and_marks_null() {
        let row = [
            Value::Text("a\\b\tc\nd\re".into()),
            Value::Null,
            Value::Bytes(vec![0, 0xff]),
            Value::Bool(true),
            Value::Int(-7),
        ];
        assert_eq!(
            encoded(BulkFormat::PostgresCopy, &row),
            b"a\\\\b\\tc\\nd\\re\t\\N\t\\\\x00ff\ttrue\t-7\n"
        );
    }

    #[test]
    fn load_data_text_escapes_nul_and_sends_raw_binary() {
        let row = [
            Value::Text("a\\b\tc\nd\0e\r".into()),
            Value::Null,
            Value::Bytes(vec![b'\t', 0xff]),
            Value::Bool(false),
            Value::Bits(5),
        ];
        assert_eq!(
            encoded(BulkFormat::MysqlLoadData, &row),
            b"a\\\\b\\tc\\nd\\0e\r\t\\N\t\\t\xff\t0\t5\n".to_vec()
        );
    }
}
