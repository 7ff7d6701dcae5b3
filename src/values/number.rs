//! Booleans and numbers: integers checked against the column's range,
//! decimals checked for their grammar but kept as their digits (never
//! through a float), and doubles refused where Rust would round them to
//! infinity or zero, so no value changes silently on its way in.

use super::text::quoted;

pub(super) fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" | "on" => Ok(true),
        "false" | "f" | "0" | "no" | "n" | "off" => Ok(false),
        _ => Err(format!(
            "{} is not a boolean (use true/false, t/f or 1/0)",
            quoted(text)
        )),
    }
}

pub(super) fn parse_int(text: &str, min: i128, max: i128) -> Result<i128, String> {
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
pub(super) fn parse_decimal(text: &str, special: bool) -> Result<String, String> {
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

pub(super) fn parse_float(text: &str) -> Result<f64, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_in_common_forms() {
        for t in ["true", "T", "1", "yes"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["false", "f", "0", "NO"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        assert!(parse_bool("maybe").unwrap_err().contains("not a boolean"));
    }

    #[test]
    fn integers_are_range_checked() {
        let int = |t| parse_int(t, -2147483648, 2147483647);
        assert_eq!(int("-2147483648"), Ok(-2147483648));
        assert!(int("2147483648").unwrap_err().contains("out of range"));
        assert!(int("abc").unwrap_err().contains("not an integer"));
        assert!(int("1.5").unwrap_err().contains("not an integer"));
        assert_eq!(
            parse_int("18446744073709551615", 0, u64::MAX as i128),
            Ok(u64::MAX as i128)
        );
    }

    #[test]
    fn decimals_keep_their_digits() {
        let d = |t| parse_decimal(t, false);
        let long = "12345678901234567890123456789012345.123456789012345678901234567890";
        assert_eq!(d(long), Ok(long.into()));
        assert_eq!(d("-0.5"), Ok("-0.5".into()));
        assert_eq!(d("1e-5"), Ok("1e-5".into()));
        assert!(d("1.2.3").unwrap_err().contains("not a number"));
        assert!(d("NaN").unwrap_err().contains("not a number"));
        assert_eq!(parse_decimal("NaN", true), Ok("NaN".into()));
    }

    #[test]
    fn floats_read_back_exactly() {
        let out_of_range = |t| parse_float(t).unwrap_err().contains("out of range");
        assert_eq!(parse_float("0.1"), Ok(0.1));
        assert_eq!(parse_float("1e+300"), Ok(1e300));
        assert!(parse_float("NaN").unwrap().is_nan());
        assert_eq!(parse_float("-Infinity"), Ok(f64::NEG_INFINITY));
        assert!(parse_float("1,5").unwrap_err().contains("not a number"));
        assert!(out_of_range("1e309"));
        assert!(out_of_range("-1e309"));
        assert!(out_of_range("1e-400"));
        assert_eq!(parse_float("0e5"), Ok(0.0));
        assert_eq!(parse_float("5e-324"), Ok(5e-324));
    }
}
