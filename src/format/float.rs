//! Canonical float text: the shortest digits that read back as the same
//! value, laid out the way PostgreSQL prints `real` and `double precision`.
//!
//! PostgreSQL renders floats on the server, and its `COPY` output is passed
//! through untouched. MySQL and SQLite hand us binary floats that we format
//! here, so both paths must agree to the byte: fixed notation when the
//! decimal exponent is in `-4..15` (`-4..6` for `f32`), else `1.5e+300`
//! with a signed exponent of at least two digits.

use std::io::Write;

/// Appends the canonical text of `value` to `out`.
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    write_shortest(out, value.is_nan(), value.is_infinite(), value, 15);
}

/// Appends the canonical text of `value` to `out`, with `f32` precision.
pub fn write_f32(out: &mut Vec<u8>, value: f32) {
    write_shortest(out, value.is_nan(), value.is_infinite(), value, 6);
}

fn write_shortest<F>(out: &mut Vec<u8>, nan: bool, inf: bool, value: F, fixed_below: i32)
where
    F: std::fmt::LowerExp + PartialOrd + Default + Copy,
{
    let negative = value < F::default();
    if nan {
        out.extend_from_slice(b"NaN");
        return;
    }
    if inf {
        out.extend_from_slice(if negative { b"-Infinity" } else { b"Infinity" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-trip digits, e.g. `-1.25e-7`.
    let mut scratch = [0u8; 40];
    let len = {
        let mut cursor = std::io::Cursor::new(&mut scratch[..]);
        write!(cursor, "{value:e}").expect("40 bytes hold any float");
        cursor.position() as usize
    };
    let text = &scratch[..len];
    let (mantissa, exponent) = split_exponent(text);
    let (sign, mantissa) = match mantissa.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, mantissa),
    };
    let mut digits = [0u8; 24];
    let mut n = 0;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        digits[n] = b;
        n += 1;
    }
    let digits = &digits[..n];
    if sign {
        out.push(b'-');
    }
    if digits == b"0" {
        out.push(b'0');
    } else if (-4..fixed_below).contains(&exponent) {
        write_fixed(out, digits, exponent);
    } else {
        write_exponential(out, digits, exponent);
    }
}

fn split_exponent(text: &[u8]) -> (&[u8], i32) {
    let e = text
        .iter()
        .position(|&b| b == b'e')
        .expect("`{:e}` always writes an exponent");
    let exponent = std::str::from_utf8(&text[e + 1..])
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("`{:e}` writes a decimal exponent");
    (&text[..e], exponent)
}

/// `digits` is d₀d₁d₂… meaning d₀.d₁d₂… × 10^exponent.
fn write_fixed(out: &mut Vec<u8>, digits: &[u8], exponent: i32) {
    if exponent < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exponent - 1) as usize));
        out.extend_from_slice(digits);
        return;
    }
    let int_len = exponent as usize + 1;
    if digits.len() <= int_len {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
    } else {
        out.extend_from_slice(&digits[..int_len]);
        out.push(b'.');
        out.extend_from_slice(&digits[int_len..]);
    }
}

fn write_exponential(out: &mut Vec<u8>, digits: &[u8], exponent: i32) {
    out.push(digits[0]);
    if digits.len() > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..]);
    }
    out.push(b'e');
    out.push(if exponent < 0 { b'-' } else { b'+' });
    let magnitude = exponent.unsigned_abs();
    if magnitude < 10 {
        out.push(b'0');
    }
    write!(out, "{magnitude}").expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::written;

    fn f64_text(v: f64) -> String {
        written(|out| write_f64(out, v))
    }

    fn f32_text(v: f32) -> String {
        written(|out| write_f32(out, v))
    }

    /// Expected strings were printed by PostgreSQL 15 (`extra_float_digits = 1`).
    #[test]
    fn doubles_match_postgres() {
        let cases = [
            (1e15, "1e+15"),
            (1e14, "100000000000000"),
            (123456789012345.6, "123456789012345.6"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0"),
            (0.0, "0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (-12.5, "-12.5"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (value, expected) in cases {
            assert_eq!(f64_text(value), expected, "{value:?}");
        }
    }

    #[test]
    fn reals_match_postgres() {
        let cases = [
            (1e6f32, "1e+06"),
            (1e5, "100000"),
            (123456.0, "123456"),
            (1e-5, "1e-05"),
            (2.71, "2.71"),
            (1e38, "1e+38"),
            (16777216.0, "1.6777216e+07"),
        ];
        for (value, expected) in cases {
            assert_eq!(f32_text(value), expected, "{value:?}");
        }
    }

    #[test]
    fn every_output_reads_back_exactly() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let value = f64::from_bits(x);
            if value.is_nan() {
                continue;
            }
            let text = f64_text(value);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
    }
}
