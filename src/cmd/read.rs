//! How an export's rows are read: the loop of each strategy, shared by a
//! serial export and each `--parallel` worker.
//!
//! Every strategy that reads in key order ends its chunks at a key: keyset
//! with a query per chunk, and cursor and copy, when the source has a key,
//! with one statement whose rows are ended every `--chunk` rows. A lost
//! connection (`--retries`) or a resumed export (`--state`) goes on after
//! the last chunk written, with `WHERE key > last`, so the output is the
//! same bytes as a run that never stopped. Offset, and cursor or copy
//! without a key, cannot go on from the middle.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::config::ExportPlan;
use crate::db::{is_connection_lost, ChunkRead, Db, Key, Read, Relation};
use crate::engine::Engine;
use crate::pipeline::Pipeline;
use crate::plan::{Statement, Strategy};
use crate::retry::Retries;
use crate::state::Checkpoint;

/// Reads the relation's rows into `pipeline` with `strategy` (resolved,
/// never auto), from where `plan.resume` says when resuming.
pub async fn read(
    db: &mut Db,
    relation: &Relation,
    strategy: Strategy,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
) -> Result<()> {
    if pipeline.remaining() == 0 {
        return Ok(()); // --limit 0: the header only
    }
    if let Some(Checkpoint { last_key: None, .. }) = &plan.resume {
        return Ok(()); // the export had finished: only the output to close
    }
    if strategy == Strategy::Offset {
        return read_offset(db, relation, plan, pipeline).await;
    }
    // `cursor` or `copy`: the rest of the rows, after the pipeline's last
    // key when there is one, in one statement.
    let stream = async |db: &mut Db, pipeline: &mut Pipeline| {
        let after = pipeline.last_key().cloned();
        let limit = plan.limit.map(|_| pipeline.remaining());
        let read = match (strategy, &mut *db) {
            (Strategy::Copy, Db::Postgres(pg)) => {
                let select = relation.select_after(after.as_ref());
                let copy = pg.copy_plan(&select, limit, plan.format, &plan.null);
                pg.copy_out(relation, &copy, plan.chunk, pipeline).await
            }
            (Strategy::Copy, _) => unreachable!("config refuses copy on other engines"),
            _ => {
                let statement = Statement::plain(relation.cursor_sql(after.as_ref(), limit));
                let read = Read {
                    relation,
                    statement: &statement,
                    after: None,
                    chunk: plan.chunk,
                    streamed: true,
                };
                db.read(&read, pipeline).await
            }
        };
        read.map(drop)
            .with_context(|| chunk_context(pipeline.rows(), plan.chunk))
    };
    if reads_by_key(strategy, relation) {
        return again_on_loss(db, plan, pipeline, async |db, pipeline| match strategy {
            Strategy::Keyset => read_keyset(db, relation, plan, pipeline).await,
            _ => stream(db, pipeline).await,
        })
        .await;
    }
    // One statement with no key cannot be picked up where the connection
    // dropped.
    stream(db, pipeline)
        .await
        .map_err(|err| match is_connection_lost(&err) {
            true => err.context(format!(
                "the connection was lost, and a {} export of rows with no key cannot go on from \
                 the middle of its one statement: rerun it, or name a key with --key",
                strategy.name()
            )),
            false => err,
        })
}

/// Whether `strategy` reads `relation` in key order, ending each chunk at
/// a key it can go on from: what `--state`, `--resume` and `--retries`
/// need.
pub fn reads_by_key(strategy: Strategy, relation: &Relation) -> bool {
    !relation.key_positions.is_empty() && strategy != Strategy::Offset
}

/// Runs `step` and, when it fails because the connection was lost, drops
/// the rows since the last chunk ended and runs it again on a new
/// connection (it goes on from the pipeline's last key), up to
/// `--retries` times for the same chunk, with a growing pause in between.
async fn again_on_loss<T>(
    db: &mut Db,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
    mut step: impl AsyncFnMut(&mut Db, &mut Pipeline) -> Result<T>,
) -> Result<T> {
    let policy = Retries {
        max: plan.retries,
        quiet: plan.quiet,
    };
    let (mut retries, mut lost_at) = (0, None);
    loop {
        let err = match step(db, pipeline).await {
            Ok(done) => return Ok(done),
            Err(err) => err,
        };
        if !is_connection_lost(&err) || plan.retries == 0 || !pipeline.rewind_chunk() {
            return Err(err);
        }
        // A chunk written since the last loss starts the count again.
        if lost_at != Some(pipeline.rows()) {
            (retries, lost_at) = (0, Some(pipeline.rows()));
        }
        *db = policy
            .reconnect(err, &mut retries, || reconnect(plan))
            .await?;
    }
}

/// A new connection, ready to read the relation as the first one was.
async fn reconnect(plan: &ExportPlan) -> Result<Db> {
    let mut db = Db::connect(&plan.url)
        .await
        .with_context(|| format!("connecting to {}", plan.url.shown))?;
    db.describe(&plan.request).await?;
    Ok(db)
}

/// Which chunk an export was in when it failed.
fn chunk_context(rows: u64, chunk: u64) -> String {
    format!(
        "chunk {} (rows from {})",
        rows / chunk + 1,
        rows - rows % chunk + 1
    )
}

/// `keyset`: short queries, each after the last key written, each
/// ending its chunks every `--chunk` rows. On a server a query reads as
/// many chunks as fit in [`QuerySpan`]'s time, so its fixed cost (about
/// a millisecond of both sides' time on MariaDB) is not paid per chunk.
async fn read_keyset(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
) -> Result<()> {
    let mut span = QuerySpan::new(db.engine());
    loop {
        let limit = (span.chunks * plan.chunk).min(pipeline.remaining());
        if limit == 0 {
            return Ok(());
        }
        let after = pipeline.last_key().cloned();
        let started = Instant::now();
        let read = keyset_chunk(db, relation, plan, pipeline, limit, after.as_ref()).await?;
        if read.rows < limit {
            return Ok(());
        }
        span.took(started.elapsed());
    }
}

/// How many chunks a keyset query reads. Keyset is picked so that no
/// statement stays open long (a statement holds its snapshot, which
/// keeps vacuum and purge from cleaning up), and short is a matter of
/// time, not rows: so a query that took under half of [`Self::TARGET`]
/// is followed by one of twice as many chunks, and one that took longer
/// than the target by one of half as many, as pt-table-checksum sizes
/// its chunks. A slow reader of the output (a pipe, `--throttle`) makes
/// the queries slow, so they stay at one chunk. SQLite's queries stay at
/// one chunk: one costs nothing to start, and a shorter read transaction
/// lets writers in sooner.
struct QuerySpan {
    chunks: u64,
    grows: bool,
}

impl QuerySpan {
    const TARGET: Duration = Duration::from_millis(250);
    const MAX_CHUNKS: u64 = 1024;

    fn new(engine: Engine) -> QuerySpan {
        QuerySpan {
            chunks: 1,
            grows: engine != Engine::Sqlite,
        }
    }

    fn took(&mut self, elapsed: Duration) {
        if !self.grows {
            return;
        }
        if elapsed < Self::TARGET / 2 {
            self.chunks = (self.chunks * 2).min(Self::MAX_CHUNKS);
        } else if elapsed > Self::TARGET {
            self.chunks = (self.chunks / 2).max(1);
        }
    }
}

/// One keyset query: up to `limit` rows after `after`, each `--chunk`
/// rows ended in the pipeline at the key of the chunk's last row.
async fn keyset_chunk(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
    limit: u64,
    after: Option<&Key>,
) -> Result<ChunkRead> {
    let statement = relation.select.keyset_chunk(limit, after.is_some());
    let first_row = pipeline.rows();
    let read = Read {
        relation,
        statement: &statement,
        after,
        chunk: plan.chunk,
        streamed: false,
    };
    db.read(&read, pipeline)
        .await
        .with_context(|| chunk_context(first_row, plan.chunk))
}

/// A keyset chunk after `after`, which an incremental run keeps itself
/// (it reads two ranges), read again on a new connection when the old
/// one is lost.
pub(super) async fn keyset_chunk_after(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
    after: Option<&Key>,
) -> Result<ChunkRead> {
    again_on_loss(db, plan, pipeline, async |db, pipeline| {
        keyset_chunk(db, relation, plan, pipeline, plan.chunk, after).await
    })
    .await
}

async fn read_offset(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
) -> Result<()> {
    let (chunk, mut offset) = (plan.chunk, 0);
    loop {
        let limit = chunk.min(pipeline.remaining());
        if limit == 0 {
            return Ok(());
        }
        let statement = relation.select.offset_chunk(limit, offset);
        let read = Read {
            relation,
            statement: &statement,
            after: None,
            chunk: limit,
            streamed: false,
        };
        let read = again_on_loss(db, plan, pipeline, async |db, pipeline| {
            db.read(&read, pipeline).await
        })
        .await
        .with_context(|| format!("chunk {} (offset {offset})", offset / chunk + 1))?;
        if read.rows < limit {
            return Ok(());
        }
        offset += read.rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyset_queries_grow_while_short_and_shrink_when_long() {
        let mut span = QuerySpan::new(Engine::Mysql);
        let quick = Duration::from_millis(5);
        for expected in [2, 4, 8] {
            span.took(quick);
            assert_eq!(span.chunks, expected);
        }
        span.took(QuerySpan::TARGET * 3 / 4);
        assert_eq!(
            span.chunks, 8,
            "between half the target and the target: kept"
        );
        span.took(QuerySpan::TARGET * 2);
        assert_eq!(span.chunks, 4);
        for _ in 0..20 {
            span.took(QuerySpan::TARGET * 2);
        }
        assert_eq!(span.chunks, 1, "never below one chunk");
        for _ in 0..20 {
            span.took(quick);
        }
        assert_eq!(span.chunks, QuerySpan::MAX_CHUNKS);
    }

    #[test]
    fn sqlite_keyset_reads_a_chunk_a_query() {
        let mut span = QuerySpan::new(Engine::Sqlite);
        span.took(Duration::ZERO);
        assert_eq!(span.chunks, 1);
    }
}
