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

/// MySQL's stored geometry in hex (the SRID's 4 bytes, then the WKB) as
/// its WKB: what PostGIS, GDAL and every WKB reader take, where the SRID
/// in front would make the bytes unreadable. A WKB starts with its byte
/// order (0 or 1) and a 4-byte geometry type.
pub(super) fn parse_mysql_geometry(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = parse_hex(text)?;
    if bytes.len() < 9 || bytes[4] > 1 {
        return Err(format!(
            "{} is not MySQL geometry (a 4-byte SRID, then WKB)",
            quoted(text)
        ));
    }
    bytes.drain(..4);
    Ok(bytes)
}

/// MySQL's stored geometry in hex as PostGIS's EWKB: the WKB with its
/// SRID moved in after the geometry type, which says so with the flag
/// `0x20000000` (in the WKB's own byte order). SRID 0 (none) is plain WKB.
pub(super) fn mysql_geometry_as_ewkb(text: &str) -> Result<Vec<u8>, String> {
    let srid = parse_hex(text)?
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0);
    let wkb = parse_mysql_geometry(text)?;
    if srid == 0 {
        return Ok(wkb);
    }
    const HAS_SRID: u32 = 0x2000_0000;
    let little = wkb[0] == 1;
    let kind = [wkb[1], wkb[2], wkb[3], wkb[4]];
    let (kind, srid) = match little {
        true => (
            (u32::from_le_bytes(kind) | HAS_SRID).to_le_bytes(),
            srid.to_le_bytes(),
        ),
        false => (
            (u32::from_be_bytes(kind) | HAS_SRID).to_be_bytes(),
            srid.to_be_bytes(),
        ),
    };
    let mut ewkb = Vec::with_capacity(wkb.len() + 4);
    ewkb.push(wkb[0]);
    ewkb.extend_from_slice(&kind);
    ewkb.extend_from_slice(&srid);
    ewkb.extend_from_slice(&wkb[5..]);
    Ok(ewkb)
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
    fn mysql_geometry_loses_its_srid() {
        // SRID 4326, then POINT(1 2) as little-endian WKB.
        let point = "E6100000\
                     0101000000000000000000F03F0000000000000040";
        let wkb = parse_mysql_geometry(point).unwrap();
        assert_eq!(wkb.len(), 21);
        assert_eq!(&wkb[..5], &[1, 1, 0, 0, 0]);
        assert!(parse_mysql_geometry("E6100000")
            .unwrap_err()
            .contains("not MySQL geometry"));
        assert!(parse_mysql_geometry("0000000005000000000000")
            .unwrap_err()
            .contains("not MySQL geometry"));
    }

    #[test]
    fn mysql_geometry_keeps_its_srid_in_ewkb() {
        // SRID 4326, POINT(1 2): PostGIS writes SRID=4326;POINT(1 2) as
        // 0101000020E6100000 then the coordinates.
        let point = "E61000000101000000000000000000F03F0000000000000040";
        let ewkb = mysql_geometry_as_ewkb(point).unwrap();
        let hex: String = ewkb.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(hex, "0101000020E6100000000000000000F03F0000000000000040");
        // No SRID: plain WKB.
        let plain = mysql_geometry_as_ewkb("000000000101000000000000000000F03F0000000000000040");
        assert_eq!(plain.unwrap()[..5], [1, 1, 0, 0, 0]);
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
