//! CSV and TSV, written exactly as PostgreSQL's `COPY ... TO STDOUT` writes
//! them, so that the `copy` strategy can pass the server's bytes through and
//! every other strategy still produces the same file.
//!
//! The csv crate is not used here because it cannot tell NULL (an unquoted
//! empty field) from the empty string (`""`) on output.

use super::{write_scalar, Cell};

pub(super) struct Delimited {
    style: Style,
    null: Vec<u8>,
    /// PostgreSQL quotes a lone `\.` in single-column CSV so it cannot be
    /// read as its end-of-data marker.
    single_column: bool,
}

#[derive(Clone, Copy)]
enum Style {
    Csv,
    Tsv,
}

impl Delimited {
    pub(super) fn csv(null: &str, columns: usize) -> Delimited {
        Delimited {
            style: Style::Csv,
            null: null.as_bytes().to_vec(),
            single_column: columns == 1,
        }
    }

    pub(super) fn tsv(null: &str) -> Delimited {
        Delimited {
            style: Style::Tsv,
            null: null.as_bytes().to_vec(),
            single_column: false,
        }
    }

    pub(super) fn separator(&self) -> u8 {
        match self.style {
            Style::Csv => b',',
            Style::Tsv => b'\t',
        }
    }

    #[inline]
    pub(super) fn write_cell(
        &self,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        column: usize,
        cell: Cell<'_>,
    ) {
        if column > 0 {
            out.push(self.separator());
        }
        match cell {
            Cell::Null => out.extend_from_slice(&self.null),
            Cell::Text(t) | Cell::Number(t) | Cell::Json(t) => self.write_text(out, t),
            _ => {
                scratch.clear();
                write_scalar(scratch, cell);
                self.write_text(out, scratch);
            }
        }
    }

    /// Writes one non-NULL value, quoted or escaped as the style needs.
    pub(super) fn write_text(&self, out: &mut Vec<u8>, text: &[u8]) {
        match self.style {
            Style::Csv => self.write_csv(out, text),
            Style::Tsv => write_tsv(out, text),
        }
    }

    fn write_csv(&self, out: &mut Vec<u8>, text: &[u8]) {
        let quote = self.is_null_text(text)
            || (self.single_column && text == b"\\.")
            || has_csv_special(text);
        if !quote {
            out.extend_from_slice(text);
            return;
        }
        out.push(b'"');
        for part in text.split_inclusive(|&b| b == b'"') {
            out.extend_from_slice(part);
            if part.last() == Some(&b'"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    }

    /// Whether a value reads back as NULL unless quoted. The usual NULL
    /// string is empty, which needs no byte compare at all (a compare per
    /// field was 15% of a MariaDB export's profile).
    fn is_null_text(&self, text: &[u8]) -> bool {
        text.len() == self.null.len() && (text.is_empty() || text == self.null.as_slice())
    }
}

/// Whether a field holds a byte that forces quotes. All four are at most
/// `,`, so a branch-free pass over the field (which the compiler
/// vectorises) rules most fields out before the exact test.
fn has_csv_special(text: &[u8]) -> bool {
    text.iter().fold(false, |low, &b| low | (b <= b','))
        && text
            .iter()
            .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

/// PostgreSQL's text-format escapes: backslash, and the control characters
/// that have a letter escape. Other bytes go out as they are.
fn write_tsv(out: &mut Vec<u8>, text: &[u8]) {
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        let letter = match b {
            b'\\' => b'\\',
            b'\t' => b't',
            b'\n' => b'n',
            b'\r' => b'r',
            0x08 => b'b',
            0x0b => b'v',
            0x0c => b'f',
            _ => continue,
        };
        out.extend_from_slice(&text[start..i]);
        out.push(b'\\');
        out.push(letter);
        start = i + 1;
    }
    out.extend_from_slice(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::super::tests::encode;
    use super::super::Format;
    use crate::cell::Cell;

    /// One test a row: the format, its NULL text, one row of cells, and
    /// the whole output, header included.
    macro_rules! encodes {
        ($($name:ident: $format:ident, $null:expr, [$($cell:expr),* $(,)?] => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(encode(Format::$format, $null, &[&[$($cell),*]]), $want);
            }
        )*};
    }

    encodes! {
        csv_separates_null_from_empty_string: Csv, "", [Cell::Null, Cell::Text(b""), Cell::Int(7)]
            => "c0,c1,c2\n,\"\",7\n";
        csv_quotes_only_what_needs_it: Csv, "", [
            Cell::Text(b"a,b"),
            Cell::Text(b"say \"hi\""),
            Cell::Text(b"line\nbreak"),
            Cell::Text(b"cr\r"),
            Cell::Text(b"tab\there"),
            Cell::Text(b"back\\slash"),
        ] => "c0,c1,c2,c3,c4,c5\n\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",\"cr\r\",tab\there,back\\slash\n";
        csv_quotes_values_equal_to_the_null_string: Csv, "NULL", [Cell::Null, Cell::Text(b"NULL"), Cell::Int(1)]
            => "c0,c1,c2\nNULL,\"NULL\",1\n";
        tsv_escapes_like_postgres_text_copy: Tsv, "\\N", [Cell::Null, Cell::Text(b"a\tb\nc\\d\re\x08"), Cell::Text(b"")]
            => "c0\tc1\tc2\n\\N\ta\\tb\\nc\\\\d\\re\\b\t\n";
        scalars_have_one_text_form: Csv, "", [
            Cell::Bool(true),
            Cell::UInt(u64::MAX),
            Cell::Int(i64::MIN),
            Cell::F64(0.1),
            Cell::Bytes(b"\x01\xff"),
        ] => "c0,c1,c2,c3,c4\ntrue,18446744073709551615,-9223372036854775808,0.1,01ff\n";
    }

    #[test]
    fn csv_quotes_end_marker_only_in_single_column_output() {
        assert_eq!(
            encode(Format::Csv, "", &[&[Cell::Text(b"\\.")]]),
            "c0\n\"\\.\"\n"
        );
        assert_eq!(
            encode(Format::Csv, "", &[&[Cell::Text(b"\\."), Cell::Null]]),
            "c0,c1\n\\.,\n"
        );
    }
}
