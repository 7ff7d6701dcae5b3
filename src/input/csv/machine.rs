//! The CSV grammar as a byte-at-a-time state machine, so that a record
//! can straddle any number of `fill_buf` chunks and a too-long record can
//! be passed over without being held.

use super::super::record::Record;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the first of `""`, or the closing one.
    QuoteInQuoted,
    /// A CR outside quotes: a line end if LF follows, else data.
    Cr {
        after_quote: bool,
    },
}

pub(super) struct Machine {
    pub(super) state: State,
    /// The line of the next byte.
    pub(super) line: u64,
    null: Vec<u8>,
    /// False for the header, whose names are text even when they equal the
    /// NULL text.
    use_null: bool,
    pub(super) field_start: usize,
    quoted: bool,
    /// Where the open quoted field started, for the unterminated error.
    field_line: u64,
    /// Fields ended so far in this record; only the first `cap` are kept.
    pub(super) count: usize,
    cap: usize,
    /// The record ended with CR LF rather than LF.
    pub(super) crlf: bool,
    /// The first syntax error of the record: it is reported once the record
    /// has ended, so the reader is left at the next one.
    pub(super) error: Option<(u64, usize, &'static str)>,
}

const AFTER_QUOTE: &str = "text after the closing quote of a field";

impl Machine {
    pub(super) fn new(null: &str) -> Machine {
        Machine {
            state: State::FieldStart,
            line: 1,
            null: null.as_bytes().to_vec(),
            use_null: true,
            field_start: 0,
            quoted: false,
            field_line: 1,
            count: 0,
            cap: usize::MAX,
            crlf: false,
            error: None,
        }
    }

    pub(super) fn begin(&mut self, cap: usize, use_null: bool) {
        self.state = State::FieldStart;
        self.field_start = 0;
        self.quoted = false;
        self.count = 0;
        self.cap = cap;
        self.use_null = use_null;
        self.crlf = false;
        self.error = None;
    }

    /// Parses `chunk` into `record`'s fields. Returns the bytes used and
    /// whether the record ended (its line terminator is among them).
    pub(super) fn run(&mut self, chunk: &[u8], record: &mut Record) -> (usize, bool) {
        let mut i = 0;
        while i < chunk.len() {
            match self.state {
                State::FieldStart => match chunk[i] {
                    b'"' => {
                        self.state = State::Quoted;
                        self.quoted = true;
                        self.field_line = self.line;
                        i += 1;
                    }
                    b',' => {
                        self.end_field(record);
                        i += 1;
                    }
                    b'\n' => return (i + 1, self.end_record(record)),
                    b'\r' => {
                        self.state = State::Cr { after_quote: false };
                        i += 1;
                    }
                    _ => self.state = State::Unquoted,
                },
                State::Unquoted => {
                    let rest = &chunk[i..];
                    // memchr finds the end of the field; a CR (rare) is
                    // looked for only before it.
                    let end = memchr::memchr3(b',', b'"', b'\n', rest).unwrap_or(rest.len());
                    let len = memchr::memchr(b'\r', &rest[..end]).unwrap_or(end);
                    record.buf.extend_from_slice(&rest[..len]);
                    i += len;
                    let Some(&b) = chunk.get(i) else { break };
                    i += 1;
                    match b {
                        b',' => {
                            self.end_field(record);
                            self.state = State::FieldStart;
                        }
                        b'\n' => return (i, self.end_record(record)),
                        b'\r' => self.state = State::Cr { after_quote: false },
                        // A quote inside an unquoted field (`37°36'37.8"N`)
                        // is data, as Python's csv module, the csv crate
                        // and spreadsheets read it: only a field's first
                        // byte opens quotes.
                        _ => record.buf.push(b),
                    }
                }
                State::Quoted => {
                    let rest = &chunk[i..];
                    let len = memchr::memchr2(b'"', b'\n', rest).unwrap_or(rest.len());
                    record.buf.extend_from_slice(&rest[..len]);
                    i += len;
                    let Some(&b) = chunk.get(i) else { break };
                    i += 1;
                    if b == b'"' {
                        self.state = State::QuoteInQuoted;
                    } else {
                        record.buf.push(b);
                        self.line += 1;
                    }
                }
                State::QuoteInQuoted => match chunk[i] {
                    b'"' => {
                        record.buf.push(b'"');
                        self.state = State::Quoted;
                        i += 1;
                    }
                    b',' => {
                        self.end_field(record);
                        self.state = State::FieldStart;
                        i += 1;
                    }
                    b'\n' => return (i + 1, self.end_record(record)),
                    b'\r' => {
                        self.state = State::Cr { after_quote: true };
                        i += 1;
                    }
                    _ => {
                        // Read on as if unquoted, to find where this record ends.
                        self.fail(AFTER_QUOTE);
                        self.state = State::Unquoted;
                    }
                },
                State::Cr { after_quote } => {
                    if chunk[i] == b'\n' {
                        self.crlf = true;
                        return (i + 1, self.end_record(record));
                    }
                    if after_quote {
                        self.fail(AFTER_QUOTE);
                    }
                    record.buf.push(b'\r');
                    self.state = State::Unquoted;
                }
            }
        }
        (chunk.len(), false)
    }

    /// Ends the record at the end of input. Fails with the line and field
    /// of a quoted field that never closed.
    pub(super) fn finish(&mut self, record: &mut Record) -> Result<(), (u64, usize)> {
        match self.state {
            State::Quoted => return Err((self.field_line, self.count)),
            State::Cr { after_quote } => {
                if after_quote {
                    self.fail(AFTER_QUOTE);
                }
                record.buf.push(b'\r');
            }
            State::FieldStart | State::Unquoted | State::QuoteInQuoted => {}
        }
        self.end_field(record);
        self.state = State::FieldStart;
        Ok(())
    }

    /// Ends the record at its LF; always true, for `run` to return.
    fn end_record(&mut self, record: &mut Record) -> bool {
        self.end_field(record);
        self.state = State::FieldStart;
        self.line += 1;
        true
    }

    fn end_field(&mut self, record: &mut Record) {
        let start = self.field_start.min(record.buf.len());
        if self.count < self.cap {
            let null = self.use_null && !self.quoted && record.buf[start..] == self.null[..];
            if null {
                record.buf.truncate(start);
                record.fields.push(None);
            } else {
                record.fields.push(Some((start, record.buf.len())));
            }
        } else {
            record.buf.truncate(start);
        }
        self.count += 1;
        self.field_start = record.buf.len();
        self.quoted = false;
    }

    fn fail(&mut self, message: &'static str) {
        if self.error.is_none() {
            self.error = Some((self.line, self.count, message));
        }
    }
}
