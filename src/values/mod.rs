//! Parsing input text against the real type of the column it goes into.
//!
//! Import reads text (CSV, TSV, NDJSON) and must neither lose nor change a
//! value on its way into a typed column. Every field is checked here, on the
//! client, so that a bad value is reported with its line and column instead
//! of as a failed batch, and so that the forms `dbchunk export` writes (and
//! the forms users commonly have) are all understood the same way by every
//! engine. Each engine binds the resulting [`Value`] in its own way.
//!
//! This file holds the vocabulary ([`TargetType`], [`Value`]), the
//! dispatch from a column's type to its parser, and a value's text for the
//! server; the parsers stand by family: [`number`], [`time`], [`text`].

mod number;
pub mod spatial;
mod text;
mod time;

use number::{parse_bool, parse_decimal, parse_float, parse_int};
pub use spatial::SpatialForm;
use text::{json_array_to_postgres, parse_bits, parse_hex, parse_json, parse_uuid};
pub(crate) use time::civil_from_days;
use time::{is_special_date, parse_date, parse_duration, parse_timestamp};
pub use time::{Clock, Date, Duration};

/// What a target column accepts, decided from its catalog type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetType {
    Bool,
    /// An integer column and the range it holds.
    Int {
        min: i128,
        max: i128,
    },
    /// MySQL's `BOOL` (`TINYINT(1)`): an integer that also takes `true`
    /// and `false`, since other engines' booleans arrive that way.
    IntOrBool {
        min: i128,
        max: i128,
    },
    /// Exact decimal: checked for its grammar, kept as its digits.
    Decimal {
        special: bool,
    },
    Float,
    Text,
    /// Binary, written as hex by export.
    Bytes,
    /// PostGIS's `geometry`: its own text (hex EWKB, or WKT), passed to
    /// the server's parser.
    Geometry,
    /// A binary or spatial column taking another engine's spatial value
    /// (a dump restored across engines): the input, hex of the form
    /// `from`, goes in laid out as the column's engine keeps it, `to`
    /// ([`spatial`]).
    Spatial {
        from: SpatialForm,
        to: SpatialForm,
    },
    Date,
    /// A time of day (PostgreSQL) or a duration up to ±838 hours (MySQL).
    Time,
    /// `zoned`: the column holds an instant (PostgreSQL `timestamptz`,
    /// MySQL `TIMESTAMP`).
    Timestamp {
        zoned: bool,
    },
    Json,
    Uuid,
    /// MySQL `BIT(n)`, written as n binary digits by export.
    Bit {
        width: u32,
    },
    /// A PostgreSQL array: its own text form (`{1,2}`), or the JSON array
    /// NDJSON export writes (`[1,2]`), turned into that form.
    Array,
    /// Anything else (enums, intervals, network types...): passed
    /// as text for the server's own parser.
    Other,
}

/// A checked value, ready for an engine to bind.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// Text the column's parser accepts as it is (decimal digits, JSON,
    /// UUIDs, enum labels, and so on).
    Text(String),
    Bytes(Vec<u8>),
    Date(Date),
    Time(Duration),
    /// In UTC when the input carried an offset.
    Timestamp(Date, Clock),
    Bits(u64),
}

/// Parses one field (`None` is NULL) for a column of type `target`. The
/// error says what is wrong with the value, for a message that already
/// names its line and column.
pub fn parse(field: Option<&[u8]>, target: TargetType) -> Result<Value, String> {
    let Some(bytes) = field else {
        return Ok(Value::Null);
    };
    let text =
        std::str::from_utf8(bytes).map_err(|_| "the value is not valid UTF-8".to_string())?;
    match target {
        TargetType::Text | TargetType::Other | TargetType::Geometry => {
            Ok(Value::Text(text.to_string()))
        }
        TargetType::Bool => parse_bool(text).map(Value::Bool),
        TargetType::Int { min, max } => parse_int(text, min, max).map(Value::Int),
        TargetType::IntOrBool { min, max } => match parse_bool(text) {
            Ok(b) if !text.trim().bytes().all(|c| c.is_ascii_digit()) => {
                Ok(Value::Int(i128::from(b)))
            }
            _ => parse_int(text, min, max).map(Value::Int),
        },
        TargetType::Decimal { special } => parse_decimal(text, special).map(Value::Text),
        TargetType::Float => parse_float(text).map(Value::Float),
        TargetType::Bytes => parse_hex(text).map(Value::Bytes),
        TargetType::Spatial { from, to } => {
            spatial::convert(&parse_hex(text)?, from, to).map(Value::Bytes)
        }
        TargetType::Date | TargetType::Timestamp { .. } if is_special_date(text) => {
            Ok(Value::Text(text.to_string()))
        }
        TargetType::Date => parse_date(text).map(Value::Date),
        TargetType::Time => parse_duration(text).map(Value::Time),
        TargetType::Timestamp { .. } => parse_timestamp(text).map(|(d, c)| Value::Timestamp(d, c)),
        TargetType::Json => parse_json(text).map(Value::Text),
        TargetType::Uuid => parse_uuid(text).map(Value::Text),
        TargetType::Bit { width } => parse_bits(text, width).map(Value::Bits),
        TargetType::Array if text.trim_start().starts_with('[') => {
            json_array_to_postgres(text).map(Value::Text)
        }
        TargetType::Array => Ok(Value::Text(text.to_string())),
    }
}

impl Value {
    /// The text a server parses for this value (PostgreSQL binds every
    /// value as text and casts it).
    pub fn to_text(&self) -> Option<String> {
        let mut out = Vec::new();
        self.write_text(&mut out)?;
        Some(String::from_utf8(out).expect("values render as UTF-8"))
    }

    /// Appends [`Value::to_text`]'s form to `out` without allocating
    /// (the bulk encoders call it for every field); `None` for NULL.
    pub fn write_text(&self, out: &mut Vec<u8>) -> Option<()> {
        use std::io::Write as _;
        match self {
            Value::Null => return None,
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
            Value::Float(f) => crate::format::float::write_f64(out, *f),
            Value::Text(t) => out.extend_from_slice(t.as_bytes()),
            Value::Bytes(b) => crate::format::write_hex(out, b),
            Value::Date(d) => time::write_date(out, *d),
            Value::Time(t) => time::write_duration(out, *t),
            Value::Timestamp(d, c) => time::write_timestamp(out, *d, *c),
            Value::Bits(bits) => {
                let _ = write!(out, "{bits:b}");
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_contains;

    fn ok(text: &str, target: TargetType) -> Value {
        parse(Some(text.as_bytes()), target).unwrap()
    }

    fn err(text: &str, target: TargetType) -> String {
        parse(Some(text.as_bytes()), target).unwrap_err()
    }

    const INT: TargetType = TargetType::Int {
        min: -2147483648,
        max: 2147483647,
    };

    #[test]
    fn null_is_null_for_every_type() {
        assert_eq!(parse(None, INT).unwrap(), Value::Null);
        assert_eq!(parse(None, TargetType::Date).unwrap(), Value::Null);
    }

    #[test]
    fn mysql_bool_takes_words_and_integers() {
        let b = TargetType::IntOrBool {
            min: -128,
            max: 127,
        };
        assert_eq!(ok("true", b), Value::Int(1));
        assert_eq!(ok("f", b), Value::Int(0));
        assert_eq!(ok("2", b), Value::Int(2));
        assert!(err("300", b).contains("out of range"));
    }

    #[test]
    fn timestamps_with_t_space_and_offsets() {
        let ts = |text| {
            ok(text, TargetType::Timestamp { zoned: true })
                .to_text()
                .unwrap()
        };
        let cases = [
            ("2024-05-26T10:00:00.123456", "2024-05-26 10:00:00.123456"),
            ("2024-05-26 10:00:00", "2024-05-26 10:00:00"),
            ("2024-05-26T10:00:00.5+00:00", "2024-05-26 10:00:00.500000"),
            ("2024-05-26T01:30:00+02:00", "2024-05-25 23:30:00"),
            ("2024-12-31T23:00:00-01:30", "2025-01-01 00:30:00"),
            ("2024-05-26T10:00:00Z", "2024-05-26 10:00:00"),
            ("2024-05-26", "2024-05-26 00:00:00"),
        ];
        for (text, utc) in cases {
            assert_eq!(ts(text), utc, "{text}");
        }
        let bad = err(
            "2024-05-26T25:00:00",
            TargetType::Timestamp { zoned: false },
        );
        assert_contains(&bad, "not a timestamp");
        assert!(err(
            "2024-02-30T00:00:00",
            TargetType::Timestamp { zoned: false }
        )
        .contains("not a day"));
    }

    #[test]
    fn postgres_special_dates_pass_through() {
        let ts = TargetType::Timestamp { zoned: false };
        assert_eq!(ok("infinity", ts), Value::Text("infinity".into()));
        assert_eq!(
            ok("0044-03-15T10:00:00 BC", ts),
            Value::Text("0044-03-15T10:00:00 BC".into())
        );
        assert_eq!(
            ok("-infinity", TargetType::Date),
            Value::Text("-infinity".into())
        );
    }

    #[test]
    fn times_may_be_long_or_negative() {
        assert_eq!(
            ok("-838:59:59", TargetType::Time).to_text().unwrap(),
            "-838:59:59"
        );
        assert_eq!(
            ok("25:00:00.5", TargetType::Time).to_text().unwrap(),
            "25:00:00.500000"
        );
        assert!(err("10:61:00", TargetType::Time).contains("not a time"));
    }

    #[test]
    fn json_arrays_become_postgres_arrays() {
        let a = |t| ok(t, TargetType::Array);
        assert_eq!(a("[1,2,null]"), Value::Text("{\"1\",\"2\",NULL}".into()));
        assert_eq!(
            a("[[1,2],[3,4]]"),
            Value::Text("{{\"1\",\"2\"},{\"3\",\"4\"}}".into())
        );
        assert_eq!(
            a("[\"a b\",\"q\\\"x\"]"),
            Value::Text("{\"a b\",\"q\\\"x\"}".into())
        );
        assert_eq!(a("{1,2}"), Value::Text("{1,2}".into()));
        assert!(err("[1,", TargetType::Array).contains("not a JSON array"));
    }

    #[test]
    fn never_panics_on_odd_text() {
        let targets = [
            INT,
            TargetType::Bool,
            TargetType::Decimal { special: true },
            TargetType::Float,
            TargetType::Bytes,
            TargetType::Date,
            TargetType::Time,
            TargetType::Timestamp { zoned: true },
            TargetType::Json,
            TargetType::Uuid,
            TargetType::Bit { width: 64 },
        ];
        let samples = [
            "",
            "-",
            "+",
            ".",
            "e",
            "1e",
            "--1",
            "9999-99-99",
            "2024-01-01T",
            "2024-01-01T1:2:3+",
            "é",
            "\u{0}",
            "12:00:00.1234567",
            "2024-01-01 00:00:00+99:99",
            "0000-00-00",
            ":::",
            "\\x",
            "{",
            // Found by tests/fuzz.rs: multi-byte text where ASCII is cut.
            ",\u{5fb}\u{5fb}\u{5fb}\u{5fb}\u{5fb}\u{5fb}",
            "2024-01-01T00:00:00+aé1",
        ];
        for target in targets {
            for sample in samples {
                let _ = parse(Some(sample.as_bytes()), target);
            }
        }
    }
}
