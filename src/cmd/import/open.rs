//! Opening an import's input: text decompressed (gzip, zstd) and buffered
//! as it is read, or a Parquet file, read from its footer, so that stdin
//! or a pipe is first spooled to an unnamed temporary file; and the
//! input's name and position unit (bytes, or Parquet rows) in messages.

use std::io::BufRead;

use anyhow::{Context, Result};

use crate::config::ImportPlan;
use crate::error::UsageError;
use crate::format::Format;
use crate::input::Reader;

/// The input as a buffered reader, and its size when it is a plain file
/// (for the progress bar). gzip and zstd are decompressed as they are
/// read: a `.gz`/`.zst` name must hold that, and stdin or any other file
/// is decompressed when it starts with their magic bytes.
pub(super) fn open_input(
    path: Option<&std::path::Path>,
) -> Result<(Box<dyn BufRead + Send>, Option<u64>)> {
    use crate::compress::{buffered, Suffix};
    const BUFFER: usize = 256 * 1024;
    let Some(path) = path else {
        let (input, _) =
            buffered(Box::new(std::io::stdin()), None, "stdin", BUFFER).context("reading stdin")?;
        return Ok((input, None));
    };
    let file = open_file(path)?;
    let name = path.to_string_lossy();
    let codec = match Suffix::of(&name) {
        Suffix::Compressed(codec, _) => Some(codec),
        Suffix::Plain(_) | Suffix::Unsupported(_) => None,
    };
    let size = file.metadata().ok().map(|m| m.len());
    let (input, found) = buffered(Box::new(file), codec, &name, BUFFER)
        .with_context(|| format!("reading the input file {}", path.display()))?;
    // The progress bar counts decompressed bytes: a compressed file's
    // size would not be their total.
    Ok((input, size.filter(|_| found.is_none())))
}

/// The input's name in messages.
pub(super) fn input_label(plan: &ImportPlan) -> String {
    match &plan.input {
        Some(path) => path.display().to_string(),
        None => "stdin".to_string(),
    }
}

/// What `--state`'s position counts for this format.
pub(super) fn position_unit(format: Format) -> &'static str {
    match format {
        Format::Parquet => "row",
        _ => "byte",
    }
}

pub(super) type InputReader = Reader<Box<dyn BufRead + Send>>;

/// The Parquet reader, and the file's size for progress. Parquet is read
/// from its footer, which comes last, so stdin (or a pipe given as
/// `--input`) is first copied to an unnamed temporary file in `$TMPDIR`:
/// unnamed, it is gone when dbchunk exits, however it exits.
pub(super) fn open_parquet(
    path: Option<&std::path::Path>,
    max_record_bytes: usize,
) -> Result<(InputReader, Option<u64>)> {
    let name = path.map_or("stdin".to_string(), |p| p.display().to_string());
    let file = path.map(open_file).transpose()?;
    let seekable = match &file {
        Some(f) => f.metadata().is_ok_and(|m| m.is_file()),
        None => false,
    };
    let file = match (file, seekable) {
        (Some(file), true) => file,
        (file, _) => spool(file, &name)?,
    };
    let size = file.metadata().ok().map(|m| m.len());
    check_parquet_magic(&file, &name)?;
    let reader = crate::input::parquet::ParquetReader::open(file, max_record_bytes)
        .with_context(|| format!("reading {name}"))?;
    Ok((Reader::Parquet(Box::new(reader)), size))
}

/// Copies a stream (stdin, or a pipe given as `--input`) into an unnamed
/// temporary file in `$TMPDIR`, so that the footer can be read first.
fn spool(stream: Option<std::fs::File>, name: &str) -> Result<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    let dir = std::env::temp_dir();
    let context = || {
        format!(
            "copying {name} to a temporary file in {} (Parquet is read from its end): set \
             TMPDIR to a directory with room for the whole file, or give --input FILE",
            dir.display()
        )
    };
    let mut spooled = tempfile::tempfile().with_context(context)?;
    let copied = match stream {
        Some(mut file) => std::io::copy(&mut file, &mut spooled),
        None => std::io::copy(&mut std::io::stdin().lock(), &mut spooled),
    };
    copied.with_context(context)?;
    spooled.seek(SeekFrom::Start(0)).with_context(context)?;
    Ok(spooled)
}

/// A Parquet file starts and ends with `PAR1`; anything else gets a
/// message that says what it looks like instead.
fn check_parquet_magic(file: &std::fs::File, name: &str) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    let ok = len >= 12
        && file.read_exact_at(&mut head, 0).is_ok()
        && file.read_exact_at(&mut tail, len - 4).is_ok()
        && &head == b"PAR1"
        && &tail == b"PAR1";
    if ok {
        return Ok(());
    }
    let looks = match head {
        [0x1f, 0x8b, ..] => {
            "it is gzip-compressed: decompress it first (Parquet compresses inside)"
        }
        [0x28, 0xb5, 0x2f, 0xfd] => {
            "it is zstd-compressed: decompress it first (Parquet compresses inside)"
        }
        _ if len == 0 => "it is empty",
        _ if &head == b"PAR1" => {
            "it has no Parquet footer: the file was cut short, or is still being written"
        }
        _ => "give --format csv, tsv or ndjson if it is text",
    };
    Err(UsageError(format!(
        "{name} is not a Parquet file (no PAR1 at its start and end): {looks}"
    ))
    .into())
}

fn open_file(path: &std::path::Path) -> Result<std::fs::File> {
    std::fs::File::open(path).with_context(|| {
        format!(
            "cannot open the input file {}: check the path",
            path.display()
        )
    })
}
