//! Helpers shared by the readers' tests, and the tests that concern every
//! reader: the record limit and never panicking.

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use super::{InputError, Reader, Record};
use crate::cell::Cell;
use crate::format::{write_scalar, Format};

pub(super) type Fields = Vec<Option<Vec<u8>>>;
pub(super) type Rows = Vec<Result<Fields, InputError>>;

pub(super) use crate::format::encode_rows as encode;

/// The fields a reader must give back for `cells`: their text, NULL as None.
pub(super) fn row(cells: &[Cell<'_>]) -> Fields {
    cells
        .iter()
        .map(|&cell| match cell {
            Cell::Null => None,
            Cell::Text(t) | Cell::Number(t) | Cell::Json(t) => Some(t.to_vec()),
            _ => {
                let mut out = Vec::new();
                write_scalar(&mut out, cell);
                Some(out)
            }
        })
        .collect()
}

/// The fields of a row of texts, none of them NULL.
pub(super) fn texts(fields: &[&str]) -> Fields {
    fields.iter().map(|f| Some(f.as_bytes().to_vec())).collect()
}

/// Field texts that CSV must quote or TSV escape (separators, quotes,
/// line ends, backslashes, end markers, the spellings of NULL), for the
/// readers' round trips of export output.
pub(super) const AWKWARD_TEXTS: [&[u8]; 14] = [
    b"",
    b"a,b",
    b"say \"hi\"",
    b"line\nbreak",
    b"cr\r",
    b"crlf\r\n",
    b"tab\there",
    b"back\\slash",
    b"back\\slash\\",
    b"\\.",
    b"\\N",
    "emoji 🦀".as_bytes(),
    b"\x08\x0b\x0c",
    b"NULL",
];

/// Writes `rows` as an export does (`null` for NULL, a header `c0,c1,..`),
/// reads the bytes back and checks that every field returns as it was.
pub(super) fn assert_round_trip(format: Format, null: &str, rows: &[Vec<Cell<'_>>]) {
    let bytes = encode(format, null, rows);
    let (names, got) = read_all(format, &bytes, true, null, 1 << 20);
    let want: Vec<String> = (0..rows[0].len()).map(|i| format!("c{i}")).collect();
    assert_eq!(names, Some(want), "{format:?}, null {null:?}");
    let want: Rows = rows.iter().map(|r| Ok(row(r))).collect();
    assert_eq!(got, want, "{format:?}, null {null:?}");
}

/// Reads everything, then asks for the names (so a broken header is
/// reported by `read`).
pub(super) fn read_all(
    format: Format,
    input: &[u8],
    header: bool,
    null: &str,
    max: usize,
) -> (Option<Vec<String>>, Rows) {
    let mut reader = Reader::new(format, input, header, null, max);
    let rows = drain(&mut reader, input.len() + 2);
    (reader.names().ok().flatten(), rows)
}

/// Reads until `Ok(false)`, failing the test if that takes more than
/// `bound` calls: every call must consume input or end it.
fn drain(reader: &mut Reader<impl BufRead>, bound: usize) -> Rows {
    let mut record = Record::new();
    let mut rows = Vec::new();
    for _ in 0..bound {
        match reader.read(&mut record) {
            Ok(false) => return rows,
            Ok(true) => rows.push(Ok(record.iter().map(|f| f.map(<[u8]>::to_vec)).collect())),
            Err(err) => rows.push(Err(err)),
        }
    }
    panic!("no end of input after {bound} reads");
}

const MB: usize = 1 << 20;

/// `prefix`, a 10 MB line of `fill` without a newline, then `suffix`,
/// without ever holding the 10 MB line in memory.
fn ten_mb_line(prefix: &'static [u8], fill: u8, suffix: &'static [u8]) -> impl BufRead {
    let line = std::io::repeat(fill).take(10 * MB as u64);
    BufReader::with_capacity(64 * 1024, prefix.chain(line).chain(suffix))
}

#[test]
fn a_huge_line_is_an_error_after_the_limit_not_an_allocation() {
    type Case = (Format, &'static [u8], u8, &'static [u8], u64, u64);
    let cases: [Case; 5] = [
        (Format::Csv, b"a,b\n1,2\n", b'x', b"\n3,4\n", 3, 4),
        // Inside quotes the newline that follows is data: the record ends
        // at the closing quote, on the next line.
        (Format::Csv, b"a,b\n1,2\n3,\"", b'x', b"\n\"\n3,4\n", 3, 5),
        (Format::Tsv, b"a\tb\n1\t2\n", b'x', b"\n3\t4\n", 3, 4),
        // Even a line of blanks, which would be skipped, is not buffered.
        (
            Format::Ndjson,
            b"{\"a\":1,\"b\":2}\n",
            b' ',
            b"\n{\"a\":3,\"b\":4}\n",
            2,
            3,
        ),
        (
            Format::Ndjson,
            b"{\"a\":1,\"b\":2}\n{\"a\":\"",
            b'x',
            b"\"}\n{\"a\":3}\n",
            2,
            3,
        ),
    ];
    for (format, prefix, fill, suffix, error_line, next_line) in cases {
        let started = Instant::now();
        let mut reader = Reader::new(format, ten_mb_line(prefix, fill, suffix), true, "", MB);
        let mut record = Record::new();
        assert_eq!(reader.read(&mut record), Ok(true), "{format:?}");
        let err = reader.read(&mut record).unwrap_err();
        assert_eq!(
            err.message,
            "record longer than 1048576 bytes (raise --max-line-bytes)"
        );
        assert_eq!(err.line, error_line, "{format:?}");
        assert!(!err.fatal);
        assert!(
            reader.bytes_read() <= (MB + 128 * 1024) as u64,
            "{}",
            reader.bytes_read()
        );
        assert!(record.raw().is_empty());
        assert!(record.raw.capacity() <= MB + 16 && record.buf.capacity() <= MB + 16);
        assert!(started.elapsed() < Duration::from_secs(5), "{format:?}");
        // The rest of the long record is passed over; reading goes on.
        assert_eq!(reader.read(&mut record), Ok(true), "{format:?}");
        assert_eq!(record.get(0), Some(Some(&b"3"[..])));
        assert_eq!(record.line(), next_line, "{format:?}");
        assert_eq!(reader.read(&mut record), Ok(false));
    }
}

#[test]
fn the_limit_counts_the_record_not_its_line_end() {
    for (format, input) in [
        (Format::Csv, &b"1234,6\r\n12345,7\n"[..]),
        (Format::Tsv, b"1234\t6\n12345\t7\n"),
        (Format::Ndjson, b"{\"a\":1}\r\n{\"a\":12}\n"),
    ] {
        let (_, rows) = read_all(
            format,
            input,
            false,
            "",
            if format == Format::Ndjson { 7 } else { 6 },
        );
        assert!(rows[0].is_ok(), "{format:?} {rows:?}");
        assert!(
            rows[1]
                .as_ref()
                .unwrap_err()
                .message
                .starts_with("record longer"),
            "{format:?}"
        );
    }
}

#[path = "../../tests/rng.rs"]
mod rng;
use rng::Rng;

/// Random input, mostly made of the bytes the parsers care about.
fn noise(rng: &mut Rng) -> Vec<u8> {
    const SPECIAL: &[u8] = b"\",\t\n\r\\{}[]:\"\"nN0-.eu \xEF\xBB\xBF\xff\xc3";
    let len = rng.below(48);
    (0..len)
        .map(|_| match rng.below(4) {
            0 => rng.next() as u8,
            1 => b'a' + rng.below(3) as u8,
            _ => SPECIAL[rng.below(SPECIAL.len())],
        })
        .collect()
}

#[test]
fn no_input_makes_a_reader_panic_or_loop() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..20_000 {
        let input = noise(&mut rng);
        let max = 1 + rng.below(24);
        for format in [Format::Csv, Format::Tsv, Format::Ndjson] {
            for header in [false, true] {
                for null in ["", "\\N"] {
                    let mut reader = Reader::new(format, &input[..], header, null, max);
                    if case % 2 == 0 {
                        let _ = reader.names();
                    }
                    drain(&mut reader, input.len() + 2);
                    assert!(reader.bytes_read() <= input.len() as u64);
                }
            }
            // The same input one byte per read must give the same result.
            let whole = read_all(format, &input, true, "", max);
            let mut reader =
                Reader::new(format, super::source::tests::Trickle(&input), true, "", max);
            let rows = drain(&mut reader, input.len() + 2);
            assert_eq!((reader.names().ok().flatten(), rows), whole, "{input:?}");
        }
    }
}

/// Random valid JSON of the kinds export writes and more, as text.
fn json_value(rng: &mut Rng, depth: usize, out: &mut String) {
    const STRINGS: [&str; 8] = [
        "", "a", "\\\"q\\\"", "\\\\", "\\n\\r\\t\\b\\f\\/", "\\u00e9\\ud83e\\udd80", "é🦀",
        "\\u0000",
    ];
    const NUMBERS: [&str; 8] = [
        "0", "-12", "1.5e3", "18446744073709551615", "-0.0E-2", "1e400", "3.25", "7E+1",
    ];
    match rng.below(if depth > 3 { 4 } else { 6 }) {
        0 => out.push_str(&format!("\"{}\"", STRINGS[rng.below(STRINGS.len())])),
        1 => out.push_str(NUMBERS[rng.below(NUMBERS.len())]),
        2 => out.push_str(["true", "false"][rng.below(2)]),
        3 => out.push_str("null"),
        4 => {
            out.push('[');
            for i in 0..rng.below(4) {
                out.push_str(if i > 0 { ", " } else { "" });
                json_value(rng, depth + 1, out);
            }
            out.push(']');
        }
        _ => json_object(rng, depth + 1, out),
    }
}

fn json_object(rng: &mut Rng, depth: usize, out: &mut String) {
    out.push('{');
    for i in 0..rng.below(4) {
        out.push_str(if i > 0 { "," } else { "" });
        out.push_str(&format!(" \"k{}\" : ", rng.below(5)));
        json_value(rng, depth, out);
    }
    out.push('}');
}

/// The NDJSON reader accepts exactly the objects serde_json accepts, except
/// repeated keys (refused, serde_json keeps the last) and numbers beyond
/// `f64` (kept as text, serde_json refuses them), and decodes strings and
/// nested values as serde_json does.
#[test]
fn ndjson_agrees_with_serde_json() {
    const MUTATIONS: &[u8] = b"\",\\{}[]:0-.eEu \x01";
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let mut line = String::new();
        json_object(&mut rng, 0, &mut line);
        let mut line = line.into_bytes();
        for _ in 0..rng.below(3) {
            let at = rng.below(line.len() + 1);
            let byte = MUTATIONS[rng.below(MUTATIONS.len())];
            match rng.below(3) {
                0 if at < line.len() => line[at] = byte,
                1 if at < line.len() => drop(line.remove(at)),
                _ => line.insert(at, byte),
            }
        }
        let serde = serde_json::from_slice::<serde_json::Value>(&line);
        let mut reader = Reader::new(Format::Ndjson, &line[..], false, "", 1 << 10);
        let mut record = Record::new();
        let ours = reader.read(&mut record);
        let shown = String::from_utf8_lossy(&line);
        match (&ours, &serde) {
            (Ok(true), Ok(serde_json::Value::Object(map))) => {
                accepted += 1;
                let names = reader.names().unwrap().unwrap();
                assert_eq!(names.len(), map.len(), "{shown}");
                for (name, field) in names.iter().zip(record.iter()) {
                    let text = field.map(|f| std::str::from_utf8(f).unwrap());
                    match &map[name] {
                        serde_json::Value::Null => assert_eq!(text, None, "{shown}"),
                        serde_json::Value::String(s) => assert_eq!(text, Some(s.as_str())),
                        nested @ (serde_json::Value::Array(_) | serde_json::Value::Object(_)) => {
                            let ours: serde_json::Value =
                                serde_json::from_str(text.unwrap()).unwrap();
                            assert_eq!(&ours, nested, "{shown}");
                        }
                        _ => assert!(text.is_some()),
                    }
                }
            }
            (Err(err), Ok(serde_json::Value::Object(_))) => {
                assert!(err.message.starts_with("duplicate key"), "{shown}: {err}");
            }
            (Err(_), Err(_)) => refused += 1,
            (Err(err), Ok(_)) => {
                assert!(
                    err.message.starts_with("expected a JSON object, found"),
                    "{shown}: {err}"
                );
            }
            // A blank line is skipped, not an error.
            (Ok(false), Err(_)) if line.iter().all(|&b| b == b' ') => {}
            (Ok(true), Err(err)) => {
                assert!(
                    err.to_string().starts_with("number out of range"),
                    "{shown}: {err}"
                );
            }
            (ours, serde) => panic!("{shown}: ours {ours:?}, serde_json {serde:?}"),
        }
    }
    assert!(accepted > 2_000 && refused > 2_000, "{accepted} {refused}");
}

#[test]
fn a_broken_header_is_reported_once() {
    let input = b"a,\"b\xff\"\n1,2\n";
    // Asked for the names: the error comes from names(), every time.
    let mut reader = Reader::new(Format::Csv, &input[..], true, "", 64);
    let err = reader.names().unwrap_err();
    assert_eq!((err.line, err.column), (1, Some(2)));
    assert_eq!(reader.names(), Err(err));
    let mut record = Record::new();
    assert_eq!(reader.read(&mut record), Ok(true));
    assert_eq!(reader.read(&mut record), Ok(false));
    // Never asked: the first read() reports it, then the rows follow.
    let (names, rows) = read_all(Format::Tsv, b"a\t\\\n1\t2\n", true, "\\N", 64);
    assert_eq!(names, None);
    assert_eq!(rows.len(), 2);
    assert!(rows[0]
        .as_ref()
        .unwrap_err()
        .message
        .starts_with("backslash"));
    assert!(rows[1].is_ok());
}

#[test]
fn io_errors_are_fatal_and_repeat() {
    struct Failing(&'static [u8]);
    impl Read for Failing {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = self.0.len().min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    for (format, data) in [
        (Format::Csv, &b"a\nb"[..]),
        (Format::Tsv, b"a\nb"),
        (Format::Ndjson, b"{\"a\":1}\n{\"a\":2"),
    ] {
        let input = BufReader::new(Failing(data));
        let mut reader = Reader::new(format, input, false, "", 64);
        let mut record = Record::new();
        assert_eq!(reader.read(&mut record), Ok(true), "{format:?}");
        for _ in 0..2 {
            let err = reader.read(&mut record).unwrap_err();
            assert!(err.fatal, "{format:?}");
            assert_eq!(
                err.to_string(),
                "line 2: cannot read the input: connection reset"
            );
        }
    }
}
