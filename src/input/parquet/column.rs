//! One top-level field of a Parquet file as it is read: its typed column
//! reader for the current row group, the levels and values of the batch
//! last read, and the walk through them one row at a time (a flat value,
//! or a `LIST` as a JSON array), each value written as text by
//! [`super::text`].

use parquet::column::reader::{get_typed_column_reader, ColumnReader, ColumnReaderImpl};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, FixedLenByteArray, FixedLenByteArrayType,
    FloatType, Int32Type, Int64Type, Int96, Int96Type,
};

use super::text::{push_json_string, write_bytes, write_int, write_timestamp, Kind, Unit};

/// A column reader and the values of its current batch.
enum Typed {
    Bool(ColumnReaderImpl<BoolType>, Vec<bool>),
    I32(ColumnReaderImpl<Int32Type>, Vec<i32>),
    I64(ColumnReaderImpl<Int64Type>, Vec<i64>),
    I96(ColumnReaderImpl<Int96Type>, Vec<Int96>),
    F32(ColumnReaderImpl<FloatType>, Vec<f32>),
    F64(ColumnReaderImpl<DoubleType>, Vec<f64>),
    Bytes(ColumnReaderImpl<ByteArrayType>, Vec<ByteArray>),
    Fixed(
        ColumnReaderImpl<FixedLenByteArrayType>,
        Vec<FixedLenByteArray>,
    ),
}

macro_rules! each_typed {
    ($typed:expr, $reader:ident, $values:ident => $body:expr) => {
        match $typed {
            Typed::Bool($reader, $values) => $body,
            Typed::I32($reader, $values) => $body,
            Typed::I64($reader, $values) => $body,
            Typed::I96($reader, $values) => $body,
            Typed::F32($reader, $values) => $body,
            Typed::F64($reader, $values) => $body,
            Typed::Bytes($reader, $values) => $body,
            Typed::Fixed($reader, $values) => $body,
        }
    };
}

impl Typed {
    fn new(reader: ColumnReader) -> Typed {
        macro_rules! typed {
            ($variant:ident) => {
                Typed::$variant(get_typed_column_reader(reader), Vec::new())
            };
        }
        match reader {
            ColumnReader::BoolColumnReader(_) => typed!(Bool),
            ColumnReader::Int32ColumnReader(_) => typed!(I32),
            ColumnReader::Int64ColumnReader(_) => typed!(I64),
            ColumnReader::Int96ColumnReader(_) => typed!(I96),
            ColumnReader::FloatColumnReader(_) => typed!(F32),
            ColumnReader::DoubleColumnReader(_) => typed!(F64),
            ColumnReader::ByteArrayColumnReader(_) => typed!(Bytes),
            ColumnReader::FixedLenByteArrayColumnReader(_) => typed!(Fixed),
        }
    }

    /// Reads up to `rows` whole records: their levels and non-null values.
    fn read(
        &mut self,
        rows: usize,
        defs: &mut Vec<i16>,
        reps: &mut Vec<i16>,
    ) -> parquet::errors::Result<usize> {
        defs.clear();
        reps.clear();
        each_typed!(self, reader, values => {
            values.clear();
            let mut read = 0;
            // A reader may stop at a page boundary short of `rows`.
            while read < rows {
                let (records, _, _) =
                    reader.read_records(rows - read, Some(&mut *defs), Some(&mut *reps), values)?;
                if records == 0 {
                    break;
                }
                read += records;
            }
            Ok(read)
        })
    }

    fn skip(&mut self, rows: usize) -> parquet::errors::Result<usize> {
        each_typed!(self, reader, _values => reader.skip_records(rows))
    }
}

/// One top-level field of the file and how it is read.
pub(super) struct Field {
    pub(super) name: String,
    /// Its leaf column in the file.
    pub(super) leaf: usize,
    pub(super) kind: Kind,
    max_def: i16,
    /// A `LIST`: the definition level of its repeated node (an element
    /// exists at or above it; one below, the list is empty; lower, NULL).
    pub(super) list: Option<i16>,
    /// The reader of the open row group; `None` between row groups.
    typed: Option<Typed>,
    defs: Vec<i16>,
    reps: Vec<i16>,
    /// Next level and next non-null value of the current batch.
    level_at: usize,
    value_at: usize,
}

impl Field {
    /// A field read as text until `bind` says otherwise.
    pub(super) fn new(name: String, leaf: usize, max_def: i16) -> Field {
        Field {
            name,
            leaf,
            kind: Kind::Text,
            max_def,
            list: None,
            typed: None,
            defs: Vec::new(),
            reps: Vec::new(),
            level_at: 0,
            value_at: 0,
        }
    }

    pub(super) fn is_open(&self) -> bool {
        self.typed.is_some()
    }

    /// Reads on from `reader`, the field's column in a new row group.
    pub(super) fn open(&mut self, reader: ColumnReader) {
        self.typed = Some(Typed::new(reader));
    }

    /// Leaves the row group (whose reader is dropped).
    pub(super) fn close(&mut self) {
        self.typed = None;
    }

    /// Reads the next `rows` rows of the open row group into the batch;
    /// the number read (fewer only if the file is damaged).
    pub(super) fn read_batch(&mut self, rows: usize) -> parquet::errors::Result<usize> {
        let typed = self.typed.as_mut().expect("the group is open");
        let read = typed.read(rows, &mut self.defs, &mut self.reps);
        (self.level_at, self.value_at) = (0, 0);
        read
    }

    /// Passes over `rows` rows of the open row group, past the batch.
    pub(super) fn skip(&mut self, rows: usize) -> parquet::errors::Result<usize> {
        self.typed.as_mut().expect("the group is open").skip(rows)
    }

    /// The next row's value of the batch as text into `out` (a `LIST` as
    /// a JSON array); false for NULL.
    pub(super) fn next(&mut self, out: &mut Vec<u8>) -> bool {
        match self.list {
            Some(element_def) => self.list_json(element_def, out),
            None => self.scalar(out),
        }
    }

    /// The next value of a flat column as text into `out`; false for NULL.
    fn scalar(&mut self, out: &mut Vec<u8>) -> bool {
        let def = match self.max_def {
            0 => 0,
            _ => self.defs[self.level_at],
        };
        self.level_at += 1;
        if def < self.max_def {
            return false;
        }
        let at = self.value_at;
        self.value_at += 1;
        write_value(self.typed.as_ref().expect("open"), at, self.kind, out);
        true
    }

    /// The next list as a JSON array into `out`; false for a NULL list.
    fn list_json(&mut self, element_def: i16, out: &mut Vec<u8>) -> bool {
        let typed = self.typed.as_ref().expect("open");
        let mut first = true;
        let mut present = true;
        loop {
            let def = self.defs[self.level_at];
            self.level_at += 1;
            if def < element_def - 1 {
                present = false;
            } else if def >= element_def {
                out.push(if first { b'[' } else { b',' });
                first = false;
                if def < self.max_def {
                    out.extend_from_slice(b"null");
                } else {
                    json_element(typed, self.value_at, self.kind, out);
                    self.value_at += 1;
                }
            }
            if self.reps.get(self.level_at).is_none_or(|&rep| rep == 0) {
                break;
            }
        }
        if present {
            out.extend_from_slice(if first { b"[]" } else { b"]" });
        }
        present
    }
}

/// Value `at` of the batch as its canonical text.
fn write_value(typed: &Typed, at: usize, kind: Kind, out: &mut Vec<u8>) {
    match typed {
        Typed::Bool(_, v) => out.extend_from_slice(match (v[at], kind) {
            (true, Kind::BoolDigits) => b"1",
            (false, Kind::BoolDigits) => b"0",
            (true, _) => b"true",
            (false, _) => b"false",
        }),
        Typed::I32(_, v) => write_int(i64::from(v[at]), kind, 32, out),
        Typed::I64(_, v) => write_int(v[at], kind, 64, out),
        Typed::I96(_, v) => {
            let data = v[at].data();
            let nanos = i64::from(data[0]) | (i64::from(data[1]) << 32);
            let days = i64::from(data[2]) - 2_440_588;
            write_timestamp(days, nanos, Unit::Nanos, false, out);
        }
        Typed::F32(_, v) => crate::format::float::write_f32(out, v[at]),
        Typed::F64(_, v) => crate::format::float::write_f64(out, v[at]),
        Typed::Bytes(_, v) => write_bytes(v[at].data(), kind, out),
        Typed::Fixed(_, v) => write_bytes(v[at].data(), kind, out),
    }
}

/// A list element as JSON: numbers and booleans as themselves, anything
/// else as a JSON string of its text.
fn json_element(typed: &Typed, at: usize, kind: Kind, out: &mut Vec<u8>) {
    let start = out.len();
    write_value(typed, at, kind, out);
    if !kind.is_bare_json(&out[start..]) {
        let text = out.split_off(start);
        push_json_string(out, &text);
    }
}
