//! Dates, times of day and durations, and timestamps: parsed from the
//! forms `dbchunk export` writes and the ones users commonly have (`T` or
//! a space, `Z` or any `±HH[:MM]` offset, applied so the result is UTC),
//! checked against the calendar, and written back in the one form every
//! engine's parser takes. Day arithmetic (proleptic Gregorian, year 0 is
//! 1 BC) is shared with the Parquet reader.

use super::text::quoted;

/// A calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// A time of day, to the microsecond.
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

/// PostgreSQL's `infinity`, `-infinity` and BC dates: passed to the server
/// as they are (other engines reject them there, with the line).
pub(super) fn is_special_date(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    t == "infinity" || t == "-infinity" || t.ends_with(" bc")
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
pub(super) fn parse_date(text: &str) -> Result<Date, String> {
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
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
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
pub(super) fn parse_timestamp(text: &str) -> Result<(Date, Clock), String> {
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

/// `YYYY-MM-DD`, the form every engine's date parser takes.
pub(super) fn write_date(out: &mut Vec<u8>, d: Date) {
    use std::io::Write as _;
    let _ = write!(out, "{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

/// `[-]HH:MM:SS[.ffffff]`, hours past 24 as they are (MySQL's `TIME`).
pub(super) fn write_duration(out: &mut Vec<u8>, t: Duration) {
    use std::io::Write as _;
    if t.negative {
        out.push(b'-');
    }
    let _ = write!(out, "{:02}:{:02}:{:02}", t.hours, t.minutes, t.seconds);
    write_micros(out, t.micros);
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`, with a space, which every engine takes.
pub(super) fn write_timestamp(out: &mut Vec<u8>, d: Date, c: Clock) {
    use std::io::Write as _;
    write_date(out, d);
    let _ = write!(out, " {:02}:{:02}:{:02}", c.hour, c.minute, c.second);
    write_micros(out, c.micros);
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

    #[test]
    fn dates_must_exist() {
        let date = |y, m, d| {
            Ok(Date {
                year: y,
                month: m,
                day: d,
            })
        };
        assert_eq!(parse_date("2024-02-29"), date(2024, 2, 29));
        assert_eq!(parse_date("0001-01-01"), date(1, 1, 1));
        assert!(parse_date("2023-02-29").unwrap_err().contains("not a day"));
        assert!(parse_date("2024-13-01").unwrap_err().contains("not a day"));
        assert!(parse_date("24-1-1").unwrap_err().contains("not a date"));
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
}
