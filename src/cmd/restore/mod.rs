//! `dbchunk restore DIR`: a dump's tables into a database, through the
//! import's own fast paths.
//!
//! 1. The manifest is read and every file checked against its size and
//!    checksum before anything is written.
//! 2. With `--create`, each missing table is created from the manifest,
//!    translated to this engine ([`crate::plan::ddl`]), with its primary
//!    key only.
//! 3. The tables are loaded by `--jobs` workers ([`load`]), each running
//!    an ordinary import of one file (COPY, LOAD DATA, batched INSERT).
//! 4. Then the secondary indexes and the foreign keys of the tables it
//!    created, and PostgreSQL's identity counters set past the loaded
//!    maximum.
//! 5. Last, every table's row count is checked against the manifest.

mod load;

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use crate::config::restore::RestorePlan;
use crate::db::catalog::TableSchema;
use crate::db::{Db, Dialect};
use crate::engine::Engine;
use crate::error::UsageError;
use crate::ident::QualifiedName;
use crate::manifest::{self, Manifest, TableEntry};
use crate::plan::ddl::{table_ddl, TableDdl, Translation};

pub async fn run(plan: RestorePlan) -> Result<()> {
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
    load::run(&plan, &manifest, &tables, &target)?;
    finish_created(&mut db, &plan, &created).await?;
    let mut rows = 0;
    for table in &tables {
        let name = target(&table.schema.name);
        let count = db
            .count_table(&name)
            .await
            .with_context(|| format!("counting the rows of table {}", name.display()))?;
        if count != table.rows {
            bail!(
                "table {} holds {count} rows after the restore, and the dump has {}: {}",
                name.display(),
                table.rows,
                if plan.truncate || !created.is_empty() {
                    "rows were added to it meanwhile, or some were refused"
                } else {
                    "it held rows before (--truncate empties it first), or some were refused"
                }
            );
        }
        rows += count;
    }
    if plan.stats {
        let seconds = started.elapsed().as_secs_f64();
        crate::log::stats(&serde_json::json!({
            "tables": tables.len(),
            "created": created.len(),
            "rows": rows,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "rows_per_sec": if seconds > 0.0 { (rows as f64 / seconds).round() } else { 0.0 },
        }));
    }
    Ok(())
}

/// Every file is there with the size and checksum the manifest records:
/// a changed or damaged dump stops before anything is written.
fn check_files(plan: &RestorePlan, tables: &[&TableEntry]) -> Result<()> {
    for file in tables.iter().flat_map(|t| &t.files) {
        let path = plan.dir.join(&file.path);
        let (sum, bytes) = manifest::checksum(&path)?;
        if bytes != file.bytes || sum != file.sha256 {
            bail!(
                "{}: the file is not the one the dump wrote (its size or SHA-256 differs from the \
                 manifest): it was changed or damaged; nothing was restored, dump again",
                path.display()
            );
        }
    }
    Ok(())
}

/// A table this restore created, and what it adds after the rows.
struct Created {
    name: QualifiedName,
    schema: TableSchema,
    ddl: TableDdl,
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
    };
    let existing = db
        .list_tables(plan.schema.as_deref())
        .await
        .context("listing the tables already there")?;
    let mut created = Vec::new();
    for table in tables {
        let name = target(&table.schema.name);
        if existing.iter().any(|e| e.name == name.name) {
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
        if !plan.quiet {
            for left in &ddl.left_out {
                crate::error::warn(&format!(
                    "table {}: {left} is not created on {}",
                    name.display(),
                    engine.name()
                ));
            }
        }
        db.execute(&ddl.create)
            .await
            .with_context(|| format!("creating table {} with:\n{}", name.display(), ddl.create))?;
        created.push(Created {
            name,
            schema: table.schema.clone(),
            ddl,
        });
    }
    Ok(created)
}

/// After the rows: the created tables' indexes, then their foreign keys
/// (every table is loaded by then), then PostgreSQL's identity counters.
async fn finish_created(db: &mut Db, plan: &RestorePlan, created: &[Created]) -> Result<()> {
    let mut statements: Vec<(&str, &Created, &String)> = Vec::new();
    if plan.indexes {
        for table in created {
            statements.extend(table.ddl.indexes.iter().map(|sql| ("an index", table, sql)));
        }
    }
    if plan.foreign_keys {
        for table in created {
            let keys = table.ddl.foreign_keys.iter();
            statements.extend(keys.map(|sql| ("a foreign key", table, sql)));
        }
    }
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

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
