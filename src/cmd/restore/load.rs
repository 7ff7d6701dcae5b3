//! Loading the dump's files: `--jobs` threads, each taking the next file
//! (largest first; the parts of a table are files of their own, loaded
//! side by side) and streaming it through unparsed where it can
//! ([`super::passthrough`]), else running an ordinary import of it, with
//! the import's checks, batches and fast paths.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};

use super::passthrough::Passthrough;
use crate::cmd::import::Imported;
use crate::config::restore::RestorePlan;
use crate::config::ImportPlan;
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::manifest::{Manifest, TableEntry};
use crate::progress::Progress;

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
}

/// One table to load: its entry, whether it is emptied first by its
/// import (a table in parts is emptied before, once), and its
/// pass-through when its files can take one.
pub struct TableLoad<'a> {
    pub table: &'a TableEntry,
    pub truncate: bool,
    pub passthrough: Option<Passthrough>,
}

/// One file to load.
struct FileLoad {
    /// The table's name as restored, shown.
    table: String,
    import: ImportPlan,
    passthrough: Option<Passthrough>,
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
    let mut parts_left = HashMap::new();
    for load in tables {
        let table = load.table;
        let files = table.files.len() as u64;
        for file in &table.files {
            let mut import = import_plan(plan, format, &manifest.null, table, file, target);
            import.truncate = load.truncate;
            let rows = file.rows.unwrap_or(table.rows / files.max(1));
            let name = import.table.display();
            *parts_left.entry(name.clone()).or_insert(0) += 1;
            imports.push((
                rows,
                FileLoad {
                    table: name,
                    import,
                    passthrough: load.passthrough.clone(),
                },
            ));
        }
    }
    imports.sort_by_key(|(rows, _)| std::cmp::Reverse(*rows));
    // SQLite checks foreign keys as rows arrive (they are part of its
    // tables): a referenced table is loaded before the tables that point
    // at it. One job loads a SQLite file, in this order.
    if plan.url.engine == crate::engine::Engine::Sqlite {
        imports = parents_first(imports, tables);
    }
    let rows = tables.iter().map(|t| t.table.rows).sum();
    let progress = Progress::for_tables(plan.progress, plan.quiet, rows, tables.len());
    let loads = Loads {
        total: tables.len(),
        queue: Mutex::new(imports.into_iter().map(|(_, p)| p).collect()),
        stop: AtomicBool::new(false),
        loaded: Mutex::new(Loaded::default()),
        parts_left: Mutex::new(parts_left),
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
                        loads.stop.store(true, Ordering::Relaxed);
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

/// What the workers share: the files still to load, the first failure's
/// stop, what was loaded and refused, the parts of each table not loaded
/// yet and the tables done (the progress).
struct Loads {
    total: usize,
    queue: Mutex<VecDeque<FileLoad>>,
    stop: AtomicBool,
    loaded: Mutex<Loaded>,
    parts_left: Mutex<HashMap<String, usize>>,
    done: AtomicUsize,
    totals: Arc<[AtomicU64; 2]>,
}

/// One worker: loads files from the queue until it is empty or another
/// failed; the bar moves a table at a time (when its last file is in).
fn work(loads: &Loads, progress: &Progress) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    while !loads.stop.load(Ordering::Relaxed) {
        let Some(load) = loads.queue.lock().expect("queue").pop_front() else {
            return Ok(());
        };
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
        {
            let mut loaded = loads.loaded.lock().expect("loaded");
            match passed {
                Some(_) => loaded.passed_through += 1,
                None => loaded.checked += 1,
            }
            *loaded.rejected.entry(table.clone()).or_default() += imported.rejected;
        }
        let mut parts_left = loads.parts_left.lock().expect("parts");
        let left = parts_left.get_mut(&table).expect("a table being loaded");
        *left -= 1;
        if *left == 0 {
            progress.tables_done(loads.done.fetch_add(1, Ordering::Relaxed) + 1, loads.total);
        }
    }
    Ok(())
}

fn import_plan(
    plan: &RestorePlan,
    format: Format,
    null: &str,
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
        null: null.to_string(),
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
    }
}

/// The imports reordered so that a table comes after every table its
/// foreign keys reference (within the dump); a cycle keeps the rest in
/// their order.
fn parents_first(imports: Vec<(u64, FileLoad)>, tables: &[TableLoad]) -> Vec<(u64, FileLoad)> {
    let parents = |load: &FileLoad| -> Vec<String> {
        let plan = &load.import;
        tables
            .iter()
            .filter(|t| t.table.schema.name.name == plan.table.name)
            .flat_map(|t| &t.table.schema.foreign_keys)
            .map(|fk| fk.references.name.clone())
            .filter(|parent| *parent != plan.table.name)
            .collect()
    };
    let mut waiting = imports;
    let mut ordered: Vec<(u64, FileLoad)> = Vec::new();
    while !waiting.is_empty() {
        let ready = waiting.iter().position(|(_, load)| {
            parents(load)
                .iter()
                .all(|p| !waiting.iter().any(|(_, w)| w.import.table.name == *p))
        });
        ordered.push(waiting.remove(ready.unwrap_or(0)));
    }
    ordered
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
