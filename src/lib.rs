//! dbchunk: move huge tables out of PostgreSQL, MySQL/MariaDB and SQLite in
//! chunks, with memory bounded by the chunk, never by the table.
//!
//! One row's path from the driver to the bytes:
//!
//! ```text
//!  cli ──► config ──► cmd::export
//!                        │ plan::Select builds the SQL of each chunk
//!                        ▼
//!   db::{postgres,mysql,sqlite}  ── runs it, pushes each value as a cell::Cell
//!                        │            (borrowed from the driver's buffer)
//!                        ▼
//!   pipeline::Pipeline   ── format::Encoder appends CSV/TSV/NDJSON to a chunk buffer,
//!                        │   counts rows, ticks the progress bar (stderr)
//!                        ▼   full buffers, over a bounded channel
//!   output::Output       ── writer thread: stdout, or a temp file renamed at the end
//! ```
//!
//! PostgreSQL's `copy` strategy skips the cells: the server's `COPY` bytes
//! are already in the output format and go straight into the chunk buffer.

pub mod cell;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod db;
pub mod error;
pub mod format;
pub mod ident;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod url;

use cli::{Cli, Command};
use config::{CountPlan, ExportPlan};
use error::ExitCode;

/// Runs one command line and returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    match execute(cli) {
        Ok(()) => ExitCode::Success,
        Err(err) => error::report(&err),
    }
}

fn execute(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Export(args) => {
            let plan = ExportPlan::from_args(args)?;
            runtime.block_on(cmd::export::run(plan))
        }
        Command::Count(args) => {
            let plan = CountPlan::from_args(args)?;
            runtime.block_on(cmd::count::run(plan))
        }
    }
}
