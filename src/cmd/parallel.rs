//! `export --parallel N`: N connections, one consistent snapshot, one
//! output in key order.
//!
//! The key space is split at the keys of rows `total·i/N`
//! ([`crate::partition`], which `dbchunk plan` shares: the ranges follow
//! the real distribution of keys, however skewed). A PostgreSQL table
//! without a key is split by its pages instead, and comes out in storage
//! order, as a serial `COPY` of it does ([`crate::partition::pages`]).
//! Every worker runs the chosen strategy on its own connection and
//! thread, restricted to its range by a condition. All workers read the
//! same snapshot ([`super::consistent`]).
//!
//! The first range streams straight to the output; later ranges are
//! spooled to files beside it and appended in order, so the output is the
//! serial export's, byte for byte.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{anyhow, Context, Result};

use super::consistent::{join, Snapshot};
use super::read::read;
use crate::config::ExportPlan;
use crate::db::{Db, Key, Relation};
use crate::error::UsageError;
use crate::output::{Destination, Output};
use crate::partition::{self, Range};
use crate::pipeline::{Pipeline, Totals};
use crate::plan::Strategy;
use crate::progress::Progress;
use crate::throttle::{Rate, Throttle};

/// Exports with `plan.parallel` workers; returns what was written.
pub async fn run(
    plan: &ExportPlan,
    leader: &mut Db,
    relation: &Relation,
    strategy: Strategy,
    progress: Progress,
) -> Result<Totals> {
    let table = matches!(plan.request.source, crate::db::Source::Table(_));
    check(leader, relation, strategy, table)?;
    let ranges = match relation.key_names.is_empty() {
        true => partition::pages::ranges(leader, relation, plan.parallel, plan.quiet).await?,
        false => {
            let select = &relation.select;
            let ranges = split(leader, relation, table, plan.parallel).await?;
            ranges
                .iter()
                .map(|range| partition::conditions(select.dialect, &select.key, range))
                .collect()
        }
    };
    let snapshot = Snapshot::open(leader, plan.no_lock).await?;
    let totals = std::sync::Arc::new([
        std::sync::atomic::AtomicU64::new(0),
        std::sync::atomic::AtomicU64::new(0),
    ]);
    let (ready, joined) = mpsc::channel();
    let spool_dir = spool_dir(&plan.destination);
    let workers = ranges.len();
    let mut handles = Vec::new();
    let mut spools = Vec::new();
    for (i, range) in ranges.into_iter().enumerate() {
        let worker_plan = worker_plan(plan, range, workers);
        let destination = if i == 0 {
            plan.destination.clone()
        } else {
            let spool = Spool::new(&spool_dir, i)?;
            let path = spool.0.clone();
            spools.push(spool);
            Destination::File(path)
        };
        let worker = Worker {
            number: i + 1,
            plan: worker_plan,
            strategy,
            snapshot: snapshot.clone(),
            destination,
            header: i == 0 && plan.header,
            progress: progress.share(&totals),
        };
        let ready = ready.clone();
        let handle = std::thread::Builder::new()
            .name(format!("dbchunk-worker-{}", i + 1))
            .spawn(move || worker.run(&ready))
            .context("starting a worker thread")?;
        handles.push(handle);
    }
    drop(ready);
    // Every worker is in the snapshot (or has failed) before the leader
    // lets go of it.
    for _ in 0..workers {
        joined
            .recv()
            .map_err(|_| anyhow!("a worker stopped before joining the snapshot"))??;
    }
    snapshot.release(leader).await?;
    let result = gather(handles, &spools);
    progress.finish();
    result
}

/// What `--parallel` needs, checked before anything starts: a key to
/// cut, except for a PostgreSQL table read by `COPY`, which is cut by its
/// pages ([`partition::pages`]).
fn check(db: &Db, relation: &Relation, strategy: Strategy, table: bool) -> Result<()> {
    let pages = matches!(db, Db::Postgres(_)) && table && strategy == Strategy::Copy;
    if relation.key_names.is_empty() && !pages {
        return Err(UsageError(
            "--parallel splits the rows by key, and there is none: name one with --key (on \
             PostgreSQL, a table without a key is split by its pages with --strategy copy)"
                .into(),
        )
        .into());
    }
    let works = match db {
        Db::Postgres(_) => matches!(
            strategy,
            Strategy::Keyset | Strategy::Copy | Strategy::Offset
        ),
        Db::Mysql(_) => matches!(
            strategy,
            Strategy::Keyset | Strategy::Cursor | Strategy::Offset
        ),
        Db::Sqlite(_) => false,
    };
    if !works {
        return Err(UsageError(format!(
            "--parallel does not go with --strategy {} on {}: use keyset{}",
            strategy.name(),
            db.engine().name(),
            if matches!(db, Db::Postgres(_)) {
                " or copy"
            } else {
                " or cursor"
            }
        ))
        .into());
    }
    Ok(())
}

/// The cuts between the workers' ranges, without repeats or empty
/// ranges: on a big table from a sample ([`partition::sampled_cuts`]),
/// else the keys at rows `total·i/N` ([`partition::cuts`]) from the
/// planner's estimate of the total. Fewer rows than workers give fewer
/// ranges. Also how `dump` cuts a big table into parts.
pub(crate) async fn split(
    db: &mut Db,
    relation: &Relation,
    table: bool,
    workers: usize,
) -> Result<Vec<Range>> {
    let sampled = partition::sampled_cuts(db, relation, table, workers)
        .await
        .context("sampling the rows to split")?;
    let found = match sampled {
        Some(sampled) => sampled.cuts,
        None => {
            let total = db
                .estimate(&relation.select)
                .await
                .context("estimating the rows to split")?
                .unwrap_or(0);
            partition::cuts(db, relation, total, workers).await?
        }
    };
    let mut cuts: Vec<Option<Key>> = Vec::new();
    for key in found.into_iter().flatten() {
        let repeat = cuts
            .last()
            .and_then(Option::as_ref)
            .is_some_and(|last| last.literals() == key.literals());
        if !repeat {
            cuts.push(Some(key));
        }
    }
    Ok(partition::ranges(&cuts))
}

/// The plan a worker runs: the user's filter and its range's conditions.
fn worker_plan(plan: &ExportPlan, range: Vec<String>, workers: usize) -> ExportPlan {
    let mut worker = plan.clone();
    worker.request.filter = crate::plan::and_filter(plan.request.filter.as_deref(), range);
    // A new connection would not see the shared snapshot: a worker that
    // loses its connection fails the export instead.
    worker.retries = 0;
    // The rate is the whole export's: each worker keeps its share.
    worker.max_rate = plan.max_rate.map(|rate| match rate {
        Rate::Rows(r) => Rate::Rows(r / workers as f64),
        Rate::Bytes(b) => Rate::Bytes(b / workers as f64),
    });
    worker
}

struct Worker {
    number: usize,
    plan: ExportPlan,
    strategy: Strategy,
    snapshot: Snapshot,
    destination: Destination,
    header: bool,
    progress: Progress,
}

/// What a worker leaves: its totals, and for the first one the output,
/// still open, that the later ranges are appended to.
type Finished = (Totals, Option<Output>);

impl Worker {
    fn run(self, ready: &mpsc::Sender<Result<()>>) -> Result<Finished> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let number = self.number;
        // A worker waiting on its query must hear a signal too: the leader
        // is blocked joining the workers meanwhile.
        runtime
            .block_on(crate::signals::until_stopped(self.export(ready)))
            .map_err(anyhow::Error::from)
            .and_then(|result| result)
            .with_context(|| format!("worker {number}"))
    }

    async fn export(self, ready: &mpsc::Sender<Result<()>>) -> Result<Finished> {
        let joined = join(&self.plan.url, &self.snapshot).await;
        let failed = joined
            .as_ref()
            .err()
            .map(|e| anyhow!("worker {}: {}", self.number, crate::error::one_line(e)));
        let _ = ready.send(failed.map_or(Ok(()), Err));
        let mut db = joined?;
        let relation = db.describe(&self.plan.request).await?;
        // The first worker writes the output, compressing the later
        // ranges' plain spools too as it appends them.
        let compress = if self.number == 1 {
            self.plan.compress
        } else {
            None
        };
        let output = Output::open(self.destination.clone(), compress)?;
        let mut pipeline = Pipeline::new(
            self.plan.format, &relation.columns, &self.plan.null, self.header, self.plan.parquet,
            output, self.progress, None,
        )?
        .with_throttle(self.plan.max_rate.map(Throttle::new));
        read(&mut db, &relation, self.strategy, &self.plan, &mut pipeline).await?;
        let (totals, output, _) = pipeline.drain()?;
        if self.number == 1 {
            Ok((totals, Some(output)))
        } else {
            output.finish()?;
            Ok((totals, None))
        }
    }
}

/// Waits for the workers in key order and appends each spooled range to
/// the first worker's output.
fn gather(workers: Vec<JoinHandle<Result<Finished>>>, spools: &[Spool]) -> Result<Totals> {
    let mut handles = workers.into_iter();
    let first = handles.next().expect("at least one worker");
    let (mut totals, output) = first.join().map_err(|_| anyhow!("worker 1 panicked"))??;
    let mut output = output.expect("the first worker keeps the output");
    for (handle, spool) in handles.zip(spools) {
        let (part, _) = handle.join().map_err(|_| anyhow!("a worker panicked"))??;
        output.send_file(&spool.0)?;
        totals.rows += part.rows;
        totals.chunks += part.chunks;
    }
    totals.bytes = output.bytes();
    output.finish()?;
    Ok(totals)
}

/// Where later ranges wait: beside the output file (same file system, no
/// surprise on a small /tmp; beside a symlink's target), or in the
/// temporary directory for stdout or a device (never in /dev).
fn spool_dir(destination: &Destination) -> PathBuf {
    let file = match destination {
        Destination::File(path) => crate::place::Place::of(path).ok(),
        Destination::Stdout => None,
    };
    match file {
        Some(crate::place::Place::File(to)) => match to.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        },
        _ => std::env::temp_dir(),
    }
}

/// A spooled range's file, removed when dropped (after it is appended, or
/// when the export fails).
struct Spool(PathBuf);

impl Spool {
    fn new(dir: &std::path::Path, worker: usize) -> Result<Spool> {
        let name = format!(".dbchunk-{}-range-{worker}.spool", std::process::id());
        Ok(Spool(dir.join(name)))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
