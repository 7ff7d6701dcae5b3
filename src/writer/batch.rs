//! A batch of input rows on their way into the table: each row's checked
//! values (insert) or fast-path text (COPY, LOAD DATA), and where in the
//! input each came from, for messages, the reject file and `--state`.

use anyhow::{anyhow, Result};

use crate::bulk::BulkFormat;
use crate::values::{TargetType, Value};

/// About the most memory a batch holds: the input thread sends a batch
/// once it holds this much, even with fewer than `--batch` rows. Up to
/// four batches are alive at once (one being read, one queued, one being
/// written, one committing), so this bounds the import's memory whatever
/// the width of the rows.
pub const MAX_BYTES: usize = 4 << 20;

/// The end of a NULL field in [`Batch::ends`].
const NULL: usize = usize::MAX;

/// Input rows on their way in, with where each came from.
#[derive(Default, Debug)]
pub struct Batch {
    /// The checked values of `insert` rows; empty for the fast paths,
    /// whose rows are in `bulk` (and `fields`, for a replay).
    pub values: Vec<Vec<Value>>,
    /// The input line each record starts on.
    pub lines: Vec<u64>,
    /// The input offset each record starts at.
    pub starts: Vec<u64>,
    /// Where the input after this batch starts: once it commits, every
    /// record before this offset is in the table or the reject file.
    pub end: u64,
    /// The line the input after this batch starts on.
    pub end_line: u64,
    /// Each record's original text, kept only when there is a reject file.
    pub raws: Vec<Vec<u8>>,
    /// Rows that may already be in the table (a resumed import's batch
    /// whose commit was never confirmed): written skipping duplicate keys.
    pub careful: bool,
    /// The rows in the fast path's text ([`crate::bulk`]), encoded on the
    /// input thread; empty for `insert`.
    pub bulk: Vec<u8>,
    /// Fast paths: every field's checked text, back to back, and where
    /// each field ends in it ([`NULL`] for NULL; a field starts where the
    /// last non-NULL one ended), row after row. Parsed into values again
    /// only when the batch is replayed or written carefully, so the common
    /// case allocates nothing per value.
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// About the memory the rows hold ([`MAX_BYTES`]).
    bytes: usize,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// About the memory the rows hold: their text (bulk, checked fields,
    /// raw records) or values, where each field ends, and their positions.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// An empty batch with room for as much as `self` holds (and an
    /// eighth more), so that filling it does not grow its buffers step by
    /// step to twice what they need.
    pub fn with_room_of(&self) -> Batch {
        fn room<T>(v: &[T]) -> Vec<T> {
            Vec::with_capacity(v.len() + v.len() / 8)
        }
        Batch {
            values: room(&self.values),
            lines: room(&self.lines),
            starts: room(&self.starts),
            raws: room(&self.raws),
            bulk: room(&self.bulk),
            fields: room(&self.fields),
            ends: room(&self.ends),
            ..Batch::default()
        }
    }

    /// Adds a checked `insert` row.
    pub fn push(&mut self, record: &crate::input::Record, keep_raw: bool, values: Vec<Value>) {
        let text: usize = record.iter().flatten().map(<[u8]>::len).sum();
        self.bytes += text + values.len() * std::mem::size_of::<Value>();
        self.values.push(values);
        self.note(record, keep_raw);
    }

    /// Checks a record's fields against `columns` and adds it in the fast
    /// path's text (`format`). The error names the line and column of the
    /// first bad field; the batch is then as it was.
    pub fn push_bulk(
        &mut self,
        record: &crate::input::Record,
        keep_raw: bool,
        format: BulkFormat,
        columns: &[crate::db::TargetColumn],
    ) -> Result<(), String> {
        if record.len() != columns.len() {
            return Err(field_count(record, columns.len()));
        }
        let (bulk_mark, fields_mark, ends_mark) =
            (self.bulk.len(), self.fields.len(), self.ends.len());
        for (i, (field, column)) in record.iter().zip(columns).enumerate() {
            let quoted = json_string(record, i, field, column.target);
            let field = quoted.as_deref().map(str::as_bytes).or(field);
            if i > 0 {
                self.bulk.push(b'\t');
            }
            let encoded = match (field, column.target) {
                // Text goes as it is: no value to build.
                (Some(text), TargetType::Text | TargetType::Other) => std::str::from_utf8(text)
                    .map(|_| format.encode_text(&mut self.bulk, text))
                    .map_err(|_| "the value is not valid UTF-8".to_string()),
                _ => crate::values::parse(field, column.target)
                    .map(|value| format.encode_value(&mut self.bulk, &value)),
            };
            if let Err(reason) = encoded {
                self.bulk.truncate(bulk_mark);
                self.fields.truncate(fields_mark);
                self.ends.truncate(ends_mark);
                return Err(bad_field(record, i, column, &reason));
            }
            self.ends.push(field.map_or(NULL, |text| {
                self.fields.extend_from_slice(text);
                self.fields.len()
            }));
        }
        self.bulk.push(b'\n');
        self.bytes += (self.bulk.len() - bulk_mark)
            + (self.fields.len() - fields_mark)
            + record.len() * std::mem::size_of::<usize>();
        self.note(record, keep_raw);
        Ok(())
    }

    fn note(&mut self, record: &crate::input::Record, keep_raw: bool) {
        self.lines.push(record.line());
        self.starts.push(record.start_offset());
        self.end = record.end_offset();
        self.end_line = record.next_line();
        self.bytes += 2 * std::mem::size_of::<u64>();
        if keep_raw {
            self.raws.push(record.raw().to_vec());
            self.bytes += record.raw().len();
        }
    }

    /// Every row's values: those of an `insert` batch, or a fast path's
    /// fields parsed again (they were checked once, so this only fails on
    /// a bug).
    pub fn rows(&self, types: &[TargetType]) -> Result<std::borrow::Cow<'_, [Vec<Value>]>> {
        if self.ends.is_empty() {
            return Ok(std::borrow::Cow::Borrowed(&self.values));
        }
        let width = types.len().max(1);
        let mut start = 0;
        let rows = self
            .ends
            .chunks(width)
            .map(|row| {
                row.iter()
                    .zip(types)
                    .map(|(&end, target)| {
                        let field = (end != NULL).then(|| {
                            let text = &self.fields[start..end];
                            start = end;
                            text
                        });
                        crate::values::parse(field, *target).map_err(|e| anyhow!(e))
                    })
                    .collect::<Result<Vec<Value>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(std::borrow::Cow::Owned(rows))
    }
}

/// An NDJSON string going into a JSON column is a JSON string: its text,
/// quoted again.
pub fn json_string(
    record: &crate::input::Record,
    i: usize,
    field: Option<&[u8]>,
    target: TargetType,
) -> Option<String> {
    match field {
        Some(text) if target == TargetType::Json && record.is_json_string(i) => {
            Some(serde_json::to_string(&String::from_utf8_lossy(text)).expect("a string"))
        }
        _ => None,
    }
}

/// A record with the wrong number of fields.
pub fn field_count(record: &crate::input::Record, expected: usize) -> String {
    format!(
        "{}: expected {expected} fields, found {}",
        record.place(),
        record.len()
    )
}

/// A field that does not fit its column, with its line and column.
pub fn bad_field(
    record: &crate::input::Record,
    i: usize,
    column: &crate::db::TargetColumn,
    reason: &str,
) -> String {
    format!(
        "{}, column {} ({}): {reason}",
        record.place(),
        i + 1,
        column.name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::TargetColumn;
    use crate::input::{Reader, Record};

    fn column(name: &str, target: TargetType) -> TargetColumn {
        TargetColumn {
            name: name.into(),
            sql_type: String::new(),
            cast_type: String::new(),
            target,
        }
    }

    /// Reads `csv` (no header) into a fast-path batch; each record's
    /// outcome.
    fn bulk_batch(csv: &str, columns: &[TargetColumn]) -> (Batch, Vec<Result<(), String>>) {
        let mut reader = Reader::new(
            crate::format::Format::Csv,
            csv.as_bytes(),
            false,
            "",
            1 << 20,
        );
        let (mut batch, mut record, mut outcomes) = (Batch::default(), Record::new(), Vec::new());
        while reader.read(&mut record).unwrap() {
            outcomes.push(batch.push_bulk(&record, true, BulkFormat::PostgresCopy, columns));
        }
        (batch, outcomes)
    }

    #[test]
    fn bulk_rows_are_checked_encoded_and_kept_for_a_replay() {
        let int = TargetType::Int {
            min: i32::MIN.into(),
            max: i32::MAX.into(),
        };
        let columns = [column("id", int), column("t", TargetType::Text)];
        let (batch, outcomes) = bulk_batch("1,a\tb\n2,\n99999999999,x\n3,\"\"\n", &columns);
        assert_eq!(outcomes[0], Ok(()));
        assert_eq!(outcomes[1], Ok(()));
        let bad = outcomes[2].as_ref().unwrap_err();
        assert!(bad.starts_with("line 3, column 1 (id): "), "{bad}");
        assert_eq!(outcomes[3], Ok(()));
        // The bad row left nothing behind.
        assert_eq!(batch.bulk, b"1\ta\\tb\n2\t\\N\n3\t\n");
        assert_eq!((batch.len(), batch.lines.clone()), (3, vec![1, 2, 4]));
        assert_eq!(batch.raws.len(), 3);
        let rows = batch.rows(&[int, TargetType::Text]).unwrap();
        assert_eq!(
            rows.to_vec(),
            vec![
                vec![Value::Int(1), Value::Text("a\tb".into())],
                vec![Value::Int(2), Value::Null],
                vec![Value::Int(3), Value::Text(String::new())],
            ]
        );
    }

    #[test]
    fn bulk_rows_refuse_a_wrong_field_count() {
        // The reader checks records against each other; this, the count
        // against the columns.
        let columns = [column("a", TargetType::Text), column("b", TargetType::Text)];
        let (batch, outcomes) = bulk_batch("x,y,z\n", &columns);
        assert_eq!(
            outcomes[0],
            Err("line 1: expected 2 fields, found 3".to_string())
        );
        assert!(batch.is_empty() && batch.bulk.is_empty());
    }
}
