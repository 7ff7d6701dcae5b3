//! A row of the binary protocol, walked in place: a 0x00 byte, a bitmap
//! of the NULL fields (offset by two bits), then each other field in the
//! form its column type gives (fixed-width little-endian numbers, dates
//! as a length and their parts, everything else a length and bytes).

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::{Column, Value};

/// One field, borrowed from the row: the forms of mysql_async's `Value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field<'a> {
    Null,
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    Bytes(&'a [u8]),
    /// Year, month, day, hour, minute, second, microsecond.
    Date(u16, u8, u8, u8, u8, u8, u32),
    /// Negative, days, hours, minutes, seconds, microseconds.
    Time(bool, u32, u8, u8, u8, u32),
}

impl<'a> Field<'a> {
    pub fn of(value: &'a Value) -> Field<'a> {
        match *value {
            Value::NULL => Field::Null,
            Value::Int(v) => Field::Int(v),
            Value::UInt(v) => Field::UInt(v),
            Value::Float(v) => Field::Float(v),
            Value::Double(v) => Field::Double(v),
            Value::Bytes(ref b) => Field::Bytes(b),
            Value::Date(y, mo, d, h, mi, s, us) => Field::Date(y, mo, d, h, mi, s, us),
            Value::Time(neg, days, h, mi, s, us) => Field::Time(neg, days, h, mi, s, us),
        }
    }

    /// The value to bind as a statement's parameter (a key to go on from).
    pub fn to_value(self) -> Value {
        match self {
            Field::Null => Value::NULL,
            Field::Int(v) => Value::Int(v),
            Field::UInt(v) => Value::UInt(v),
            Field::Float(v) => Value::Float(v),
            Field::Double(v) => Value::Double(v),
            Field::Bytes(b) => Value::Bytes(b.to_vec()),
            Field::Date(y, mo, d, h, mi, s, us) => Value::Date(y, mo, d, h, mi, s, us),
            Field::Time(neg, days, h, mi, s, us) => Value::Time(neg, days, h, mi, s, us),
        }
    }
}

/// How a column's fields are laid out in a binary row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Int8 {
        unsigned: bool,
    },
    Int16 {
        unsigned: bool,
    },
    Int32 {
        unsigned: bool,
    },
    Int64 {
        unsigned: bool,
    },
    Float,
    Double,
    Date,
    Time,
    /// A length, then the bytes: strings, decimals, JSON, BIT, blobs.
    Bytes,
}

pub fn layouts(columns: &[Column]) -> Vec<Layout> {
    columns
        .iter()
        .map(|c| {
            let unsigned = c.flags().contains(ColumnFlags::UNSIGNED_FLAG);
            match c.column_type() {
                ColumnType::MYSQL_TYPE_TINY => Layout::Int8 { unsigned },
                ColumnType::MYSQL_TYPE_SHORT | ColumnType::MYSQL_TYPE_YEAR => {
                    Layout::Int16 { unsigned }
                }
                ColumnType::MYSQL_TYPE_LONG | ColumnType::MYSQL_TYPE_INT24 => {
                    Layout::Int32 { unsigned }
                }
                ColumnType::MYSQL_TYPE_LONGLONG => Layout::Int64 { unsigned },
                ColumnType::MYSQL_TYPE_FLOAT => Layout::Float,
                ColumnType::MYSQL_TYPE_DOUBLE => Layout::Double,
                ColumnType::MYSQL_TYPE_DATE
                | ColumnType::MYSQL_TYPE_NEWDATE
                | ColumnType::MYSQL_TYPE_DATETIME
                | ColumnType::MYSQL_TYPE_DATETIME2
                | ColumnType::MYSQL_TYPE_TIMESTAMP
                | ColumnType::MYSQL_TYPE_TIMESTAMP2 => Layout::Date,
                ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => Layout::Time,
                _ => Layout::Bytes,
            }
        })
        .collect()
}

/// Calls `each` with every field of `row` in column order; `None` when
/// the row is cut short or malformed.
#[inline]
pub fn walk<'a>(
    row: &'a [u8],
    layouts: &[Layout],
    mut each: impl FnMut(usize, Field<'a>),
) -> Option<()> {
    let bitmap_len = (layouts.len() + 9) / 8;
    let (&header, rest) = row.split_first()?;
    if header != 0x00 || rest.len() < bitmap_len {
        return None;
    }
    let (bitmap, mut rest) = rest.split_at(bitmap_len);
    for (i, &layout) in layouts.iter().enumerate() {
        let bit = i + 2;
        if bitmap[bit / 8] & (1 << (bit % 8)) != 0 {
            each(i, Field::Null);
            continue;
        }
        let field = match layout {
            Layout::Int8 { unsigned } => {
                let [b, ..] = *take(&mut rest, 1)? else {
                    return None;
                };
                match unsigned {
                    true => Field::Int(i64::from(b)),
                    false => Field::Int(i64::from(b as i8)),
                }
            }
            Layout::Int16 { unsigned } => {
                let v = u16::from_le_bytes(take(&mut rest, 2)?.try_into().ok()?);
                match unsigned {
                    true => Field::Int(i64::from(v)),
                    false => Field::Int(i64::from(v as i16)),
                }
            }
            Layout::Int32 { unsigned } => {
                let v = u32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?);
                match unsigned {
                    true => Field::Int(i64::from(v)),
                    false => Field::Int(i64::from(v as i32)),
                }
            }
            Layout::Int64 { unsigned } => {
                let v = u64::from_le_bytes(take(&mut rest, 8)?.try_into().ok()?);
                match unsigned {
                    true => Field::UInt(v),
                    false => Field::Int(v as i64),
                }
            }
            Layout::Float => Field::Float(f32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?)),
            Layout::Double => {
                Field::Double(f64::from_le_bytes(take(&mut rest, 8)?.try_into().ok()?))
            }
            Layout::Date => date(&mut rest)?,
            Layout::Time => time(&mut rest)?,
            Layout::Bytes => {
                let len = usize::try_from(super::lenenc(&mut rest)?).ok()?;
                Field::Bytes(take(&mut rest, len)?)
            }
        };
        each(i, field);
    }
    Some(())
}

/// The next `n` bytes of `rest`, which moves past them.
#[inline]
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (taken, after) = rest.split_at(n);
    *rest = after;
    Some(taken)
}

/// DATE, DATETIME, TIMESTAMP: a length (0, 4, 7 or 11), then year,
/// month, day, and hour, minute, second, and microseconds when present.
fn date<'a>(rest: &mut &'a [u8]) -> Option<Field<'a>> {
    let len = usize::from(*take(rest, 1)?.first()?);
    let mut parts = [0u8; 11];
    parts[..len.min(11)].copy_from_slice(take(rest, len)?.get(..len.min(11))?);
    let micros = u32::from_le_bytes(parts[7..11].try_into().ok()?);
    Some(Field::Date(
        u16::from_le_bytes([parts[0], parts[1]]),
        parts[2],
        parts[3],
        parts[4],
        parts[5],
        parts[6],
        micros,
    ))
}

/// TIME: a length (0, 8 or 12), then the sign, days, hours, minutes,
/// seconds, and microseconds when present.
fn time<'a>(rest: &mut &'a [u8]) -> Option<Field<'a>> {
    let len = usize::from(*take(rest, 1)?.first()?);
    let mut parts = [0u8; 12];
    parts[..len.min(12)].copy_from_slice(take(rest, len)?.get(..len.min(12))?);
    Some(Field::Time(
        parts[0] == 1,
        u32::from_le_bytes(parts[1..5].try_into().ok()?),
        parts[5],
        parts[6],
        parts[7],
        u32::from_le_bytes(parts[8..12].try_into().ok()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(row: &[u8], layouts: &[Layout]) -> Option<Vec<Field<'static>>> {
        let row: &'static [u8] = Box::leak(row.to_vec().into_boxed_slice());
        let mut out = Vec::new();
        walk(row, layouts, |_, f| out.push(f))?;
        Some(out)
    }

    #[test]
    fn a_row_walks_nulls_numbers_strings_and_dates() {
        let layouts = [
            Layout::Int32 { unsigned: false },
            Layout::Bytes,
            Layout::Int8 { unsigned: true },
            Layout::Int64 { unsigned: true },
            Layout::Date,
            Layout::Time,
            Layout::Double,
        ];
        // NULL bitmap: column 2 (bit 4) is NULL.
        let mut row = vec![0x00, 0b0001_0000, 0x00];
        row.extend_from_slice(&(-7i32).to_le_bytes());
        row.extend_from_slice(&[3, b'a', b',', b'b']);
        row.extend_from_slice(&u64::MAX.to_le_bytes());
        row.extend_from_slice(&[7, 0xE8, 0x07, 12, 31, 23, 59, 58]);
        row.extend_from_slice(&[12, 1, 2, 0, 0, 0, 3, 4, 5, 0x40, 0xE2, 0x01, 0]);
        row.extend_from_slice(&1.5f64.to_le_bytes());
        assert_eq!(
            fields(&row, &layouts).unwrap(),
            [
                Field::Int(-7),
                Field::Bytes(b"a,b"),
                Field::Null,
                Field::UInt(u64::MAX),
                Field::Date(2024, 12, 31, 23, 59, 58, 0),
                Field::Time(true, 2, 3, 4, 5, 123_456),
                Field::Double(1.5),
            ]
        );
    }

    #[test]
    fn zero_dates_and_unsigned_small_integers() {
        let layouts = [
            Layout::Date,
            Layout::Int8 { unsigned: true },
            Layout::Int16 { unsigned: false },
        ];
        let row = [0x00, 0x00, 0, 0xFF, 0xFE, 0xFF];
        assert_eq!(
            fields(&row, &layouts).unwrap(),
            [
                Field::Date(0, 0, 0, 0, 0, 0, 0),
                Field::Int(255),
                Field::Int(-2)
            ]
        );
    }

    #[test]
    fn a_row_cut_short_is_refused() {
        let layouts = [Layout::Int64 { unsigned: false }, Layout::Bytes];
        assert!(fields(&[0x00, 0x00, 1, 2, 3], &layouts).is_none());
        let mut row = vec![0x00, 0x00];
        row.extend_from_slice(&5i64.to_le_bytes());
        row.extend_from_slice(&[9, b'x']);
        assert!(fields(&row, &layouts).is_none(), "a length past the end");
        assert!(fields(&[0x01, 0x00], &[]).is_none(), "not a row");
    }
}
