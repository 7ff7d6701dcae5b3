//! The record a reader fills and the error it reports.

use std::fmt;

/// One input record: its fields (None = NULL), the 1-based line it starts
/// on, the byte offsets where it starts and ends, and its original bytes.
///
/// The caller keeps one `Record` and passes it to every
/// [`super::Reader::read`]: its buffers are reused, so reading a file does
/// not allocate per record once the buffers have grown to the widest record.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// The decoded text of every non-NULL field, back to back.
    pub(super) buf: Vec<u8>,
    /// Each field's span in `buf`; `None` is NULL.
    pub(super) fields: Vec<Option<(usize, usize)>>,
    /// NDJSON only: which fields were JSON strings (their text is the
    /// string's content), so a JSON column can take them back as strings.
    pub(super) strings: Vec<bool>,
    /// The record exactly as it was read, so a reject file can keep it.
    pub(super) raw: Vec<u8>,
    pub(super) line: u64,
    /// The line the input after this record starts on.
    pub(super) next_line: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    /// Parquet: the row group and the row within it (from 0); `line` is
    /// then the row number in the file (from 1), and the offsets count
    /// rows, not bytes.
    pub(super) row_group: Option<(usize, u64)>,
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The outer `None` means there is no field `i`; the inner one is NULL.
    pub fn get(&self, i: usize) -> Option<Option<&[u8]>> {
        self.fields.get(i).map(|span| self.span(*span))
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<&[u8]>> + '_ {
        self.fields.iter().map(|span| self.span(*span))
    }

    /// Whether field `i` was a JSON string in NDJSON input.
    pub fn is_json_string(&self, i: usize) -> bool {
        self.strings.get(i).copied().unwrap_or(false)
    }

    /// The line the record starts on; a quoted CSV field can carry it over
    /// several lines.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The line the input after the record starts on: with a quoted CSV
    /// field over several lines, not simply `line() + 1`. A failed import
    /// names it as the place to go on from.
    pub fn next_line(&self) -> u64 {
        self.next_line
    }

    /// Where the record's first byte is in the input (a leading BOM counts),
    /// so a resumed import can seek there.
    pub fn start_offset(&self) -> u64 {
        self.start
    }

    /// Just past the record's line terminator: where the next record starts.
    pub fn end_offset(&self) -> u64 {
        self.end
    }

    /// Where the record is, for messages: `line 12`, or for Parquet
    /// `row 1201 (row group 1, row 200 in it, from 0)`.
    pub fn place(&self) -> String {
        place(self.line, self.row_group)
    }

    /// The record's original bytes without its final line terminator, for a
    /// reject file. Empty after a "record longer than" error: such a record
    /// is never held whole.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    fn span(&self, span: Option<(usize, usize)>) -> Option<&[u8]> {
        span.map(|(start, end)| self.buf.get(start..end).unwrap_or_default())
    }

    pub(super) fn clear(&mut self) {
        self.buf.clear();
        self.fields.clear();
        self.raw.clear();
    }
}

/// A problem in the input, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub line: u64,
    /// 1-based field number, when the problem is in one field.
    pub column: Option<usize>,
    /// The header's (or the first NDJSON object's) name for `column`.
    pub column_name: Option<String>,
    pub message: String,
    /// The input itself failed (an I/O error), not one record in it: later
    /// reads repeat the error, and a caller skipping bad records must stop
    /// rather than count it as one more rejected row. Every other error
    /// leaves the reader after the bad record, ready to go on.
    pub fatal: bool,
    /// Parquet: the row group and row in it; `line` is the row number.
    pub row_group: Option<(usize, u64)>,
}

impl InputError {
    pub(super) fn new(line: u64, message: impl Into<String>) -> InputError {
        InputError {
            line,
            column: None,
            column_name: None,
            message: message.into(),
            fatal: false,
            row_group: None,
        }
    }

    /// Points the error at field `index` (0-based), named from `names` when
    /// the input has names.
    pub(super) fn in_field(mut self, index: usize, names: &[String]) -> InputError {
        self.column = Some(index + 1);
        self.column_name = names.get(index).cloned();
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", place(self.line, self.row_group))?;
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
            if let Some(name) = &self.column_name {
                write!(f, " ({name})")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// `line N`, or a Parquet row with its row group: both counted from 0 as
/// Parquet readers (pyarrow's `read_row_group`, DuckDB) count them.
fn place(line: u64, row_group: Option<(usize, u64)>) -> String {
    match row_group {
        None => format!("line {line}"),
        Some((group, row)) => format!("row {line} (row group {group}, row {row} in it, from 0)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_what_is_known() {
        let err = InputError::new(12, "bad").in_field(2, &["a".into(), "b".into(), "c".into()]);
        assert_eq!(err.to_string(), "line 12, column 3 (c): bad");
        let err = InputError::new(4, "bad").in_field(5, &[]);
        assert_eq!(err.to_string(), "line 4, column 6: bad");
        assert_eq!(InputError::new(1, "bad").to_string(), "line 1: bad");
    }

    #[test]
    fn fields_tell_null_from_empty() {
        let mut record = Record::new();
        record.buf.extend_from_slice(b"ab");
        record.fields = vec![Some((0, 2)), None, Some((2, 2))];
        assert_eq!(record.len(), 3);
        assert_eq!(record.get(0), Some(Some(&b"ab"[..])));
        assert_eq!(record.get(1), Some(None));
        assert_eq!(record.get(2), Some(Some(&b""[..])));
        assert_eq!(record.get(3), None);
        assert_eq!(record.iter().count(), 3);
    }
}
