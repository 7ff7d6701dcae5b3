//! A strict JSON scanner over one NDJSON line.
//!
//! Not serde_json, because a field must keep its exact text: numbers like
//! `18446744073709551615` or `1.000000000000000000001` would be rounded
//! through `f64` by `serde_json::Value` (its `arbitrary_precision` and
//! `raw_value` features are not enabled, and enabling them would change
//! number handling for the whole crate). The scanner only finds and
//! validates values, so it does not allocate, and nesting is followed with
//! an explicit stack, so no input can exhaust the call stack.
//!
//! Positions are byte indexes into the line; the line is valid UTF-8.

/// What is wrong, and the byte index where it was found.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct JsonError {
    pub(super) at: usize,
    pub(super) message: &'static str,
}

pub(super) type Result<T> = std::result::Result<T, JsonError>;

/// The error for `message` at `s[at]`, or for the line ending too soon.
pub(super) fn error(s: &[u8], at: usize, message: &'static str) -> JsonError {
    let message = if at >= s.len() {
        "unexpected end of the line"
    } else {
        message
    };
    JsonError { at, message }
}

fn fail<T>(s: &[u8], at: usize, message: &'static str) -> Result<T> {
    Err(error(s, at, message))
}

/// Skips JSON whitespace.
pub(super) fn ws(s: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = s.get(i) {
        i += 1;
    }
    i
}

/// Reads the string starting at `s[i]` (a quote), appending its decoded
/// text to `out` if given. Returns the index after the closing quote.
pub(super) fn string(s: &[u8], mut i: usize, mut out: Option<&mut Vec<u8>>) -> Result<usize> {
    i += 1;
    loop {
        let start = i;
        while let Some(&b) = s.get(i) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            i += 1;
        }
        if let Some(out) = out.as_deref_mut() {
            out.extend_from_slice(&s[start..i]);
        }
        match s.get(i) {
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => {}
            Some(_) => return fail(s, i, "control character in a string (it must be escaped)"),
            None => return fail(s, i, "unterminated string"),
        }
        let escape = i;
        let byte = match s.get(i + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let (c, next) = unicode_escape(s, escape)?;
                i = next;
                if let Some(out) = out.as_deref_mut() {
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                continue;
            }
            _ => return fail(s, i + 1, "invalid escape in a string"),
        };
        if let Some(out) = out.as_deref_mut() {
            out.push(byte);
        }
        i += 2;
    }
}

/// Reads `\uXXXX` at `s[i]`, with the low half of a surrogate pair if it
/// is the high half. A lone surrogate is an error: UTF-8 cannot hold it.
fn unicode_escape(s: &[u8], i: usize) -> Result<(char, usize)> {
    let Some(high) = hex4(s, i + 2) else {
        return fail(s, i, "invalid \\u escape in a string");
    };
    let mut next = i + 6;
    let code = match high {
        0xD800..=0xDBFF => {
            let low = match (s.get(next), s.get(next + 1)) {
                (Some(b'\\'), Some(b'u')) => hex4(s, next + 2),
                _ => None,
            };
            match low {
                Some(low @ 0xDC00..=0xDFFF) => {
                    next += 6;
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                }
                _ => return fail(s, i, "lone leading surrogate in a \\u escape"),
            }
        }
        0xDC00..=0xDFFF => return fail(s, i, "lone trailing surrogate in a \\u escape"),
        _ => high,
    };
    match char::from_u32(code) {
        Some(c) => Ok((c, next)),
        None => fail(s, i, "invalid \\u escape in a string"),
    }
}

fn hex4(s: &[u8], i: usize) -> Option<u32> {
    let digits = s.get(i..i.checked_add(4)?)?;
    digits.iter().try_fold(0, |value, &d| {
        let digit = char::from(d).to_digit(16)?;
        Some(value * 16 + digit)
    })
}

/// Reads a number at `s[i]`, checked against the JSON grammar.
fn number(s: &[u8], mut i: usize) -> Result<usize> {
    let digits = |s: &[u8], mut i: usize| {
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        i
    };
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(s, i),
        _ => return fail(s, i, "invalid number"),
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return fail(s, i, "invalid number: a digit must follow the point");
        }
        i = digits(s, i);
    }
    if let Some(b'e' | b'E') = s.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = s.get(i) {
            i += 1;
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return fail(s, i, "invalid number: a digit must follow the exponent");
        }
        i = digits(s, i);
    }
    Ok(i)
}

fn literal(s: &[u8], i: usize, word: &[u8]) -> Result<usize> {
    if s[i..].starts_with(word) {
        Ok(i + word.len())
    } else {
        fail(s, i, "expected a value")
    }
}

/// Reads `"key"` and the colon after it, at `s[i]`.
fn key(s: &[u8], i: usize) -> Result<usize> {
    if s.get(i) != Some(&b'"') {
        return fail(s, i, "expected a string key");
    }
    let i = ws(s, string(s, i, None)?);
    if s.get(i) != Some(&b':') {
        return fail(s, i, "expected `:`");
    }
    Ok(ws(s, i + 1))
}

/// Reads any value at `s[i]`, validating it. `stack` is scratch space for
/// the closing brackets of the open arrays and objects.
pub(super) fn value(s: &[u8], mut i: usize, stack: &mut Vec<u8>) -> Result<usize> {
    stack.clear();
    loop {
        // A value is expected at `i`.
        match s.get(i) {
            Some(&open @ (b'{' | b'[')) => {
                let close = if open == b'{' { b'}' } else { b']' };
                i = ws(s, i + 1);
                if s.get(i) == Some(&close) {
                    i += 1;
                } else {
                    stack.push(close);
                    if open == b'{' {
                        i = key(s, i)?;
                    }
                    continue;
                }
            }
            Some(b'"') => i = string(s, i, None)?,
            Some(b'-' | b'0'..=b'9') => i = number(s, i)?,
            Some(b't') => i = literal(s, i, b"true")?,
            Some(b'f') => i = literal(s, i, b"false")?,
            Some(b'n') => i = literal(s, i, b"null")?,
            _ => return fail(s, i, "expected a value"),
        }
        // A value ended: close what it ends, until another value is due.
        loop {
            let Some(&close) = stack.last() else {
                return Ok(i);
            };
            i = ws(s, i);
            match s.get(i) {
                Some(b',') => {
                    i = ws(s, i + 1);
                    if close == b'}' {
                        i = key(s, i)?;
                    }
                    break;
                }
                Some(&b) if b == close => {
                    stack.pop();
                    i += 1;
                }
                _ if close == b'}' => return fail(s, i, "expected `,` or `}`"),
                _ => return fail(s, i, "expected `,` or `]`"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(s: &str) -> Result<usize> {
        let s = s.as_bytes();
        let end = ws(s, value(s, ws(s, 0), &mut Vec::new())?);
        if end < s.len() {
            return fail(s, end, "trailing characters");
        }
        Ok(end)
    }

    #[test]
    fn accepts_what_json_allows() {
        for ok in [
            "0",
            "-0.5e+10",
            "12345678901234567890.000000000000000000001",
            "\"a\\u00e9\\ud83e\\udd80\\n\"",
            "[]",
            "{}",
            " [1, {\"a\": [true, false, null]}, \"x\"] ",
            "{\"\":{\"\":{}}}",
        ] {
            assert!(whole(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_json_does_not() {
        for (bad, at) in [
            ("01", 1),
            ("1.", 2),
            ("-", 1),
            ("[1,]", 3),
            ("{\"a\" 1}", 5),
            ("{\"a\":1,}", 7),
            ("[1 2]", 3),
            ("\"\\ud800\"", 1),
            ("\"\\udc00\"", 1),
            ("\"\\x\"", 2),
            ("\"tab\there\"", 4),
            ("tru", 0),
            ("[", 1),
            ("{\"a\":[1}", 7),
        ] {
            assert_eq!(whole(bad).map_err(|e| e.at), Err(at), "{bad}");
        }
    }

    #[test]
    fn strings_are_decoded() {
        let s = br#""a\"b\\c\/\b\f\n\r\t\u0041\u00e9\ud83e\udd80""#;
        let mut out = Vec::new();
        assert_eq!(string(s, 0, Some(&mut out)), Ok(s.len()));
        assert_eq!(out, "a\"b\\c/\x08\x0c\n\r\tAé🦀".as_bytes());
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(whole(&deep).is_ok());
        assert!(whole(&"[".repeat(100_000)).is_err());
    }
}
