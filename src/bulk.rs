//! The text the fast import paths send: PostgreSQL `COPY ... FROM STDIN`
//! (text format) and MySQL `LOAD DATA LOCAL INFILE` (its default escapes).
//!
//! Encoding happens on the input thread, row by row as records are
//! checked, so the writer only sends bytes and the next batch is encoded
//! while the server still loads this one.

use crate::plan::insert::ImportStrategy;
use crate::values::Value;

/// The most a driver is handed at once. Each driver copies what it is
/// given into its own buffers (mysql_async into a pooled buffer and its
/// packet codec, tokio-postgres into its codec), and keeps their capacity
/// per connection: a whole batch at once would cost several batch-sized
/// buffers that live as long as the connections.
const PIECE: usize = 128 << 10;

/// A batch's text in pieces of at most [`PIECE`] bytes, each sharing
/// `text`'s memory.
pub fn pieces(text: bytes::Bytes) -> impl Iterator<Item = bytes::Bytes> {
    (0..text.len())
        .step_by(PIECE)
        .map(move |start| text.slice(start..text.len().min(start + PIECE)))
}

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

    /// Appends one field's value; the caller separates fields with a tab
    /// and ends the row with a newline ([`crate::writer::Batch::push_bulk`]).
    pub fn encode_value(self, out: &mut Vec<u8>, value: &Value) {
        match self {
            BulkFormat::PostgresCopy => copy_value(out, value),
            BulkFormat::MysqlLoadData => load_data_value(out, value),
        }
    }

    /// Appends a text field (UTF-8, already checked) as
    /// `encode_value(&Value::Text(..))` would, without building the value.
    pub fn encode_text(self, out: &mut Vec<u8>, text: &[u8]) {
        match self {
            BulkFormat::PostgresCopy => escape(out, text, b'\r', b"\\r"),
            BulkFormat::MysqlLoadData => escape(out, text, 0, b"\\0"),
        }
    }
}

fn copy_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"\\N"),
        Value::Text(text) => BulkFormat::PostgresCopy.encode_text(out, text.as_bytes()),
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
        Value::Text(text) => BulkFormat::MysqlLoadData.encode_text(out, text.as_bytes()),
        other => {
            let _ = other.write_text(out);
        }
    }
}

/// Copies `text`, escaping backslash, tab, newline and one more byte
/// (`extra`, written as `extra_escape`). The bytes to escape are found
/// with `memchr` (most values have none), and the runs between them are
/// copied whole.
fn escape(out: &mut Vec<u8>, text: &[u8], extra: u8, extra_escape: &[u8]) {
    let mut plain = 0;
    // Where the next `extra` byte is, found once and kept until passed.
    let mut next_extra = memchr::memchr(extra, text);
    loop {
        let next = memchr::memchr3(b'\\', b'\t', b'\n', &text[plain..]).map(|i| plain + i);
        let at = match (next, next_extra) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(at) => at,
                None => break,
            },
        };
        let escaped: &[u8] = match text[at] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => extra_escape,
        };
        out.extend_from_slice(&text[plain..at]);
        out.extend_from_slice(escaped);
        plain = at + 1;
        if next_extra == Some(at) {
            next_extra = memchr::memchr(extra, &text[plain..]).map(|i| plain + i);
        }
    }
    out.extend_from_slice(&text[plain..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(format: BulkFormat, row: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            format.encode_value(&mut out, value);
        }
        out.push(b'\n');
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
    fn escapes_at_either_end_and_in_a_row() {
        let mut out = Vec::new();
        escape(&mut out, b"\r\\\t\n\rx\r", b'\r', b"\\r");
        assert_eq!(out, b"\\r\\\\\\t\\n\\rx\\r");
        out.clear();
        escape(&mut out, b"plain", 0, b"\\0");
        assert_eq!(out, b"plain");
        out.clear();
        escape(&mut out, b"", 0, b"\\0");
        assert!(out.is_empty());
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
