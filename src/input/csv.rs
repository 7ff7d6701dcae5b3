//! CSV as `dbchunk export` writes it: RFC 4180 with PostgreSQL's NULL
//! convention (an unquoted field equal to the NULL text is NULL, a quoted
//! one is that text, so `""` is the empty string).
//!
//! Parsing is a byte-at-a-time state machine rather than a line splitter,
//! because a quoted field may hold newlines and a record may straddle any
//! number of `fill_buf` chunks.

mod machine;

use std::io::BufRead;

use machine::{Machine, State};

use super::header::{Headed, ReadRecord};
use super::record::{InputError, Record};
use super::source::{reserve_capped, Source};
use super::{check_record, io_error, too_long};

/// The header is handled as TSV handles it, by [`Headed`].
pub type CsvReader<R> = Headed<CsvParser<R>>;

impl<R: BufRead> CsvReader<R> {
    pub fn new(input: R, header: bool, null: &str, max_record_bytes: usize) -> CsvReader<R> {
        let parser = CsvParser {
            src: Source::new(input),
            expected: None,
            max: max_record_bytes,
            machine: Machine::new(null),
            skipping: false,
        };
        Headed::wrap(parser, header)
    }
}

/// Public only because [`CsvReader`] names it; its parts are private.
pub struct CsvParser<R> {
    src: Source<R>,
    /// Fields per record: the header's count, or the first record's.
    expected: Option<usize>,
    max: usize,
    machine: Machine,
    /// The last record was too long: its rest must be passed over (still
    /// parsed, since its end may be a newline inside quotes) before the
    /// next record.
    skipping: bool,
}

/// How much of a too-long record is parsed at once while passing over it.
const SKIP_STEP: usize = 8 * 1024;

impl<R: BufRead> ReadRecord for CsvParser<R> {
    fn read_record(
        &mut self,
        record: &mut Record,
        header: bool,
        names: &[String],
    ) -> Result<bool, InputError> {
        if self.skipping {
            self.skip(record)?;
        }
        record.clear();
        record.line = self.machine.line;
        record.start = self.src.offset();
        // A record with more fields than expected is an error anyway, so
        // its extra fields are counted, not stored.
        let cap = self.expected.unwrap_or(usize::MAX);
        self.machine.begin(cap, !header);
        // Room for the record and a CR LF, so that a record of exactly
        // `max` bytes still finds its terminator.
        let limit = self.max.saturating_add(2);
        loop {
            let chunk = match self.src.fill() {
                Ok(chunk) => chunk,
                Err(err) => return Err(io_error(self.machine.line, &err)),
            };
            if chunk.is_empty() {
                if record.raw.is_empty() {
                    return Ok(false);
                }
                record.end = self.src.offset();
                record.next_line = self.machine.line;
                if let Err((line, field)) = self.machine.finish(record) {
                    let message = format!("unterminated quoted field starting on line {line}");
                    return Err(InputError::new(line, message).in_field(field, names));
                }
                return self.check(record, names);
            }
            let take = chunk.len().min(limit - record.raw.len());
            reserve_capped(&mut record.raw, take, limit);
            reserve_capped(&mut record.buf, take + 1, limit);
            let (used, ended) = self.machine.run(&chunk[..take], record);
            record.raw.extend_from_slice(&chunk[..used]);
            self.src.consume(used);
            if ended {
                record.raw.pop();
                if self.machine.crlf {
                    record.raw.pop();
                }
                record.end = self.src.offset();
                record.next_line = self.machine.line;
                return self.check(record, names);
            }
            let pending_cr = usize::from(matches!(self.machine.state, State::Cr { .. }));
            if record.raw.len() - pending_cr > self.max {
                self.skipping = true;
                return Err(too_long(record, self.max, self.src.offset()));
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.src.offset()
    }
}

impl<R: BufRead> CsvParser<R> {
    /// Passes over the rest of a too-long record, keeping nothing but the
    /// parser's state and the line count.
    fn skip(&mut self, scratch: &mut Record) -> Result<(), InputError> {
        loop {
            scratch.clear();
            self.machine.field_start = 0;
            let chunk = match self.src.fill() {
                Ok(chunk) => chunk,
                Err(err) => return Err(io_error(self.machine.line, &err)),
            };
            if chunk.is_empty() {
                break;
            }
            // A small step at a time: the machine notes every field of
            // what it is given, and a long line of commas would otherwise
            // note a whole buffer's worth (found by tests/fuzz.rs).
            let step = &chunk[..chunk.len().min(SKIP_STEP)];
            let (used, ended) = self.machine.run(step, scratch);
            self.src.consume(used);
            if ended {
                break;
            }
        }
        self.skipping = false;
        Ok(())
    }

    fn check(&mut self, record: &mut Record, names: &[String]) -> Result<bool, InputError> {
        if record.raw.len() > self.max {
            return Err(too_long(record, self.max, record.end));
        }
        let (found, error) = (self.machine.count, self.machine.error);
        check_record(record, names, &mut self.expected, found, error)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{
        assert_round_trip, encode, read_all, row, texts, Rows, AWKWARD_TEXTS,
    };
    use crate::cell::Cell;
    use crate::format::Format;

    fn csv(input: &str, header: bool) -> Rows {
        read_all(Format::Csv, input.as_bytes(), header, "", 1 << 20).1
    }

    fn err_at(rows: &Rows, index: usize) -> (u64, Option<usize>, &str) {
        let err = rows[index].as_ref().unwrap_err();
        (err.line, err.column, &err.message)
    }

    #[test]
    fn round_trip_of_export_output() {
        for null in ["", "NULL", "\\N"] {
            let mut rows: Vec<Vec<Cell<'_>>> = AWKWARD_TEXTS
                .iter()
                .map(|t| vec![Cell::Text(t), Cell::Null, Cell::Int(7)])
                .collect();
            rows.push(vec![Cell::Null, Cell::Text(null.as_bytes()), Cell::Null]);
            assert_round_trip(Format::Csv, null, &rows);
        }
        // A lone `\.` is quoted in single-column output, and still reads back.
        let bytes = encode(
            Format::Csv,
            "",
            &[vec![Cell::Text(b"\\.")], vec![Cell::Null]],
        );
        let (_, got) = read_all(Format::Csv, &bytes, true, "", 64);
        assert_eq!(got, vec![Ok(texts(&["\\."])), Ok(vec![None])]);
    }

    #[test]
    fn multi_line_records_keep_later_line_numbers_right() {
        let rows = csv("a,b\n\"x\ny\",1\n\"p\r\nq\",2\n3,\"z\"\"\"\nbad\n", true);
        assert_eq!(rows[0], Ok(texts(&["x\ny", "1"])));
        assert_eq!(rows[1], Ok(texts(&["p\r\nq", "2"])));
        assert_eq!(rows[2], Ok(texts(&["3", "z\""])));
        assert_eq!(err_at(&rows, 3), (7, None, "expected 2 fields, found 1"));
    }

    #[test]
    fn unterminated_quote_names_the_line_it_starts_on() {
        let (_, rows) = read_all(Format::Csv, b"a,b\n1,2\n3,\"open\nmore\n", true, "", 64);
        assert_eq!(rows.len(), 2);
        let err = rows[1].as_ref().unwrap_err();
        assert_eq!((err.line, err.column), (3, Some(2)));
        assert_eq!(err.column_name.as_deref(), Some("b"));
        assert_eq!(err.message, "unterminated quoted field starting on line 3");
        assert!(!err.fatal);
    }

    #[test]
    fn wrong_field_count_is_reported_and_skipped() {
        let rows = csv("a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n", true);
        assert_eq!(rows.len(), 4);
        assert_eq!(err_at(&rows, 2), (4, None, "expected 3 fields, found 2"));
        assert_eq!(rows[3], Ok(texts(&["9", "10", "11"])));
        // Without a header the first record sets the count; a blank line is one field.
        let rows = csv("1,2\n\n3,4\n", false);
        assert_eq!(err_at(&rows, 1), (2, None, "expected 2 fields, found 1"));
        assert!(rows[2].is_ok());
        let rows = csv("1,2,3,4,5\n1,2,3,4,5,6,7\n", false);
        assert_eq!(err_at(&rows, 1), (2, None, "expected 5 fields, found 7"));
    }

    #[test]
    fn invalid_utf8_names_its_field() {
        let (_, rows) = read_all(Format::Csv, b"a,b\n1,x\xffy\n", true, "", 64);
        let err = rows[0].as_ref().unwrap_err();
        assert_eq!((err.line, err.column), (2, Some(2)));
        assert_eq!(
            err.to_string(),
            "line 2, column 2 (b): invalid UTF-8 at byte 2 of the field"
        );
        let (names, rows) = read_all(Format::Csv, b"a,\"\xc3\"\n", true, "", 64);
        assert_eq!(names, None);
        assert_eq!(rows[0].as_ref().unwrap_err().column, Some(2));
    }

    #[test]
    fn quotes_inside_unquoted_fields_are_data() {
        let rows = csv("a,b\nx,ab\"c\n37°36'37.8\"N,x\"y\"z\n", true);
        assert_eq!(rows[0], Ok(texts(&["x", "ab\"c"])));
        assert_eq!(rows[1], Ok(texts(&["37°36'37.8\"N", "x\"y\"z"])));
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn text_after_a_closing_quote_names_line_and_column() {
        let rows = csv("a,b\n1,2\n\"ok\"x,2\n\"a\nb\" ,3\n5,6\n", true);
        assert_eq!(
            err_at(&rows, 1),
            (3, Some(1), "text after the closing quote of a field")
        );
        assert_eq!(err_at(&rows, 2).0, 5);
        assert_eq!(rows[3], Ok(texts(&["5", "6"])));
    }

    #[test]
    fn crlf_bom_empty_and_no_final_newline() {
        let rows = csv("\u{feff}a,b\r\n1,\"x\r\ny\"\r\n2,lone\rcr\r\n3,", true);
        assert_eq!(rows[0], Ok(texts(&["1", "x\r\ny"])));
        assert_eq!(rows[1], Ok(texts(&["2", "lone\rcr"])));
        assert_eq!(rows[2], Ok(row(&[Cell::Text(b"3"), Cell::Null])));
        assert_eq!(rows.len(), 3);
        assert_eq!(read_all(Format::Csv, b"", true, "", 64), (None, vec![]));
        assert_eq!(read_all(Format::Csv, b"", false, "", 64), (None, vec![]));
        assert_eq!(
            read_all(Format::Csv, b"\xEF\xBB\xBF", true, "", 64),
            (None, vec![])
        );
        let (names, rows) = read_all(Format::Csv, b"\xEF\xBB\xBF\"a\",b", true, "", 64);
        assert_eq!((names, rows), (Some(vec!["a".into(), "b".into()]), vec![]));
    }

    #[test]
    fn offsets_lines_and_raw_bytes() {
        use super::super::{Reader, Record};
        let input = b"\xEF\xBB\xBFh\r\n\"a\nb\"\r\nc\n";
        let mut reader = Reader::new(Format::Csv, &input[..], true, "", 64);
        let mut record = Record::new();
        assert!(reader.read(&mut record).unwrap());
        assert_eq!(
            (record.line(), record.start_offset(), record.end_offset()),
            (2, 6, 13)
        );
        assert_eq!(record.raw(), b"\"a\nb\"");
        assert!(reader.read(&mut record).unwrap());
        assert_eq!(
            (record.line(), record.start_offset(), record.end_offset()),
            (4, 13, 15)
        );
        assert_eq!(record.raw(), b"c");
        assert!(!reader.read(&mut record).unwrap());
        assert_eq!(reader.bytes_read(), input.len() as u64);
    }

    #[test]
    fn header_names_are_text_even_when_they_look_like_null() {
        let (names, rows) = read_all(
            Format::Csv,
            b"NULL,\"x,y\",\nNULL,\"NULL\",\n",
            true,
            "NULL",
            64,
        );
        assert_eq!(names, Some(vec!["NULL".into(), "x,y".into(), "".into()]));
        assert_eq!(
            rows,
            vec![Ok(vec![None, Some(b"NULL".to_vec()), Some(Vec::new())])]
        );
    }
}
