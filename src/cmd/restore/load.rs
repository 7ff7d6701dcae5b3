//! Loading the dump's files: `--jobs` threads, each taking the next table
//! (largest first) and running an ordinary import of its file, with the
//! import's checks, batches and fast paths.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use anyhow::{anyhow, Context, Result};

use crate::config::restore::RestorePlan;
use crate::config::ImportPlan;
use crate::error::ExitCode;
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::manifest::{Manifest, TableEntry};

/// Loads every table's files; the first failure stops the queue and is
/// returned once the running loads end.
pub fn run(
    plan: &RestorePlan,
    manifest: &Manifest,
    tables: &[&TableEntry],
    target: &dyn Fn(&QualifiedName) -> QualifiedName,
) -> Result<()> {
    let format = <Format as clap::ValueEnum>::from_str(&manifest.format, false)
        .map_err(|_| anyhow!("the manifest names an unknown format {:?}", manifest.format))?;
    let mut imports: Vec<(u64, ImportPlan)> = Vec::new();
    for table in tables {
        for file in &table.files {
            imports.push((
                table.rows,
                import_plan(plan, format, &manifest.null, table, file, target),
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
    let queue = Mutex::new(imports.into_iter().map(|(_, p)| p).collect::<VecDeque<_>>());
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for number in 1..=plan.jobs {
            let (queue, stop, failure) = (&queue, &stop, &failure);
            std::thread::Builder::new()
                .name(format!("dbchunk-restore-{number}"))
                .spawn_scoped(scope, move || {
                    if let Err(err) = work(queue, stop) {
                        stop.store(true, Ordering::Relaxed);
                        failure.lock().expect("failure").get_or_insert(err);
                    }
                })
                .expect("starting a restore worker");
        }
    });
    match failure.into_inner().expect("failure") {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// One worker: imports from the queue until it is empty or another failed.
fn work(queue: &Mutex<VecDeque<ImportPlan>>, stop: &AtomicBool) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    while !stop.load(Ordering::Relaxed) {
        let Some(import) = queue.lock().expect("queue").pop_front() else {
            return Ok(());
        };
        let table = import.table.display();
        let code = runtime
            .block_on(crate::cmd::import::run(import))
            .with_context(|| format!("restoring table {table}"))?;
        if code != ExitCode::Success {
            return Err(anyhow!("restoring table {table}: rows were refused"));
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
        reject_file: None,
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
fn parents_first(
    imports: Vec<(u64, ImportPlan)>,
    tables: &[&TableEntry],
) -> Vec<(u64, ImportPlan)> {
    let parents = |plan: &ImportPlan| -> Vec<String> {
        tables
            .iter()
            .filter(|t| t.schema.name.name == plan.table.name)
            .flat_map(|t| &t.schema.foreign_keys)
            .map(|fk| fk.references.name.clone())
            .filter(|parent| *parent != plan.table.name)
            .collect()
    };
    let mut waiting = imports;
    let mut ordered: Vec<(u64, ImportPlan)> = Vec::new();
    while !waiting.is_empty() {
        let ready = waiting.iter().position(|(_, plan)| {
            parents(plan)
                .iter()
                .all(|p| !waiting.iter().any(|(_, w)| w.table.name == *p))
        });
        ordered.push(waiting.remove(ready.unwrap_or(0)));
    }
    ordered
}
