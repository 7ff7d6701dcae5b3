//! gzip and zstd, both ways: the compressor the output thread runs, and
//! the decoder an input is read through.
//!
//! Output is compressed in the writer thread, so encoding the next chunk
//! overlaps with compressing this one. A resumable export ends a gzip
//! member or zstd frame at every checkpoint: the file can be cut back to
//! the compressed length the state records and continued, and it stays one
//! valid stream (multi-member gzip and multi-frame zstd decompress whole
//! with `gzip -dc`, `zstd -dc`, Python and DuckDB).

use std::io::{self, BufRead, Read, Write};

use zstd::stream::raw::{InBuffer, Operation, OutBuffer};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zstd,
}

/// `--compress`, or what an output name's extension implies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compression {
    pub codec: Codec,
    pub level: i32,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Compressed bytes are handed to the output this many at a time, so the
/// compressor's buffer stays small whatever the chunk size.
const STEP: usize = 128 * 1024;

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Codec::Gzip => "gz",
            Codec::Zstd => "zst",
        }
    }

    /// The level gzip and zstd use when given none. zstd's 1, not the
    /// command-line tool's 3: on the typed benchmark table's 274 MB of CSV it
    /// took 0.59 s of CPU against 1.07 s, and came out smaller (78.5 MB
    /// against 82.4 MB), so a compressed export keeps up with a plain one.
    fn default_level(self) -> i32 {
        match self {
            Codec::Gzip => 6,
            Codec::Zstd => 1,
        }
    }

    fn levels(self) -> std::ops::RangeInclusive<i32> {
        match self {
            Codec::Gzip => 1..=9,
            Codec::Zstd => 1..=22,
        }
    }

    /// The codec whose magic bytes `head` starts with.
    pub fn sniff(head: &[u8]) -> Option<Codec> {
        if head.starts_with(GZIP_MAGIC) {
            Some(Codec::Gzip)
        } else if head.starts_with(ZSTD_MAGIC) {
            Some(Codec::Zstd)
        } else {
            None
        }
    }
}

/// What a file name's last extension says about compression.
#[derive(Debug, PartialEq, Eq)]
pub enum Suffix<'a> {
    /// No compression extension; the name as it is.
    Plain(&'a str),
    /// `.gz` or `.zst`, and the name without it (`x.csv` for `x.csv.zst`).
    Compressed(Codec, &'a str),
    /// `.bz2` or `.xz`: a compression dbchunk does not do, named for the
    /// message.
    Unsupported(&'static str),
}

impl<'a> Suffix<'a> {
    pub fn of(path: &'a str) -> Suffix<'a> {
        let lower = path.to_ascii_lowercase();
        for (ext, codec) in [(".gz", Codec::Gzip), (".zst", Codec::Zstd)] {
            if lower.ends_with(ext) {
                return Suffix::Compressed(codec, &path[..path.len() - ext.len()]);
            }
        }
        for (ext, tool) in [(".bz2", "bzip2"), (".xz", "xz")] {
            if lower.ends_with(ext) {
                return Suffix::Unsupported(tool);
            }
        }
        Suffix::Plain(path)
    }
}

impl Compression {
    pub fn new(codec: Codec) -> Compression {
        Compression {
            codec,
            level: codec.default_level(),
        }
    }

    /// `gzip`, `zstd`, `zstd:19`, `gzip:9`.
    pub fn parse(text: &str) -> Result<Compression, String> {
        let (name, level) = match text.split_once(':') {
            Some((name, level)) => (name, Some(level)),
            None => (text, None),
        };
        let codec = match name.to_ascii_lowercase().as_str() {
            "gzip" | "gz" => Codec::Gzip,
            "zstd" | "zst" => Codec::Zstd,
            _ => {
                return Err(format!(
                "--compress {text}: dbchunk compresses with gzip or zstd (gzip:LEVEL, zstd:LEVEL)"
            ))
            }
        };
        let Some(level) = level else {
            return Ok(Compression::new(codec));
        };
        let range = codec.levels();
        match level.parse::<i32>() {
            Ok(level) if range.contains(&level) => Ok(Compression { codec, level }),
            _ => Err(format!(
                "--compress {text}: the {} level is a number from {} to {}",
                codec.name(),
                range.start(),
                range.end()
            )),
        }
    }
}

/// Compresses the output thread's buffers into one gzip or zstd stream,
/// ending a member or frame when asked (at every checkpoint).
pub struct Compressor {
    kind: Kind,
    /// Compressed bytes not yet handed to the output.
    out: Vec<u8>,
    /// Whether any member or frame has been written (or the output already
    /// held some, when resumed): an empty export still needs one.
    any: bool,
}

enum Kind {
    /// The open member, if any; a new one starts at the next bytes.
    Gzip {
        member: Option<flate2::write::GzEncoder<Vec<u8>>>,
        level: u32,
    },
    /// One context for the whole export, reset after each frame.
    Zstd {
        context: zstd::stream::raw::Encoder<'static>,
        open: bool,
    },
}

impl Compressor {
    /// `resumed`: the output already holds complete members or frames.
    pub fn new(compression: Compression, resumed: bool) -> io::Result<Compressor> {
        let kind = match compression.codec {
            Codec::Gzip => Kind::Gzip {
                member: None,
                level: compression.level as u32,
            },
            Codec::Zstd => {
                let mut context = zstd::stream::raw::Encoder::new(compression.level)?;
                // What the zstd tool writes by default: a damaged file is
                // found when it is read.
                context.set_parameter(zstd::stream::raw::CParameter::ChecksumFlag(true))?;
                Kind::Zstd {
                    context,
                    open: false,
                }
            }
        };
        Ok(Compressor {
            kind,
            out: Vec::with_capacity(STEP),
            any: resumed,
        })
    }

    pub fn codec(&self) -> Codec {
        match self.kind {
            Kind::Gzip { .. } => Codec::Gzip,
            Kind::Zstd { .. } => Codec::Zstd,
        }
    }

    /// Compresses `input` into `sink`; returns the bytes written to it.
    pub fn write(&mut self, input: &[u8], sink: &mut dyn Write) -> io::Result<u64> {
        let mut written = 0;
        for piece in input.chunks(STEP) {
            self.any = true;
            match &mut self.kind {
                Kind::Gzip { member, level } => {
                    let out = &mut self.out;
                    let encoder = member.get_or_insert_with(|| gzip_member(out, *level));
                    encoder.write_all(piece)?;
                    written += drain(encoder.get_mut(), sink)?;
                }
                Kind::Zstd { context, open } => {
                    *open = true;
                    let mut src = InBuffer::around(piece);
                    while src.pos() < piece.len() {
                        self.out.reserve(STEP);
                        let at = self.out.len();
                        context.run(&mut src, &mut OutBuffer::around_pos(&mut self.out, at))?;
                        written += drain(&mut self.out, sink)?;
                    }
                }
            }
        }
        Ok(written)
    }

    /// Ends the open member or frame, if any, so that the output up to
    /// here is a complete stream; returns the bytes written.
    pub fn end_member(&mut self, sink: &mut dyn Write) -> io::Result<u64> {
        match &mut self.kind {
            Kind::Gzip { member, .. } => match member.take() {
                None => Ok(0),
                Some(encoder) => {
                    self.out = encoder.finish()?;
                    drain(&mut self.out, sink)
                }
            },
            Kind::Zstd { context, open } => {
                if !std::mem::take(open) {
                    return Ok(0);
                }
                let mut written = 0;
                loop {
                    self.out.reserve(STEP);
                    let at = self.out.len();
                    let left =
                        context.finish(&mut OutBuffer::around_pos(&mut self.out, at), false)?;
                    written += drain(&mut self.out, sink)?;
                    if left == 0 {
                        break;
                    }
                }
                context.reinit()?;
                Ok(written)
            }
        }
    }

    /// Ends the stream: the open member or frame, or an empty one if the
    /// output would otherwise hold none (an empty file is not valid gzip).
    pub fn finish(&mut self, sink: &mut dyn Write) -> io::Result<u64> {
        if !self.any {
            self.any = true;
            match &mut self.kind {
                Kind::Gzip { member, level } => *member = Some(gzip_member(&mut self.out, *level)),
                Kind::Zstd { open, .. } => *open = true,
            }
        }
        self.end_member(sink)
    }
}

/// A new gzip member, compressing into `out`'s buffer (taken until the
/// member ends). No name and no time in the header: the same rows give the
/// same bytes.
fn gzip_member(out: &mut Vec<u8>, level: u32) -> flate2::write::GzEncoder<Vec<u8>> {
    flate2::GzBuilder::new()
        .mtime(0)
        .write(std::mem::take(out), flate2::Compression::new(level))
}

/// Writes out and clears what the compressor has produced.
fn drain(out: &mut Vec<u8>, sink: &mut dyn Write) -> io::Result<u64> {
    let len = out.len() as u64;
    sink.write_all(out)?;
    out.clear();
    Ok(len)
}

/// An input, decompressed when it is gzip or zstd: by `codec` when its
/// name said so (then it must start with that codec's magic), else by its
/// first bytes. Also returns the codec found.
pub fn decompress(
    mut input: Box<dyn Read + Send>,
    codec: Option<Codec>,
    name: &str,
) -> io::Result<(Box<dyn Read + Send>, Option<Codec>)> {
    let mut head = [0u8; 4];
    let mut filled = 0;
    while filled < head.len() {
        match input.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    let sniffed = Codec::sniff(&head[..filled]);
    if let Some(named) = codec {
        if sniffed != Some(named) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{name} is not {} data (it does not start with {}'s magic bytes): rename it, \
                     or decompress it first",
                    named.name(),
                    named.name()
                ),
            ));
        }
    }
    let whole = io::Cursor::new(head[..filled].to_vec()).chain(input);
    let reader: Box<dyn Read + Send> = match sniffed {
        None => Box::new(whole),
        Some(Codec::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(whole)),
        Some(Codec::Zstd) => Box::new(zstd::stream::read::Decoder::new(whole)?),
    };
    Ok((reader, sniffed))
}

/// A buffered reader over [`decompress`], and the codec found.
pub fn buffered(
    input: Box<dyn Read + Send>,
    codec: Option<Codec>,
    name: &str,
    capacity: usize,
) -> io::Result<(Box<dyn BufRead + Send>, Option<Codec>)> {
    let (input, found) = decompress(input, codec, name)?;
    Ok((
        Box::new(io::BufReader::with_capacity(capacity, input)),
        found,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(codec: Codec, pieces: &[&[u8]], end_after: &[usize]) -> Vec<u8> {
        let mut compressor = Compressor::new(Compression::new(codec), false).unwrap();
        let mut file = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            compressor.write(piece, &mut file).unwrap();
            if end_after.contains(&i) {
                compressor.end_member(&mut file).unwrap();
            }
        }
        compressor.finish(&mut file).unwrap();
        file
    }

    fn read_back(file: Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        decompress(Box::new(io::Cursor::new(file)), None, "x")
            .unwrap()
            .0
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn members_and_frames_read_back_whole() {
        let big = vec![b'x'; 3 * STEP + 5];
        let pieces: [&[u8]; 4] = [b"a,b\n", b"1,2\n", &big, b"3,4\n"];
        let plain: Vec<u8> = pieces.concat();
        for codec in [Codec::Gzip, Codec::Zstd] {
            for ends in [&[][..], &[0, 1, 2], &[3]] {
                let file = all(codec, &pieces, ends);
                assert_eq!(Codec::sniff(&file), Some(codec));
                assert_eq!(read_back(file), plain, "{codec:?} {ends:?}");
            }
            let empty = all(codec, &[], &[]);
            assert!(!empty.is_empty());
            assert_eq!(read_back(empty), b"");
        }
    }

    #[test]
    fn a_cut_at_a_member_end_is_a_whole_stream() {
        for codec in [Codec::Gzip, Codec::Zstd] {
            let mut compressor = Compressor::new(Compression::new(codec), false).unwrap();
            let mut file = Vec::new();
            let cut = compressor.write(b"first\n", &mut file).unwrap()
                + compressor.end_member(&mut file).unwrap();
            let cut = cut as usize;
            assert_eq!(cut, file.len());
            compressor.write(b"lost\n", &mut file).unwrap();
            file.truncate(cut);
            let mut resumed = Compressor::new(Compression::new(codec), true).unwrap();
            resumed.write(b"second\n", &mut file).unwrap();
            resumed.finish(&mut file).unwrap();
            assert_eq!(read_back(file), b"first\nsecond\n");
        }
    }

    #[test]
    fn flags_and_names() {
        assert_eq!(
            Compression::parse("zstd:19"),
            Ok(Compression {
                codec: Codec::Zstd,
                level: 19
            })
        );
        assert_eq!(Compression::parse("gzip").unwrap().level, 6);
        assert!(Compression::parse("gzip:10").is_err());
        assert!(Compression::parse("lz4").is_err());
        assert_eq!(
            Suffix::of("a/x.CSV.Zst"),
            Suffix::Compressed(Codec::Zstd, "a/x.CSV")
        );
        assert_eq!(Suffix::of("x.csv"), Suffix::Plain("x.csv"));
        assert_eq!(Suffix::of("x.csv.xz"), Suffix::Unsupported("xz"));
    }

    #[test]
    fn a_wrong_name_is_an_error_and_plain_text_passes() {
        let plain = b"a,b\n1,2\n".to_vec();
        let named = decompress(
            Box::new(io::Cursor::new(plain.clone())),
            Some(Codec::Zstd),
            "x.zst",
        );
        assert!(named.is_err());
        assert_eq!(read_back(plain.clone()), plain);
        assert_eq!(read_back(b"a".to_vec()), b"a");
    }
}
