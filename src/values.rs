//! Parsing input text against the real type of the column it goes into.
//!
//! Import reads text (CSV, TSV, NDJSON) and must neither lose nor change a
//! value on its way into a typed column. Every field is checked here, on the
//! client, so that a bad value is reported with its line and column instead
//! of as a failed batch, and so that the forms `dbchunk export` writes (and
//! the forms users commonly have) are all understood the same way by every
//! engine. Each engine binds the resulting [`Value`] in its own way.

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub micros: u32,
}

/// A MySQL `TIME`, which may be negative or longer than a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    pub negative: bool,
    pub hours: u32,
    pub minutes: u8,
    pub seconds: u8,
    pub micros: u32,
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
        TargetType::Text | TargetType::Other => Ok(Value::Text(text.to_string())),
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

/// PostgreSQL's `infinity`, `-infinity` and BC dates: passed to the server
/// as they are (other engines reject them there, with the line).
fn is_special_date(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    t == "infinity" || t == "-infinity" || t.ends_with(" bc")
}

fn quoted(text: &str) -> String {
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" | "on" => Ok(true),
        "false" | "f" | "0" | "no" | "n" | "off" => Ok(false),
        _ => Err(format!(
            "{} is not a boolean (use true/false, t/f or 1/0)",
            quoted(text)
        )),
    }
}

fn parse_int(text: &str, min: i128, max: i128) -> Result<i128, String> {
    let value: i128 = text
        .trim()
        .parse()
        .map_err(|_| format!("{} is not an integer", quoted(text)))?;
    if value < min || value > max {
        return Err(format!(
            "{value} is out of range for this column ({min} to {max})"
        ));
    }
    Ok(value)
}

/// Checks decimal grammar (`-12.50`, `1e-5`) and keeps the digits as they
/// are: never through a float. `special` allows PostgreSQL's `NaN` and
/// infinities.
fn parse_decimal(text: &str, special: bool) -> Result<String, String> {
    let t = text.trim();
    if special
        && matches!(
            t.to_ascii_lowercase().as_str(),
            "nan" | "infinity" | "-infinity" | "+infinity"
        )
    {
        return Ok(t.to_string());
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exponent) = match digits.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (digits, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) || !exponent_ok
    {
        return Err(format!("{} is not a number", quoted(text)));
    }
    Ok(t.to_string())
}

fn parse_float(text: &str) -> Result<f64, String> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => return Ok(f64::NAN),
        "infinity" | "inf" | "+infinity" => return Ok(f64::INFINITY),
        "-infinity" | "-inf" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return Err(format!("{} is not a number", quoted(text)));
    }
    let value: f64 = t
        .parse()
        .map_err(|_| format!("{} is not a number", quoted(text)))?;
    // Rust rounds 1e309 to infinity and 1e-400 to zero; the databases
    // refuse them, and so must we, or the value changes silently.
    let nonzero_digit = t
        .split(['e', 'E'])
        .next()
        .is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)));
    if value.is_infinite() || (value == 0.0 && nonzero_digit) {
        return Err(format!("{} is out of range for a double", quoted(text)));
    }
    Ok(value)
}

/// Lowercase or uppercase hex, with or without PostgreSQL's `\x` prefix.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let hex = text.strip_prefix("\\x").unwrap_or(text);
    if !hex.len().is_multiple_of(2) {
        return Err(format!("{} is not hex: odd number of digits", quoted(text)));
    }
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    hex.as_bytes()
        .chunks(2)
        .map(|pair| match (digit(pair[0]), digit(pair[1])) {
            (Some(high), Some(low)) => Ok(high << 4 | low),
            _ => Err(format!(
                "{} is not hex (binary columns take hex digits)",
                quoted(text)
            )),
        })
        .collect()
}

fn number<T: std::str::FromStr>(text: &str, digits: usize) -> Option<T> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// `YYYY-MM-DD`, a real calendar day.
fn parse_date(text: &str) -> Result<Date, String> {
    let bad = || format!("{} is not a date (use YYYY-MM-DD)", quoted(text));
    let mut parts = text.trim().splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (Some(year), Some(month), Some(day)) =
        (number::<i32>(y, 4), number::<u8>(m, 2), number::<u8>(d, 2))
    else {
        return Err(bad());
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(format!("{} is not a day of the calendar", quoted(text)));
    }
    Ok(Date { year, month, day })
}

/// `HH:MM:SS[.ffffff]`, hours possibly above 23 and a leading `-` (MySQL).
fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{} is not a time (use HH:MM:SS[.ffffff])", quoted(text));
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (hms, micros) = split_fraction(t).ok_or_else(bad)?;
    let mut parts = hms.split(':');
    let (Some(h), Some(m), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let hours: u32 = (!h.is_empty() && h.len() <= 3 && h.bytes().all(|b| b.is_ascii_digit()))
        .then(|| h.parse().ok())
        .flatten()
        .ok_or_else(bad)?;
    let (Some(minutes), Some(seconds)) = (number::<u8>(m, 2), number::<u8>(s, 2)) else {
        return Err(bad());
    };
    if minutes > 59 || seconds > 59 {
        return Err(bad());
    }
    Ok(Duration {
        negative,
        hours,
        minutes,
        seconds,
        micros,
    })
}

/// Splits `12:00:00.5` into `12:00:00` and 500000 microseconds.
fn split_fraction(text: &str) -> Option<(&str, u32)> {
    match text.split_once('.') {
        None => Some((text, 0)),
        Some((whole, fraction)) => {
            if fraction.is_empty()
                || fraction.len() > 6
                || !fraction.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let micros: u32 = fraction.parse().ok()?;
            Some((whole, micros * 10u32.pow(6 - fraction.len() as u32)))
        }
    }
}

/// `YYYY-MM-DD[T| ]HH:MM:SS[.ffffff][Z|±HH[:MM]]`. An offset is applied,
/// so the result is UTC; without one the clock is taken as it is.
fn parse_timestamp(text: &str) -> Result<(Date, Clock), String> {
    let bad = || {
        format!(
            "{} is not a timestamp (use YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM])",
            quoted(text)
        )
    };
    let t = text.trim();
    // Dates are ASCII: anything else at byte 10 is not one (and not a
    // place to split the text).
    if t.len() < 10 || !t.is_char_boundary(10) {
        return Err(bad());
    }
    let (date_text, rest) = t.split_at(10);
    let date = parse_date(date_text)?;
    let rest = match rest.strip_prefix(['T', 't', ' ']) {
        Some(rest) => rest,
        None if rest.is_empty() => "00:00:00",
        None => return Err(bad()),
    };
    let (clock_text, offset_minutes) = split_offset(rest).ok_or_else(bad)?;
    let time = parse_duration(clock_text).map_err(|_| bad())?;
    if time.negative || time.hours > 23 {
        return Err(bad());
    }
    let clock = Clock {
        hour: time.hours as u8,
        minute: time.minutes,
        second: time.seconds,
        micros: time.micros,
    };
    Ok(shift_minutes(date, clock, -offset_minutes))
}

/// Splits a trailing `Z`, `+HH`, `+HH:MM` or `+HHMM` offset off a clock.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let Some(at) = text.rfind(['+', '-']) else {
        return Some((text, 0));
    };
    let (clock, offset) = text.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    if !digits.is_ascii() {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (&digits[..2], "00"),
        4 => (&digits[..2], &digits[2..]),
        _ => return None,
    };
    let (h, m): (i64, i64) = (number(h, 2)?, number(m, 2)?);
    Some((clock, sign * (h * 60 + m)))
}

/// Moves a date and clock by whole minutes, carrying across days.
fn shift_minutes(date: Date, clock: Clock, minutes: i64) -> (Date, Clock) {
    if minutes == 0 {
        return (date, clock);
    }
    let total = days_from_civil(date) * 1440
        + i64::from(clock.hour) * 60
        + i64::from(clock.minute)
        + minutes;
    let (days, minute_of_day) = (total.div_euclid(1440), total.rem_euclid(1440));
    let clock = Clock {
        hour: (minute_of_day / 60) as u8,
        minute: (minute_of_day % 60) as u8,
        ..clock
    };
    (civil_from_days(days), clock)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(date: Date) -> i64 {
    let (m, d) = (i64::from(date.month), i64::from(date.day));
    let y = i64::from(date.year) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (proleptic Gregorian; year 0 is 1 BC).
pub(crate) fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

fn parse_json(text: &str) -> Result<String, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| text.to_string())
        .map_err(|e| format!("{} is not valid JSON: {e}", quoted(text)))
}

fn parse_uuid(text: &str) -> Result<String, String> {
    let hex: String = text
        .trim()
        .trim_matches(['{', '}'])
        .chars()
        .filter(|c| *c != '-')
        .collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{} is not a UUID", quoted(text)));
    }
    Ok(text.trim().to_string())
}

/// A bit string of at most `width` digits (`0101`), as export writes it.
fn parse_bits(text: &str, width: u32) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() || t.len() > width as usize || !t.bytes().all(|b| b == b'0' || b == b'1') {
        return Err(format!(
            "{} is not a bit string of up to {width} digits",
            quoted(text)
        ));
    }
    Ok(u64::from_str_radix(t, 2).expect("checked digits"))
}

/// `[1, null, ["a b"]]` → `{1,NULL,{"a b"}}`: PostgreSQL's array text.
fn json_array_to_postgres(text: &str) -> Result<String, String> {
    fn element(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Null => out.push_str("NULL"),
            serde_json::Value::Array(items) => {
                out.push('{');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    element(item, out);
                }
                out.push('}');
            }
            serde_json::Value::String(s) => quote_element(s, out),
            other => quote_element(&other.to_string(), out),
        }
    }
    fn quote_element(text: &str, out: &mut String) {
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{} is not a JSON array: {e}", quoted(text)))?;
    let mut out = String::new();
    element(&value, &mut out);
    Ok(out)
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
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => crate::format::float::write_f64(out, *f),
            Value::Text(t) => out.extend_from_slice(t.as_bytes()),
            Value::Bytes(b) => crate::format::write_hex(out, b),
            Value::Date(d) => write_date(out, *d),
            Value::Time(t) => {
                if t.negative {
                    out.push(b'-');
                }
                let _ = write!(out, "{:02}:{:02}:{:02}", t.hours, t.minutes, t.seconds);
                write_micros(out, t.micros);
            }
            Value::Timestamp(d, c) => {
                write_date(out, *d);
                let _ = write!(out, " {:02}:{:02}:{:02}", c.hour, c.minute, c.second);
                write_micros(out, c.micros);
            }
            Value::Bits(bits) => {
                let _ = write!(out, "{bits:b}");
            }
        }
        Some(())
    }
}

fn write_date(out: &mut Vec<u8>, d: Date) {
    use std::io::Write as _;
    let _ = write!(out, "{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

fn write_micros(out: &mut Vec<u8>, micros: u32) {
    use std::io::Write as _;
    if micros > 0 {
        let _ = write!(out, ".{micros:06}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn booleans_in_common_forms() {
        for t in ["true", "T", "1", "yes"] {
            assert_eq!(ok(t, TargetType::Bool), Value::Bool(true));
        }
        for f in ["false", "f", "0", "NO"] {
            assert_eq!(ok(f, TargetType::Bool), Value::Bool(false));
        }
        assert!(err("maybe", TargetType::Bool).contains("not a boolean"));
    }

    #[test]
    fn integers_are_range_checked() {
        assert_eq!(ok("-2147483648", INT), Value::Int(-2147483648));
        assert!(err("2147483648", INT).contains("out of range"));
        assert!(err("abc", INT).contains("not an integer"));
        assert!(err("1.5", INT).contains("not an integer"));
        let u64_max = TargetType::Int {
            min: 0,
            max: u64::MAX as i128,
        };
        assert_eq!(
            ok("18446744073709551615", u64_max),
            Value::Int(u64::MAX as i128)
        );
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
    fn decimals_keep_their_digits() {
        let d = TargetType::Decimal { special: false };
        let long = "12345678901234567890123456789012345.123456789012345678901234567890";
        assert_eq!(ok(long, d), Value::Text(long.into()));
        assert_eq!(ok("-0.5", d), Value::Text("-0.5".into()));
        assert_eq!(ok("1e-5", d), Value::Text("1e-5".into()));
        assert!(err("1.2.3", d).contains("not a number"));
        assert!(err("NaN", d).contains("not a number"));
        assert_eq!(
            ok("NaN", TargetType::Decimal { special: true }),
            Value::Text("NaN".into())
        );
    }

    #[test]
    fn floats_read_back_exactly() {
        assert_eq!(ok("0.1", TargetType::Float), Value::Float(0.1));
        assert_eq!(ok("1e+300", TargetType::Float), Value::Float(1e300));
        assert!(matches!(ok("NaN", TargetType::Float), Value::Float(f) if f.is_nan()));
        assert_eq!(
            ok("-Infinity", TargetType::Float),
            Value::Float(f64::NEG_INFINITY)
        );
        assert!(err("1,5", TargetType::Float).contains("not a number"));
        assert!(err("1e309", TargetType::Float).contains("out of range"));
        assert!(err("-1e309", TargetType::Float).contains("out of range"));
        assert!(err("1e-400", TargetType::Float).contains("out of range"));
        assert_eq!(ok("0e5", TargetType::Float), Value::Float(0.0));
        assert_eq!(ok("5e-324", TargetType::Float), Value::Float(5e-324));
        assert!(err("1e309", TargetType::Float).contains("out of range"));
        assert!(err("-1e309", TargetType::Float).contains("out of range"));
        assert!(err("1e-400", TargetType::Float).contains("out of range"));
        assert_eq!(ok("0e5", TargetType::Float), Value::Float(0.0));
        assert_eq!(ok("5e-324", TargetType::Float), Value::Float(5e-324));
    }

    #[test]
    fn hex_with_or_without_prefix() {
        assert_eq!(
            ok("00ff10", TargetType::Bytes),
            Value::Bytes(vec![0, 255, 16])
        );
        assert_eq!(
            ok("\\xDEAD", TargetType::Bytes),
            Value::Bytes(vec![0xde, 0xad])
        );
        assert_eq!(ok("", TargetType::Bytes), Value::Bytes(vec![]));
        assert!(err("abc", TargetType::Bytes).contains("odd"));
        assert!(err("zz", TargetType::Bytes).contains("not hex"));
    }

    #[test]
    fn dates_must_exist() {
        let date = |y, m, d| {
            Value::Date(Date {
                year: y,
                month: m,
                day: d,
            })
        };
        assert_eq!(ok("2024-02-29", TargetType::Date), date(2024, 2, 29));
        assert_eq!(ok("0001-01-01", TargetType::Date), date(1, 1, 1));
        assert!(err("2023-02-29", TargetType::Date).contains("not a day"));
        assert!(err("2024-13-01", TargetType::Date).contains("not a day"));
        assert!(err("24-1-1", TargetType::Date).contains("not a date"));
    }

    #[test]
    fn timestamps_with_t_space_and_offsets() {
        let ts = |text| {
            ok(text, TargetType::Timestamp { zoned: true })
                .to_text()
                .unwrap()
        };
        assert_eq!(
            ts("2024-05-26T10:00:00.123456"),
            "2024-05-26 10:00:00.123456"
        );
        assert_eq!(ts("2024-05-26 10:00:00"), "2024-05-26 10:00:00");
        assert_eq!(
            ts("2024-05-26T10:00:00.5+00:00"),
            "2024-05-26 10:00:00.500000"
        );
        assert_eq!(ts("2024-05-26T01:30:00+02:00"), "2024-05-25 23:30:00");
        assert_eq!(ts("2024-12-31T23:00:00-01:30"), "2025-01-01 00:30:00");
        assert_eq!(ts("2024-05-26T10:00:00Z"), "2024-05-26 10:00:00");
        assert_eq!(ts("2024-05-26"), "2024-05-26 00:00:00");
        let bad = err(
            "2024-05-26T25:00:00",
            TargetType::Timestamp { zoned: false },
        );
        assert!(bad.contains("not a timestamp"), "{bad}");
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
    fn json_uuid_and_bits() {
        assert_eq!(
            ok("{\"a\": [1]}", TargetType::Json),
            Value::Text("{\"a\": [1]}".into())
        );
        assert!(err("{a:1}", TargetType::Json).contains("not valid JSON"));
        assert!(ok("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", TargetType::Uuid) != Value::Null);
        assert!(err("not-a-uuid", TargetType::Uuid).contains("not a UUID"));
        assert_eq!(
            ok("1010101010", TargetType::Bit { width: 10 }),
            Value::Bits(0b1010101010)
        );
        assert!(err("102", TargetType::Bit { width: 10 }).contains("bit string"));
        assert!(err("111", TargetType::Bit { width: 2 }).contains("bit string"));
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
    fn day_arithmetic_round_trips() {
        for days in [-719_162, -1, 0, 1, 10_957, 2_932_896] {
            assert_eq!(days_from_civil(civil_from_days(days)), days);
        }
        assert_eq!(
            civil_from_days(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
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
