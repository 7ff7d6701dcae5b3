//! How each Parquet value becomes the canonical text the text formats
//! carry (docs/types.md, "Parquet on import"), so that an import from
//! Parquet goes through the same checks as one from CSV: which form a leaf
//! column takes ([`Kind`], from its logical or older converted type and
//! the column it goes into), and the writers of integers, decimals of any
//! width, dates, times and timestamps (BC included), binary, UUIDs and
//! half floats. Values in, bytes appended; no file and no allocation per
//! value, so all of it is unit-tested here.

use anyhow::Result;
use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::schema::types::ColumnDescriptor;

use crate::values::TargetType;

/// How the values of one column become text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
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

impl Kind {
    /// Whether `text`, this kind's canonical text, stands in JSON as
    /// itself (a number or a boolean) rather than as a string.
    pub(super) fn is_bare_json(self, text: &[u8]) -> bool {
        match self {
            Kind::Bool | Kind::BoolDigits | Kind::Int { .. } | Kind::Decimal { .. } => true,
            Kind::Float | Kind::Float16 => text
                .iter()
                .all(|b| b.is_ascii_digit() || b"+-.e".contains(b)),
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
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

/// How a leaf column's values become text, from its logical type (or the
/// older converted type) and, for binary, the target column's type.
pub(super) fn kind_of(descr: &ColumnDescriptor, target: TargetType) -> Result<Kind, String> {
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

pub(super) fn write_int(value: i64, kind: Kind, bits: u32, out: &mut Vec<u8>) {
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

pub(super) fn write_bytes(bytes: &[u8], kind: Kind, out: &mut Vec<u8>) {
    match kind {
        Kind::Decimal { scale } => write_wide_decimal(bytes, scale, out),
        Kind::Hex => crate::format::write_hex(out, bytes),
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
pub(super) fn write_timestamp(days: i64, units: i64, unit: Unit, utc: bool, out: &mut Vec<u8>) {
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

pub(super) fn push_json_string(out: &mut Vec<u8>, text: &[u8]) {
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

    use crate::testing::written as text;

    #[test]
    fn decimals_keep_every_digit() {
        assert_eq!(text(|o| write_decimal(-150, 2, o)), "-1.50");
        assert_eq!(text(|o| write_decimal(5, 3, o)), "0.005");
        assert_eq!(text(|o| write_decimal(-5, 3, o)), "-0.005");
        assert_eq!(text(|o| write_decimal(0, 2, o)), "0.00");
        assert_eq!(text(|o| write_decimal(42, 0, o)), "42");
        assert_eq!(text(|o| write_wide_decimal(&[0xff, 0x6a], 1, o)), "-15.0");
        // What export's parser makes of the digits, written back.
        let wide = |digits: &str, scale| {
            let mut bytes = [0u8; 32];
            crate::format::parquet::text::parse_wide_decimal(digits.as_bytes(), scale, &mut bytes)
                .unwrap();
            text(|o| write_wide_decimal(&bytes, scale, o))
        };
        // 10^40 in 17 bytes, and a negative one of 44 digits.
        let big = "10000000000000000000000000000000000000000.5";
        assert_eq!(wide(big, 1), big);
        let negative = "-12345678901234567890123456789012345678901234.000001";
        assert_eq!(wide(negative, 6), negative);
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
