//! The path from a reader to the bytes on stdout or in a file:
//! reader → [`Pipeline`] (encoder, counters, progress) → [`Output`] thread.

use anyhow::{anyhow, Result};

use crate::cell::{Cell, Column, RowSink};
use crate::db::Key;
use crate::format::{Encoder, Format, Mark, ParquetOptions};
use crate::output::{Output, Saved};
use crate::progress::Progress;
use crate::split::{Limit, Part, Parts};
use crate::state::Checkpoint;
use crate::throttle::Throttle;

/// A buffer this full is handed to the writer even in mid-chunk, so a
/// cursor with a huge fetch size still streams in bounded memory.
const SHIP_AT: usize = 1 << 20;

pub struct Pipeline {
    encoder: Encoder,
    output: Output,
    progress: Progress,
    rows: u64,
    chunks: u64,
    limit: Option<u64>,
    throttle: Option<Throttle>,
    checkpoints: Option<Checkpoints>,
    /// Hold each chunk in memory until it ends, so that a chunk cut short
    /// by a lost connection can be dropped and read again.
    whole_chunks: bool,
    /// Whether bytes of the current chunk have gone to the writer.
    shipped_in_chunk: bool,
    /// `--split-rows`/`--split-bytes`: where parts end, and the parts.
    split: Option<Splitter>,
    /// Where the current chunk started, to go back to when it is read
    /// again after a lost connection.
    chunk_mark: ChunkStart,
    /// The key of the last row of the last chunk ended (or of the
    /// resumed export): where a read that goes on starts.
    last_key: Option<Key>,
}

/// The state of a split export. A CSV, TSV or NDJSON part ends at a row
/// boundary that is only marked in the chunk buffer (a [`Cut`]), and the
/// buffer is divided between the parts when it is shipped: so a keyset
/// chunk held whole for `--retries` can still be read again (its cuts are
/// forgotten with it). A Parquet part ends at once: its last row group
/// and footer are written and a new file starts.
struct Splitter {
    parts: Parts,
    /// What every part after the first starts with (the CSV/TSV header).
    header: Vec<u8>,
    /// For Parquet, what a fresh encoder for the next part is made from.
    parquet: Option<(Vec<Column>, ParquetOptions)>,
    /// Rows of the part being filled, buffered ones included.
    rows: u64,
    /// Part ends in the chunk buffer, not yet shipped.
    cuts: Vec<Cut>,
    /// Bytes of the format in the parts already complete.
    bytes_done: u64,
}

/// A part ends at byte `at` of the chunk buffer, after `rows` rows.
#[derive(Clone, Copy, Debug)]
struct Cut {
    at: usize,
    rows: u64,
}

/// Where a split export stood at the start of a chunk.
#[derive(Clone, Copy, Debug)]
struct SplitMark {
    rows: u64,
    cuts: usize,
}

/// Where a chunk started in the pipeline, to go back to.
#[derive(Clone, Copy, Debug)]
pub struct ChunkStart {
    rows: u64,
    encoder: Mark,
    split: Option<SplitMark>,
}

/// What every checkpoint of a resumable export (`--state`) records
/// besides its counts and key.
#[derive(Clone, Debug)]
pub struct Checkpoints {
    pub source: String,
    pub format: String,
    pub state_file: Option<std::path::PathBuf>,
}

/// What an export wrote.
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub rows: u64,
    pub bytes: u64,
    pub chunks: u64,
}

impl Pipeline {
    /// Fails only for Parquet, whose schema is built here.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        format: Format,
        columns: &[Column],
        null: &str,
        header: bool,
        parquet: ParquetOptions,
        output: Output,
        progress: Progress,
        limit: Option<u64>,
    ) -> Result<Pipeline> {
        let mut encoder = Encoder::open(format, columns, null, parquet)?;
        if header {
            encoder.header(columns);
        }
        let chunk_mark = ChunkStart {
            rows: 0,
            encoder: encoder.mark(),
            split: None,
        };
        Ok(Pipeline {
            encoder,
            output,
            progress,
            rows: 0,
            chunks: 0,
            limit,
            throttle: None,
            checkpoints: None,
            whole_chunks: false,
            shipped_in_chunk: false,
            split: None,
            chunk_mark,
            last_key: None,
        })
    }

    /// Writes the export as numbered parts: `output` (from
    /// [`Parts::start`]) is the first, and each later part starts with the
    /// same header (CSV/TSV) or is a Parquet file of its own.
    pub fn with_parts(
        mut self,
        parts: Parts,
        format: Format,
        columns: &[Column],
        null: &str,
        header: bool,
        parquet: ParquetOptions,
    ) -> Pipeline {
        let mut header_bytes = Vec::new();
        if header && format.is_text() {
            let mut encoder = Encoder::new(format, columns, null);
            encoder.header(columns);
            header_bytes = encoder.take_buffer(Vec::new());
        }
        self.split = Some(Splitter {
            parts,
            header: header_bytes,
            parquet: (format == Format::Parquet).then(|| (columns.to_vec(), parquet)),
            rows: 0,
            cuts: Vec::new(),
            bytes_done: 0,
        });
        self.chunk_mark = self.chunk_start();
        self
    }

    /// Chunks are handed to the writer only once complete (memory then
    /// holds one chunk), so that [`Pipeline::rewind`] always works.
    pub fn with_whole_chunks(mut self) -> Pipeline {
        self.whole_chunks = true;
        self
    }

    fn chunk_start(&mut self) -> ChunkStart {
        self.shipped_in_chunk = false;
        ChunkStart {
            rows: self.rows,
            encoder: self.encoder.mark(),
            split: self.split.as_ref().map(|s| SplitMark {
                rows: s.rows,
                cuts: s.cuts.len(),
            }),
        }
    }

    /// Forgets the rows of the current chunk (those since the last chunk
    /// ended), to read them again; `false` when some of them are already
    /// written.
    pub fn rewind_chunk(&mut self) -> bool {
        let start = self.chunk_mark;
        if self.shipped_in_chunk || !self.encoder.rewind(start.encoder) {
            return false;
        }
        self.rows = start.rows;
        if let (Some(split), Some(mark)) = (&mut self.split, start.split) {
            split.rows = mark.rows;
            split.cuts.truncate(mark.cuts);
        }
        true
    }

    /// Takes a checkpoint after every keyset chunk (`--state`), and starts
    /// the counts where a resumed export left off.
    pub fn with_checkpoints(
        mut self,
        checkpoints: Checkpoints,
        resumed: Option<&Checkpoint>,
    ) -> Pipeline {
        if let Some(resumed) = resumed {
            self.rows = resumed.rows;
            self.chunks = resumed.chunks;
            self.last_key = resumed.last_key.clone();
            self.chunk_mark = self.chunk_start();
        }
        self.checkpoints = Some(checkpoints);
        self
    }

    /// After a signal: the writer stops after the piece it is writing;
    /// returns the token of the last checkpoint written.
    pub fn abandon(&mut self) -> Option<String> {
        self.output.abandon()
    }

    /// The resume token of the last checkpoint whose bytes are written.
    pub fn last_saved(&self) -> Option<String> {
        self.output.last_saved()
    }

    /// The key of the last row of the last chunk ended: where a read
    /// that goes on from here starts (`None` before the first).
    pub fn last_key(&self) -> Option<&Key> {
        self.last_key.as_ref()
    }

    /// Keeps the export under `--max-rate`, checked each time a buffer is
    /// handed to the writer.
    pub fn with_throttle(mut self, throttle: Option<Throttle>) -> Pipeline {
        self.throttle = throttle;
        self
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Rows still wanted under `--limit` (`u64::MAX` without one).
    pub fn remaining(&self) -> u64 {
        self.limit.map_or(u64::MAX, |l| l.saturating_sub(self.rows))
    }

    /// Writes what is left and waits for the output to be complete.
    pub fn finish(self) -> Result<Totals> {
        Ok(self.finish_parts()?.0)
    }

    /// As `finish`, with the parts of a split export (none otherwise).
    pub fn finish_parts(mut self) -> Result<(Totals, Vec<Part>)> {
        let Some(split) = &self.split else {
            let (totals, output, progress) = self.drain()?;
            output.finish()?;
            progress.finish();
            return Ok((totals, Vec::new()));
        };
        // The part opened after the last cut holds no row: the export
        // ended exactly at a part's end. It is dropped, not written.
        let empty_tail =
            split.rows == 0 && !(split.parts.done().is_empty() && split.cuts.is_empty());
        if !(empty_tail && split.parquet.is_some()) {
            self.encoder.finish()?;
            self.ship()?;
        }
        let mut split = self.split.take().expect("a split export");
        match empty_tail {
            true => drop(self.output),
            false => {
                split.bytes_done += self.output.bytes();
                split.parts.finish(self.output, split.rows)?;
            }
        }
        let totals = Totals {
            rows: self.rows,
            bytes: split.bytes_done,
            chunks: self.chunks,
        };
        self.progress.update(totals.rows, totals.bytes);
        self.progress.finish();
        Ok((totals, split.parts.into_done()))
    }

    /// How many parts of a split export are complete (0 if not split).
    pub fn parts_done(&self) -> usize {
        self.split.as_ref().map_or(0, |s| s.parts.done().len())
    }

    /// Bytes handed to the writer so far, in every part.
    fn bytes(&self) -> u64 {
        self.output.bytes() + self.split.as_ref().map_or(0, |s| s.bytes_done)
    }

    /// After `rows` more rows: whether the part is full, and if so where
    /// it ends. A text part is marked to end after the rows just encoded;
    /// a Parquet part by rows ends now (by bytes, see
    /// [`Pipeline::end_parquet_part_if_big`]).
    fn count_part_rows(&mut self, rows: u64) -> Result<()> {
        let buffered = self.encoder.buffered();
        let in_output = self.output.bytes();
        let Some(split) = &mut self.split else {
            return Ok(());
        };
        split.rows += rows;
        let full = match split.parts.limit() {
            Limit::Rows(n) => split.rows >= n,
            Limit::Bytes(_) if split.parquet.is_some() => false,
            Limit::Bytes(n) => {
                let bytes = match split.cuts.last() {
                    Some(cut) => split.header.len() + buffered - cut.at,
                    None => in_output as usize + buffered,
                };
                bytes as u64 >= n
            }
        };
        if !full {
            return Ok(());
        }
        if split.parquet.is_some() {
            return self.end_parquet_part();
        }
        split.cuts.push(Cut {
            at: buffered,
            rows: split.rows,
        });
        split.rows = 0;
        Ok(())
    }

    /// A Parquet part by bytes ends after the row group that takes its
    /// file to the size (row groups are at most that size of values, see
    /// `config`).
    fn end_parquet_part_if_big(&mut self) -> Result<()> {
        let bytes = self.output.bytes() + self.encoder.buffered() as u64;
        match &self.split {
            Some(split) if split.parquet.is_some() && split.rows > 0 => match split.parts.limit() {
                Limit::Bytes(n) if bytes >= n => self.end_parquet_part(),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// Writes the Parquet part's last row group and footer, moves it into
    /// place, and starts the next file.
    fn end_parquet_part(&mut self) -> Result<()> {
        self.encoder.finish()?;
        self.ship()?;
        let split = self.split.as_mut().expect("a split export");
        let (columns, options) = split.parquet.clone().expect("a Parquet export");
        self.encoder = Encoder::open(Format::Parquet, &columns, "", options)?;
        let rows = std::mem::take(&mut split.rows);
        self.next_part(rows)?;
        // Rows before the cut are in a finished file: no rewind past it.
        self.shipped_in_chunk = true;
        Ok(())
    }

    /// Moves the current part (of `rows` rows) into place and opens the
    /// next one, which starts with the header.
    fn next_part(&mut self, rows: u64) -> Result<()> {
        let split = self.split.as_mut().expect("a split export");
        let next = split.parts.open()?;
        let finished = std::mem::replace(&mut self.output, next);
        split.bytes_done += finished.bytes();
        split.parts.finish(finished, rows)?;
        if !split.header.is_empty() {
            let header = split.header.clone();
            self.output.send(header)?;
        }
        Ok(())
    }

    /// Ships a buffer that holds part ends: each part's bytes go to its
    /// own output. Returns `full`, emptied, for reuse.
    fn ship_across_parts(&mut self, mut full: Vec<u8>, cuts: Vec<Cut>) -> Result<Vec<u8>> {
        let mut from = 0;
        for cut in cuts {
            self.send_slice(&full[from..cut.at])?;
            self.next_part(cut.rows)?;
            from = cut.at;
        }
        self.send_slice(&full[from..])?;
        full.clear();
        Ok(full)
    }

    /// Sends a copy of `bytes`, a piece at a time.
    fn send_slice(&mut self, bytes: &[u8]) -> Result<()> {
        for piece in bytes.chunks(SHIP_AT) {
            let mut spare = Vec::new();
            spare.extend_from_slice(piece);
            self.output.send(spare)?;
        }
        Ok(())
    }

    /// Hands out the rest of the rows and the output, still open: a
    /// `--parallel` export appends the later ranges to it.
    pub fn drain(mut self) -> Result<(Totals, Output, Progress)> {
        self.encoder.finish()?;
        if self.checkpoints.is_some() {
            self.ship_checkpoint(None)?; // the "done" checkpoint
        } else {
            self.ship()?;
        }
        let totals = Totals {
            rows: self.rows,
            bytes: self.output.bytes(),
            chunks: self.chunks,
        };
        self.progress.update(totals.rows, totals.bytes);
        Ok((totals, self.output, self.progress))
    }

    /// Ships the buffer (even an empty one) with a checkpoint that holds
    /// once it is written; `None` marks the export done.
    fn ship_checkpoint(&mut self, last_key: Option<Key>) -> Result<()> {
        let settings = self.checkpoints.clone().expect("checkpoints are on");
        let full = self.encoder.take_buffer(Vec::new());
        let checkpoint = Checkpoint {
            source: settings.source,
            format: settings.format,
            rows: self.rows,
            bytes: self.output.bytes() + full.len() as u64,
            chunks: self.chunks,
            last_key,
            compression: None,
            compressed_bytes: None,
        };
        let saved = Saved {
            state_file: settings.state_file,
            checkpoint,
        };
        let spare = self.output.send_checkpoint(full, saved)?;
        self.encoder.take_buffer(spare);
        self.shipped();
        Ok(())
    }

    fn stop_if_asked(&self) -> Result<()> {
        crate::signals::check()
            .map_err(|stop| anyhow!(stop).context(format!("after {} rows", self.rows)))
    }

    fn ship(&mut self) -> Result<()> {
        if self.encoder.buffered() == 0 {
            return Ok(());
        }
        // `Vec::new()` does not allocate; the encoder continues in the
        // recycled buffer the writer hands back.
        let full = self.encoder.take_buffer(Vec::new());
        let cuts = match &mut self.split {
            Some(split) => std::mem::take(&mut split.cuts),
            None => Vec::new(),
        };
        let spare = match full.len() > 2 * SHIP_AT {
            _ if !cuts.is_empty() => self.ship_across_parts(full, cuts)?,
            false => self.output.send(full)?,
            true => self.send_in_pieces(full)?,
        };
        self.encoder.take_buffer(spare);
        self.shipped_in_chunk = true;
        self.shipped();
        Ok(())
    }

    /// A buffer much larger than usual (a whole Parquet row group) goes
    /// to the writer a piece at a time, so the writer's queue holds a few
    /// MiB, not a few row groups. Returns `full`, emptied, for reuse.
    fn send_in_pieces(&mut self, mut full: Vec<u8>) -> Result<Vec<u8>> {
        let mut spare = Vec::new();
        for piece in full.chunks(SHIP_AT) {
            spare.clear();
            spare.extend_from_slice(piece);
            spare = self.output.send(spare)?;
        }
        full.clear();
        Ok(full)
    }

    /// After every buffer handed to the writer: the progress bar, and the
    /// pause that keeps `--max-rate`.
    fn shipped(&self) {
        self.progress.update(self.rows, self.bytes());
        if let Some(throttle) = &self.throttle {
            throttle.pace(self.rows, self.bytes());
        }
    }
}

impl RowSink for Pipeline {
    #[inline]
    fn cell(&mut self, cell: Cell<'_>) {
        self.encoder.cell(cell);
    }

    #[inline]
    fn end_row(&mut self) -> Result<bool> {
        self.rows += 1;
        if let Err(message) = self.encoder.end_row() {
            return Err(anyhow!("row {}: {message}", self.rows));
        }
        if self.split.is_some() {
            self.count_part_rows(1)?;
        }
        if !self.whole_chunks {
            self.encoder.cut_if_full()?;
            if self.split.is_some() {
                self.end_parquet_part_if_big()?;
            }
            if self.encoder.buffered() >= SHIP_AT {
                self.ship()?;
            }
        }
        Ok(self.remaining() > 0)
    }

    fn raw_rows(&mut self, bytes: &[u8], rows: u64) -> Result<bool> {
        self.encoder.raw(bytes);
        self.rows += rows;
        if self.split.is_some() {
            self.count_part_rows(rows)?;
        }
        if self.encoder.buffered() >= SHIP_AT && !self.whole_chunks {
            self.ship()?;
        }
        Ok(self.remaining() > 0)
    }

    /// A chunk is written out (with a checkpoint after it when the
    /// export is resumable and the chunk ended at a key) before a Ctrl-C
    /// or SIGTERM stops the export.
    fn end_chunk(&mut self, last_key: Option<&Key>) -> Result<()> {
        self.chunks += 1;
        match (&self.checkpoints, last_key) {
            (Some(_), Some(key)) => self.ship_checkpoint(Some(key.clone()))?,
            _ => {
                self.encoder.cut_if_full()?;
                if self.split.is_some() {
                    self.end_parquet_part_if_big()?;
                }
                self.ship()?;
            }
        }
        if let Some(key) = last_key {
            self.last_key = Some(key.clone());
        }
        self.chunk_mark = self.chunk_start();
        self.stop_if_asked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::ProgressMode;
    use crate::split::{Limit, Split};

    /// A CSV pipeline split every `rows` rows into `dir/p.csv`, holding
    /// whole chunks as a keyset export with `--retries` does.
    fn split_csv(dir: &std::path::Path, rows: u64) -> Pipeline {
        let columns = [Column::new("n", "int")];
        let split = Split {
            limit: Limit::Rows(rows),
            base: dir.join("p.csv"),
            overwrite: false,
        };
        let (parts, first) = Parts::start(split, None).unwrap();
        let progress = Progress::new(ProgressMode::Never, true, None);
        let pipeline = Pipeline::new(
            Format::Csv,
            &columns,
            "",
            true,
            ParquetOptions::default(),
            first,
            progress,
            None,
        )
        .unwrap();
        pipeline.with_whole_chunks().with_parts(
            parts,
            Format::Csv,
            &columns,
            "",
            true,
            ParquetOptions::default(),
        )
    }

    fn push(pipeline: &mut Pipeline, from: i64, to: i64) {
        for n in from..=to {
            pipeline.cell(Cell::Int(n));
            pipeline.end_row().unwrap();
        }
    }

    #[test]
    fn a_chunk_read_again_forgets_the_part_ends_it_had_marked() {
        let dir = tempfile::tempdir().unwrap();
        let mut pipeline = split_csv(dir.path(), 3);
        push(&mut pipeline, 1, 4);
        pipeline.end_chunk(None).unwrap();
        // The second chunk is cut short by a lost connection after two
        // rows, one of which ended a part, and read again whole.
        push(&mut pipeline, 5, 6);
        assert!(pipeline.rewind_chunk());
        push(&mut pipeline, 5, 8);
        pipeline.end_chunk(None).unwrap();
        let (totals, parts) = pipeline.finish_parts().unwrap();
        assert_eq!(totals.rows, 8);
        let read = |n: u64| {
            std::fs::read_to_string(crate::split::part_path(&dir.path().join("p.csv"), n)).unwrap()
        };
        assert_eq!(read(1), "n\n1\n2\n3\n");
        assert_eq!(read(2), "n\n4\n5\n6\n");
        assert_eq!(read(3), "n\n7\n8\n");
        let rows: Vec<u64> = parts.iter().map(|p| p.rows).collect();
        assert_eq!(rows, [3, 3, 2]);
    }
}
