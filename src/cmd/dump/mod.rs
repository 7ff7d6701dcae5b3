//! `dbchunk dump`: every base table of a database (or those named) into
//! a directory, one file a table, all read in one snapshot, then
//! `manifest.json`.
//!
//! The order of things is what makes a failed dump safe to look at:
//! 1. the directory is checked (a complete dump is never overwritten, an
//!    unfinished one only with `--resume`) and the tables are listed and
//!    described, in the snapshot on PostgreSQL;
//! 2. the snapshot is shared by `--jobs` worker connections
//!    ([`super::consistent`]), each dumping one table at a time
//!    ([`jobs`]); every table file goes under a temporary name and is
//!    renamed when complete;
//! 3. each finished table is appended to `dump.journal` (its definition,
//!    rows, file and checksum), which `--resume` reads back;
//! 4. the manifest is written last, under a temporary name renamed into
//!    place, and the journal removed: only then does the directory look
//!    complete.

mod files;
mod jobs;

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};

use super::consistent::Snapshot;
use crate::config::dump::DumpPlan;
use crate::db::catalog::TableSchema;
use crate::db::Db;
use crate::manifest::{Manifest, Point, TableEntry};
use crate::progress::Progress;
use crate::signals::until_stopped;

/// The journal of a dump in progress: one finished table a line.
const JOURNAL: &str = "dump.journal";

pub async fn run(plan: DumpPlan) -> Result<()> {
    let started = Instant::now();
    let kept = files::prepare_dir(&plan.dir, plan.resume)?;
    let mut leader = super::step::connect(&plan.url, false, "nothing was written").await?;
    // Asked now: the leader sits idle while the jobs dump, and a server or
    // proxy may close an idle connection before the manifest is written.
    let server = leader.server_version().await?;
    let (snapshot, point_taken, (schemas, estimates)) =
        snapshot_and_tables(&mut leader, &plan).await?;
    let kept: HashMap<String, TableEntry> = kept
        .into_iter()
        .filter(|entry| schemas.iter().any(|s| s.name == entry.schema.name))
        .map(|entry| (entry.schema.name.display(), entry))
        .collect();
    let point = point_of(&mut leader, &snapshot, point_taken, &plan, kept.len()).await;
    let todo: Vec<jobs::Job> = schemas
        .iter()
        .zip(&estimates)
        .filter(|(schema, _)| !kept.contains_key(&schema.name.display()))
        .map(|(schema, estimate)| jobs::Job {
            file: files::table_file(&schema.name, plan.format, plan.compression),
            schema: schema.clone(),
            estimate: *estimate,
        })
        .collect();
    if !plan.quiet && !kept.is_empty() {
        crate::log::info(&format!(
            "resuming: {} tables already complete, {} to dump",
            kept.len(),
            todo.len()
        ));
    }
    let total: u64 = todo.iter().map(|job| job.estimate).sum();
    let progress = Progress::for_tables(plan.progress, plan.quiet, total, schemas.len());
    progress.tables_done(kept.len(), schemas.len());
    let journal = files::Journal::open(&plan.dir.join(JOURNAL), kept.values())?;
    let done = jobs::run(
        &plan,
        &mut leader,
        snapshot,
        todo,
        &progress,
        journal,
        (kept.len(), schemas.len()),
    )
    .await;
    progress.finish();
    let mut done = done.map_err(|err| match crate::signals::take_stop(err) {
        Ok(stop) => stop.left("while dumping", unfinished(&plan.dir)).into(),
        Err(err) => err.context(unfinished(&plan.dir)),
    })?;
    done.extend(kept);
    let tables: Vec<TableEntry> = schemas
        .iter()
        .map(|schema| {
            done.remove(&schema.name.display())
                .expect("every table is dumped or kept")
        })
        .collect();
    let manifest = Manifest {
        engine: plan.url.engine.key().to_string(),
        server,
        point,
        format: plan.format.name().to_string(),
        compression: plan.compression.map(|c| c.codec.name().to_string()),
        null: plan.format.default_null().to_string(),
        tables,
    };
    files::write_manifest(&plan.dir, &manifest)?;
    let _ = std::fs::remove_file(plan.dir.join(JOURNAL));
    report(&plan, &manifest, started);
    Ok(())
}

/// The shared snapshot, when it was taken, and the tables to dump with
/// their row estimates. PostgreSQL (and SQLite) read the catalog in the
/// snapshot the rows are read in; MySQL looks up first, so that its global
/// read lock is held only while the jobs start their snapshots.
async fn snapshot_and_tables(
    leader: &mut Db,
    plan: &DumpPlan,
) -> Result<(Snapshot, String, (Vec<TableSchema>, Vec<u64>))> {
    let stage = "while looking up the tables";
    let outcome = "the dump directory holds no manifest (an unfinished dump: --resume goes on)";
    let catalog_in_snapshot = !matches!(leader, Db::Mysql(_));
    let mut found = None;
    if !catalog_in_snapshot {
        let looked_up = until_stopped(look_up(leader, plan)).await;
        found = Some(looked_up.map_err(|stop| stop.left(stage, outcome))??);
    }
    let taken = crate::log::now_utc();
    let snapshot = until_stopped(Snapshot::open(leader, plan.no_lock))
        .await
        .map_err(|stop| stop.left(stage, outcome))??;
    if let Some(found) = found {
        return Ok((snapshot, taken, found));
    }
    let looked_up = until_stopped(look_up(leader, plan))
        .await
        .map_err(|stop| anyhow::Error::from(stop.left(stage, outcome)))
        .and_then(|result| result);
    match looked_up {
        Ok(found) => Ok((snapshot, taken, found)),
        Err(err) => {
            let _ = snapshot.release(leader).await;
            Err(err)
        }
    }
}

/// What a stopped or failed dump leaves.
fn unfinished(dir: &std::path::Path) -> String {
    format!(
        "{} holds an unfinished dump (no {}): run the same command with --resume to keep the \
         tables already complete and dump the rest",
        dir.display(),
        crate::manifest::MANIFEST_NAME
    )
}

/// The tables to dump, in name order, with their definitions and the
/// planner's row estimates (for the progress bar's ETA).
async fn look_up(db: &mut Db, plan: &DumpPlan) -> Result<(Vec<TableSchema>, Vec<u64>)> {
    let listed = db
        .list_tables(plan.schema.as_deref())
        .await
        .context("listing the tables")?;
    let place = match &plan.schema {
        Some(schema) => format!("schema {}", crate::ident::display_name(schema)),
        None => "the database".to_string(),
    };
    let chosen = plan.choice.pick(&listed, |t| t, &place)?;
    let mut schemas = Vec::with_capacity(chosen.len());
    let mut estimates = Vec::with_capacity(chosen.len());
    for table in chosen {
        let schema = db
            .table_schema(table)
            .await
            .with_context(|| format!("looking up table {}", table.display()))?;
        let estimate = jobs::estimate(db, &schema, plan.format).await;
        schemas.push(schema);
        estimates.push(estimate);
    }
    Ok((schemas, estimates))
}

/// Where the snapshot stands in the database's history, read while it is
/// held (MySQL: under the global read lock, so the binary log position is
/// the snapshot's).
async fn point_of(
    leader: &mut Db,
    snapshot: &Snapshot,
    taken: String,
    plan: &DumpPlan,
    kept: usize,
) -> Point {
    let mut point = Point {
        taken,
        consistent: kept == 0,
        ..Point::default()
    };
    match (snapshot, &mut *leader) {
        (Snapshot::Postgres(id), Db::Postgres(pg)) => {
            point.snapshot = Some(id.clone());
            point.lsn = pg.wal_position().await.ok().flatten();
        }
        (Snapshot::Mysql { lock }, Db::Mysql(my)) => {
            point.binlog = my.binlog_position().await.ok().flatten();
            point.consistent &= *lock;
            if !lock && !plan.quiet {
                crate::error::warn(
                    "--no-lock: each job's snapshot starts when it connects, so tables read by \
                     different jobs may be from slightly different points in time",
                );
            }
        }
        _ => {}
    }
    point
}

fn report(plan: &DumpPlan, manifest: &Manifest, started: Instant) {
    if !plan.stats {
        return;
    }
    let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
    let bytes: u64 = manifest
        .tables
        .iter()
        .flat_map(|t| &t.files)
        .map(|f| f.bytes)
        .sum();
    let seconds = started.elapsed().as_secs_f64();
    let stats = serde_json::json!({
        "tables": manifest.tables.len(),
        "rows": rows,
        "bytes": bytes,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "rows_per_sec": if seconds > 0.0 { (rows as f64 / seconds).round() } else { 0.0 },
        "consistent": manifest.point.consistent,
        "peak_rss_kb": super::prepare::peak_rss_kb(),
    });
    crate::log::stats(&stats);
}
