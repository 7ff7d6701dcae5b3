//! The path from a reader to the bytes on stdout or in a file:
//! reader → [`Pipeline`] (encoder, counters, progress) → [`Output`] thread.

use anyhow::{anyhow, Result};

use crate::cell::{Cell, Column, RowSink};
use crate::format::{Encoder, Format};
use crate::output::Output;
use crate::progress::Progress;
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
}

/// What an export wrote.
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub rows: u64,
    pub bytes: u64,
    pub chunks: u64,
}

impl Pipeline {
    pub fn new(
        format: Format,
        columns: &[Column],
        null: &str,
        header: bool,
        output: Output,
        progress: Progress,
        limit: Option<u64>,
    ) -> Pipeline {
        let mut encoder = Encoder::new(format, columns, null);
        if header {
            encoder.header(columns);
        }
        Pipeline {
            encoder,
            output,
            progress,
            rows: 0,
            chunks: 0,
            limit,
            throttle: None,
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
        self.ship()?;
        let totals = Totals {
            rows: self.rows,
            bytes: self.output.bytes(),
            chunks: self.chunks,
        };
        self.progress.update(totals.rows, totals.bytes);
        Ok((totals, self.output, self.progress))
    }

    fn ship(&mut self) -> Result<()> {
        if self.encoder.buffered() == 0 {
            return Ok(());
        }
        // `Vec::new()` does not allocate; the encoder continues in the
        // recycled buffer the writer hands back.
        let full = self.encoder.take_buffer(Vec::new());
        let spare = self.output.send(full)?;
        self.encoder.take_buffer(spare);
        self.progress.update(self.rows, self.output.bytes());
        if let Some(throttle) = &self.throttle {
            throttle.pace(self.rows, self.output.bytes());
        }
        Ok(())
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
        if self.encoder.buffered() >= SHIP_AT {
            self.ship()?;
        }
        Ok(self.remaining() > 0)
    }

    fn raw_rows(&mut self, bytes: &[u8], rows: u64) -> Result<bool> {
        self.encoder.raw(bytes);
        self.rows += rows;
        if self.encoder.buffered() >= SHIP_AT {
            self.ship()?;
        }
        Ok(self.remaining() > 0)
    }

    /// A chunk is written out before a Ctrl-C or SIGTERM stops the export.
    fn end_chunk(&mut self) -> Result<()> {
        self.chunks += 1;
        self.ship()?;
        crate::signals::check()
            .map_err(|stop| anyhow!(stop).context(format!("after {} rows", self.rows)))
    }
}
