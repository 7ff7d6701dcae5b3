//! The path from a reader to the bytes on stdout or in a file:
//! reader → [`Pipeline`] (encoder, counters, progress) → [`Output`] thread.

use anyhow::{anyhow, Result};

use crate::cell::{Cell, Column, RowSink};
use crate::db::Key;
use crate::format::{Encoder, Format, Mark, ParquetOptions};
use crate::output::{Output, Saved};
use crate::progress::Progress;
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
}

/// Where a chunk started in the pipeline, to go back to.
#[derive(Clone, Copy, Debug)]
pub struct ChunkStart {
    rows: u64,
    encoder: Mark,
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
        })
    }

    /// Chunks are handed to the writer only once complete (memory then
    /// holds one chunk), so that [`Pipeline::rewind`] always works.
    pub fn with_whole_chunks(mut self) -> Pipeline {
        self.whole_chunks = true;
        self
    }

    pub fn chunk_start(&mut self) -> ChunkStart {
        self.shipped_in_chunk = false;
        ChunkStart {
            rows: self.rows,
            encoder: self.encoder.mark(),
        }
    }

    /// Forgets the rows of the current chunk, to read it again; `false`
    /// when some of them are already written.
    pub fn rewind(&mut self, start: ChunkStart) -> bool {
        if self.shipped_in_chunk || !self.encoder.rewind(start.encoder) {
            return false;
        }
        self.rows = start.rows;
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

    /// Ends a keyset chunk whose last row has key `last_key`: the chunk is
    /// written, with a checkpoint after it when the export is resumable.
    pub fn end_chunk_at(&mut self, last_key: Option<&Key>) -> Result<()> {
        match (&self.checkpoints, last_key) {
            (Some(_), Some(key)) => {
                self.chunks += 1;
                self.ship_checkpoint(Some(key.clone()))?;
                self.stop_if_asked()
            }
            _ => self.end_chunk(),
        }
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
        let (totals, output, progress) = self.drain()?;
        output.finish()?;
        progress.finish();
        Ok(totals)
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
        let spare = match full.len() > 2 * SHIP_AT {
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
        self.progress.update(self.rows, self.output.bytes());
        if let Some(throttle) = &self.throttle {
            throttle.pace(self.rows, self.output.bytes());
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
        if !self.whole_chunks {
            self.encoder.cut_if_full()?;
            if self.encoder.buffered() >= SHIP_AT {
                self.ship()?;
            }
        }
        Ok(self.remaining() > 0)
    }

    fn raw_rows(&mut self, bytes: &[u8], rows: u64) -> Result<bool> {
        self.encoder.raw(bytes);
        self.rows += rows;
        if self.encoder.buffered() >= SHIP_AT && !self.whole_chunks {
            self.ship()?;
        }
        Ok(self.remaining() > 0)
    }

    /// A chunk is written out before a Ctrl-C or SIGTERM stops the export.
    fn end_chunk(&mut self) -> Result<()> {
        self.chunks += 1;
        self.encoder.cut_if_full()?;
        self.ship()?;
        self.stop_if_asked()
    }
}
