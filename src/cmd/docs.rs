//! `dbchunk completions SHELL` and `dbchunk man`: made from the clap
//! definition itself, so they never fall behind the flags.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    // Into memory first: the generators panic on a write error, and a
    // closed pipe must stay a quiet exit 0.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "dbchunk", &mut script);
    print(&script).context("printing the completion script")
}

pub fn man() -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .context("rendering the man page")?;
    print(&page).context("printing the man page")
}

fn print(bytes: &[u8]) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}
