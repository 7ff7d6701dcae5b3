//! The one mapping from [`ColType`] to a Parquet column: its physical
//! type, logical type and the buffer layout the encoder fills. A Parquet
//! reader (import) maps back with the same table, so the two cannot drift:
//! see docs/types.md, "Parquet".

use anyhow::{bail, Result};
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::schema::types::Type;

use crate::coltype::ColType;

/// How the values of one column are buffered and which physical type
/// they are written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Bool,
    I32,
    I64,
    F32,
    F64,
    /// `BYTE_ARRAY`.
    Bytes,
    /// `FIXED_LEN_BYTE_ARRAY` of this many bytes.
    Fixed(usize),
}

/// Decimals wider than this have no reader that takes them (pyarrow's
/// decimal256 stops at 76 digits): they are written as their text.
const MAX_DECIMAL_PRECISION: u32 = 76;

/// The physical layout of a column of type `ty`.
pub fn layout(ty: ColType) -> Layout {
    match ty {
        ColType::Bool => Layout::Bool,
        ColType::Int { bits, .. } if bits <= 32 => Layout::I32,
        ColType::Int { .. } => Layout::I64,
        ColType::Float32 => Layout::F32,
        ColType::Float64 => Layout::F64,
        ColType::Decimal { precision, scale } if decimal_fits(precision, scale) => {
            match precision {
                ..=9 => Layout::I32,
                10..=18 => Layout::I64,
                _ => Layout::Fixed(decimal_width(precision)),
            }
        }
        ColType::Date => Layout::I32,
        ColType::Time | ColType::Timestamp { .. } => Layout::I64,
        ColType::Uuid => Layout::Fixed(16),
        ColType::Decimal { .. }
        | ColType::Text
        | ColType::Enum
        | ColType::Binary
        | ColType::Json
        | ColType::Other => Layout::Bytes,
    }
}

/// A decimal Parquet can type: a precision readers know, and a scale
/// within it (PostgreSQL allows `numeric(2,5)`; Parquet does not).
fn decimal_fits(precision: u32, scale: u32) -> bool {
    (1..=MAX_DECIMAL_PRECISION).contains(&precision) && scale <= precision
}

/// The fewest bytes whose two's complement holds every `precision`-digit
/// number.
fn decimal_width(precision: u32) -> usize {
    ((f64::from(precision) * 10f64.log2() + 1.0) / 8.0).ceil() as usize
}

/// The Parquet field of a column: every field is `OPTIONAL` (NULL is a
/// missing value), with the logical type that says what the bytes mean.
pub fn field(name: &str, ty: ColType) -> Result<Type> {
    let layout = layout(ty);
    let physical = match layout {
        Layout::Bool => Physical::BOOLEAN,
        Layout::I32 => Physical::INT32,
        Layout::I64 => Physical::INT64,
        Layout::F32 => Physical::FLOAT,
        Layout::F64 => Physical::DOUBLE,
        Layout::Bytes => Physical::BYTE_ARRAY,
        Layout::Fixed(_) => Physical::FIXED_LEN_BYTE_ARRAY,
    };
    let logical = match ty {
        ColType::Int { bits, signed } => Some(LogicalType::integer(bits as i8, signed)),
        ColType::Decimal { precision, scale } if layout != Layout::Bytes => {
            Some(LogicalType::decimal(scale as i32, precision as i32))
        }
        ColType::Date => Some(LogicalType::Date),
        ColType::Time => Some(LogicalType::time(false, TimeUnit::MICROS)),
        ColType::Timestamp { utc } => Some(LogicalType::timestamp(utc, TimeUnit::MICROS)),
        ColType::Uuid => Some(LogicalType::Uuid),
        ColType::Json => Some(LogicalType::Json),
        ColType::Binary => None,
        ColType::Bool | ColType::Float32 | ColType::Float64 => None,
        ColType::Decimal { .. } | ColType::Text | ColType::Enum | ColType::Other => {
            Some(LogicalType::String)
        }
    };
    let mut builder = Type::primitive_type_builder(name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical);
    if let Layout::Fixed(width) = layout {
        builder = builder.with_length(width as i32);
    }
    if let (ColType::Decimal { precision, scale }, false) = (ty, layout == Layout::Bytes) {
        builder = builder
            .with_precision(precision as i32)
            .with_scale(scale as i32);
    }
    match builder.build() {
        Ok(field) => Ok(field),
        Err(e) => bail!("column {name:?} has no Parquet type ({ty:?}): {e}"),
    }
}

/// The Parquet type of a column, in words, for messages.
pub fn describe(ty: ColType) -> String {
    match (ty, layout(ty)) {
        (ColType::Bool, _) => "BOOLEAN".into(),
        (ColType::Int { bits, signed }, _) => {
            format!("{}INT{bits}", if signed { "" } else { "U" })
        }
        (ColType::Float32, _) => "FLOAT".into(),
        (ColType::Float64, _) => "DOUBLE".into(),
        (ColType::Decimal { precision, scale }, l) if l != Layout::Bytes => {
            format!("DECIMAL({precision},{scale})")
        }
        (ColType::Date, _) => "DATE".into(),
        (ColType::Time, _) => "TIME (00:00:00 to 24:00:00)".into(),
        (ColType::Timestamp { utc: true }, _) => "TIMESTAMP (UTC)".into(),
        (ColType::Timestamp { utc: false }, _) => "TIMESTAMP".into(),
        (ColType::Uuid, _) => "UUID".into(),
        (ColType::Json, _) => "JSON string".into(),
        (ColType::Binary, _) => "binary".into(),
        _ => "UTF-8 string".into(),
    }
}

/// The codec inside the file (`--parquet-compression`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Snappy,
    Gzip(u32),
    Zstd(i32),
}

impl Compression {
    /// `zstd`, `zstd:LEVEL`, `snappy`, `gzip`, `gzip:LEVEL`, `none`.
    pub fn parse(text: &str) -> Result<Compression, String> {
        let (name, level) = match text.split_once(':') {
            Some((name, level)) => (name, Some(level)),
            None => (text, None),
        };
        let bad_level = || {
            format!(
                "--parquet-compression {text:?}: the level must be a number (zstd 1-22, gzip 0-9)"
            )
        };
        let compression = match (name.to_ascii_lowercase().as_str(), level) {
            ("none" | "uncompressed", None) => Compression::None,
            ("snappy", None) => Compression::Snappy,
            ("gzip", None) => Compression::Gzip(6),
            ("gzip", Some(l)) => Compression::Gzip(l.parse().map_err(|_| bad_level())?),
            ("zstd", None) => Compression::Zstd(1),
            ("zstd", Some(l)) => Compression::Zstd(l.parse().map_err(|_| bad_level())?),
            _ => {
                return Err(format!(
                    "--parquet-compression {text:?} is not a codec dbchunk writes: use zstd \
                     (the default), snappy, gzip or none, with zstd:LEVEL or gzip:LEVEL"
                ))
            }
        };
        compression.codec().map_err(|_| bad_level())?;
        Ok(compression)
    }

    pub fn codec(self) -> Result<parquet::basic::Compression> {
        use parquet::basic::{Compression as Codec, GzipLevel, ZstdLevel};
        Ok(match self {
            Compression::None => Codec::UNCOMPRESSED,
            Compression::Snappy => Codec::SNAPPY,
            Compression::Gzip(level) => Codec::GZIP(GzipLevel::try_new(level)?),
            Compression::Zstd(level) => Codec::ZSTD(ZstdLevel::try_new(level)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_take_the_narrowest_physical_type() {
        let dec = |precision, scale| layout(ColType::Decimal { precision, scale });
        assert_eq!(dec(9, 2), Layout::I32);
        assert_eq!(dec(18, 0), Layout::I64);
        assert_eq!(dec(38, 10), Layout::Fixed(16));
        assert_eq!(dec(65, 30), Layout::Fixed(28));
        assert_eq!(dec(76, 0), Layout::Fixed(32));
        assert_eq!(dec(77, 0), Layout::Bytes);
        assert_eq!(dec(2, 5), Layout::Bytes);
    }

    #[test]
    fn codecs_parse_with_levels() {
        assert_eq!(Compression::parse("zstd"), Ok(Compression::Zstd(1)));
        assert_eq!(Compression::parse("zstd:9"), Ok(Compression::Zstd(9)));
        assert_eq!(Compression::parse("GZIP"), Ok(Compression::Gzip(6)));
        assert_eq!(Compression::parse("none"), Ok(Compression::None));
        assert!(Compression::parse("lz4").is_err());
        assert!(Compression::parse("gzip:99").is_err());
        assert!(Compression::parse("zstd:x").is_err());
    }
}
