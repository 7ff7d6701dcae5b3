//! dbchunk: move huge tables out of PostgreSQL, MySQL/MariaDB and SQLite in
//! chunks, with memory bounded by the chunk, never by the table.
//!
//! The two paths (docs/architecture.md has them whole):
//!
//! ```text
//!  export: cmd::export ─► cmd::read ─► db::<engine> ─► cell::Cell ─► pipeline ─► format ─► output
//!  import: cmd::import ─► input ─► values ─► bulk ─► writer ─► db::<engine>::write
//! ```
//!
//! PostgreSQL's `copy` strategy skips the cells: the server's `COPY` bytes
//! are already in the output format and go straight into the chunk buffer.

pub mod bulk;
pub mod cell;
pub mod cli;
pub mod cmd;
pub mod coltype;
pub mod compress;
pub mod config;
pub mod db;
pub mod engine;
pub mod error;
pub mod format;
pub mod ident;
pub mod input;
pub mod key;
pub mod log;
pub mod manifest;
pub mod output;
pub mod partition;
pub mod pipeline;
pub mod place;
pub mod plan;
pub mod progress;
pub mod retry;
pub mod schedule;
pub mod secrets;
pub mod signals;
pub mod split;
pub mod state;
#[cfg(test)]
mod testing;
pub mod throttle;
pub mod tls;
pub mod url;
pub mod values;
pub mod writer;

use cli::{Cli, Command};
use config::{CountPlan, ImportPlan};
use error::ExitCode;

/// Runs one command line and returns the exit code. A panic is a bug; it
/// still ends as one scrubbed `dbchunk:` line and exit 1, never a dump.
pub fn run(cli: Cli) -> ExitCode {
    log::set_format(cli.log_format);
    std::panic::set_hook(Box::new(|info| {
        let message = secrets::scrub(&info.to_string());
        log::error(&format!("internal error, please report it: {message}"));
    }));
    if let Err(err) = signals::install() {
        error::warn(&format!("cannot handle Ctrl-C cleanly: {err}"));
    }
    match std::panic::catch_unwind(|| execute(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => error::report(&err),
        Err(_) => ExitCode::Failure,
    }
}

fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    if log::is_json() {
        // A collector sees each run begin, with what it runs.
        let mut fields = serde_json::Map::new();
        fields.insert("event".into(), "start".into());
        fields.insert("command".into(), cli.command.name().into());
        fields.insert("version".into(), env!("CARGO_PKG_VERSION").into());
        log::emit(log::Level::Info, "start", fields);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Export(args) => {
            let (plan, expect) = cmd::plan::export_plan(args)?;
            let state = plan.incremental.as_ref().map(|i| &i.state_file);
            let _lock = lock_state(state.or(plan.state_file.as_ref()), plan.wait_lock)?;
            runtime.block_on(async {
                if let Some(expect) = expect {
                    expect.check(&plan.url).await?;
                }
                cmd::export::run(plan).await
            })?;
            Ok(ExitCode::Success)
        }
        Command::Count(args) => {
            let plan = CountPlan::from_args(args)?;
            runtime.block_on(cmd::count::run(plan))?;
            Ok(ExitCode::Success)
        }
        Command::Import(args) => {
            let plan = ImportPlan::from_args(args)?;
            let _lock = lock_state(plan.state_file.as_ref(), plan.wait_lock)?;
            runtime.block_on(cmd::import::run(plan))
        }
        Command::Plan(args) => {
            runtime.block_on(cmd::plan::run(args))?;
            Ok(ExitCode::Success)
        }
        Command::Dump(args) => {
            let plan = config::dump::DumpPlan::from_args(args)?;
            runtime.block_on(cmd::dump::run(plan))?;
            Ok(ExitCode::Success)
        }
        Command::Restore(args) => {
            let plan = config::restore::RestorePlan::from_args(args)?;
            runtime.block_on(cmd::restore::run(plan))
        }
        Command::Snapshot(args) => {
            runtime.block_on(cmd::snapshot::run(args))?;
            Ok(ExitCode::Success)
        }
        Command::Completions(args) => {
            cmd::docs::completions(args.shell)?;
            Ok(ExitCode::Success)
        }
        Command::Man => {
            cmd::docs::man()?;
            Ok(ExitCode::Success)
        }
    }
}

/// Two runs with one `--state` file would each write it: the second
/// waits, or ends at once with exit 75, before it touches anything.
fn lock_state(
    state: Option<&std::path::PathBuf>,
    wait: Option<std::time::Duration>,
) -> anyhow::Result<Option<state::lock::StateLock>> {
    state.map(|path| state::lock::lock(path, wait)).transpose()
}
