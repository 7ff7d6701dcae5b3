//! The byte stream under every reader: `BufRead` chunks, a skipped BOM,
//! the offset, and line reading that stops at a length limit instead of
//! growing a buffer for a line that never ends.

use std::io::{self, BufRead, ErrorKind};

use super::record::{InputError, Record};
use super::{io_error, too_long};

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

pub(super) struct Source<R> {
    input: R,
    /// Bytes taken from `input` while looking for a BOM that was not one;
    /// they are handed out before `input`'s own.
    ahead: [u8; 3],
    ahead_start: usize,
    ahead_end: usize,
    offset: u64,
    bom_checked: bool,
    /// `fill_buf` said end of input: never ask again, because on a terminal
    /// or a pipe asking again would wait for more.
    eof: bool,
    /// An I/O error is repeated by every later call, so a caller that skips
    /// bad records cannot mistake a broken input for its end.
    failed: Option<(ErrorKind, String)>,
}

/// How [`Source::read_line`] ended.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// No bytes at all before the end of input.
    Eof,
    /// A line; `lf` is false for a last line without a final newline.
    Complete { lf: bool },
    /// The line is longer than the limit. `lf` says whether its end was
    /// already consumed; if not, [`Source::skip_line`] must follow.
    TooLong { lf: bool },
}

impl<R: BufRead> Source<R> {
    pub(super) fn new(input: R) -> Source<R> {
        Source {
            input,
            ahead: [0; 3],
            ahead_start: 0,
            ahead_end: 0,
            offset: 0,
            bom_checked: false,
            eof: false,
            failed: None,
        }
    }

    /// Bytes consumed so far, a skipped BOM included.
    pub(super) fn offset(&self) -> u64 {
        self.offset
    }

    /// The next bytes of input; empty at the end.
    pub(super) fn fill(&mut self) -> io::Result<&[u8]> {
        if let Some((kind, message)) = &self.failed {
            return Err(io::Error::new(*kind, message.clone()));
        }
        if !self.bom_checked {
            self.bom_checked = true;
            if let Err(err) = self.skip_bom() {
                return Err(self.fail(err));
            }
        }
        if self.ahead_start < self.ahead_end {
            return Ok(&self.ahead[self.ahead_start..self.ahead_end]);
        }
        if self.eof {
            return Ok(&[]);
        }
        match self.input_fill() {
            Ok(true) => {}
            Ok(false) => {
                self.eof = true;
                return Ok(&[]);
            }
            Err(err) => return Err(self.fail(err)),
        }
        // Data is buffered now, so this returns it without reading again.
        self.input.fill_buf()
    }

    /// Marks `n` bytes of the last [`Source::fill`] as used.
    pub(super) fn consume(&mut self, n: usize) {
        if self.ahead_start < self.ahead_end {
            self.ahead_start += n.min(self.ahead_end - self.ahead_start);
        } else {
            self.input.consume(n);
        }
        self.offset += n as u64;
    }

    /// Appends the next line, without its LF, to `out` (which starts
    /// empty), holding at most `max` bytes of it.
    fn read_line(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<Line> {
        let mut any = false;
        loop {
            let chunk = self.fill()?;
            if chunk.is_empty() {
                return Ok(if any {
                    Line::Complete { lf: false }
                } else {
                    Line::Eof
                });
            }
            any = true;
            let (len, lf) = match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => (at, true),
                None => (chunk.len(), false),
            };
            if out.len().saturating_add(len) > max {
                out.clear();
                self.consume(len + usize::from(lf));
                return Ok(Line::TooLong { lf });
            }
            reserve_capped(out, len, max);
            out.extend_from_slice(&chunk[..len]);
            self.consume(len + usize::from(lf));
            if lf {
                return Ok(Line::Complete { lf: true });
            }
        }
    }

    /// Consumes the rest of the current line and its LF without keeping
    /// it. Returns whether an LF was found before the end of input.
    fn skip_line(&mut self) -> io::Result<bool> {
        loop {
            let chunk = self.fill()?;
            if chunk.is_empty() {
                return Ok(false);
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    self.consume(at + 1);
                    return Ok(true);
                }
                None => {
                    let len = chunk.len();
                    self.consume(len);
                }
            }
        }
    }

    /// Fills `input`'s buffer, retrying interruptions. `Ok(false)` is the
    /// end of input. The data is not returned, because returning a borrow
    /// from inside the retry loop is what the borrow checker cannot follow.
    fn input_fill(&mut self) -> io::Result<bool> {
        loop {
            match self.input.fill_buf() {
                Ok(chunk) => return Ok(!chunk.is_empty()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// A BOM can arrive split over several reads; bytes that turn out not
    /// to be one are kept in `ahead`.
    fn skip_bom(&mut self) -> io::Result<()> {
        let mut matched = 0;
        while matched < BOM.len() {
            if !self.input_fill()? {
                self.eof = true;
                break;
            }
            let chunk = self.input.fill_buf()?;
            if matched == 0 && chunk.len() >= BOM.len() {
                if chunk.starts_with(BOM) {
                    self.input.consume(BOM.len());
                    self.offset += BOM.len() as u64;
                }
                return Ok(());
            }
            if chunk[0] != BOM[matched] {
                break;
            }
            self.ahead[matched] = chunk[0];
            self.input.consume(1);
            matched += 1;
        }
        if matched == BOM.len() {
            self.offset += BOM.len() as u64;
        } else {
            self.ahead_start = 0;
            self.ahead_end = matched;
        }
        Ok(())
    }

    fn fail(&mut self, err: io::Error) -> io::Error {
        self.failed = Some((err.kind(), err.to_string()));
        err
    }
}

/// The input of TSV and NDJSON, which hold one record per line: the line
/// count, and the rest of a too-long line, passed over before the next
/// record rather than taken for one.
pub(super) struct Lines<R> {
    src: Source<R>,
    /// The line of the next record.
    line: u64,
    /// The last line was too long and its end is still ahead.
    skipping: bool,
}

impl<R: BufRead> Lines<R> {
    pub(super) fn new(input: R) -> Lines<R> {
        Lines {
            src: Source::new(input),
            line: 1,
            skipping: false,
        }
    }

    pub(super) fn offset(&self) -> u64 {
        self.src.offset()
    }

    /// Reads the next line into `record` (its raw bytes, line and offsets);
    /// `Ok(false)` at the end of input. `slack`: bytes past `max` that a
    /// line may hold because the format strips them from the record.
    pub(super) fn read(
        &mut self,
        record: &mut Record,
        max: usize,
        slack: usize,
    ) -> Result<bool, InputError> {
        if self.skipping {
            match self.src.skip_line() {
                Ok(true) => self.line += 1,
                Ok(false) => {}
                Err(err) => return Err(io_error(self.line, &err)),
            }
            self.skipping = false;
        }
        record.clear();
        record.line = self.line;
        record.start = self.src.offset();
        let end = match self
            .src
            .read_line(&mut record.raw, max.saturating_add(slack))
        {
            Ok(end) => end,
            Err(err) => return Err(io_error(self.line, &err)),
        };
        match end {
            Line::Eof => return Ok(false),
            Line::TooLong { lf } => {
                if lf {
                    self.line += 1;
                } else {
                    self.skipping = true;
                }
                return Err(too_long(record, max, self.src.offset()));
            }
            Line::Complete { lf } => self.line += u64::from(lf),
        }
        record.end = self.src.offset();
        record.next_line = self.line;
        Ok(true)
    }
}

/// Makes room for `additional` more bytes without letting the usual
/// doubling take the capacity past `limit`: buffers stay near the record
/// limit, not twice it.
pub(super) fn reserve_capped(buf: &mut Vec<u8>, additional: usize, limit: usize) {
    let needed = buf.len().saturating_add(additional);
    if needed <= buf.capacity() {
        return;
    }
    let target = buf
        .capacity()
        .saturating_mul(2)
        .max(4096)
        .min(limit)
        .max(needed);
    buf.reserve_exact(target - buf.len());
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Hands out its data one byte per `fill_buf`, the worst case for
    /// anything that looks ahead.
    pub(in crate::input) struct Trickle<'a>(pub &'a [u8]);

    impl io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(1);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    impl BufRead for Trickle<'_> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            Ok(&self.0[..self.0.len().min(1)])
        }
        fn consume(&mut self, n: usize) {
            self.0 = &self.0[n..];
        }
    }

    fn lines(mut source: Source<impl BufRead>) -> Vec<(Vec<u8>, Line)> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            match source.read_line(&mut line, 4).unwrap() {
                Line::Eof => return out,
                Line::TooLong { lf: false } => {
                    source.skip_line().unwrap();
                    out.push((line, Line::TooLong { lf: false }));
                }
                end => out.push((line, end)),
            }
        }
    }

    #[test]
    fn bom_is_skipped_even_split_over_reads() {
        for input in [&b"\xEF\xBB\xBFab\n"[..], b"\xEF\xBBab\n", b"\xEF"] {
            let whole = lines(Source::new(input));
            let trickled = lines(Source::new(Trickle(input)));
            assert_eq!(whole, trickled, "{input:?}");
        }
        let mut source = Source::new(Trickle(b"\xEF\xBB\xBFab\n"));
        let mut line = Vec::new();
        source.read_line(&mut line, 10).unwrap();
        assert_eq!((line.as_slice(), source.offset()), (&b"ab"[..], 6));
        let mut source = Source::new(Trickle(b"\xEF\xBBa"));
        let mut line = Vec::new();
        source.read_line(&mut line, 10).unwrap();
        assert_eq!(line, b"\xEF\xBBa");
    }

    #[test]
    fn long_lines_are_cut_not_buffered() {
        let got = lines(Source::new(&b"abcd\nabcde\nab\nabcdefgh"[..]));
        let expected: Vec<(Vec<u8>, Line)> = vec![
            (b"abcd".to_vec(), Line::Complete { lf: true }),
            (Vec::new(), Line::TooLong { lf: true }),
            (b"ab".to_vec(), Line::Complete { lf: true }),
            (Vec::new(), Line::TooLong { lf: false }),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn io_errors_stick() {
        struct Broken;
        impl io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let mut source = Source::new(io::BufReader::new(Broken));
        assert!(source.fill().is_err());
        assert!(source.fill().is_err());
    }
}
