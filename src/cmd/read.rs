//! How an export's rows are read: the loop of each strategy, shared by a
//! serial export and each `--parallel` worker. Keyset and offset read
//! chunk by chunk and read a chunk again on a new connection when the old
//! one is lost; cursor and copy run one statement, which cannot go on
//! from its middle.

use anyhow::{Context, Result};

use crate::cell::RowSink;
use crate::config::ExportPlan;
use crate::db::{is_connection_lost, ChunkRead, Db, Key, Relation};
use crate::pipeline::Pipeline;
use crate::plan::{Statement, Strategy};
use crate::retry::Retries;

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
    let result = match strategy {
        Strategy::Keyset => {
            let start = plan.resume.as_ref().map(|r| r.last_key.clone());
            return read_keyset(db, relation, plan, pipeline, start).await;
        }
        Strategy::Offset => return read_offset(db, relation, plan, pipeline).await,
        Strategy::Cursor => {
            let sql = relation.cursor_sql(plan.limit);
            db.stream(relation, &sql, plan.chunk, pipeline).await
        }
        Strategy::Copy => match db {
            Db::Postgres(pg) => {
                let copy = pg.copy_plan(relation, plan.limit, plan.format, &plan.null);
                pg.copy_out(relation, &copy, plan.chunk, pipeline).await
            }
            _ => unreachable!("config refuses copy on other engines"),
        },
        Strategy::Auto => unreachable!("resolved before reading"),
    };
    // One long statement cannot be picked up where the connection dropped.
    let result = result.map_err(|err| match is_connection_lost(&err) {
        true => err.context(format!(
            "the connection was lost, and a {} export cannot go on from the middle of its one \
             statement: rerun it, or use --strategy keyset, which reconnects and continues",
            strategy.name()
        )),
        false => err,
    });
    result.with_context(|| chunk_context(pipeline.rows(), plan.chunk))
}

/// Reads one chunk. When the connection is lost, the chunk's rows are
/// dropped, and it is read again on a new connection, up to `--retries`
/// times with a growing pause in between.
async fn read_chunk_again_on_loss(
    db: &mut Db,
    relation: &Relation,
    statement: &Statement,
    after: Option<&Key>,
    pipeline: &mut Pipeline,
    plan: &ExportPlan,
) -> Result<ChunkRead> {
    let start = pipeline.chunk_start();
    let mut retries = 0;
    loop {
        let err = match db.read_chunk(relation, statement, after, pipeline).await {
            Ok(read) => return Ok(read),
            Err(err) => err,
        };
        if !is_connection_lost(&err) || retries == plan.retries || !pipeline.rewind(start) {
            return Err(err);
        }
        let policy = Retries {
            max: plan.retries,
            quiet: plan.quiet,
        };
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

/// Which chunk a streaming export was in when it failed.
fn chunk_context(rows: u64, chunk: u64) -> String {
    format!(
        "chunk {} (rows from {})",
        rows / chunk + 1,
        rows - rows % chunk + 1
    )
}

/// `start`: `Some` when resuming, with the key of the last row already
/// written, or `None` inside when that export had finished.
async fn read_keyset(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
    start: Option<Option<Key>>,
) -> Result<()> {
    let chunk = plan.chunk;
    let mut after: Option<Key> = match start {
        Some(None) => return Ok(()), // nothing left: only the output to close
        Some(key) => key,
        None => None,
    };
    for number in 1.. {
        let limit = chunk.min(pipeline.remaining());
        if limit == 0 {
            break;
        }
        let read =
            keyset_chunk(db, relation, plan, pipeline, number, limit, after.as_ref()).await?;
        if read.rows < limit {
            break;
        }
        after = read.last_key;
    }
    Ok(())
}

/// Chunk `number` of a keyset read: up to `limit` rows after `after`,
/// read again on a new connection if the old one is lost, then ended in
/// the pipeline at its last key. Shared with incremental runs.
pub(super) async fn keyset_chunk(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
    number: u64,
    limit: u64,
    after: Option<&Key>,
) -> Result<ChunkRead> {
    let statement = relation.select.keyset_chunk(limit, after.is_some());
    let first_row = pipeline.rows() + 1;
    let read = read_chunk_again_on_loss(db, relation, &statement, after, pipeline, plan)
        .await
        .with_context(|| format!("chunk {number} (rows from {first_row})"))?;
    pipeline.end_chunk_at(read.last_key.as_ref())?;
    Ok(read)
}

async fn read_offset(
    db: &mut Db,
    relation: &Relation,
    plan: &ExportPlan,
    pipeline: &mut Pipeline,
) -> Result<()> {
    let (chunk, mut offset) = (plan.chunk, 0);
    for number in 1.. {
        let limit = chunk.min(pipeline.remaining());
        if limit == 0 {
            break;
        }
        let statement = relation.select.offset_chunk(limit, offset);
        let read = read_chunk_again_on_loss(db, relation, &statement, None, pipeline, plan)
            .await
            .with_context(|| format!("chunk {number} (offset {offset})"))?;
        pipeline.end_chunk()?;
        if read.rows < limit {
            break;
        }
        offset += read.rows;
    }
    Ok(())
}
