//! The values that stay text or bytes: binary from hex (with or without
//! PostgreSQL's `\x`), JSON checked for its grammar, UUIDs, MySQL bit
//! strings, and NDJSON's JSON arrays turned into PostgreSQL's array text;
//! and how any value is shown in an error message.

/// `text` for a message: quoted, and cut after 40 characters.
pub(super) fn quoted(text: &str) -> String {
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// Lowercase or uppercase hex, with or without PostgreSQL's `\x` prefix.
pub(super) fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
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

pub(super) fn parse_json(text: &str) -> Result<String, String> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| text.to_string())
        .map_err(|e| format!("{} is not valid JSON: {e}", quoted(text)))
}

pub(super) fn parse_uuid(text: &str) -> Result<String, String> {
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
pub(super) fn parse_bits(text: &str, width: u32) -> Result<u64, String> {
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
pub(super) fn json_array_to_postgres(text: &str) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_or_without_prefix() {
        assert_eq!(parse_hex("00ff10"), Ok(vec![0, 255, 16]));
        assert_eq!(parse_hex("\\xDEAD"), Ok(vec![0xde, 0xad]));
        assert_eq!(parse_hex(""), Ok(vec![]));
        assert!(parse_hex("abc").unwrap_err().contains("odd"));
        assert!(parse_hex("zz").unwrap_err().contains("not hex"));
    }

    #[test]
    fn json_uuid_and_bits() {
        assert_eq!(parse_json("{\"a\": [1]}"), Ok("{\"a\": [1]}".into()));
        assert!(parse_json("{a:1}").unwrap_err().contains("not valid JSON"));
        assert!(parse_uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").is_ok());
        assert!(parse_uuid("not-a-uuid").unwrap_err().contains("not a UUID"));
        assert_eq!(parse_bits("1010101010", 10), Ok(0b1010101010));
        assert!(parse_bits("102", 10).unwrap_err().contains("bit string"));
        assert!(parse_bits("111", 2).unwrap_err().contains("bit string"));
    }
}
