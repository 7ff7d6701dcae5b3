//! The dump's workers: `--jobs` connections joined to one snapshot, each
//! taking the next table from a shared queue (largest first, so the last
//! to start is a small one) and writing it through the same read loop
//! and pipeline as `export`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use anyhow::{anyhow, Context, Result};

use super::files::{Journal, Line};
use crate::cmd::consistent::{join, Snapshot};
use crate::cmd::read::read;
use crate::config::dump::DumpPlan;
use crate::config::ExportPlan;
use crate::db::catalog::TableSchema;
use crate::db::{Db, Request, Source};
use crate::format::Format;
use crate::manifest::checksum;
use crate::manifest::{FileEntry, TableEntry};
use crate::output::{Destination, Output};
use crate::pipeline::Pipeline;
use crate::plan::Strategy;
use crate::progress::Progress;

/// One table, or one part of a table, to dump.
pub struct Job {
    pub schema: TableSchema,
    /// Relative to the dump directory.
    pub file: String,
    /// The planner's row estimate: the order of the queue and the ETA.
    pub estimate: u64,
    /// A part of a table cut into parts: its number (from 0, in key
    /// order) and the key range it reads.
    pub part: Option<(usize, String)>,
}

/// What a worker finished: a whole table, or one part of one.
enum Finished {
    Table(TableEntry),
    Part {
        table: String,
        number: usize,
        file: FileEntry,
    },
}

/// What the jobs are to do: the tables and parts to dump, and the tables
/// cut into parts, to put together as their parts finish.
pub struct Work {
    pub todo: Vec<Job>,
    /// By the table's name as shown.
    pub parted: HashMap<String, Parted>,
}

/// A table dumped in parts, its files filled in as its parts finish.
pub struct Parted {
    pub schema: TableSchema,
    /// One a part, in key order; `None` until the part is complete.
    pub files: Vec<Option<FileEntry>>,
}

impl Parted {
    /// The table's entry, once every part is complete.
    fn complete(&self) -> Option<TableEntry> {
        let files: Vec<FileEntry> = self.files.iter().cloned().collect::<Option<_>>()?;
        Some(TableEntry {
            schema: self.schema.clone(),
            rows: files.iter().map(|f| f.rows.unwrap_or(0)).sum(),
            files,
        })
    }
}

/// The table's stored columns, in order: a generated column is left out,
/// as the manifest leaves it out, so a restore can load every field.
pub fn request(schema: &TableSchema, format: Format) -> Request {
    Request {
        source: Source::Table(schema.name.clone()),
        columns: Some(schema.columns.iter().map(|c| c.name.clone()).collect()),
        key: None,
        filter: None,
        format,
    }
}

/// Dumps every job with up to `plan.jobs` workers in `snapshot`, letting
/// go of the leader's hold once they have all joined; records each
/// finished table in the journal as it comes. Returns the finished
/// tables by name; the first failure stops the queue and is returned once
/// the running tables end.
pub async fn run(
    plan: &DumpPlan,
    leader: &mut Db,
    snapshot: Snapshot,
    Work {
        mut todo,
        mut parted,
    }: Work,
    progress: &Progress,
    mut journal: Journal,
    (kept, tables): (usize, usize),
) -> Result<HashMap<String, TableEntry>> {
    let mut done = HashMap::new();
    // Every part kept from an earlier run: the table may be complete.
    for (name, table) in &parted {
        if let Some(entry) = table.complete() {
            journal.record(&Line::Table(entry.clone()))?;
            done.insert(name.clone(), entry);
        }
    }
    parted.retain(|name, _| !done.contains_key(name));
    todo.sort_by_key(|job| std::cmp::Reverse(job.estimate));
    let workers = plan.jobs.min(todo.len());
    let queue = Arc::new(Mutex::new(VecDeque::from(todo)));
    let stop = Arc::new(AtomicBool::new(false));
    let totals = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let (ready, joined) = mpsc::channel();
    let (finished, results) = mpsc::channel();
    let mut handles = Vec::new();
    for number in 1..=workers {
        let worker = Worker {
            number,
            base: base_plan(plan),
            dir: plan.dir.clone(),
            snapshot: snapshot.clone(),
            queue: queue.clone(),
            stop: stop.clone(),
            progress: progress.share(&totals),
            totals: totals.clone(),
        };
        let (ready, finished) = (ready.clone(), finished.clone());
        let handle = std::thread::Builder::new()
            .name(format!("dbchunk-dump-{number}"))
            .spawn(move || worker.run(&ready, &finished))
            .context("starting a dump worker")?;
        handles.push(handle);
    }
    drop((ready, finished));
    // Every worker is in the snapshot (or has failed) before the leader
    // lets go of it.
    let mut failure = None;
    for _ in 0..workers {
        if let Err(err) = joined
            .recv()
            .unwrap_or_else(|_| Err(anyhow!("a dump worker stopped before joining the snapshot")))
        {
            stop.store(true, Ordering::Relaxed);
            failure.get_or_insert(err);
        }
    }
    let released = snapshot.release(leader).await;
    progress.tables_done(kept + done.len(), tables);
    for result in results {
        let entry = result.and_then(|finished| match finished {
            Finished::Table(entry) => journal
                .record(&Line::Table(entry.clone()))
                .map(|()| Some(entry)),
            Finished::Part {
                table,
                number,
                file,
            } => {
                let line = Line::Part {
                    table: table.clone(),
                    number,
                    file: file.clone(),
                };
                journal.record(&line)?;
                let parts = parted.get_mut(&table).expect("a part of a parted table");
                parts.files[number] = Some(file);
                let entry = parts.complete();
                if let Some(entry) = &entry {
                    journal.record(&Line::Table(entry.clone()))?;
                }
                Ok(entry)
            }
        });
        match entry {
            Ok(Some(entry)) => {
                done.insert(entry.schema.name.display(), entry);
                progress.tables_done(kept + done.len(), tables);
            }
            Ok(None) => {}
            Err(err) => {
                stop.store(true, Ordering::Relaxed);
                failure.get_or_insert(err);
            }
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    match failure {
        Some(err) => Err(err),
        None => released.map(|()| done),
    }
}

/// What every table's export shares: the format and its options; the
/// strategy that reads a whole table as one statement.
fn base_plan(plan: &DumpPlan) -> ExportPlan {
    ExportPlan {
        url: plan.url.clone(),
        // Each table's own, set as it is dumped.
        request: Request {
            source: Source::Query(String::new()),
            columns: None,
            key: None,
            filter: None,
            format: plan.format,
        },
        strategy: Strategy::Cursor,
        chunk: plan.chunk,
        format: plan.format,
        destination: Destination::Stdout,
        compress: plan.compression,
        header: true,
        null: plan.format.default_null().to_string(),
        parquet: Default::default(),
        limit: None,
        max_rate: None,
        // A new connection would not see the shared snapshot.
        retries: 0,
        state_file: None,
        resume: None,
        split: None,
        parallel: 1,
        no_lock: plan.no_lock,
        explain: false,
        progress: plan.progress,
        quiet: plan.quiet,
        stats: false,
        incremental: None,
        wait_lock: None,
    }
}

struct Worker {
    number: usize,
    base: ExportPlan,
    dir: std::path::PathBuf,
    snapshot: Snapshot,
    queue: Arc<Mutex<VecDeque<Job>>>,
    stop: Arc<AtomicBool>,
    progress: Progress,
    totals: Arc<[AtomicU64; 2]>,
}

impl Worker {
    fn run(self, ready: &mpsc::Sender<Result<()>>, finished: &mpsc::Sender<Result<Finished>>) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(err) => {
                let _ = ready.send(Err(err.into()));
                return;
            }
        };
        runtime.block_on(async {
            let joined = crate::signals::until_stopped(join(&self.base.url, &self.snapshot)).await;
            let mut db = match joined {
                Ok(Ok(db)) => {
                    let _ = ready.send(Ok(()));
                    db
                }
                Ok(Err(err)) => {
                    let err = err.context(format!("dump worker {}", self.number));
                    let _ = ready.send(Err(err));
                    return;
                }
                Err(stop) => {
                    let _ = ready.send(Err(stop.into()));
                    return;
                }
            };
            while !self.stop.load(Ordering::Relaxed) {
                let Some(job) = self.queue.lock().expect("queue").pop_front() else {
                    break;
                };
                let what = match &job.part {
                    Some((number, _)) => format!(
                        "dumping part {} of table {}",
                        number + 1,
                        job.schema.name.display()
                    ),
                    None => format!("dumping table {}", job.schema.name.display()),
                };
                let result = crate::signals::until_stopped(self.dump(&mut db, job))
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|result| result)
                    .context(what);
                let failed = result.is_err();
                let _ = finished.send(result);
                if failed {
                    break;
                }
            }
        });
    }

    /// One table (or part) into its file, then its entry: rows, bytes,
    /// checksum.
    async fn dump(&self, db: &mut Db, job: Job) -> Result<Finished> {
        let mut plan = self.base.clone();
        plan.request = request(&job.schema, plan.format);
        plan.request.filter = job.part.as_ref().map(|(_, range)| range.clone());
        let path = self.dir.join(&job.file);
        plan.destination = Destination::File(path.clone());
        let relation = db.describe(&plan.request).await?;
        // One statement a table, in the snapshot: PostgreSQL's COPY,
        // elsewhere a streamed SELECT.
        let strategy = match db {
            Db::Postgres(_) => Strategy::Copy,
            _ => Strategy::Cursor,
        };
        let output = Output::open(plan.destination.clone(), plan.compress)?;
        let mut pipeline = Pipeline::new(
            plan.format,
            &relation.columns,
            &plan.null,
            plan.header,
            plan.parquet,
            output,
            self.progress.share(&self.totals),
            None,
        )?;
        read(db, &relation, strategy, &plan, &mut pipeline).await?;
        let (totals, output, _) = pipeline.drain()?;
        output.finish()?;
        let (sha256, bytes) = checksum(&path)?;
        let file = FileEntry {
            path: job.file,
            bytes,
            sha256,
            rows: Some(totals.rows),
        };
        Ok(match job.part {
            Some((number, _)) => Finished::Part {
                table: job.schema.name.display(),
                number,
                file,
            },
            None => Finished::Table(TableEntry {
                schema: job.schema,
                rows: totals.rows,
                files: vec![file],
            }),
        })
    }
}
