//! NDJSON as `dbchunk export` writes it: one JSON object per line.
//!
//! The first object's keys name the fields, in its order; every later
//! object maps its keys onto them, and a key it leaves out is NULL. A value
//! becomes the field's text: a string its decoded content, a number its
//! exact digits, `true`/`false` that word, `null` NULL, and a nested array
//! or object its JSON text, as export wrote the column.

use std::collections::HashMap;
use std::io::BufRead;

use super::json::{self, JsonError};
use super::record::{InputError, Record};
use super::source::{reserve_capped, Lines};
use super::too_long;

pub struct NdjsonReader<R> {
    lines: Lines<R>,
    max: usize,
    /// The first valid object's keys; `None` until one has been read.
    names: Option<Vec<String>>,
    index: HashMap<Vec<u8>, usize>,
    /// Which fields the current object has set, to catch a repeated key.
    seen: Vec<bool>,
    key: Vec<u8>,
    stack: Vec<u8>,
    /// A record `names()` read ahead to learn the names, with its result,
    /// handed out by the next `read()`.
    peeked: Option<(Record, Result<bool, InputError>)>,
}

/// Why an object was refused: a syntax error at a byte, or a message.
enum Refusal {
    Json(JsonError),
    Other(String),
}

impl From<JsonError> for Refusal {
    fn from(err: JsonError) -> Refusal {
        Refusal::Json(err)
    }
}

impl<R: BufRead> NdjsonReader<R> {
    pub fn new(input: R, max_record_bytes: usize) -> NdjsonReader<R> {
        NdjsonReader {
            lines: Lines::new(input),
            max: max_record_bytes,
            names: None,
            index: HashMap::new(),
            seen: Vec::new(),
            key: Vec::new(),
            stack: Vec::new(),
            peeked: None,
        }
    }

    /// Reads ahead to the first object if no object has named the fields
    /// yet. If that line is bad, its error comes back here and again from
    /// the next `read()`, which hands out the bad line.
    pub fn names(&mut self) -> Result<Option<Vec<String>>, InputError> {
        if self.names.is_none() && self.peeked.is_none() {
            let mut record = Record::new();
            let result = self.next(&mut record);
            self.peeked = Some((record, result));
        }
        if let Some((_, Err(err))) = &self.peeked {
            return Err(err.clone());
        }
        Ok(self.names.clone())
    }

    pub fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        match self.peeked.take() {
            Some((mut peeked, result)) => {
                std::mem::swap(record, &mut peeked);
                result
            }
            None => self.next(record),
        }
    }

    pub fn bytes_read(&self) -> u64 {
        self.lines.offset()
    }

    fn next(&mut self, record: &mut Record) -> Result<bool, InputError> {
        loop {
            // One byte more than the limit, for the CR of a CR LF.
            if !self.lines.read(record, self.max, 1)? {
                return Ok(false);
            }
            if record.raw.last() == Some(&b'\r') {
                record.raw.pop();
            }
            if record.raw.len() > self.max {
                return Err(too_long(record, self.max, record.end));
            }
            if json::ws(&record.raw, 0) == record.raw.len() {
                continue;
            }
            return match self.parse(record) {
                Ok(()) => Ok(true),
                Err(Refusal::Json(err)) => {
                    let message = format!("invalid JSON at column {}: {}", err.at + 1, err.message);
                    Err(InputError::new(record.line, message))
                }
                Err(Refusal::Other(message)) => Err(InputError::new(record.line, message)),
            };
        }
    }

    fn parse(&mut self, record: &mut Record) -> Result<(), Refusal> {
        let Record {
            raw,
            buf,
            fields,
            strings,
            ..
        } = record;
        if let Err(err) = std::str::from_utf8(raw) {
            let at = err.valid_up_to() + 1;
            return Err(Refusal::Other(format!("invalid UTF-8 at column {at}")));
        }
        let s = raw.as_slice();
        let mut i = json::ws(s, 0);
        if s.get(i) != Some(&b'{') {
            return Err(not_an_object(s, i, &mut self.stack));
        }
        reserve_capped(buf, s.len(), s.len());
        // The first object's keys are collected here and become the names
        // only if the whole object is good.
        let mut first = match &self.names {
            Some(names) => {
                fields.resize(names.len(), None);
                strings.clear();
                strings.resize(names.len(), false);
                self.seen.clear();
                self.seen.resize(names.len(), false);
                None
            }
            None => {
                self.index.clear();
                strings.clear();
                Some(Vec::new())
            }
        };
        i = json::ws(s, i + 1);
        if s.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                if s.get(i) != Some(&b'"') {
                    return Err(json::error(s, i, "expected a string key").into());
                }
                self.key.clear();
                i = json::ws(s, json::string(s, i, Some(&mut self.key))?);
                if s.get(i) != Some(&b':') {
                    return Err(json::error(s, i, "expected `:`").into());
                }
                i = json::ws(s, i + 1);
                let start = buf.len();
                let is_string = s.get(i) == Some(&b'"');
                let value = match s.get(i) {
                    Some(b'"') => {
                        i = json::string(s, i, Some(buf))?;
                        Some((start, buf.len()))
                    }
                    Some(b'n') if s[i..].starts_with(b"null") => {
                        i += 4;
                        None
                    }
                    _ => {
                        let end = json::value(s, i, &mut self.stack)?;
                        buf.extend_from_slice(&s[i..end]);
                        i = end;
                        Some((start, buf.len()))
                    }
                };
                let at = self.place(&mut first, fields, value)?;
                if at >= strings.len() {
                    strings.resize(at + 1, false);
                }
                strings[at] = is_string;
                i = json::ws(s, i);
                match s.get(i) {
                    Some(b',') => i = json::ws(s, i + 1),
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => return Err(json::error(s, i, "expected `,` or `}`").into()),
                }
            }
        }
        i = json::ws(s, i);
        if i < s.len() {
            return Err(json::error(s, i, "text after the object").into());
        }
        if let Some(names) = first {
            self.names = Some(names);
        }
        Ok(())
    }

    /// Puts the value of `self.key` where its name says.
    fn place(
        &mut self,
        first: &mut Option<Vec<String>>,
        fields: &mut Vec<Option<(usize, usize)>>,
        value: Option<(usize, usize)>,
    ) -> Result<usize, Refusal> {
        let key = String::from_utf8_lossy(&self.key);
        let duplicate = || Refusal::Other(format!("duplicate key {key:?}"));
        match first {
            Some(names) => {
                if self.index.contains_key(&self.key) {
                    return Err(duplicate());
                }
                let at = names.len();
                self.index.insert(self.key.clone(), at);
                names.push(key.to_string());
                fields.push(value);
                Ok(at)
            }
            None => {
                let Some(&at) = self.index.get(&self.key) else {
                    let names = self.names.as_deref().unwrap_or_default();
                    return Err(Refusal::Other(unknown_field(&key, names)));
                };
                if std::mem::replace(&mut self.seen[at], true) {
                    return Err(duplicate());
                }
                fields[at] = value;
                Ok(at)
            }
        }
    }
}

fn unknown_field(key: &str, names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut list = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(", … ({} in all)", names.len()));
    }
    format!("unknown field {key:?} (the first object has: {list})")
}

/// The error for a line that does not start with `{`: if it is valid JSON,
/// say what it is instead of an object.
fn not_an_object(s: &[u8], i: usize, stack: &mut Vec<u8>) -> Refusal {
    let kind = match s[i] {
        b'[' => "an array",
        b'"' => "a string",
        b'-' | b'0'..=b'9' => "a number",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => {
            return Refusal::Json(JsonError {
                at: i,
                message: "expected a JSON object",
            })
        }
    };
    match json::value(s, i, stack) {
        Ok(end) if json::ws(s, end) == s.len() => {
            Refusal::Other(format!("expected a JSON object, found {kind}"))
        }
        Ok(end) => Refusal::Json(json::error(s, json::ws(s, end), "text after the value")),
        // Not even the start of a value: say what was wanted.
        Err(err) if err.at == i => Refusal::Json(json::error(s, i, "expected a JSON object")),
        Err(err) => Refusal::Json(err),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, read_all, row, texts, Rows};
    use super::super::{Reader, Record};
    use crate::cell::Cell;
    use crate::format::Format;

    fn ndjson(input: &str) -> (Option<Vec<String>>, Rows) {
        read_all(Format::Ndjson, input.as_bytes(), false, "", 1 << 20)
    }

    fn message(rows: &Rows, index: usize) -> String {
        rows[index].as_ref().unwrap_err().to_string()
    }

    #[test]
    fn round_trip_of_export_output() {
        let rows = vec![
            vec![
                Cell::Text(b"a,\"b\"\r\n\t\\ \\N \\."),
                Cell::Null,
                Cell::Number(b"12345678901234567890.000000000000000000001"),
                Cell::UInt(u64::MAX),
                Cell::Int(i64::MIN),
                Cell::F64(0.1),
                Cell::Bool(true),
                Cell::Json(b"{\"k\": [1, 2.50, {\"x\": null}], \"s\": \"\\u00e9\"}"),
                Cell::Text("emoji 🦀 \u{7f} \u{1}".as_bytes()),
                Cell::Number(b"NaN"),
                Cell::Bytes(b"\x00\xff"),
            ],
            vec![
                Cell::Text(b""),
                Cell::Text(b"null"),
                Cell::Number(b"-1e-7"),
                Cell::UInt(0),
                Cell::Null,
                Cell::F64(1e300),
                Cell::Bool(false),
                Cell::Json(b"[]"),
                Cell::Null,
                Cell::F64(f64::NEG_INFINITY),
                Cell::Bytes(b""),
            ],
        ];
        assert_round_trip(Format::Ndjson, "", &rows);
    }

    #[test]
    fn keys_map_onto_the_first_objects_names() {
        let input = "{\"a\":1,\"b\":\"x\",\"c\":[1, {}]}\n\n  \r\n{\"c\":true,\"a\":-0.0}\n\
                     {\"a\":1,\"x\":2}\n{\"a\":1,\"a\":2}\n{}\n";
        let (names, rows) = ndjson(input);
        assert_eq!(names, Some(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(rows[0], Ok(texts(&["1", "x", "[1, {}]"])));
        assert_eq!(
            rows[1],
            Ok(row(&[Cell::Text(b"-0.0"), Cell::Null, Cell::Text(b"true")]))
        );
        assert_eq!(
            message(&rows, 2),
            "line 5: unknown field \"x\" (the first object has: a, b, c)"
        );
        assert_eq!(message(&rows, 3), "line 6: duplicate key \"a\"");
        assert_eq!(rows[4], Ok(vec![None, None, None]));
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn bad_lines_name_line_and_column() {
        let input =
            "{\"a\":1}\n[1,2]\n\"s\"\n{\"a\":01}\n{\"a\":1}x\n{\"a\" 1}\n{\"a\":\"\\ud800\"}\n\
                     {\"a\":1\nnope\n{\"a\":[1,}\n";
        let (_, rows) = ndjson(input);
        let messages: Vec<String> = (1..rows.len()).map(|i| message(&rows, i)).collect();
        assert_eq!(
            messages,
            [
                "line 2: expected a JSON object, found an array",
                "line 3: expected a JSON object, found a string",
                "line 4: invalid JSON at column 7: expected `,` or `}`",
                "line 5: invalid JSON at column 8: text after the object",
                "line 6: invalid JSON at column 6: expected `:`",
                "line 7: invalid JSON at column 7: lone leading surrogate in a \\u escape",
                "line 8: invalid JSON at column 7: unexpected end of the line",
                "line 9: invalid JSON at column 1: expected a JSON object",
                "line 10: invalid JSON at column 9: expected a value",
            ]
        );
        let (_, rows) = read_all(Format::Ndjson, b"{\"a\":\"\xff\"}\n", false, "", 64);
        assert_eq!(message(&rows, 0), "line 1: invalid UTF-8 at column 7");
    }

    #[test]
    fn names_reads_ahead_without_losing_the_record() {
        let input = b"\xEF\xBB\xBF\n{\"k\":\"v\"}\r\n{}\n";
        let mut reader = Reader::new(Format::Ndjson, &input[..], false, "", 64);
        assert_eq!(reader.names(), Ok(Some(vec!["k".to_string()])));
        assert_eq!(reader.names(), Ok(Some(vec!["k".to_string()])));
        let mut record = Record::new();
        assert_eq!(reader.read(&mut record), Ok(true));
        assert_eq!((record.line(), record.raw()), (2, &b"{\"k\":\"v\"}"[..]));
        assert_eq!((record.start_offset(), record.end_offset()), (4, 15));
        assert_eq!(record.get(0), Some(Some(&b"v"[..])));
        assert_eq!(reader.read(&mut record), Ok(true));
        assert_eq!(record.get(0), Some(None));
        assert_eq!(reader.read(&mut record), Ok(false));

        // A bad first line is reported by names() and handed out by read().
        let mut reader = Reader::new(Format::Ndjson, &b"[]\n{\"a\":1}\n"[..], false, "", 64);
        let err = reader.names().unwrap_err();
        assert_eq!(err.line, 1);
        assert_eq!(reader.read(&mut record), Err(err));
        assert_eq!(record.raw(), b"[]");
        assert_eq!(reader.names(), Ok(Some(vec!["a".to_string()])));
        assert_eq!(reader.read(&mut record), Ok(true));
        assert_eq!(reader.read(&mut record), Ok(false));

        let mut reader = Reader::new(Format::Ndjson, &b"\n \n"[..], false, "", 64);
        assert_eq!(reader.names(), Ok(None));
        assert_eq!(reader.read(&mut record), Ok(false));
    }
}
