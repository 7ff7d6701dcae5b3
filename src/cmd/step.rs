//! The steps a command takes before any data moves, shared by every
//! subcommand so that each one stops alike: a Ctrl-C or SIGTERM cuts the
//! step short, and the message says what the run left (the command's own
//! words: nothing printed, nothing written, nothing imported).

use std::future::Future;

use anyhow::{Context, Result};

use crate::db::Db;
use crate::url::DbUrl;

/// Runs `work` unless a signal comes first; then the error names `stage`
/// and what the run left (`outcome`).
pub async fn step<T>(
    stage: &str,
    outcome: impl Into<String>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    crate::signals::until_stopped(work)
        .await
        .map_err(|stop| stop.left(stage, outcome))?
}

/// Looks up `label` (`work`: describing a source or a target) as a step:
/// `looking up {label}` in its error, `while looking up {label}` when a
/// signal stops it.
pub async fn look_up<T>(
    label: &str,
    outcome: impl Into<String>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let stage = format!("while looking up {label}");
    step(&stage, outcome, async {
        work.await.with_context(|| format!("looking up {label}"))
    })
    .await
}

/// Connects to the URL's database (for writing, an import: SQLite is
/// opened writable), with the URL, password hidden, in any error.
pub async fn connect(url: &DbUrl, writable: bool, outcome: impl Into<String>) -> Result<Db> {
    step("while connecting", outcome, async {
        let db = match writable {
            true => Db::connect_for_import(url).await,
            false => Db::connect(url).await,
        };
        db.with_context(|| format!("connecting to {}", url.shown))
    })
    .await
}
