//! What each column becomes in the select list: the server's canonical
//! text for the row strategies, and for `COPY` the raw output text plus
//! the small fix-ups (booleans, bytea, timestamps) finished on the client.

use super::*;

/// The select expression and value kind of one column: text that is
/// already canonical goes as it is, the rest is rendered by the server.
pub(super) fn render(
    reference: &str,
    column: &PgColumn,
    format: Format,
) -> (String, ValueKind, Fixup) {
    let text = format!("{reference}::text");
    let plain = |expr: String, kind| (expr, kind, Fixup::None);
    if column.is_array {
        return match format {
            Format::Ndjson | Format::Parquet => {
                plain(format!("to_json({reference})::text"), ValueKind::Json)
            }
            _ => plain(text, ValueKind::Text),
        };
    }
    if column.is_enum {
        return plain(text, ValueKind::Text);
    }
    match column.type_name.as_str() {
        name if is_text_type(name) => plain(reference.to_string(), ValueKind::Text),
        "int2" | "int4" | "int8" | "oid" | "numeric" | "float4" | "float8" => {
            plain(text, ValueKind::Number)
        }
        "bool" => plain(text, ValueKind::Bool),
        "json" | "jsonb" => plain(text, ValueKind::Json),
        // `\x0102`, finished on the client: the server's encode() costs
        // more than the client's strip.
        "bytea" => (text, ValueKind::Text, bytea_fixup(format)),
        // The inet-to-text cast always adds the netmask; concat() uses the
        // type's output function, which omits it for a single host.
        "inet" => plain(format!("nullif(concat({reference}), '')"), ValueKind::Text),
        // The output function's text, turned into ISO 8601 with a `T` and
        // a `+00:00` offset on the client, as `COPY` does: to_json on the
        // server made a typed table's export about 1.4× slower.
        "timestamp" => (text, ValueKind::Text, Fixup::Timestamp),
        "timestamptz" => (text, ValueKind::Text, Fixup::TimestampTz),
        _ => plain(text, ValueKind::Text),
    }
}

/// What `COPY` selects for a column, and what the client does to its text.
/// Only types whose raw output is known to match the row strategies'
/// rendering go raw; anything else keeps the server-side expression.
pub(super) fn copy_render(
    reference: &str,
    expr: &str,
    column: &PgColumn,
    format: Format,
) -> (String, Fixup) {
    let raw = |fixup| (reference.to_string(), fixup);
    if column.is_array {
        return match format {
            Format::Ndjson | Format::Parquet => (expr.to_string(), Fixup::None),
            _ => raw(Fixup::None),
        };
    }
    if column.is_enum {
        return raw(Fixup::None);
    }
    match column.type_name.as_str() {
        name if is_text_type(name) => raw(Fixup::None),
        "int2" | "int4" | "int8" | "oid" | "numeric" | "float4" | "float8" | "json" | "jsonb"
        | "date" | "time" | "timetz" | "interval" | "uuid" | "inet" => raw(Fixup::None),
        "bool" => raw(Fixup::Bool),
        "bytea" => raw(bytea_fixup(format)),
        "timestamp" => raw(Fixup::Timestamp),
        "timestamptz" => raw(Fixup::TimestampTz),
        _ => (expr.to_string(), Fixup::None),
    }
}

/// Text formats write `bytea` as hex, which the server's output already
/// is; Parquet stores the bytes.
pub(super) fn bytea_fixup(format: Format) -> Fixup {
    match format {
        Format::Parquet => Fixup::ByteaRaw,
        _ => Fixup::Bytea,
    }
}

/// PostgreSQL's timestamp output (`ISO` style, UTC session) in the form
/// `to_json` writes: the first space becomes `T`, and a whole-hour offset
/// (`+00`) gets its minutes (`+00:00`). `infinity` has no space and stays.
pub(super) fn fix_timestamp(text: &[u8], zoned: bool, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(text);
    let Some(space) = out.iter().position(|&b| b == b' ') else {
        return;
    };
    out[space] = b'T';
    if !zoned {
        return;
    }
    // The offset starts at the last sign after the date; it ends at a
    // ` BC` suffix or at the end.
    let end = out[space..]
        .iter()
        .position(|&b| b == b' ')
        .map_or(out.len(), |p| space + p);
    if let Some(sign) = out[space..end]
        .iter()
        .rposition(|&b| b == b'+' || b == b'-')
    {
        if end - (space + sign) == 3 {
            out.splice(end..end, *b":00");
        }
    }
}

/// Types whose binary form is their text, so they need no cast. `char(n)`
/// is one: casting it to text would drop its trailing blanks.
pub(super) fn is_text_type(name: &str) -> bool {
    matches!(name, "text" | "varchar" | "bpchar" | "name")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::written;

    #[test]
    fn copy_timestamps_get_the_to_json_form() {
        let fix = |text: &str, zoned| written(|out| fix_timestamp(text.as_bytes(), zoned, out));
        assert_eq!(fix("2024-05-26 10:00:00.5", false), "2024-05-26T10:00:00.5");
        assert_eq!(
            fix("2024-05-26 10:00:00.5+00", true),
            "2024-05-26T10:00:00.5+00:00"
        );
        assert_eq!(
            fix("0044-03-15 10:00:00+00 BC", true),
            "0044-03-15T10:00:00+00:00 BC"
        );
        assert_eq!(
            fix("0044-03-15 10:00:00 BC", false),
            "0044-03-15T10:00:00 BC"
        );
        assert_eq!(fix("infinity", true), "infinity");
        assert_eq!(fix("-infinity", true), "-infinity");
        assert_eq!(
            fix("2024-05-26 10:00:00+05:30", true),
            "2024-05-26T10:00:00+05:30"
        );
    }
}
