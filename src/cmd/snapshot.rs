//! `dbchunk snapshot`: holds a PostgreSQL snapshot open for workers on
//! any machine to read in (`plan --snapshot`, `export --snapshot`).
//!
//! PostgreSQL keeps an exported snapshot only while the transaction that
//! exported it is open, so this process is that transaction: it prints
//! the id on stdout, then waits. Closing its stdin, SIGTERM or SIGINT
//! release the snapshot (exit 0: that is how it is meant to end). If the
//! connection dies, the snapshot is gone with it and parts not yet read
//! cannot join it any more: that is a failure, said loudly (exit 1).

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};

use crate::cli::SnapshotArgs;
use crate::config::parse_url;
use crate::db::Db;
use crate::engine::Engine;
use crate::error::UsageError;

/// How often the connection is checked: a snapshot gone unnoticed would
/// let workers fail one by one instead of the holder failing once.
const PING_EVERY: Duration = Duration::from_secs(5);

/// A server that does not answer a ping within this is taken for gone.
const PING_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(args: SnapshotArgs) -> Result<()> {
    let url = parse_url(&args.connect)?;
    if url.engine != Engine::Postgres {
        return Err(UsageError(format!(
            "dbchunk snapshot needs PostgreSQL: {} cannot share one snapshot between \
             connections (docs/distributed.md says what dbchunk plan records there instead)",
            url.engine.name()
        ))
        .into());
    }
    let connecting = async {
        Db::connect(&url)
            .await
            .with_context(|| format!("connecting to {}", url.shown))
    };
    let Db::Postgres(mut pg) = crate::signals::until_stopped(connecting)
        .await
        .map_err(|stop| stop.left("while connecting", "no snapshot was taken"))??
    else {
        unreachable!("a PostgreSQL URL connects to PostgreSQL");
    };
    let id = pg.export_snapshot().await.context("exporting a snapshot")?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{id}")
        .and_then(|()| stdout.flush())
        .context("printing the snapshot id")?;
    drop(stdout);
    if std::io::stderr().is_terminal() {
        crate::log::info(&format!(
            "holding snapshot {id}; close stdin (Ctrl-D) or send SIGTERM to release it"
        ));
    }
    let stdin_closed = async {
        if args.until_signal {
            std::future::pending::<()>().await;
        }
        let (closed, wait) = tokio::sync::oneshot::channel::<()>();
        // A blocking read has no place on the runtime; the thread is left
        // behind when the process ends.
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = closed.send(());
        });
        let _ = wait.await;
    };
    let connection_lost = async {
        loop {
            tokio::time::sleep(PING_EVERY).await;
            let ping = tokio::time::timeout(PING_TIMEOUT, pg.count("SELECT 1::int8")).await;
            match ping {
                Ok(Ok(_)) => continue,
                Ok(Err(err)) => break crate::error::one_line(&err),
                Err(_) => break format!("no answer in {} s", PING_TIMEOUT.as_secs()),
            }
        }
    };
    let lost = tokio::select! {
        _ = crate::signals::stopped() => None,
        () = stdin_closed => None,
        lost = connection_lost => Some(lost),
    };
    if let Some(lost) = lost {
        return Err(anyhow!(
            "the connection holding snapshot {id} was lost ({lost}), and the snapshot with it: \
             parts not yet read cannot join it; take a new snapshot, plan again with it, and \
             export every part again"
        ));
    }
    // Ended before exiting, so that once this process is gone the snapshot
    // is too, not a moment later when the server notices.
    pg.execute("COMMIT").await.context("releasing the snapshot")
}
