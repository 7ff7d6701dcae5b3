//! One view of the data for several connections: what `export --parallel`
//! workers and `dump --jobs` workers all read in.
//!
//! - PostgreSQL: the leader exports its snapshot (`pg_export_snapshot()`)
//!   and every worker starts with `SET TRANSACTION SNAPSHOT`; the leader's
//!   transaction must stay open until every worker has joined.
//! - MySQL/MariaDB: a snapshot cannot be handed over, so the leader holds
//!   `FLUSH TABLES WITH READ LOCK` while every worker runs `START
//!   TRANSACTION WITH CONSISTENT SNAPSHOT`, then unlocks (`--no-lock`
//!   skips the lock for users without the RELOAD privilege, and then the
//!   workers' snapshots may differ by what committed between them).
//! - SQLite: one connection's read transaction; there is nothing to share.

use anyhow::{Context, Result};

use crate::db::Db;
use crate::url::DbUrl;

/// How the workers share one view of the data.
#[derive(Clone, Debug)]
pub enum Snapshot {
    /// The id of the leader's exported snapshot.
    Postgres(String),
    /// Workers start consistent snapshots while the leader holds (or,
    /// with `--no-lock`, does not hold) a global read lock.
    Mysql { lock: bool },
    /// A single connection reads everything in one transaction.
    Sqlite,
}

impl Snapshot {
    /// Opens the shared view on the leader's connection. For MySQL this
    /// takes the global read lock (unless `no_lock`): every worker must
    /// [`join`] before [`Snapshot::release`].
    pub async fn open(leader: &mut Db, no_lock: bool) -> Result<Snapshot> {
        match leader {
            Db::Postgres(pg) => Ok(Snapshot::Postgres(
                pg.export_snapshot()
                    .await
                    .context("exporting the snapshot")?,
            )),
            Db::Mysql(_) => {
                if !no_lock {
                    leader
                        .execute("FLUSH TABLES WITH READ LOCK")
                        .await
                        .context(
                            "taking the brief global read lock that gives every worker the same \
                             snapshot (it needs the RELOAD privilege; --no-lock goes without it)",
                        )?;
                }
                Ok(Snapshot::Mysql { lock: !no_lock })
            }
            Db::Sqlite(_) => {
                leader.execute("BEGIN").await?;
                Ok(Snapshot::Sqlite)
            }
        }
    }

    /// Lets go of the leader's hold once every worker has joined.
    pub async fn release(&self, leader: &mut Db) -> Result<()> {
        match self {
            Snapshot::Mysql { lock: true } => leader.execute("UNLOCK TABLES").await,
            Snapshot::Mysql { lock: false } => Ok(()),
            Snapshot::Postgres(_) | Snapshot::Sqlite => leader.execute("COMMIT").await,
        }
    }
}

/// A worker's connection, reading in the shared snapshot.
pub async fn join(url: &DbUrl, snapshot: &Snapshot) -> Result<Db> {
    let mut db = Db::connect(url).await?;
    match (snapshot, &mut db) {
        (Snapshot::Postgres(id), Db::Postgres(pg)) => pg.join_snapshot(id).await?,
        (Snapshot::Mysql { .. }, Db::Mysql(my)) => my.begin_snapshot().await?,
        _ => db.execute("BEGIN").await?,
    }
    Ok(db)
}
