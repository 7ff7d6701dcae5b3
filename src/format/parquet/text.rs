//! Canonical text (as [`crate::format`] and the engines write it) read back
//! into the exact numbers Parquet stores: days, microseconds, unscaled
//! decimals, UUID bytes. Parsing text that the server rendered is exact,
//! and none of these allocate.

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// An integer in decimal digits with an optional sign.
pub fn parse_int(text: &[u8]) -> Option<i128> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 38 {
        return None;
    }
    let mut value: i128 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i128::from(b - b'0');
    }
    Some(if negative { -value } else { value })
}

/// A float in Rust's or PostgreSQL's spelling (`NaN`, `Infinity`).
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    match text {
        b"NaN" => Some(f64::NAN),
        b"Infinity" => Some(f64::INFINITY),
        b"-Infinity" => Some(f64::NEG_INFINITY),
        _ => std::str::from_utf8(text).ok()?.parse().ok(),
    }
}

pub fn parse_f32(text: &[u8]) -> Option<f32> {
    match text {
        b"NaN" => Some(f32::NAN),
        b"Infinity" => Some(f32::INFINITY),
        b"-Infinity" => Some(f32::NEG_INFINITY),
        _ => std::str::from_utf8(text).ok()?.parse().ok(),
    }
}

/// The digits of an exact decimal with `scale` digits after the point,
/// as a sign and the unscaled digits (`-1.50` at scale 3 → `-`, `1500`),
/// written into `out`. `None` if the text is not a plain decimal, or has
/// more fraction digits than the scale (which would need rounding).
fn unscaled_digits(text: &[u8], scale: usize, out: &mut [u8; 80]) -> Option<(bool, usize)> {
    let (negative, body) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let (whole, fraction) = match body.iter().position(|&b| b == b'.') {
        Some(p) => (&body[..p], &body[p + 1..]),
        None => (body, &body[..0]),
    };
    if whole.is_empty() && fraction.is_empty() || fraction.len() > scale {
        return None;
    }
    let whole = &whole[whole.iter().take_while(|&&b| b == b'0').count()..];
    let len = whole.len() + scale;
    if len > out.len() {
        return None;
    }
    for (i, &b) in whole.iter().chain(fraction).enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        out[i] = b - b'0';
    }
    out[whole.len() + fraction.len()..len].fill(0);
    Some((negative, len))
}

/// An exact decimal as its unscaled value, for precisions up to 38.
pub fn parse_decimal(text: &[u8], scale: u32) -> Option<i128> {
    let mut digits = [0u8; 80];
    let (negative, len) = unscaled_digits(text, scale as usize, &mut digits)?;
    if len > 38 {
        return None;
    }
    let value = digits[..len]
        .iter()
        .fold(0i128, |v, &d| v * 10 + i128::from(d));
    Some(if negative { -value } else { value })
}

/// An exact decimal of up to 76 digits as the big-endian two's
/// complement Parquet stores in a `FIXED_LEN_BYTE_ARRAY` of `out.len()`
/// bytes.
pub fn parse_wide_decimal(text: &[u8], scale: u32, out: &mut [u8]) -> Option<()> {
    let mut digits = [0u8; 80];
    let (negative, len) = unscaled_digits(text, scale as usize, &mut digits)?;
    // Four 64-bit limbs, least significant first: 256 bits hold 76 digits.
    let mut limbs = [0u64; 4];
    for &d in &digits[..len] {
        let mut carry = u128::from(d);
        for limb in &mut limbs {
            let v = u128::from(*limb) * 10 + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        if carry != 0 {
            return None;
        }
    }
    if negative {
        let mut carry = 1u128;
        for limb in &mut limbs {
            let v = u128::from(!*limb) + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
    }
    let mut bytes = [0u8; 32];
    for (i, limb) in limbs.iter().rev().enumerate() {
        bytes[i * 8..i * 8 + 8].copy_from_slice(&limb.to_be_bytes());
    }
    let (cut, kept) = bytes.split_at(32 - out.len());
    // What is cut off must be only sign extension.
    let sign = if negative { 0xff } else { 0 };
    if cut.iter().any(|&b| b != sign) || (kept[0] & 0x80 != 0) != negative {
        return None;
    }
    out.copy_from_slice(kept);
    Some(())
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (the year may be longer, and a
/// ` BC` suffix counts back from year 1, as PostgreSQL writes them).
pub fn parse_date(text: &[u8]) -> Option<i32> {
    let (text, bc) = strip_bc(text);
    let days = date_days(text, bc)?;
    i32::try_from(days).ok()
}

/// Microseconds since midnight of `HH:MM:SS[.ffffff]`, up to `24:00:00`.
pub fn parse_time(text: &[u8]) -> Option<i64> {
    let micros = clock_micros(text)?;
    (micros <= MICROS_PER_DAY).then_some(micros)
}

/// Microseconds since 1970-01-01T00:00:00 of `YYYY-MM-DDTHH:MM:SS[.f]`
/// (a space is taken for the `T`), with an optional UTC offset (`+00:00`,
/// `+05`, `Z`) that is applied, and an optional ` BC`. `zoned` says
/// whether an offset is expected: a wall-clock timestamp with one, or an
/// instant without one, is not what the column's type says.
pub fn parse_timestamp(text: &[u8], zoned: bool) -> Option<i64> {
    let (text, bc) = strip_bc(text);
    let split = text.iter().position(|&b| b == b'T' || b == b' ')?;
    let days = date_days(&text[..split], bc)?;
    let rest = &text[split + 1..];
    let (clock, offset) = match rest.iter().position(|&b| matches!(b, b'+' | b'-' | b'Z')) {
        Some(p) => (&rest[..p], Some(parse_offset(&rest[p..])?)),
        None => (rest, None),
    };
    if offset.is_some() != zoned {
        return None;
    }
    let micros = clock_micros(clock)?;
    if micros >= MICROS_PER_DAY {
        return None;
    }
    days.checked_mul(MICROS_PER_DAY)?
        .checked_add(micros)?
        .checked_sub(offset.unwrap_or(0))
}

/// A lowercase or uppercase hyphenated UUID (hyphens anywhere are skipped).
pub fn parse_uuid(text: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut nibbles = text.iter().filter(|&&b| b != b'-').map(|&b| hex_value(b));
    for byte in &mut out {
        *byte = (nibbles.next()?? << 4) | nibbles.next()??;
    }
    nibbles.next().is_none().then_some(out)
}

/// Appends the bytes that lowercase or uppercase hex text stands for.
pub fn decode_hex(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    for pair in text.chunks_exact(2) {
        out.push((hex_value(pair[0])? << 4) | hex_value(pair[1])?);
    }
    Some(())
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|v| v as u8)
}

fn strip_bc(text: &[u8]) -> (&[u8], bool) {
    match text.strip_suffix(b" BC") {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// Days since the epoch of a proleptic Gregorian date; with `bc`, year
/// `y` BC is astronomical year `1 - y`.
fn date_days(text: &[u8], bc: bool) -> Option<i64> {
    let mut parts = text.split(|&b| b == b'-');
    let year = digits(parts.next()?)?;
    let month = digits(parts.next()?)?;
    let day = digits(parts.next()?)?;
    if parts.next().is_some() || !(1..=12).contains(&month) || day < 1 {
        return None;
    }
    let year = if bc { 1 - year } else { year };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if day > month_days[(month - 1) as usize] {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn clock_micros(text: &[u8]) -> Option<i64> {
    let (clock, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(p) => (&text[..p], &text[p + 1..]),
        None => (text, &text[..0]),
    };
    let mut parts = clock.split(|&b| b == b':');
    let (h, m, s) = (
        digits(parts.next()?)?,
        digits(parts.next()?)?,
        digits(parts.next()?)?,
    );
    if parts.next().is_some() || m > 59 || s > 59 || fraction.len() > 6 {
        return None;
    }
    if text.contains(&b'.') && fraction.is_empty() {
        return None;
    }
    let mut micros = 0;
    for i in 0..6 {
        let d = match fraction.get(i) {
            Some(b) if b.is_ascii_digit() => i64::from(b - b'0'),
            Some(_) => return None,
            None => 0,
        };
        micros = micros * 10 + d;
    }
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + micros)
}

/// `+HH:MM`, `+HH`, `+HHMM`, `+HH:MM:SS` or `Z`, in microseconds east.
fn parse_offset(text: &[u8]) -> Option<i64> {
    if text == b"Z" {
        return Some(0);
    }
    let (sign, rest) = match text.split_first()? {
        (b'+', rest) => (1, rest),
        (b'-', rest) => (-1, rest),
        _ => return None,
    };
    let (mut rest, mut field, mut seconds) = (rest, 0, 0);
    while !rest.is_empty() {
        if field == 3 {
            return None;
        }
        seconds += digits(rest.get(..2)?)? * [3600, 60, 1][field];
        field += 1;
        rest = &rest[2..];
        rest = rest.strip_prefix(b":").unwrap_or(rest);
    }
    if field == 0 {
        return None;
    }
    Some(sign * seconds * 1_000_000)
}

/// Plain decimal digits (no sign) as a number.
fn digits(text: &[u8]) -> Option<i64> {
    if text.is_empty() || text.len() > 9 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(text.iter().fold(0, |v, &b| v * 10 + i64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_days_from_the_epoch() {
        assert_eq!(parse_date(b"1970-01-01"), Some(0));
        assert_eq!(parse_date(b"2000-02-29"), Some(11_016));
        assert_eq!(parse_date(b"0001-01-01"), Some(-719_162));
        // 1 BC is year 0, a leap year.
        assert_eq!(parse_date(b"0001-12-31 BC"), Some(-719_163));
        assert_eq!(parse_date(b"2001-02-29"), None);
        assert_eq!(parse_date(b"0000-00-00"), None);
        assert_eq!(parse_date(b"infinity"), None);
    }

    #[test]
    fn timestamps_apply_their_offset() {
        assert_eq!(
            parse_timestamp(b"1970-01-01T00:00:01.5", false),
            Some(1_500_000)
        );
        assert_eq!(parse_timestamp(b"1970-01-01 00:00:00", false), Some(0));
        assert_eq!(parse_timestamp(b"1970-01-01T02:00:00+02:00", true), Some(0));
        assert_eq!(
            parse_timestamp(b"1970-01-01T00:00:00-01", true),
            Some(3_600_000_000)
        );
        assert_eq!(parse_timestamp(b"1970-01-01T00:00:00", true), None);
        assert_eq!(parse_timestamp(b"1970-01-01T00:00:00+00:00", false), None);
        assert_eq!(
            parse_timestamp(b"2024-05-26T10:00:00.123456", false),
            Some(1_716_717_600_123_456)
        );
    }

    #[test]
    fn times_stay_within_a_day() {
        assert_eq!(parse_time(b"23:59:59.999999"), Some(86_399_999_999));
        assert_eq!(parse_time(b"24:00:00"), Some(86_400_000_000));
        assert_eq!(parse_time(b"25:00:00"), None);
        assert_eq!(parse_time(b"-00:00:01"), None);
        assert_eq!(parse_time(b"10:00:00.1234567"), None);
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal(b"-1.5", 3), Some(-1500));
        assert_eq!(parse_decimal(b"0.001", 3), Some(1));
        assert_eq!(parse_decimal(b"12", 0), Some(12));
        assert_eq!(parse_decimal(b"1.2345", 3), None);
        assert_eq!(parse_decimal(b"NaN", 2), None);
        let mut out = [0u8; 16];
        parse_wide_decimal(b"-1", 0, &mut out).unwrap();
        assert_eq!(out, [0xff; 16]);
        let mut out = [0u8; 32];
        let big = b"9999999999999999999999999999999999999999999999999999999999999999999999999999";
        parse_wide_decimal(big, 0, &mut out).unwrap();
        assert_eq!(out[0], 0x16);
        let mut small = [0u8; 2];
        assert!(parse_wide_decimal(b"40000", 0, &mut small).is_none());
        parse_wide_decimal(b"-32768", 0, &mut small).unwrap();
        assert_eq!(small, [0x80, 0]);
    }

    #[test]
    fn uuids_and_hex() {
        let uuid = parse_uuid(b"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        assert_eq!(uuid[0], 0xa0);
        assert_eq!(uuid[15], 0x11);
        assert!(parse_uuid(b"a0eebc99").is_none());
        let mut out = Vec::new();
        decode_hex(b"00ff10", &mut out).unwrap();
        assert_eq!(out, [0, 255, 16]);
    }
}
