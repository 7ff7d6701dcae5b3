//! `dbchunk restore DIR`: a dump's tables into a database, through the
//! import's own fast paths.
//!
//! 1. The manifest is read and every file checked against its size and
//!    checksum before anything is written.
//! 2. With `--create`, each missing table is created from the manifest,
//!    translated to this engine ([`crate::plan::ddl`]), with its primary
//!    key only (on PostgreSQL, not even that: see step 3).
//! 3. The tables are loaded by `--jobs` workers ([`load`]), each running
//!    an ordinary import of one file (COPY, LOAD DATA, batched INSERT).
//!    The worker that loads a created table's last file adds its
//!    secondary indexes (and PostgreSQL's primary key) while the others
//!    go on loading.
//! 4. Then the foreign keys of the tables it created (and whatever a
//!    resumed restore's tables still lack), and PostgreSQL's identity
//!    counters set past the loaded maximum.
//! 5. Last, every table's row count is checked against the manifest.

mod load;
mod passthrough;

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use crate::config::restore::RestorePlan;
use crate::db::catalog::TableSchema;
use crate::db::postgres::literal;
use crate::db::{Db, Dialect};
use crate::engine::Engine;
use crate::error::{ExitCode, UsageError};
use crate::ident::QualifiedName;
use crate::manifest::{self, Manifest, TableEntry};
use crate::plan::ddl::{table_ddl, Named, TableDdl, Translation};
use crate::plan::insert::OnConflict;
use crate::plan::sequence::SequenceSql;

pub async fn run(plan: RestorePlan) -> Result<ExitCode> {
    let started = Instant::now();
    let manifest = manifest::read(&plan.dir)?;
    let source = Engine::from_key(&manifest.engine).ok_or_else(|| {
        anyhow!(
            "{}: unknown engine {:?} in the manifest",
            plan.dir.display(),
            manifest.engine
        )
    })?;
    let place = format!("the dump {}", plan.dir.display());
    let tables = plan
        .choice
        .pick(&manifest.tables, |t| &t.schema.name, &place)?;
    check_files(&plan, &tables)?;
    let mut db = super::step::connect(&plan.url, true, "nothing was restored").await?;
    let target = |name: &QualifiedName| QualifiedName {
        schema: plan.schema.clone(),
        name: name.name.clone(),
    };
    let created = match plan.create {
        true => create(&mut db, &plan, &manifest, &tables, source, &target).await?,
        false => Vec::new(),
    };
    let loads = what_to_load(&mut db, &plan, &tables, &created, &target).await?;
    let loads = prepare_loads(&mut db, &plan, &manifest, loads, &created, &target).await?;
    if let Some(dir) = &plan.reject_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let loaded = load::run(&plan, &manifest, &loads, &target)?;
    finish_created(&mut db, &plan, &created).await?;
    restore_sequences(&mut db, &plan, &manifest).await?;
    let rows = check_counts(
        &mut db,
        &plan,
        &tables,
        &loaded,
        !created.is_empty(),
        &target,
    )
    .await?;
    let refused: u64 = loaded.rejected.values().sum();
    if plan.stats {
        let seconds = started.elapsed().as_secs_f64();
        crate::log::stats(&serde_json::json!({
            "tables": tables.len(),
            "created": created.iter().filter(|c| !c.existed).count(),
            "loaded": loads.len(),
            "rows": rows,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "rows_per_sec": if seconds > 0.0 { (rows as f64 / seconds).round() } else { 0.0 },
            "rejected": refused,
            "files_passed_through": loaded.passed_through,
            "files_checked": loaded.checked,
        }));
    }
    if refused > 0 {
        let dir = plan
            .reject_dir
            .as_ref()
            .expect("rows are only refused with --reject-dir");
        crate::log::info(&format!(
            "restored {rows} rows; {refused} rows were refused, written to {}",
            dir.display()
        ));
        return Ok(ExitCode::Rejected);
    }
    Ok(ExitCode::Success)
}

/// Every file is there with the size and checksum the manifest records:
/// a changed or damaged dump stops before anything is written.
fn check_files(plan: &RestorePlan, tables: &[&TableEntry]) -> Result<()> {
    for file in tables.iter().flat_map(|t| &t.files) {
        if !file.is_intact(&plan.dir)? {
            bail!(
                "{}: the file is not the one the dump wrote (its size or SHA-256 differs from the \
                 manifest): it was changed or damaged; nothing was restored, dump again",
                plan.dir.join(&file.path).display()
            );
        }
    }
    Ok(())
}

/// Every table holds the rows of the dump, no more, no fewer; returns
/// their sum.
async fn check_counts(
    db: &mut Db,
    plan: &RestorePlan,
    tables: &[&TableEntry],
    loaded: &load::Loaded,
    created_any: bool,
    target: &dyn Fn(&QualifiedName) -> QualifiedName,
) -> Result<u64> {
    let mut rows = 0;
    for table in tables {
        let name = target(&table.schema.name);
        // Counted by the job that loaded it, else (a table a resumed
        // restore kept) now.
        let count = match loaded.counts.get(&name.display()) {
            Some(&count) => count,
            None => db
                .count_table(&name)
                .await
                .with_context(|| format!("counting the rows of table {}", name.display()))?,
        };
        let refused = loaded.rejected.get(&name.display()).copied().unwrap_or(0);
        if count + refused != table.rows {
            bail!(
                "table {} holds {count} rows after the restore{}, and the dump has {}: {}",
                name.display(),
                match refused {
                    0 => String::new(),
                    n => format!(" and refused {n}"),
                },
                table.rows,
                if plan.truncate || plan.resume || created_any {
                    "rows were added to it meanwhile, or some were refused"
                } else {
                    "it held rows before (--truncate empties it first), or some were refused"
                }
            );
        }
        rows += count;
    }
    Ok(rows)
}

/// The tables to load, and whether each is emptied first. A resumed
/// restore keeps a table that already holds the dump's row count and
/// loads any other one again from empty: an interrupted load left some of
/// its batches committed.
async fn what_to_load<'a>(
    db: &mut Db,
    plan: &RestorePlan,
    tables: &[&'a TableEntry],
    created: &[Created],
    target: &dyn Fn(&QualifiedName) -> QualifiedName,
) -> Result<Vec<(&'a TableEntry, bool)>> {
    let mut loads = Vec::new();
    for table in tables {
        let name = target(&table.schema.name);
        let new = created.iter().any(|c| c.name == name && !c.existed);
        if !plan.resume || new {
            loads.push((*table, plan.truncate));
            continue;
        }
        let count = db
            .count_table(&name)
            .await
            .with_context(|| format!("counting the rows of table {} to resume", name.display()))?;
        if count != table.rows {
            loads.push((*table, true));
        }
    }
    if plan.resume && !plan.quiet {
        crate::log::info(&format!(
            "resuming: {} tables already complete, {} to load",
            tables.len() - loads.len(),
            loads.len()
        ));
    }
    Ok(loads)
}

/// Each table to load with how: the tables whose files can pass through
/// unparsed ([`passthrough`]) get theirs; each table learns which of the
/// others its foreign keys point at here, to load after them. A table to
/// be emptied is emptied here, before any loads, when its parts load
/// side by side, when a `COPY` passes its file through (one statement),
/// or when a foreign key joins it to another table of the restore: then
/// the tables that point at it are emptied first. Any other table is
/// emptied by its import, in the transaction of its first batch.
async fn prepare_loads<'a>(
    db: &mut Db,
    plan: &RestorePlan,
    manifest: &Manifest,
    tables: Vec<(&'a TableEntry, bool)>,
    created: &[Created],
    target: &dyn Fn(&QualifiedName) -> QualifiedName,
) -> Result<Vec<load::TableLoad<'a>>> {
    let possible = passthrough::possible(plan, manifest, db.engine());
    let names: Vec<QualifiedName> = tables
        .iter()
        .map(|(table, _)| target(&table.schema.name))
        .collect();
    let mut loads = Vec::with_capacity(tables.len());
    for ((table, truncate), name) in tables.into_iter().zip(&names) {
        let passthrough = match possible {
            true => {
                let there = db
                    .describe_target(name)
                    .await
                    .with_context(|| format!("looking up table {}", name.display()))?;
                passthrough::eligible(table, &there)
            }
            false => None,
        };
        loads.push(load::TableLoad {
            table,
            truncate,
            passthrough,
            parents: parents_here(db, name, &names, created).await?,
            after_rows: after_rows(plan, created, name),
        });
    }
    let shown: Vec<String> = names.iter().map(QualifiedName::display).collect();
    for at in children_first(&loads, &shown) {
        let joined = !loads[at].parents.is_empty()
            || (0..shown.len()).any(|other| loads[other].parents.contains(&shown[at]));
        let load = &mut loads[at];
        if load.truncate && (load.table.files.len() > 1 || load.passthrough.is_some() || joined) {
            empty(db, &names[at]).await?;
            load.truncate = false;
        }
    }
    Ok(loads)
}

/// What the worker that loads a table this restore created adds to it
/// once its rows are in: PostgreSQL's primary key (unless `--on-conflict`
/// needed it from the start), then the secondary indexes.
fn after_rows(
    plan: &RestorePlan,
    created: &[Created],
    name: &QualifiedName,
) -> Vec<load::AfterRows> {
    let Some(table) = created.iter().find(|c| c.name == *name && !c.existed) else {
        return Vec::new();
    };
    let key = table
        .ddl
        .primary_key
        .iter()
        .filter(|_| plan.on_conflict == OnConflict::Error)
        .map(|sql| load::AfterRows {
            what: "the primary key",
            sql: sql.clone(),
        });
    let indexes = table
        .ddl
        .indexes
        .iter()
        .filter(|_| plan.indexes)
        .map(|index| load::AfterRows {
            what: "an index",
            sql: index.sql.clone(),
        });
    key.chain(indexes).collect()
}

/// The tables of `names` (shown) that the foreign keys of table `name`
/// point at here, itself left out. A table this restore created has no
/// foreign keys yet (they come after the rows), except on SQLite, where
/// they are part of the table.
async fn parents_here(
    db: &mut Db,
    name: &QualifiedName,
    names: &[QualifiedName],
    created: &[Created],
) -> Result<Vec<String>> {
    let new = created.iter().any(|c| c.name == *name && !c.existed);
    if new && db.engine() != Engine::Sqlite {
        return Ok(Vec::new());
    }
    let schema = db
        .table_schema(name)
        .await
        .with_context(|| format!("looking up the foreign keys of table {}", name.display()))?;
    let same = |a: &QualifiedName, b: &QualifiedName| {
        a.name == b.name && (a.schema.is_none() || b.schema.is_none() || a.schema == b.schema)
    };
    let mut parents: Vec<String> = Vec::new();
    for key in &schema.foreign_keys {
        let parent = names.iter().find(|n| same(n, &key.references));
        if let Some(parent) = parent.filter(|p| !same(p, name)) {
            if !parents.contains(&parent.display()) {
                parents.push(parent.display());
            }
        }
    }
    Ok(parents)
}

/// The positions of `loads` in an order where every table comes before
/// the tables its foreign keys point at: the order to empty them in. A
/// cycle keeps the rest in their order.
fn children_first(loads: &[load::TableLoad], shown: &[String]) -> Vec<usize> {
    let mut waiting: Vec<usize> = (0..loads.len()).collect();
    let mut order = Vec::with_capacity(loads.len());
    while !waiting.is_empty() {
        let pointed_at = |at: usize| {
            waiting
                .iter()
                .any(|&other| other != at && loads[other].parents.contains(&shown[at]))
        };
        let ready = waiting.iter().position(|&at| !pointed_at(at));
        order.push(waiting.remove(ready.unwrap_or(0)));
    }
    order
}

/// Empties a table before its files load. On PostgreSQL under a lock
/// that waits for any transaction still writing into it: a resumed
/// restore must not empty the table while the `COPY` of the run that was
/// killed is still being committed by its server process, whose rows
/// would then arrive after the `DELETE` (InnoDB's `DELETE` waits on such
/// rows' locks by itself; SQLite has one writer).
async fn empty(db: &mut Db, name: &QualifiedName) -> Result<()> {
    let quoted = Dialect::of(db.engine()).quote_qualified(name);
    let sql = match db.engine() {
        Engine::Postgres => {
            format!("BEGIN; LOCK TABLE {quoted} IN SHARE MODE; DELETE FROM {quoted}; COMMIT")
        }
        _ => format!("DELETE FROM {quoted}"),
    };
    db.execute(&sql)
        .await
        .with_context(|| format!("emptying table {} to load it", name.display()))
}

/// A table this restore created (or, resumed, an earlier run of it did),
/// and what it adds after the rows.
struct Created {
    name: QualifiedName,
    schema: TableSchema,
    ddl: TableDdl,
    /// It was there already: a resumed restore adds only the indexes and
    /// foreign keys it does not have yet.
    existed: bool,
}

/// Whether PostGIS's `geometry` type is there, where the restore creates
/// its tables (MySQL geometry keeps a spatial type then).
async fn has_postgis(db: &mut Db) -> Result<bool> {
    if db.engine() != Engine::Postgres {
        return Ok(false);
    }
    let row = db
        .first_row("SELECT to_regtype('geometry')::text")
        .await
        .context("looking for PostGIS")?;
    Ok(row.and_then(crate::db::Key::first_text).is_some())
}

/// Creates the tables that are not there yet.
async fn create(
    db: &mut Db,
    plan: &RestorePlan,
    manifest: &Manifest,
    tables: &[&TableEntry],
    source: Engine,
    target: &dyn Fn(&QualifiedName) -> QualifiedName,
) -> Result<Vec<Created>> {
    let engine = db.engine();
    let how = Translation {
        source,
        target: engine,
        unmapped_as_text: plan.unmapped_as_text,
        text_files: manifest.format != "parquet" && manifest.format != "ndjson",
        postgis: has_postgis(db).await?,
    };
    let existing = db
        .list_tables(plan.schema.as_deref())
        .await
        .context("listing the tables already there")?;
    let mut created = Vec::new();
    for table in tables {
        let name = target(&table.schema.name);
        let existed = existing.iter().any(|e| e.name == name.name);
        if existed && !plan.resume {
            continue;
        }
        let ddl = table_ddl(&table.schema, &name, how, target).map_err(|unmapped| {
            UsageError(format!(
                "table {}: column {} is {} on {}, which has no faithful type on {}: add \
                 --unmapped-as-text to make it a text column holding the dump's text, or create \
                 the table yourself and restore without --create",
                table.schema.name.display(),
                crate::ident::display_name(&unmapped.column),
                unmapped.source_type,
                source.name(),
                engine.name()
            ))
        })?;
        if !plan.quiet && !existed {
            for left in &ddl.left_out {
                crate::error::warn(&format!(
                    "table {}: {left} is not created on {}",
                    name.display(),
                    engine.name()
                ));
            }
        }
        if !existed {
            db.execute(&ddl.create).await.with_context(|| {
                format!("creating table {} with:\n{}", name.display(), ddl.create)
            })?;
            // --on-conflict finds the rows already there by the key.
            if let Some(key) = ddl
                .primary_key
                .as_ref()
                .filter(|_| plan.on_conflict != OnConflict::Error)
            {
                db.execute(key).await.with_context(|| {
                    format!(
                        "adding the primary key to table {} with:\n{key}",
                        name.display()
                    )
                })?;
            }
        }
        created.push(Created {
            name,
            schema: table.schema.clone(),
            ddl,
            existed,
        });
    }
    Ok(created)
}

/// After the rows: the foreign keys of the created tables (every table
/// is loaded and indexed by then), then PostgreSQL's identity counters.
/// A table this run created got its key and indexes from the job that
/// loaded it ([`load::AfterRows`]); one that an earlier, interrupted run
/// of a resumed restore created is looked up, and gets whatever it still
/// lacks.
async fn finish_created(db: &mut Db, plan: &RestorePlan, created: &[Created]) -> Result<()> {
    let mut statements: Vec<(&str, &Created, &str)> = Vec::new();
    // Foreign keys after every index: a key may need the other table's.
    let mut later = Vec::new();
    for table in created {
        let there = match table.existed {
            true => Some(db.table_schema(&table.name).await.with_context(|| {
                format!("looking up what table {} has already", table.name.display())
            })?),
            false => None,
        };
        if let Some(there) = &there {
            let key = table.ddl.primary_key.as_deref();
            if let Some(key) = key.filter(|_| there.primary_key.is_empty()) {
                statements.push(("the primary key", table, key));
            }
            if plan.indexes {
                let has_index = |n: &Named| there.indexes.iter().any(|i| i.name == n.name);
                let indexes = table.ddl.indexes.iter().filter(|n| !has_index(n));
                statements.extend(indexes.map(|n| ("an index", table, n.sql.as_str())));
            }
        }
        if plan.foreign_keys {
            let has_key = |n: &Named| {
                there
                    .as_ref()
                    .is_some_and(|t| t.foreign_keys.iter().any(|k| k.name == n.name))
            };
            let keys = table.ddl.foreign_keys.iter().filter(|n| !has_key(n));
            later.extend(keys.map(|n| ("a foreign key", table, n.sql.as_str())));
        }
    }
    statements.append(&mut later);
    for (what, table, sql) in statements {
        db.execute(sql).await.with_context(|| {
            format!(
                "adding {what} to table {} with:\n{sql}",
                table.name.display()
            )
        })?;
    }
    if db.engine() == Engine::Postgres {
        for table in created {
            for column in table.schema.columns.iter().filter(|c| c.auto_increment) {
                let quoted = Dialect::Postgres.quote_qualified(&table.name);
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence({}, {}), \
                     COALESCE(MAX({}), 0) + 1, false) FROM {quoted}",
                    literal(&quoted),
                    literal(&column.name),
                    Dialect::Postgres.quote(&column.name)
                );
                db.execute(&sql).await.with_context(|| {
                    format!(
                        "setting the counter of {}.{} past the rows loaded",
                        table.name.display(),
                        column.name
                    )
                })?;
            }
        }
    }
    Ok(())
}

/// The dump's sequences of their own (PostgreSQL's and MariaDB's), made
/// where they are missing (with `--create`; else named in a warning) and
/// moved on to where the dump saw them, in either engine: a sequence
/// already further on (its own numbers handed out since) stays there, so
/// no number is handed out twice. Into MySQL and SQLite, which have no
/// sequences, each is named in a warning.
async fn restore_sequences(db: &mut Db, plan: &RestorePlan, manifest: &Manifest) -> Result<()> {
    let chosen: Vec<_> = manifest
        .sequences
        .iter()
        .filter(|sequence| plan.choice.chooses(&sequence.name))
        .collect();
    if chosen.is_empty() {
        return Ok(());
    }
    let sql = match db.engine() {
        Engine::Postgres => Some(SequenceSql::Postgres),
        Engine::Mysql => SequenceSql::for_mysql(&db.server_version().await?),
        Engine::Sqlite => None,
    };
    let here: Vec<QualifiedName> = match (sql, plan.create) {
        (Some(_), false) => db
            .list_sequences(plan.schema.as_deref())
            .await
            .context("listing the sequences already there")?
            .into_iter()
            .map(|sequence| sequence.name)
            .collect(),
        _ => Vec::new(),
    };
    for sequence in chosen {
        let shown = sequence.name.display();
        let at = sequence.last_value.unwrap_or(sequence.start);
        let Some(sql) = sql else {
            if !plan.quiet {
                crate::error::warn(&format!(
                    "sequence {shown} (at {at}) was left out: {} has no sequences; numbers it \
                     hands out must come from elsewhere there",
                    if db.engine() == Engine::Mysql {
                        "this server (MySQL, or MariaDB before 10.3)"
                    } else {
                        "SQLite"
                    }
                ));
            }
            continue;
        };
        // Where the tables go: `--schema`, else the search path or the
        // URL's database.
        let quoted = Dialect::of(db.engine()).quote_qualified(&QualifiedName {
            schema: plan.schema.clone(),
            name: sequence.name.name.clone(),
        });
        let create = sql.create(&quoted, sequence);
        if plan.create {
            db.execute(&create)
                .await
                .with_context(|| format!("making sequence {shown} with:\n{create}"))?;
        } else if !here.iter().any(|name| name.name == sequence.name.name) {
            if !plan.quiet {
                crate::error::warn(&format!(
                    "sequence {shown} (at {at}) is not here: restore with --create to make it, \
                     or make it yourself with:\n{create}"
                ));
            }
            continue;
        }
        if let Some(last) = sequence.last_value {
            let move_on = sql.move_on(&quoted, sequence, last);
            db.execute(&move_on)
                .await
                .with_context(|| format!("setting sequence {shown} with:\n{move_on}"))?;
        }
    }
    Ok(())
}
