//! Parquet: typed columns from the catalog, row groups cut by size,
//! compressed inside the file.
//!
//! Values are buffered per column (flat vectors, one byte buffer for all
//! strings of a column) until the row group holds `--row-group-size`
//! bytes; then each column is written through the `parquet` crate's
//! low-level column writers and its buffer freed before the next, so
//! memory holds about one row group of values plus its compressed form.
//! The file is written front to back (magic, row groups, footer), so it
//! can go to stdout. The schema comes from each [`Column`]'s [`ColType`]
//! ([`schema::field`]), never from the values.

mod schema;
pub mod text;

use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DataType, DoubleType, FixedLenByteArray,
    FixedLenByteArrayType, FloatType, Int32Type, Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};

use super::write_scalar;
use crate::cell::{Cell, Column};
use crate::coltype::ColType;
pub use schema::{Compression, Layout};

/// How a Parquet file is written (`--row-group-size`,
/// `--parquet-compression`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParquetOptions {
    pub row_group_bytes: usize,
    pub compression: Compression,
}

impl Default for ParquetOptions {
    fn default() -> ParquetOptions {
        ParquetOptions {
            row_group_bytes: 32 << 20,
            compression: Compression::Zstd(1),
        }
    }
}

/// Rows handed to a column writer at a time, so the `ByteArray` handles
/// built for a batch stay small.
const BATCH_ROWS: usize = 8192;

pub(super) struct Parquet {
    writer: SerializedFileWriter<Vec<u8>>,
    columns: Vec<Buffered>,
    /// Rows in the current row group.
    rows: usize,
    /// Bytes of values buffered for the current row group.
    size: usize,
    limit: usize,
    /// Row groups written so far: a rewind cannot go back past one.
    groups: u64,
}

struct Buffered {
    name: String,
    ty: ColType,
    layout: Layout,
    store: Store,
    /// 1 for a value, 0 for NULL.
    defs: Vec<i16>,
}

enum Store {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    /// Variable-length values back to back; `ends[i]` is where value `i`
    /// ends, so no value needs an allocation of its own.
    Bytes {
        data: Vec<u8>,
        ends: Vec<usize>,
    },
    Fixed {
        data: Vec<u8>,
        width: usize,
    },
}

/// Where a row group stood, to go back to (a chunk read again).
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    rows: usize,
    groups: u64,
}

impl Parquet {
    pub(super) fn new(columns: &[Column], options: ParquetOptions) -> Result<Parquet> {
        let fields: Vec<_> = columns
            .iter()
            .map(|c| schema::field(&c.name, c.ty))
            .collect::<Result<_>>()?;
        let layouts: Vec<Layout> = columns.iter().map(|c| schema::layout(c.ty)).collect();
        let message = parquet::schema::types::Type::group_type_builder("schema")
            .with_fields(fields.into_iter().map(Arc::new).collect())
            .build()
            .context("building the Parquet schema")?;
        let mut properties = WriterProperties::builder()
            .set_compression(options.compression.codec()?)
            .set_created_by(format!("dbchunk {}", env!("CARGO_PKG_VERSION")));
        // A dictionary pays for strings that repeat (enums, codes, names).
        // For numbers, dates and times it was 14% of an export's CPU, spent
        // mostly on columns of distinct values (keys, amounts, instants)
        // whose dictionary overflows and is thrown away; zstd finds the
        // repeats that remain.
        for (column, layout) in columns.iter().zip(&layouts) {
            if *layout != Layout::Bytes {
                let path = parquet::schema::types::ColumnPath::from(column.name.as_str());
                properties = properties.set_column_dictionary_enabled(path, false);
            }
        }
        let properties = properties.build();
        let writer = SerializedFileWriter::new(Vec::new(), Arc::new(message), Arc::new(properties))
            .context("starting the Parquet file")?;
        let columns = columns
            .iter()
            .zip(layouts)
            .map(|(c, layout)| Buffered {
                name: c.name.clone(),
                ty: c.ty,
                layout,
                store: Store::new(layout, 0),
                defs: Vec::new(),
            })
            .collect();
        Ok(Parquet {
            writer,
            columns,
            rows: 0,
            size: 0,
            limit: options.row_group_bytes.max(1),
            groups: 0,
        })
    }

    /// Moves what the file writer has written so far (the magic, whole row
    /// groups, the footer) to `out`.
    pub(super) fn drain(&mut self, out: &mut Vec<u8>) -> Result<()> {
        self.writer.flush()?;
        let written = self.writer.inner_mut();
        match out.is_empty() {
            // Handing over the whole vector keeps one row group's
            // worth of capacity alive, not two.
            true => std::mem::swap(out, written),
            false => out.append(written),
        }
        Ok(())
    }

    /// Buffers one value; an error names the column and what to do.
    #[inline]
    pub(super) fn cell(
        &mut self,
        column: usize,
        cell: Cell<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), String> {
        let Some(buffered) = self.columns.get_mut(column) else {
            return Err(format!(
                "the row has more values than the {} columns",
                self.columns.len()
            ));
        };
        let before = buffered.store.bytes();
        let result = buffered.push(cell, scratch);
        if result.is_err() {
            // Keep every column the same length; the export stops anyway.
            buffered.defs.push(0);
        }
        self.size += buffered.store.bytes() - before + 2;
        result
    }

    pub(super) fn end_row(&mut self) {
        self.rows += 1;
    }

    pub(super) fn full(&self) -> bool {
        self.size >= self.limit
    }

    pub(super) fn mark(&self) -> Mark {
        Mark {
            rows: self.rows,
            groups: self.groups,
        }
    }

    /// Forgets the rows after `mark`; `false` if a row group was written
    /// since (its rows cannot be taken back).
    pub(super) fn rewind(&mut self, mark: Mark) -> bool {
        if mark.groups != self.groups {
            return false;
        }
        for column in &mut self.columns {
            column.truncate(mark.rows);
        }
        self.rows = mark.rows;
        self.size = self
            .columns
            .iter()
            .map(|c| c.store.bytes() + 2 * c.defs.len())
            .sum();
        true
    }

    /// Writes the buffered rows as one row group (nothing if none).
    pub(super) fn write_row_group(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group()?;
        for column in &mut self.columns {
            let mut writer = group
                .next_column()?
                .context("the Parquet schema has fewer columns than the export")?;
            // Taken out, written, then dropped: each column's values are
            // freed as soon as they are encoded.
            let capacity = column.store.len();
            let store = std::mem::replace(&mut column.store, Store::new(column.layout, capacity));
            let defs = std::mem::replace(&mut column.defs, Vec::with_capacity(self.rows));
            write_column(&mut writer, store, &defs)
                .with_context(|| format!("writing column {:?} to Parquet", column.name))?;
            writer.close()?;
        }
        group.close()?;
        self.rows = 0;
        self.size = 0;
        self.groups += 1;
        Ok(())
    }

    /// Writes the last row group and the footer.
    pub(super) fn finish(&mut self) -> Result<()> {
        self.write_row_group()?;
        self.writer.finish()?;
        Ok(())
    }
}

impl Buffered {
    #[inline]
    fn push(&mut self, cell: Cell<'_>, scratch: &mut Vec<u8>) -> Result<(), String> {
        if cell == Cell::Null {
            self.defs.push(0);
            return Ok(());
        }
        let pushed = match (&mut self.store, self.ty) {
            (Store::Bool(values), _) => bool_of(cell).map(|b| values.push(b)),
            (Store::I32(values), ColType::Int { bits, signed }) => {
                int_of(cell, bits, signed).map(|v| values.push(v as u32 as i32))
            }
            (Store::I32(values), ColType::Decimal { scale, .. }) => {
                unscaled(cell, scratch, scale).map(|v| values.push(v))
            }
            (Store::I32(values), ColType::Date) => text_of(cell)
                .and_then(text::parse_date)
                .map(|v| values.push(v)),
            (Store::I64(values), ColType::Int { bits, signed }) => {
                int_of(cell, bits, signed).map(|v| values.push(v as u64 as i64))
            }
            (Store::I64(values), ColType::Decimal { scale, .. }) => {
                unscaled(cell, scratch, scale).map(|v| values.push(v))
            }
            (Store::I64(values), ColType::Time) => text_of(cell)
                .and_then(text::parse_time)
                .map(|v| values.push(v)),
            (Store::I64(values), ColType::Timestamp { utc }) => text_of(cell)
                .and_then(|t| text::parse_timestamp(t, utc))
                .map(|v| values.push(v)),
            (Store::F32(values), _) => f32_of(cell).map(|v| values.push(v)),
            (Store::F64(values), _) => f64_of(cell).map(|v| values.push(v)),
            (Store::Fixed { data, .. }, ColType::Uuid) => text_of(cell)
                .and_then(text::parse_uuid)
                .map(|u| data.extend_from_slice(&u)),
            (Store::Fixed { data, width }, ColType::Decimal { scale, .. }) => {
                let at = data.len();
                data.resize(at + *width, 0);
                let parsed = decimal_text(cell, scratch)
                    .and_then(|t| text::parse_wide_decimal(t, scale, &mut data[at..]));
                if parsed.is_none() {
                    data.truncate(at);
                }
                parsed
            }
            (Store::Bytes { data, ends }, ty) => {
                let ok = match ty {
                    ColType::Binary => binary_bytes(cell, data),
                    _ => string_bytes(cell, data, scratch),
                };
                if ok.is_some() {
                    ends.push(data.len());
                }
                ok
            }
            _ => None,
        };
        match pushed {
            Some(()) => {
                self.defs.push(1);
                Ok(())
            }
            None => Err(self.refusal(cell)),
        }
    }

    /// Why a value cannot be written in this column's Parquet type.
    fn refusal(&self, cell: Cell<'_>) -> String {
        let mut shown = Vec::new();
        if !write_scalar(&mut shown, cell) {
            if let Cell::Text(t) | Cell::Number(t) | Cell::Json(t) = cell {
                shown.extend_from_slice(&t[..t.len().min(60)]);
            }
        }
        let shown = String::from_utf8_lossy(&shown);
        let hint = match self.ty {
            ColType::Text | ColType::Enum | ColType::Json | ColType::Other => {
                "Parquet strings must be valid UTF-8; export with --format csv or tsv, which keep \
                 the bytes as they are"
            }
            _ => {
                "Parquet cannot hold it in this column's type; select the column as text in \
                 --query (e.g. CAST(col AS TEXT)), or export with --format csv"
            }
        };
        format!(
            "column {:?} ({}) holds {shown:?}, which is not a {}: {hint}",
            self.name,
            schema::describe(self.ty),
            schema::describe(self.ty),
        )
    }

    fn truncate(&mut self, rows: usize) {
        let values = self.defs[..rows].iter().filter(|&&d| d == 1).count();
        self.defs.truncate(rows);
        match &mut self.store {
            Store::Bool(v) => v.truncate(values),
            Store::I32(v) => v.truncate(values),
            Store::I64(v) => v.truncate(values),
            Store::F32(v) => v.truncate(values),
            Store::F64(v) => v.truncate(values),
            Store::Bytes { data, ends } => {
                ends.truncate(values);
                data.truncate(ends.last().copied().unwrap_or(0));
            }
            Store::Fixed { data, width } => data.truncate(values * *width),
        }
    }
}

impl Store {
    fn new(layout: Layout, capacity: usize) -> Store {
        match layout {
            Layout::Bool => Store::Bool(Vec::with_capacity(capacity)),
            Layout::I32 => Store::I32(Vec::with_capacity(capacity)),
            Layout::I64 => Store::I64(Vec::with_capacity(capacity)),
            Layout::F32 => Store::F32(Vec::with_capacity(capacity)),
            Layout::F64 => Store::F64(Vec::with_capacity(capacity)),
            Layout::Bytes => Store::Bytes {
                data: Vec::new(),
                ends: Vec::with_capacity(capacity),
            },
            Layout::Fixed(width) => Store::Fixed {
                data: Vec::with_capacity(capacity * width),
                width,
            },
        }
    }

    /// Values buffered.
    fn len(&self) -> usize {
        match self {
            Store::Bool(v) => v.len(),
            Store::I32(v) => v.len(),
            Store::I64(v) => v.len(),
            Store::F32(v) => v.len(),
            Store::F64(v) => v.len(),
            Store::Bytes { ends, .. } => ends.len(),
            Store::Fixed { data, width } => data.len() / width,
        }
    }

    /// Bytes buffered, for cutting row groups by size.
    fn bytes(&self) -> usize {
        match self {
            Store::Bool(v) => v.len(),
            Store::I32(v) => v.len() * 4,
            Store::F32(v) => v.len() * 4,
            Store::I64(v) => v.len() * 8,
            Store::F64(v) => v.len() * 8,
            Store::Bytes { data, ends } => data.len() + ends.len() * 8,
            Store::Fixed { data, .. } => data.len(),
        }
    }
}

/// Writes one column chunk, `BATCH_ROWS` rows at a time.
fn write_column(writer: &mut SerializedColumnWriter<'_>, store: Store, defs: &[i16]) -> Result<()> {
    let mut start = 0; // first value of the batch
    let mut batches = defs.chunks(BATCH_ROWS).map(move |levels| {
        let values = levels.iter().filter(|&&d| d == 1).count();
        let range = start..start + values;
        start += values;
        (levels, range)
    });
    match store {
        Store::Bool(v) => write_values::<BoolType>(writer, batches, &v)?,
        Store::I32(v) => write_values::<Int32Type>(writer, batches, &v)?,
        Store::I64(v) => write_values::<Int64Type>(writer, batches, &v)?,
        Store::F32(v) => write_values::<FloatType>(writer, batches, &v)?,
        Store::F64(v) => write_values::<DoubleType>(writer, batches, &v)?,
        Store::Bytes { data, ends } => {
            // One shared buffer; each value is a slice of it (no copy).
            let data = Bytes::from(data);
            let mut values = Vec::with_capacity(BATCH_ROWS);
            batches.try_for_each(|(levels, r)| {
                values.clear();
                for i in r {
                    let from = if i == 0 { 0 } else { ends[i - 1] };
                    values.push(ByteArray::from(data.slice(from..ends[i])));
                }
                write_batch::<ByteArrayType>(writer, &values, levels)
            })?
        }
        Store::Fixed { data, width } => {
            let data = Bytes::from(data);
            let mut values = Vec::with_capacity(BATCH_ROWS);
            batches.try_for_each(|(levels, r)| {
                values.clear();
                for i in r {
                    let value = ByteArray::from(data.slice(i * width..(i + 1) * width));
                    values.push(FixedLenByteArray::from(value));
                }
                write_batch::<FixedLenByteArrayType>(writer, &values, levels)
            })?
        }
    }
    Ok(())
}

/// Writes a column whose values are stored as the writer takes them,
/// batch by batch.
fn write_values<'l, T: DataType>(
    writer: &mut SerializedColumnWriter<'_>,
    mut batches: impl Iterator<Item = (&'l [i16], std::ops::Range<usize>)>,
    values: &[T::T],
) -> parquet::errors::Result<()> {
    batches.try_for_each(|(levels, r)| write_batch::<T>(writer, &values[r], levels))
}

/// Writes one batch of a column: its definition levels and the values
/// of its non-null rows.
fn write_batch<T: DataType>(
    writer: &mut SerializedColumnWriter<'_>,
    values: &[T::T],
    levels: &[i16],
) -> parquet::errors::Result<()> {
    writer
        .typed::<T>()
        .write_batch(values, Some(levels), None)
        .map(drop)
}

fn text_of(cell: Cell<'_>) -> Option<&[u8]> {
    match cell {
        Cell::Text(t) | Cell::Number(t) => Some(t),
        _ => None,
    }
}

/// A decimal's digits: server text, or an integer written out.
fn decimal_text<'a>(cell: Cell<'a>, scratch: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    match cell {
        Cell::Text(t) | Cell::Number(t) => Some(t),
        Cell::Int(_) | Cell::UInt(_) => {
            scratch.clear();
            write_scalar(scratch, cell);
            Some(scratch)
        }
        _ => None,
    }
}

/// A decimal as its unscaled integer (`12.34` at scale 2: 1234), if it
/// fits in `T`.
fn unscaled<T: TryFrom<i128>>(cell: Cell<'_>, scratch: &mut Vec<u8>, scale: u32) -> Option<T> {
    decimal_text(cell, scratch)
        .and_then(|t| text::parse_decimal(t, scale))
        .and_then(|v| T::try_from(v).ok())
}

fn bool_of(cell: Cell<'_>) -> Option<bool> {
    match cell {
        Cell::Bool(b) => Some(b),
        Cell::Int(0) | Cell::UInt(0) => Some(false),
        Cell::Int(1) | Cell::UInt(1) => Some(true),
        Cell::Text(b"true" | b"t") => Some(true),
        Cell::Text(b"false" | b"f") => Some(false),
        _ => None,
    }
}

/// An integer that fits `bits` bits of the given signedness.
fn int_of(cell: Cell<'_>, bits: u8, signed: bool) -> Option<i128> {
    let value = match cell {
        Cell::Int(v) => i128::from(v),
        Cell::UInt(v) => i128::from(v),
        Cell::Number(t) | Cell::Text(t) => text::parse_int(t)?,
        _ => return None,
    };
    let (min, max) = match signed {
        true => (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1),
        false => (0, (1i128 << bits) - 1),
    };
    (min..=max).contains(&value).then_some(value)
}

fn f32_of(cell: Cell<'_>) -> Option<f32> {
    match cell {
        Cell::F32(v) => Some(v),
        Cell::F64(v) => Some(v as f32).filter(|f| f64::from(*f) == v || v.is_nan()),
        Cell::Number(t) | Cell::Text(t) => text::parse_f32(t),
        Cell::Int(v) => Some(v as f32).filter(|f| exact_int(f64::from(*f), v)),
        _ => None,
    }
}

fn f64_of(cell: Cell<'_>) -> Option<f64> {
    match cell {
        Cell::F64(v) => Some(v),
        Cell::F32(v) => Some(f64::from(v)),
        Cell::Number(t) | Cell::Text(t) => text::parse_f64(t),
        // A float only where it is the same number.
        Cell::Int(v) => Some(v as f64).filter(|f| exact_int(*f, v)),
        Cell::UInt(v) => Some(v as f64).filter(|f| *f < u64::MAX as f64 && *f as u64 == v),
        _ => None,
    }
}

fn exact_int(f: f64, v: i64) -> bool {
    // 2^63 is exactly representable; `as` saturates beyond it.
    (i64::MIN as f64..-(i64::MIN as f64)).contains(&f) && f as i64 == v
}

/// A string column's bytes: text as it is (it must be UTF-8), anything
/// else as its canonical text.
fn string_bytes(cell: Cell<'_>, data: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Option<()> {
    match cell {
        Cell::Text(t) | Cell::Number(t) | Cell::Json(t) => {
            std::str::from_utf8(t).ok()?;
            data.extend_from_slice(t);
        }
        _ => {
            scratch.clear();
            write_scalar(scratch, cell);
            data.extend_from_slice(scratch);
        }
    }
    Some(())
}

/// A binary column's bytes: as they are; text (SQLite holds any class in
/// any column) as its bytes.
fn binary_bytes(cell: Cell<'_>, data: &mut Vec<u8>) -> Option<()> {
    match cell {
        Cell::Bytes(b) | Cell::Text(b) | Cell::Number(b) | Cell::Json(b) => {
            data.extend_from_slice(b)
        }
        _ => {
            write_scalar(data, cell);
        }
    }
    Some(())
}
