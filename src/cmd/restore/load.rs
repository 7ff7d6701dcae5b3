//! Loading the dump's files: `--jobs` threads, each taking the next file
//! (largest first; the parts of a table are files of their own, loaded
//! side by side) whose table's foreign keys find their rows, and
//! streaming it through unparsed where it can ([`super::passthrough`]),
//! else running an ordinary import of it, with the import's checks,
//! batches and fast paths.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use anyhow::{anyhow, Context, Result};

use super::passthrough::Passthrough;
use crate::cmd::import::Imported;
use crate::coltype::{is_mysql_spatial, is_postgis_geometry};
use crate::config::restore::RestorePlan;
use crate::config::ImportPlan;
use crate::db::Db;
use crate::engine::Engine;
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::manifest::{Manifest, TableEntry};
use crate::progress::Progress;
use crate::values::SpatialForm;

/// The rows each table put in its reject file (by the table's name as
/// restored), for the count check.
pub type Rejected = HashMap<String, u64>;

/// What the loads did.
#[derive(Default)]
pub struct Loaded {
    pub rejected: Rejected,
    /// Files streamed through unparsed ([`super::passthrough`]), and files
    /// loaded by the ordinary, checked import.
    pub passed_through: usize,
    pub checked: usize,
    /// Each loaded table's row count, taken by the job that loaded it
    /// once its rows were in (by the table's name as restored).
    pub counts: HashMap<String, u64>,
}

/// One table to load: its entry, whether it is emptied first by its
/// import (a table in parts is emptied before, once), its pass-through
/// when its files can take one, the tables of this restore its foreign
/// keys point at here (shown names), which load before it, and what is
/// added to it once its rows are in.
pub struct TableLoad<'a> {
    pub table: &'a TableEntry,
    pub truncate: bool,
    pub passthrough: Option<Passthrough>,
    pub parents: Vec<String>,
    pub after_rows: Vec<AfterRows>,
}

/// A statement run on a table once all its rows are in: its primary key
/// (PostgreSQL) or an index. The job that loaded the table's last file
/// runs it, while the other jobs go on loading, as pg_restore does.
#[derive(Clone, Debug)]
pub struct AfterRows {
    /// What it adds, for messages: "the primary key", "an index".
    pub what: &'static str,
    pub sql: String,
}

/// One file to load.
struct FileLoad {
    /// The table's name as restored, shown.
    table: String,
    import: ImportPlan,
    passthrough: Option<Passthrough>,
    parents: Vec<String>,
}

/// Loads every table's files (a table in parts by several workers at
/// once); the first failure stops the queue and is returned once the
/// running loads end.
pub fn run(
    plan: &RestorePlan,
    manifest: &Manifest,
    tables: &[TableLoad],
    target: &dyn Fn(&QualifiedName) -> QualifiedName,
) -> Result<Loaded> {
    let format = <Format as clap::ValueEnum>::from_str(&manifest.format, false)
        .map_err(|_| anyhow!("the manifest names an unknown format {:?}", manifest.format))?;
    let mut imports: Vec<(u64, FileLoad)> = Vec::new();
    let mut left = HashMap::new();
    let mut after_rows = HashMap::new();
    for load in tables {
        let table = load.table;
        after_rows.insert(
            target(&table.schema.name).display(),
            load.after_rows.clone(),
        );
        let files = table.files.len() as u64;
        for file in &table.files {
            let mut import = import_plan(plan, format, manifest, table, file, target);
            import.truncate = load.truncate;
            let rows = file.rows.unwrap_or(table.rows / files.max(1));
            let name = import.table.display();
            *left.entry(name.clone()).or_insert(0) += 1;
            imports.push((
                rows,
                FileLoad {
                    table: name,
                    import,
                    passthrough: load.passthrough.clone(),
                    parents: load.parents.clone(),
                },
            ));
        }
    }
    imports.sort_by_key(|(rows, _)| std::cmp::Reverse(*rows));
    let rows = tables.iter().map(|t| t.table.rows).sum();
    let progress = Progress::for_tables(plan.progress, plan.quiet, rows, tables.len());
    let loads = Loads {
        total: tables.len(),
        queue: Mutex::new(Queue {
            files: imports.into_iter().map(|(_, p)| p).collect(),
            left,
            after_rows,
            running: 0,
        }),
        wake: Condvar::new(),
        stop: AtomicBool::new(false),
        loaded: Mutex::new(Loaded::default()),
        done: AtomicUsize::new(0),
        totals: Arc::new([AtomicU64::new(0), AtomicU64::new(0)]),
    };
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for number in 1..=plan.jobs {
            let (loads, failure) = (&loads, &failure);
            let progress = progress.share(&loads.totals);
            std::thread::Builder::new()
                .name(format!("dbchunk-restore-{number}"))
                .spawn_scoped(scope, move || {
                    if let Err(err) = work(loads, &progress) {
                        loads.fail();
                        failure.lock().expect("failure").get_or_insert(err);
                    }
                })
                .expect("starting a restore worker");
        }
    });
    progress.finish();
    let loaded = loads.loaded;
    match failure.into_inner().expect("failure") {
        Some(err) => Err(err),
        None => Ok(loaded.into_inner().expect("loaded")),
    }
}

/// What the workers share: the files still to load (woken when one is
/// loaded or a load failed), the first failure's stop, what was loaded
/// and refused, and the tables done (the progress).
struct Loads {
    total: usize,
    queue: Mutex<Queue>,
    wake: Condvar,
    stop: AtomicBool,
    loaded: Mutex<Loaded>,
    done: AtomicUsize,
    totals: Arc<[AtomicU64; 2]>,
}

/// The files not taken yet, largest first; the files of each table not
/// loaded yet (queued or loading); what each table gets once its rows
/// are in; the loads running.
struct Queue {
    files: VecDeque<FileLoad>,
    left: HashMap<String, usize>,
    after_rows: HashMap<String, Vec<AfterRows>>,
    running: usize,
}

impl Loads {
    /// The next file whose table's parents are loaded, waiting while the
    /// only files left are of tables whose parents are still loading.
    /// A foreign key checks its rows as they arrive, so a child table
    /// loaded before its parent would be refused, and one loaded beside
    /// it could find its parent's rows not committed yet. With tables
    /// that point at each other (a cycle), the first one goes anyway:
    /// its rows may be refused, naming the key.
    fn next(&self) -> Option<FileLoad> {
        let mut queue = self.queue.lock().expect("queue");
        loop {
            if self.stop.load(Ordering::Relaxed) || queue.files.is_empty() {
                return None;
            }
            let loaded = |table: &String| queue.left.get(table).is_none_or(|&n| n == 0);
            let ready = queue
                .files
                .iter()
                .position(|file| file.parents.iter().all(loaded));
            let take = match ready {
                Some(at) => at,
                None if queue.running == 0 => 0,
                None => {
                    queue = self.wake.wait(queue).expect("queue");
                    continue;
                }
            };
            queue.running += 1;
            return queue.files.remove(take);
        }
    }

    /// A file's load ended (or failed: `stop` is set first): wakes the
    /// workers waiting for its table. When that was the table's last
    /// file, what the table gets now that its rows are in.
    fn ended(&self, table: &str) -> Option<Vec<AfterRows>> {
        let mut queue = self.queue.lock().expect("queue");
        queue.running -= 1;
        let left = queue.left.get_mut(table).expect("a table being loaded");
        *left -= 1;
        let last = *left == 0;
        self.wake.notify_all();
        last.then(|| queue.after_rows.remove(table).unwrap_or_default())
    }

    fn fail(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _queue = self.queue.lock().expect("queue");
        self.wake.notify_all();
    }
}

/// One worker: loads files from the queue until it is empty or another
/// failed; the bar moves a table at a time (when its last file is in).
fn work(loads: &Loads, progress: &Progress) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    while let Some(load) = loads.next() {
        let table = load.table.clone();
        let (url, name) = (load.import.url.clone(), load.import.table.clone());
        let loaded = load_file(&runtime, load, loads, progress);
        if loaded.is_err() {
            loads.fail();
        }
        let after_rows = loads.ended(&table);
        loaded?;
        if let Some(after_rows) = after_rows {
            let count = runtime.block_on(finish_table(&url, &name, &after_rows))?;
            loads
                .loaded
                .lock()
                .expect("loaded")
                .counts
                .insert(table, count);
            progress.tables_done(loads.done.fetch_add(1, Ordering::Relaxed) + 1, loads.total);
        }
    }
    Ok(())
}

/// Once a table's rows are in: adds its primary key and indexes, and
/// counts its rows for the check against the manifest, while the other
/// jobs go on loading.
async fn finish_table(
    url: &crate::url::DbUrl,
    name: &QualifiedName,
    after_rows: &[AfterRows],
) -> Result<u64> {
    let table = name.display();
    let mut db = Db::connect(url)
        .await
        .with_context(|| format!("connecting to {} to finish table {table}", url.shown))?;
    for step in after_rows {
        db.execute(&step.sql).await.with_context(|| {
            format!("adding {} to table {table} with:\n{}", step.what, step.sql)
        })?;
    }
    db.count_table(name)
        .await
        .with_context(|| format!("counting the rows of table {table}"))
}

/// Loads one file: through unparsed when it can, else checked.
fn load_file(
    runtime: &tokio::runtime::Runtime,
    load: FileLoad,
    loads: &Loads,
    progress: &Progress,
) -> Result<()> {
    let table = load.table;
    let path = load.import.input.clone().expect("a restore reads files");
    let url = load.import.url.clone();
    let passed = match &load.passthrough {
        Some(how) => runtime
            .block_on(crate::signals::until_stopped(super::passthrough::load(
                &url, how, &path,
            )))
            .map_err(anyhow::Error::from)?
            .ok(),
        None => None,
    };
    let imported = match passed {
        Some(rows) => Imported { rows, rejected: 0 },
        // Checked, value by value: also a file whose pass-through
        // failed, which left nothing in the table.
        None => runtime
            .block_on(crate::cmd::import::import(load.import))
            .with_context(|| format!("restoring table {table}"))?,
    };
    progress.share(&loads.totals).update(imported.rows, 0);
    let mut loaded = loads.loaded.lock().expect("loaded");
    match passed {
        Some(_) => loaded.passed_through += 1,
        None => loaded.checked += 1,
    }
    *loaded.rejected.entry(table).or_default() += imported.rejected;
    Ok(())
}

fn import_plan(
    plan: &RestorePlan,
    format: Format,
    manifest: &Manifest,
    table: &TableEntry,
    file: &crate::manifest::FileEntry,
    target: &dyn Fn(&QualifiedName) -> QualifiedName,
) -> ImportPlan {
    ImportPlan {
        url: plan.url.clone(),
        table: target(&table.schema.name),
        input: Some(plan.dir.join(&file.path)),
        format,
        columns: None,
        header: format != Format::Ndjson && format != Format::Parquet,
        null: manifest.null.clone(),
        batch: plan.batch,
        strategy: plan.strategy,
        on_conflict: plan.on_conflict,
        atomic: false,
        truncate: plan.truncate,
        reject_file: plan
            .reject_dir
            .as_ref()
            .map(|dir| dir.join(reject_name(&file.path, format))),
        max_errors: None,
        max_line_bytes: 64 << 20,
        state_file: None,
        resume: false,
        retries: 3,
        progress: crate::progress::ProgressMode::Never,
        quiet: true,
        verbose: false,
        stats: false,
        wait_lock: None,
        advice: Some(format!(
            "fix the cause, then restore this table again into an empty table: add --truncate \
             --tables {}",
            table.schema.name.display()
        )),
        geometry: spatial_columns(manifest, table, plan.url.engine),
    }
}

/// The spatial columns of a table restored into another engine, and the
/// form of their values in the dump: MySQL's stored form, or PostGIS's
/// EWKB. Into the same engine they load as they are.
fn spatial_columns(
    manifest: &Manifest,
    table: &TableEntry,
    target: Engine,
) -> Option<(SpatialForm, Vec<String>)> {
    let source = Engine::from_key(&manifest.engine).filter(|&source| source != target)?;
    let (form, spatial): (_, fn(&str) -> bool) = match source {
        Engine::Mysql => (SpatialForm::Mysql, is_mysql_spatial),
        Engine::Postgres => (SpatialForm::Ewkb, is_postgis_geometry),
        Engine::Sqlite => return None,
    };
    let names: Vec<String> = table
        .schema
        .columns
        .iter()
        .filter(|c| spatial(&c.engine_type))
        .map(|c| c.name.clone())
        .collect();
    (!names.is_empty()).then_some((form, names))
}

/// `public.t.csv.zst` → `public.t.rejects.csv`: a table's reject file,
/// in the format of its input (NDJSON for Parquet, as the import writes).
fn reject_name(file: &str, format: Format) -> String {
    let plain = file
        .strip_suffix(".zst")
        .or_else(|| file.strip_suffix(".gz"))
        .unwrap_or(file);
    let stem = plain
        .strip_suffix(&format!(".{}", format.name()))
        .unwrap_or(plain);
    let extension = match format {
        Format::Parquet => "ndjson",
        other => other.name(),
    };
    format!("{stem}.rejects.{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_files_are_named_after_the_table_file() {
        assert_eq!(
            reject_name("public.t.csv.zst", Format::Csv),
            "public.t.rejects.csv"
        );
        assert_eq!(reject_name("a%2Eb.tsv", Format::Tsv), "a%2Eb.rejects.tsv");
        assert_eq!(
            reject_name("t.parquet", Format::Parquet),
            "t.rejects.ndjson"
        );
    }
}
