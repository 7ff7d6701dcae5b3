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
mod parts;

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
    let resumed = files::prepare_dir(&plan.dir, plan.resume)?;
    let mut leader = super::step::connect(&plan.url, false, "nothing was written").await?;
    // Asked now: the leader sits idle while the jobs dump, and a server or
    // proxy may close an idle connection before the manifest is written.
    let server = leader.server_version().await?;
    let (snapshot, point_taken, found) = snapshot_and_tables(&mut leader, &plan, &resumed).await?;
    // Read now, in the snapshot: a sequence is not in it (nextval is not
    // undone), so what it shows is at least every value the rows hold.
    let sequences = leader
        .list_sequences(plan.schema.as_deref())
        .await
        .context("listing the sequences")?
        .into_iter()
        .filter(|sequence| plan.choice.chooses(&sequence.name))
        .filter(|sequence| {
            // Where it stands cannot be told: restored from its start, it
            // would hand out numbers again.
            if !sequence.readable && !plan.quiet {
                crate::error::warn(&format!(
                    "sequence {} is not dumped: this user may not read it (grant SELECT on it \
                     to dump it)",
                    sequence.name.display()
                ));
            }
            sequence.readable
        })
        .collect();
    warn_views(&mut leader, &plan).await?;
    let schemas: Vec<TableSchema> = found.iter().map(|t| t.schema.clone()).collect();
    let kept: HashMap<String, TableEntry> = resumed
        .tables
        .into_iter()
        .filter(|entry| schemas.iter().any(|s| s.name == entry.schema.name))
        .map(|entry| (entry.schema.name.display(), entry))
        .collect();
    let mut point = point_of(&mut leader, &snapshot, point_taken, &plan, kept.len()).await;
    let mut journal_lines: Vec<files::Line> =
        kept.values().cloned().map(files::Line::Table).collect();
    let mut todo: Vec<jobs::Job> = Vec::new();
    let mut parted = HashMap::new();
    let mut parts_kept = 0;
    for table in found {
        let name = table.schema.name.display();
        if kept.contains_key(&name) {
            continue;
        }
        let file = files::table_file(&table.schema.name, plan.format, plan.compression);
        let Some(parts::Parts {
            cuts,
            filters: ranges,
        }) = table.parts
        else {
            todo.push(jobs::Job {
                file,
                schema: table.schema,
                estimate: table.estimate,
                part: None,
            });
            continue;
        };
        let mut done = resumed.parts.get(&name).cloned().unwrap_or_default();
        done.retain(|&number, _| number < ranges.len());
        // Parts cut by pages have no cuts to keep: none is kept.
        match cuts {
            Some(cuts) => journal_lines.push(files::Line::Cuts {
                table: name.clone(),
                cuts,
            }),
            None => done.clear(),
        }
        for (&number, file) in &done {
            journal_lines.push(files::Line::Part {
                table: name.clone(),
                number,
                file: file.clone(),
            });
        }
        parts_kept += done.len();
        let count = ranges.len();
        let each = table.estimate / count as u64;
        for (number, range) in ranges.into_iter().enumerate() {
            if !done.contains_key(&number) {
                todo.push(jobs::Job {
                    file: parts::file_name(&file, number + 1),
                    schema: table.schema.clone(),
                    estimate: each,
                    part: Some((number, range)),
                });
            }
        }
        let files = (0..count)
            .map(|number| done.get(&number).cloned())
            .collect();
        parted.insert(
            name,
            jobs::Parted {
                schema: table.schema,
                files,
            },
        );
    }
    // Parts kept were read in an earlier snapshot too.
    point.consistent &= parts_kept == 0;
    if !plan.quiet && (!kept.is_empty() || parts_kept > 0) {
        let (complete, to_dump) = match parts_kept {
            0 => (format!("{} tables", kept.len()), "to dump"),
            n => (
                format!("{} tables and {n} parts of tables", kept.len()),
                "tables or parts to dump",
            ),
        };
        crate::log::info(&format!(
            "resuming: {complete} already complete, {} {to_dump}",
            todo.len()
        ));
    }
    let total: u64 = todo.iter().map(|job| job.estimate).sum();
    let progress = Progress::for_tables(plan.progress, plan.quiet, total, schemas.len());
    progress.tables_done(kept.len(), schemas.len());
    let journal = files::Journal::open(&plan.dir.join(JOURNAL), journal_lines.iter())?;
    let done = jobs::run(
        &plan,
        &mut leader,
        snapshot,
        jobs::Work { todo, parted },
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
        sequences,
    };
    files::write_manifest(&plan.dir, &manifest)?;
    let _ = std::fs::remove_file(plan.dir.join(JOURNAL));
    report(&plan, &manifest, started);
    Ok(())
}

/// Names the views `--tables`/`--exclude` would choose: a dump holds
/// tables and sequences, and a view's definition names the tables of this
/// database, which a restore elsewhere would have to rewrite. Said at
/// every dump, so that none is missed after a restore without a word.
async fn warn_views(leader: &mut Db, plan: &DumpPlan) -> Result<()> {
    let views: Vec<String> = leader
        .list_views(plan.schema.as_deref())
        .await
        .context("listing the views")?
        .into_iter()
        .filter(|view| plan.choice.chooses(view))
        .map(|view| view.display())
        .collect();
    if !views.is_empty() && !plan.quiet {
        crate::error::warn(&format!(
            "views are not dumped: {} (make them again after a restore)",
            views.join(", ")
        ));
    }
    Ok(())
}

/// The shared snapshot, when it was taken, and the tables to dump with
/// their row estimates. PostgreSQL (and SQLite) read the catalog in the
/// snapshot the rows are read in; MySQL looks up first, so that its global
/// read lock is held only while the jobs start their snapshots.
async fn snapshot_and_tables(
    leader: &mut Db,
    plan: &DumpPlan,
    resumed: &files::Resumed,
) -> Result<(Snapshot, String, Vec<Table>)> {
    let stage = "while looking up the tables";
    let outcome = "the dump directory holds no manifest (an unfinished dump: --resume goes on)";
    let catalog_in_snapshot = !matches!(leader, Db::Mysql(_));
    let mut found = None;
    if !catalog_in_snapshot {
        let looked_up = until_stopped(look_up(leader, plan, resumed)).await;
        found = Some(looked_up.map_err(|stop| stop.left(stage, outcome))??);
    }
    let taken = crate::log::now_utc();
    let snapshot = until_stopped(Snapshot::open(leader, plan.no_lock))
        .await
        .map_err(|stop| stop.left(stage, outcome))??;
    if let Some(found) = found {
        return Ok((snapshot, taken, found));
    }
    let looked_up = until_stopped(look_up(leader, plan, resumed))
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

/// A table to dump, as looked up.
struct Table {
    schema: TableSchema,
    /// The planner's row estimate (for the queue's order, the progress
    /// bar's ETA and the parts).
    estimate: u64,
    /// A table cut into parts.
    parts: Option<parts::Parts>,
}

/// The tables to dump, in name order, with their definitions, the
/// planner's row estimates, and the parts of those cut into parts (the
/// cuts an unfinished dump recorded, or new ones; none for a table an
/// unfinished dump completed).
async fn look_up(db: &mut Db, plan: &DumpPlan, resumed: &files::Resumed) -> Result<Vec<Table>> {
    let listed = db
        .list_tables(plan.schema.as_deref())
        .await
        .context("listing the tables")?;
    let place = match &plan.schema {
        Some(schema) => format!("schema {}", crate::ident::display_name(schema)),
        None => "the database".to_string(),
    };
    let chosen = plan.choice.pick(&listed, |t| t, &place)?;
    let mut tables = Vec::with_capacity(chosen.len());
    let mut relations = Vec::with_capacity(chosen.len());
    for table in chosen {
        let schema = db
            .table_schema(table)
            .await
            .with_context(|| format!("looking up table {}", table.display()))?;
        let relation = db
            .describe(&jobs::request(&schema, plan.format))
            .await
            .with_context(|| format!("looking up table {}", table.display()));
        let estimate = match &relation {
            Ok(relation) => db
                .estimate(&relation.select)
                .await
                .ok()
                .flatten()
                .unwrap_or(0),
            Err(_) => 0,
        };
        relations.push(relation);
        tables.push(Table {
            schema,
            estimate,
            parts: None,
        });
    }
    let total = tables.iter().map(|t| t.estimate).sum();
    let rows_per_part = parts::rows_per_part(plan.part_rows, plan.jobs, total);
    let complete: Vec<String> = resumed
        .tables
        .iter()
        .map(|t| t.schema.name.display())
        .collect();
    for (table, relation) in tables.iter_mut().zip(relations) {
        let name = table.schema.name.display();
        if complete.contains(&name) {
            continue;
        }
        let count = rows_per_part.map_or(1, |rows| parts::count(table.estimate, rows));
        let cuts = match (resumed.cuts.get(&name), &relation) {
            (Some(cuts), _) => Some(cuts.clone()),
            (None, _) if count == 1 => None,
            (None, Ok(relation)) => parts::cut(db, relation, count)
                .await
                .with_context(|| format!("cutting table {name} into parts"))?,
            (None, Err(_)) => None,
        };
        table.parts = match (cuts, relation) {
            // A table cut before has a key: describe found it then.
            (Some(cuts), relation) => {
                let relation = relation?;
                let select = &relation.select;
                Some(parts::Parts {
                    filters: parts::filters(select.dialect, &select.key, &cuts),
                    cuts: Some(cuts),
                })
            }
            (None, Ok(relation)) => parts::by_pages(db, &relation, count)
                .await
                .with_context(|| format!("cutting table {name} into parts"))?
                .map(|filters| parts::Parts {
                    cuts: None,
                    filters,
                }),
            (None, Err(_)) => None,
        };
    }
    Ok(tables)
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
