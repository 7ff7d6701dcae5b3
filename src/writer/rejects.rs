//! The reject file (`--reject-file`): the records that did not go in, each
//! after a comment saying why.

use std::io::Write;

use anyhow::{anyhow, Context, Result};

/// Where rejected rows go (`--reject-file`): a `# line N: reason` comment,
/// then the record's original text.
///
/// Written in place as rows are rejected, not renamed at the end: a killed
/// import's rejects stay, and `--resume` cuts the file back to what its
/// state records. A symlink is written through to its target; a device or
/// FIFO is written as a stream and never cut back.
pub struct Rejects {
    file: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
    /// A regular file, which [`Rejects::rewind`] can cut back.
    rewindable: bool,
    pub count: u64,
    /// Bytes written to the file, so a resumed import can cut it back to
    /// what its state records.
    bytes: u64,
    /// `--max-errors`; without it, no limit: the reject file is there so
    /// that the good rows go in however many bad ones there are.
    max: Option<u64>,
}

impl Rejects {
    pub fn create(path: &std::path::Path, max: Option<u64>) -> Result<Rejects> {
        Rejects::reopen(path, max, 0, 0)
    }

    /// The reject file of a resumed import: cut back to `bytes`, which
    /// hold `count` records, and continued.
    pub fn reopen(
        path: &std::path::Path,
        max: Option<u64>,
        count: u64,
        bytes: u64,
    ) -> Result<Rejects> {
        use crate::place::{open_stream, Place};
        let place = Place::of(path)
            .with_context(|| format!("cannot open the reject file {}", path.display()))?;
        let opened = match place {
            Place::File(target) => std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(bytes == 0)
                .open(target)
                .map(|file| (file, true)),
            Place::Stream(stream) => open_stream(&stream).map(|file| (file, false)),
        };
        let (file, rewindable) =
            opened.with_context(|| format!("cannot open the reject file {}", path.display()))?;
        let mut rejects = Rejects {
            file: std::io::BufWriter::new(file),
            path: path.to_path_buf(),
            rewindable,
            count,
            bytes,
            max,
        };
        rejects.rewind((count, bytes))?;
        Ok(rejects)
    }

    /// Back to an earlier [`Rejects::position`]: the rejects of a batch
    /// that is written again are recorded again (on a stream, after the
    /// first ones, which cannot be taken back).
    pub fn rewind(&mut self, (count, bytes): (u64, u64)) -> Result<()> {
        use std::io::Seek;
        if !self.rewindable {
            (self.count, self.bytes) = (count, bytes);
            return Ok(());
        }
        self.file
            .flush()
            .and_then(|()| self.file.get_mut().set_len(bytes))
            .and_then(|()| self.file.seek(std::io::SeekFrom::Start(bytes)).map(drop))
            .with_context(|| format!("writing the reject file {}", self.path.display()))?;
        (self.count, self.bytes) = (count, bytes);
        Ok(())
    }

    /// The records and bytes written so far, flushed to the file.
    pub fn position(&mut self) -> Result<(u64, u64)> {
        self.file
            .flush()
            .with_context(|| format!("writing the reject file {}", self.path.display()))?;
        Ok((self.count, self.bytes))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Records a bad row. Fails once more than `--max-errors` rows are bad.
    pub fn reject(&mut self, line: u64, raw: &[u8], reason: &str) -> Result<()> {
        self.count += 1;
        let reason = reason.replace('\n', " ");
        let reason = match reason.starts_with("line ") || reason.starts_with("row ") {
            true => reason,
            false => format!("line {line}: {reason}"),
        };
        let comment = format!("# {reason}\n");
        self.file
            .write_all(comment.as_bytes())
            .and_then(|()| self.file.write_all(raw))
            .and_then(|()| self.file.write_all(b"\n"))
            .with_context(|| format!("writing the reject file {}", self.path.display()))?;
        self.bytes += (comment.len() + raw.len() + 1) as u64;
        if let Some(max) = self.max.filter(|&max| self.count > max) {
            self.file.flush()?;
            return Err(anyhow!(
                "{reason}; that is {} bad rows, more than --max-errors {max}",
                self.count
            ));
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.file
            .flush()
            .with_context(|| format!("writing the reject file {}", self.path.display()))
    }
}
