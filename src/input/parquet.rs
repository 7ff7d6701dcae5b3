//! Parquet input for `dbchunk import`: each row handed out as the same
//! [`Record`] the text readers fill, one canonical text per field (the
//! forms `dbchunk export` writes in CSV, see docs/types.md) and NULL kept
//! apart from "", so every check of [`crate::values`] applies unchanged.
//!
//! Memory is bounded by one batch of [`BATCH`] rows per column (plus the
//! page the `parquet` crate's column reader is decoding), never by a row
//! group or the file: each column of the current row group is read through
//! its own typed column reader, `BATCH` records at a time.
//!
//! Positions count rows, not bytes: a record of row `n` (from 0) starts at
//! offset `n` and ends at `n + 1`, so an import's `--state` records how many
//! rows of the file are done, and [`ParquetReader::skip_to`] passes over
//! whole row groups to get back there.

use std::fs::File;

use anyhow::{bail, Result};
use parquet::basic::{ConvertedType, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::reader::{get_typed_column_reader, ColumnReader, ColumnReaderImpl};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, FixedLenByteArray, FixedLenByteArrayType,
    FloatType, Int32Type, Int64Type, Int96, Int96Type,
};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::{ColumnDescriptor, Type};

use super::record::{InputError, Record};
use crate::values::TargetType;

/// Rows read from each column at a time.
const BATCH: usize = 1024;

/// How the values of one column become text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `true` / `false`.
    Bool,
    /// `1` / `0`.
    BoolDigits,
    Int {
        unsigned: bool,
    },
    Decimal {
        scale: u32,
    },
    Float,
    Float16,
    /// Days since 1970-01-01.
    Date,
    Time(Unit),
    Timestamp {
        unit: Unit,
        utc: bool,
    },
    /// Impala/Spark's nanosecond timestamp (Julian day and nanoseconds of
    /// the day), read as pyarrow reads it: without a time zone.
    Int96,
    /// UTF-8 text (`STRING`, `ENUM`), passed on as it is.
    Text,
    /// `JSON` text, passed on as it is; embedded as JSON in a reject line.
    Json,
    /// Binary: hex, as the text formats carry it.
    Hex,
    /// Binary going into a text or JSON column: the bytes themselves
    /// (older writers store strings as unannotated `BYTE_ARRAY`).
    Raw,
    Uuid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn per_second(self) -> i64 {
        match self {
            Unit::Millis => 1_000,
            Unit::Micros => 1_000_000,
            Unit::Nanos => 1_000_000_000,
        }
    }

    fn digits(self) -> usize {
        match self {
            Unit::Millis => 3,
            Unit::Micros => 6,
            Unit::Nanos => 9,
        }
    }
}

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
        match reader {
            ColumnReader::BoolColumnReader(_) => {
                Typed::Bool(get_typed_column_reader(reader), Vec::new())
            }
            ColumnReader::Int32ColumnReader(_) => {
                Typed::I32(get_typed_column_reader(reader), Vec::new())
            }
            ColumnReader::Int64ColumnReader(_) => {
                Typed::I64(get_typed_column_reader(reader), Vec::new())
            }
            ColumnReader::Int96ColumnReader(_) => {
                Typed::I96(get_typed_column_reader(reader), Vec::new())
            }
            ColumnReader::FloatColumnReader(_) => {
                Typed::F32(get_typed_column_reader(reader), Vec::new())
            }
            ColumnReader::DoubleColumnReader(_) => {
                Typed::F64(get_typed_column_reader(reader), Vec::new())
            }
            ColumnReader::ByteArrayColumnReader(_) => {
                Typed::Bytes(get_typed_column_reader(reader), Vec::new())
            }
            ColumnReader::FixedLenByteArrayColumnReader(_) => {
                Typed::Fixed(get_typed_column_reader(reader), Vec::new())
            }
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
struct Field {
    name: String,
    /// Its leaf column in the file.
    leaf: usize,
    kind: Kind,
    max_def: i16,
    /// A `LIST`: the definition level of its repeated node (an element
    /// exists at or above it; one below, the list is empty; lower, NULL).
    list: Option<i16>,
    typed: Option<Typed>,
    defs: Vec<i16>,
    reps: Vec<i16>,
    /// Next level and next non-null value of the current batch.
    level_at: usize,
    value_at: usize,
}

pub struct ParquetReader {
    file: SerializedFileReader<File>,
    fields: Vec<Field>,
    /// The first row of each row group, and the total after the last.
    group_starts: Vec<u64>,
    /// The row group being read (`group_starts.len() - 1` at the end).
    group: usize,
    /// The next row to hand out, from 0.
    row: u64,
    /// Rows of the current batch not handed out yet.
    batch_left: usize,
    max_record_bytes: usize,
    keep_raw: bool,
    /// A read error is repeated by every later call.
    failed: Option<InputError>,
}

impl ParquetReader {
    /// Reads the footer of `file`. The error says what is wrong with the
    /// file as a whole (not Parquet, damaged footer).
    pub fn open(file: File, max_record_bytes: usize) -> Result<ParquetReader> {
        let file = match SerializedFileReader::new(file) {
            Ok(file) => file,
            Err(err) => bail!("not a readable Parquet file ({err})"),
        };
        let metadata = file.metadata();
        let mut group_starts = vec![0];
        for group in metadata.row_groups() {
            let last = group_starts[group_starts.len() - 1];
            group_starts.push(last + group.num_rows().max(0) as u64);
        }
        let schema = metadata.file_metadata().schema_descr();
        let mut fields: Vec<Field> = Vec::new();
        for leaf in 0..schema.num_columns() {
            let root = schema.get_column_root_idx(leaf);
            if root < fields.len() {
                continue; // a second leaf of a group: refused in `bind`
            }
            let column = schema.column(leaf);
            fields.push(Field {
                name: schema.root_schema().get_fields()[root].name().to_string(),
                leaf,
                kind: Kind::Text,
                max_def: column.max_def_level(),
                list: None,
                typed: None,
                defs: Vec::new(),
                reps: Vec::new(),
                level_at: 0,
                value_at: 0,
            });
        }
        Ok(ParquetReader {
            file,
            fields,
            group_starts,
            group: 0,
            row: 0,
            batch_left: 0,
            max_record_bytes,
            keep_raw: false,
            failed: None,
        })
    }

    /// The names of the file's top-level fields, in order.
    pub fn names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    pub fn total_rows(&self) -> u64 {
        self.group_starts[self.group_starts.len() - 1]
    }

    /// Rows handed out (or skipped) so far: the offset of the next record.
    pub fn position(&self) -> u64 {
        self.row
    }

    /// Fill `Record::raw` with an NDJSON line of each row, for a reject
    /// file.
    pub fn keep_raw(&mut self, keep: bool) {
        self.keep_raw = keep;
    }

    /// Decides how each field becomes text for the column it goes into
    /// (`targets[i]` for field `i`, named `columns[i]`). Fields Parquet
    /// nests (structs, maps, lists of lists) are refused here, naming the
    /// field, before any row is read; a `LIST` goes into a PostgreSQL
    /// array or a JSON column as JSON text.
    pub fn bind(&mut self, targets: &[(String, TargetType)]) -> Result<()> {
        let schema = self.file.metadata().file_metadata().schema_descr_ptr();
        let roots = schema.root_schema().get_fields();
        for (i, field) in self.fields.iter_mut().enumerate() {
            let Some((column, target)) = targets.get(i) else {
                break;
            };
            let root = &roots[schema.get_column_root_idx(field.leaf)];
            let leaves = (0..schema.num_columns())
                .filter(|&l| {
                    schema.get_column_root_idx(l) == schema.get_column_root_idx(field.leaf)
                })
                .count();
            let descr = schema.column(field.leaf);
            let nested = |what: &str| {
                anyhow::anyhow!(
                    "the Parquet field {:?} (for column {column:?}) is {what}, which dbchunk cannot \
                     import: flatten it first (e.g. with DuckDB: SELECT ... , to_json({}) AS {} \
                     ...) into a JSON column, or leave it out with a query",
                    field.name,
                    field.name,
                    field.name
                )
            };
            if leaves > 1 {
                return Err(nested("a group of several values (a struct or a map)"));
            }
            if descr.max_rep_level() > 1 {
                return Err(nested("a list of lists"));
            }
            if descr.max_rep_level() == 1 {
                if !matches!(target, TargetType::Array | TargetType::Json) {
                    bail!(
                        "the Parquet field {:?} is a LIST, which goes only into a PostgreSQL \
                         array or a JSON column (as JSON text), and column {column:?} is neither: \
                         import it into such a column, or leave the field out",
                        field.name
                    );
                }
                field.list = Some(repeated_def_level(root).ok_or_else(|| nested("a map"))?);
            } else if root.is_group() {
                return Err(nested("a group (a struct)"));
            }
            field.kind = kind_of(&descr, *target).map_err(|what| {
                anyhow::anyhow!(
                    "the Parquet field {:?} (for column {column:?}) is {what}, which dbchunk \
                     cannot import: cast it to a string, number or timestamp first",
                    field.name
                )
            })?;
        }
        Ok(())
    }

    /// Passes over the first `rows` rows without reading them: whole row
    /// groups are never opened, and within one the column readers skip
    /// (decoding only what their pages need).
    pub fn skip_to(&mut self, rows: u64) -> Result<(), InputError> {
        if rows <= self.row {
            return Ok(());
        }
        let rows = rows.min(self.total_rows());
        while self.group + 1 < self.group_starts.len() && self.group_starts[self.group + 1] <= rows
        {
            self.group += 1;
            self.row = self.group_starts[self.group];
            self.batch_left = 0;
            for field in &mut self.fields {
                field.typed = None;
            }
        }
        if self.row >= rows {
            return Ok(());
        }
        // Inside the group: drop what is left of the batch, then skip.
        self.open_group_if_needed()?;
        let mut left = rows - self.row;
        while left > 0 && self.batch_left > 0 {
            self.skip_batch_row();
            left -= 1;
        }
        if left > 0 {
            for i in 0..self.fields.len() {
                let skipped = self.fields[i]
                    .typed
                    .as_mut()
                    .expect("the group is open")
                    .skip(left as usize);
                match skipped {
                    Ok(n) if n as u64 == left => {}
                    Ok(n) => return Err(self.short(i, n)),
                    Err(err) => return Err(self.read_error(i, &err)),
                }
            }
            self.row += left;
        }
        Ok(())
    }

    /// The next row into `record`; `Ok(false)` after the last one.
    pub fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.batch_left == 0 {
            if self.row >= self.total_rows() {
                return Ok(false);
            }
            if let Err(err) = self.fill_batch() {
                self.failed = Some(err.clone());
                return Err(err);
            }
        }
        record.clear();
        let (group, in_group) = (self.group, self.row - self.group_starts[self.group]);
        record.line = self.row + 1;
        record.next_line = self.row + 2;
        record.start = self.row;
        record.end = self.row + 1;
        record.row_group = Some((group, in_group));
        record.strings.clear();
        for field in &mut self.fields {
            let start = record.buf.len();
            let present = match field.list {
                Some(element_def) => field.list_json(element_def, &mut record.buf),
                None => field.scalar(&mut record.buf),
            };
            record
                .fields
                .push(present.then_some((start, record.buf.len())));
        }
        self.row += 1;
        self.batch_left -= 1;
        if record.buf.len() > self.max_record_bytes {
            let message = format!(
                "row longer than {} bytes as text (raise --max-line-bytes)",
                self.max_record_bytes
            );
            record.clear();
            return Err(InputError {
                row_group: record.row_group,
                ..InputError::new(record.line, message)
            });
        }
        if self.keep_raw {
            self.raw_line(record);
        }
        Ok(true)
    }

    /// Opens the readers of the current row group when none is open.
    fn open_group_if_needed(&mut self) -> Result<(), InputError> {
        if self.fields.first().is_none_or(|f| f.typed.is_some()) {
            return Ok(());
        }
        let group = match self.file.get_row_group(self.group) {
            Ok(group) => group,
            Err(err) => {
                return Err(self.fatal(format!("cannot read row group {}: {err}", self.group)))
            }
        };
        for field in &mut self.fields {
            let reader = match group.get_column_reader(field.leaf) {
                Ok(reader) => reader,
                Err(err) => {
                    let message = format!(
                        "cannot read field {:?} of row group {}: {err}",
                        field.name, self.group
                    );
                    return Err(InputError {
                        fatal: true,
                        ..InputError::new(self.row + 1, message)
                    });
                }
            };
            field.typed = Some(Typed::new(reader));
        }
        Ok(())
    }

    /// Reads the next batch of every column, moving to the next row group
    /// when this one is done.
    fn fill_batch(&mut self) -> Result<(), InputError> {
        while self.row >= self.group_starts[self.group + 1] {
            self.group += 1;
            for field in &mut self.fields {
                field.typed = None;
            }
        }
        self.open_group_if_needed()?;
        let rows = (self.group_starts[self.group + 1] - self.row).min(BATCH as u64) as usize;
        for i in 0..self.fields.len() {
            let field = &mut self.fields[i];
            let typed = field.typed.as_mut().expect("the group is open");
            let read = typed.read(rows, &mut field.defs, &mut field.reps);
            (field.level_at, field.value_at) = (0, 0);
            match read {
                Ok(n) if n == rows => {}
                Ok(n) => return Err(self.short(i, n)),
                Err(err) => return Err(self.read_error(i, &err)),
            }
        }
        self.batch_left = rows;
        Ok(())
    }

    /// Moves every column past one row of the batch.
    fn skip_batch_row(&mut self) {
        let mut scratch = Vec::new();
        for field in &mut self.fields {
            scratch.clear();
            match field.list {
                Some(element_def) => {
                    field.list_json(element_def, &mut scratch);
                }
                None => {
                    field.scalar(&mut scratch);
                }
            }
        }
        self.row += 1;
        self.batch_left -= 1;
    }

    fn short(&self, field: usize, got: usize) -> InputError {
        self.fatal(format!(
            "field {:?} of row group {} ends early ({got} more rows read where the row group \
             declares more): the file is damaged",
            self.fields[field].name, self.group
        ))
    }

    fn read_error(&self, field: usize, err: &parquet::errors::ParquetError) -> InputError {
        self.fatal(format!(
            "cannot read field {:?} of row group {}: {err}",
            self.fields[field].name, self.group
        ))
    }

    fn fatal(&self, message: String) -> InputError {
        InputError {
            fatal: true,
            row_group: Some((self.group, self.row - self.group_starts[self.group])),
            ..InputError::new(self.row + 1, message)
        }
    }

    /// The row as one NDJSON object, for a reject file: numbers, booleans
    /// and JSON as themselves, everything else as its text, so the line can
    /// be imported again with `--format ndjson` once fixed.
    fn raw_line(&self, record: &mut Record) {
        let mut raw = std::mem::take(&mut record.raw);
        raw.clear();
        raw.push(b'{');
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                raw.push(b',');
            }
            push_json_string(&mut raw, field.name.as_bytes());
            raw.push(b':');
            match record.get(i).flatten() {
                None => raw.extend_from_slice(b"null"),
                Some(text) => {
                    let bare = match (field.kind, field.list) {
                        (_, Some(_)) | (Kind::Json, _) => {
                            serde_json::from_slice::<serde_json::Value>(text).is_ok()
                        }
                        (Kind::Bool | Kind::BoolDigits | Kind::Int { .. }, _) => true,
                        (Kind::Decimal { .. }, _) => true,
                        (Kind::Float | Kind::Float16, _) => text
                            .iter()
                            .all(|b| b.is_ascii_digit() || b"+-.e".contains(b)),
                        _ => false,
                    };
                    match bare {
                        true => raw.extend_from_slice(text),
                        false => push_json_string(&mut raw, text),
                    }
                }
            }
        }
        raw.push(b'}');
        record.raw = raw;
    }
}

impl Field {
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

/// The definition level of the repeated node under a `LIST` field, for
/// the standard three-level layout and the older two-level ones.
fn repeated_def_level(root: &Type) -> Option<i16> {
    let mut level = 0;
    let mut node = root;
    loop {
        let info = node.get_basic_info();
        if info.has_repetition() && info.repetition() != Repetition::REQUIRED {
            level += 1;
        }
        if info.has_repetition() && info.repetition() == Repetition::REPEATED {
            return Some(level);
        }
        match node {
            Type::GroupType { fields, .. } if fields.len() == 1 => node = &fields[0],
            _ => return None,
        }
    }
}

/// How a leaf column's values become text, from its logical type (or the
/// older converted type) and, for binary, the target column's type.
fn kind_of(descr: &ColumnDescriptor, target: TargetType) -> Result<Kind, String> {
    let physical = descr.physical_type();
    let unit = |u: &TimeUnit| match u {
        TimeUnit::MILLIS => Unit::Millis,
        TimeUnit::MICROS => Unit::Micros,
        TimeUnit::NANOS => Unit::Nanos,
    };
    // Binary is hex, as the text formats carry it, except into a text or
    // JSON column: older writers store strings as unannotated binary.
    let binary = match target {
        TargetType::Text | TargetType::Json => Kind::Raw,
        _ => Kind::Hex,
    };
    let kind = match (descr.logical_type_ref(), physical) {
        // A boolean into a column that takes no `true` (an integer, a
        // SQLite BOOLEAN, which is a number) is 1 or 0, as CSV has it.
        (_, Physical::BOOLEAN) => match target {
            TargetType::Bool
            | TargetType::IntOrBool { .. }
            | TargetType::Text
            | TargetType::Json
            | TargetType::Array => Kind::Bool,
            _ => Kind::BoolDigits,
        },
        (_, Physical::INT96) => Kind::Int96,
        (_, Physical::FLOAT | Physical::DOUBLE) => Kind::Float,
        (Some(LogicalType::Decimal(d)), _) => Kind::Decimal {
            scale: d.scale.max(0) as u32,
        },
        (Some(LogicalType::Integer(i)), _) => Kind::Int {
            unsigned: !i.is_signed,
        },
        (Some(LogicalType::Date), Physical::INT32) => Kind::Date,
        (Some(LogicalType::Time(t)), _) => Kind::Time(unit(&t.unit)),
        (Some(LogicalType::Timestamp(t)), Physical::INT64) => Kind::Timestamp {
            unit: unit(&t.unit),
            utc: t.is_adjusted_to_u_t_c,
        },
        (Some(LogicalType::String | LogicalType::Enum), _) => Kind::Text,
        (Some(LogicalType::Json), _) => Kind::Json,
        (Some(LogicalType::Uuid), Physical::FIXED_LEN_BYTE_ARRAY) if descr.type_length() == 16 => {
            Kind::Uuid
        }
        (Some(LogicalType::Float16), Physical::FIXED_LEN_BYTE_ARRAY) => Kind::Float16,
        (Some(LogicalType::Bson | LogicalType::Unknown), _) => binary,
        (Some(LogicalType::Geometry(_) | LogicalType::Geography(_)), _) => binary,
        (Some(other), _) => return Err(format!("of logical type {other:?}")),
        (None, _) => match descr.converted_type() {
            ConvertedType::UTF8 | ConvertedType::ENUM => Kind::Text,
            ConvertedType::JSON => Kind::Json,
            ConvertedType::DECIMAL => Kind::Decimal {
                scale: descr.type_scale().max(0) as u32,
            },
            ConvertedType::DATE => Kind::Date,
            ConvertedType::TIME_MILLIS => Kind::Time(Unit::Millis),
            ConvertedType::TIME_MICROS => Kind::Time(Unit::Micros),
            // The older annotations mean instants (isAdjustedToUTC).
            ConvertedType::TIMESTAMP_MILLIS => Kind::Timestamp {
                unit: Unit::Millis,
                utc: true,
            },
            ConvertedType::TIMESTAMP_MICROS => Kind::Timestamp {
                unit: Unit::Micros,
                utc: true,
            },
            ConvertedType::UINT_8
            | ConvertedType::UINT_16
            | ConvertedType::UINT_32
            | ConvertedType::UINT_64 => Kind::Int { unsigned: true },
            ConvertedType::INTERVAL => return Err("an INTERVAL".into()),
            _ => match physical {
                Physical::INT32 | Physical::INT64 => Kind::Int { unsigned: false },
                _ => binary,
            },
        },
    };
    match (kind, physical) {
        (Kind::Int { .. } | Kind::Date | Kind::Time(_), Physical::INT32 | Physical::INT64)
        | (Kind::Decimal { .. }, _)
        | (Kind::Text | Kind::Json | Kind::Hex | Kind::Raw, _) => Ok(kind),
        (Kind::Int { .. } | Kind::Date | Kind::Time(_), _) => {
            Err(format!("{kind:?} stored as {physical}"))
        }
        _ => Ok(kind),
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

fn write_int(value: i64, kind: Kind, bits: u32, out: &mut Vec<u8>) {
    let mut buffer = itoa::Buffer::new();
    match kind {
        Kind::Int { unsigned: true } if bits == 32 => {
            out.extend_from_slice(buffer.format(value as u32).as_bytes())
        }
        Kind::Int { unsigned: true } => {
            out.extend_from_slice(buffer.format(value as u64).as_bytes())
        }
        Kind::Decimal { scale } => write_decimal(i128::from(value), scale, out),
        Kind::Date => write_date(value, out),
        Kind::Time(unit) => write_time(value, unit, out),
        Kind::Timestamp { unit, utc } => {
            let per_day = unit.per_second() * 86_400;
            write_timestamp(
                value.div_euclid(per_day),
                value.rem_euclid(per_day),
                unit,
                utc,
                out,
            )
        }
        _ => out.extend_from_slice(buffer.format(value).as_bytes()),
    }
}

fn write_bytes(bytes: &[u8], kind: Kind, out: &mut Vec<u8>) {
    match kind {
        Kind::Decimal { scale } => write_wide_decimal(bytes, scale, out),
        Kind::Hex => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for &b in bytes {
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
        }
        Kind::Uuid => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for (i, &b) in bytes.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    out.push(b'-');
                }
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
        }
        Kind::Float16 if bytes.len() == 2 => crate::format::float::write_f32(
            out,
            f16_to_f32(u16::from_le_bytes([bytes[0], bytes[1]])),
        ),
        _ => out.extend_from_slice(bytes),
    }
}

/// An unscaled decimal as its digits with `scale` of them after the point
/// (`-150`, 2 → `-1.50`), as the engines print `numeric(p,s)`.
fn write_decimal(unscaled: i128, scale: u32, out: &mut Vec<u8>) {
    if unscaled < 0 {
        out.push(b'-');
    }
    let mut buffer = itoa::Buffer::new();
    point(
        buffer.format(unscaled.unsigned_abs()).as_bytes(),
        scale,
        out,
    );
}

/// Digits with a decimal point `scale` places from the right, zeros added
/// in front as needed.
fn point(digits: &[u8], scale: u32, out: &mut Vec<u8>) {
    let scale = scale as usize;
    if scale == 0 {
        out.extend_from_slice(digits);
        return;
    }
    if digits.len() <= scale {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + scale - digits.len(), b'0');
        out.extend_from_slice(digits);
        return;
    }
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    out.extend_from_slice(whole);
    out.push(b'.');
    out.extend_from_slice(fraction);
}

/// A decimal stored as big-endian two's complement bytes of any length.
fn write_wide_decimal(bytes: &[u8], scale: u32, out: &mut Vec<u8>) {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    if bytes.len() <= 16 {
        let fill = if negative { 0xff } else { 0 };
        let mut wide = [fill; 16];
        wide[16 - bytes.len()..].copy_from_slice(bytes);
        return write_decimal(i128::from_be_bytes(wide), scale, out);
    }
    // The magnitude, in base 10^9 limbs by long division of the bytes.
    let mut magnitude: Vec<u8> = bytes.to_vec();
    if negative {
        let mut carry = 1u16;
        for b in magnitude.iter_mut().rev() {
            let v = u16::from(!*b) + carry;
            *b = v as u8;
            carry = v >> 8;
        }
    }
    let mut limbs: Vec<u32> = Vec::new();
    while magnitude.iter().any(|&b| b != 0) {
        let mut remainder = 0u64;
        for b in magnitude.iter_mut() {
            let v = (remainder << 8) | u64::from(*b);
            *b = (v / 1_000_000_000) as u8;
            remainder = v % 1_000_000_000;
        }
        limbs.push(remainder as u32);
    }
    let mut digits = Vec::with_capacity(limbs.len() * 9 + 1);
    match limbs.split_last() {
        None => digits.push(b'0'),
        Some((top, rest)) => {
            digits.extend_from_slice(top.to_string().as_bytes());
            for limb in rest.iter().rev() {
                digits.extend_from_slice(format!("{limb:09}").as_bytes());
            }
        }
    }
    if negative {
        out.push(b'-');
    }
    point(&digits, scale, out);
}

/// `YYYY-MM-DD`, or `YYYY-MM-DD BC` before year 1, as PostgreSQL writes
/// it (and the text formats carry it).
fn write_date(days: i64, out: &mut Vec<u8>) {
    let date = crate::values::civil_from_days(days);
    write_ymd(date, out);
    if date.year <= 0 {
        out.extend_from_slice(b" BC");
    }
}

fn write_ymd(date: crate::values::Date, out: &mut Vec<u8>) {
    use std::io::Write;
    let year = if date.year <= 0 {
        1 - date.year
    } else {
        date.year
    };
    let _ = write!(out, "{year:04}-{:02}-{:02}", date.month, date.day);
}

/// `HH:MM:SS[.fraction]` with trailing zeros of the fraction dropped.
fn write_clock(units: i64, unit: Unit, out: &mut Vec<u8>) {
    use std::io::Write;
    let per_second = unit.per_second();
    let (seconds, fraction) = (units.div_euclid(per_second), units.rem_euclid(per_second));
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if fraction != 0 {
        let text = format!("{fraction:0width$}", width = unit.digits());
        out.push(b'.');
        out.extend_from_slice(text.trim_end_matches('0').as_bytes());
    }
}

fn write_time(units: i64, unit: Unit, out: &mut Vec<u8>) {
    write_clock(units, unit, out);
}

/// `YYYY-MM-DDTHH:MM:SS[.f]`, with `+00:00` for an instant, and ` BC`
/// last before year 1, as dbchunk's export writes timestamps.
fn write_timestamp(days: i64, units: i64, unit: Unit, utc: bool, out: &mut Vec<u8>) {
    let date = crate::values::civil_from_days(days);
    write_ymd(date, out);
    out.push(b'T');
    write_clock(units, unit, out);
    if utc {
        out.extend_from_slice(b"+00:00");
    }
    if date.year <= 0 {
        out.extend_from_slice(b" BC");
    }
}

/// A list element as JSON: numbers and booleans as themselves, anything
/// else as a JSON string of its text.
fn json_element(typed: &Typed, at: usize, kind: Kind, out: &mut Vec<u8>) {
    let start = out.len();
    write_value(typed, at, kind, out);
    let number = match kind {
        Kind::Bool | Kind::BoolDigits | Kind::Int { .. } | Kind::Decimal { .. } => true,
        Kind::Float | Kind::Float16 => out[start..]
            .iter()
            .all(|b| b.is_ascii_digit() || b"+-.e".contains(b)),
        _ => false,
    };
    if !number {
        let text = out.split_off(start);
        push_json_string(out, &text);
    }
}

fn push_json_string(out: &mut Vec<u8>, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    serde_json::to_writer(&mut *out, &*text).expect("writing to a Vec");
}

/// IEEE half precision to single (exact: every half is a single).
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits >> 15) << 31;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let mantissa = u32::from(bits & 0x3ff);
    let value = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalise.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (m << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn decimals_keep_every_digit() {
        assert_eq!(text(|o| write_decimal(-150, 2, o)), "-1.50");
        assert_eq!(text(|o| write_decimal(5, 3, o)), "0.005");
        assert_eq!(text(|o| write_decimal(-5, 3, o)), "-0.005");
        assert_eq!(text(|o| write_decimal(0, 2, o)), "0.00");
        assert_eq!(text(|o| write_decimal(42, 0, o)), "42");
        assert_eq!(text(|o| write_wide_decimal(&[0xff, 0x6a], 1, o)), "-15.0");
        // 10^40 in 17 bytes, and its negation.
        let mut bytes = [0u8; 32];
        crate::format::parquet::text::parse_wide_decimal(
            b"10000000000000000000000000000000000000000.5",
            1,
            &mut bytes,
        )
        .unwrap();
        assert_eq!(
            text(|o| write_wide_decimal(&bytes, 1, o)),
            "10000000000000000000000000000000000000000.5"
        );
        crate::format::parquet::text::parse_wide_decimal(
            b"-12345678901234567890123456789012345678901234.000001",
            6,
            &mut bytes,
        )
        .unwrap();
        assert_eq!(
            text(|o| write_wide_decimal(&bytes, 6, o)),
            "-12345678901234567890123456789012345678901234.000001"
        );
    }

    #[test]
    fn times_and_timestamps_read_back_as_export_writes_them() {
        assert_eq!(text(|o| write_date(0, o)), "1970-01-01");
        assert_eq!(text(|o| write_date(-719_163, o)), "0001-12-31 BC");
        assert_eq!(text(|o| write_date(-719_893, o)), "0002-01-01 BC");
        assert_eq!(
            text(|o| write_time(86_400_000_000, Unit::Micros, o)),
            "24:00:00"
        );
        assert_eq!(
            text(|o| write_time(3_723_500, Unit::Millis, o)),
            "01:02:03.5"
        );
        let ts =
            |v: i64, unit: Unit, utc| text(|o| write_int(v, Kind::Timestamp { unit, utc }, 64, o));
        assert_eq!(ts(1_500, Unit::Millis, true), "1970-01-01T00:00:01.5+00:00");
        assert_eq!(ts(-1, Unit::Micros, false), "1969-12-31T23:59:59.999999");
        assert_eq!(
            ts(1_000_000_001, Unit::Nanos, false),
            "1970-01-01T00:00:01.000000001"
        );
    }

    #[test]
    fn binary_uuid_and_halves() {
        assert_eq!(text(|o| write_bytes(&[0, 0xab], Kind::Hex, o)), "00ab");
        let uuid: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            text(|o| write_bytes(&uuid, Kind::Uuid, o)),
            "00010203-0405-0607-0809-0a0b0c0d0e0f"
        );
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7e00).is_nan());
    }
}
