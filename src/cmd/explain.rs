//! `dbchunk export --explain`: the SQL of the first and of a later chunk,
//! each with the engine's plan, so a user can see whether the key is
//! indexed before a two-hour export.

use anyhow::{Context, Result};

use crate::cell::{Cell, RowSink};
use crate::config::ExportPlan;
use crate::db::{Db, Key, Relation};
use crate::plan::{Statement, Strategy};

/// `--explain`: the SQL of the first and of a later chunk, each with the
/// engine's plan, on stdout.
pub async fn run(
    db: &mut Db,
    relation: &Relation,
    strategy: Strategy,
    plan: &ExportPlan,
) -> Result<()> {
    let mut out = format!("-- strategy: {}", strategy.name());
    if !relation.key_names.is_empty() {
        out.push_str(&format!(", key: {}", relation.key_names.join(", ")));
    }
    out.push_str(&format!(", chunk: {} rows\n", plan.chunk));
    let chunk = plan.limit.map_or(plan.chunk, |l| l.min(plan.chunk)).max(1);
    let mut steps: Vec<(&str, Statement, Option<Key>)> = Vec::new();
    match strategy {
        Strategy::Keyset => {
            steps.push((
                "first chunk",
                relation.select.keyset_chunk(chunk, false),
                None,
            ));
            let later_key = key_of_row(db, relation, chunk).await?;
            if let Some(key) = later_key {
                steps.push((
                    "a later chunk (the second)",
                    relation.select.keyset_chunk(chunk, true),
                    Some(key),
                ));
            }
        }
        Strategy::Offset => {
            steps.push(("first chunk", relation.select.offset_chunk(chunk, 0), None));
            steps.push((
                "a later chunk (the tenth)",
                relation.select.offset_chunk(chunk, 9 * chunk),
                None,
            ));
        }
        Strategy::Copy => {
            let Db::Postgres(pg) = &*db else {
                unreachable!("config refuses copy on other engines")
            };
            let copy = pg.copy_plan(relation, plan.limit, plan.format, &plan.null);
            out.push_str(&format!("\n-- the one statement:\n{};\n", copy.statement));
            let statement = Statement {
                sql: copy.query,
                params: Vec::new(),
                limit: 0,
            };
            steps.push(("the query inside it", statement, None));
        }
        Strategy::Cursor => {
            let sql = relation.cursor_sql(plan.limit);
            steps.push((
                "the one query, streamed",
                Statement {
                    sql,
                    params: Vec::new(),
                    limit: 0,
                },
                None,
            ));
        }
        Strategy::Auto => unreachable!("resolved before explaining"),
    }
    for (title, statement, key) in &steps {
        out.push_str(&format!("\n-- {title}:\n{};\n", statement.sql));
        if let Some(key) = key {
            out.push_str(&format!(
                "-- with {}\n",
                describe_key(key, &statement.params)
            ));
        }
        let plan_text = db
            .explain(statement, key.as_ref())
            .await
            .context("running EXPLAIN")?;
        out.push_str("-- plan:\n");
        out.push_str(&plan_text);
        if !plan_text.ends_with('\n') {
            out.push('\n');
        }
    }
    use std::io::Write;
    std::io::stdout()
        .write_all(out.as_bytes())
        .context("writing to stdout")?;
    Ok(())
}

/// The key of row `n` in key order, read with a one-row offset query.
async fn key_of_row(db: &mut Db, relation: &Relation, n: u64) -> Result<Option<Key>> {
    let statement = relation.select.offset_chunk(1, n.saturating_sub(1));
    let read = db
        .read_chunk(relation, &statement, None, &mut Discard)
        .await?;
    Ok(read.last_key)
}

fn describe_key(key: &Key, params: &[usize]) -> String {
    use rusqlite::types::Value as Lite;
    let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let values: Vec<String> = match key {
        Key::Text(v) => v
            .iter()
            .map(|x| x.as_deref().map_or("NULL".into(), quoted))
            .collect(),
        Key::Mysql(v) => v.iter().map(|x| x.as_sql(false)).collect(),
        Key::Sqlite(v) => v
            .iter()
            .map(|x| match x {
                Lite::Null => "NULL".to_string(),
                Lite::Integer(i) => i.to_string(),
                Lite::Real(f) => f.to_string(),
                Lite::Text(t) => quoted(t),
                Lite::Blob(b) => format!(
                    "x'{}'",
                    b.iter().map(|b| format!("{b:02x}")).collect::<String>()
                ),
            })
            .collect(),
    };
    let bound: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, &k)| format!("parameter {} = {}", i + 1, values[k]))
        .collect();
    bound.join(", ")
}

/// A sink that drops rows: used where only the key of a row is wanted.
struct Discard;

impl RowSink for Discard {
    fn cell(&mut self, _: Cell<'_>) {}
    fn end_row(&mut self) -> Result<bool> {
        Ok(true)
    }
    fn raw_rows(&mut self, _: &[u8], _: u64) -> Result<bool> {
        Ok(true)
    }
    fn end_chunk(&mut self) -> Result<()> {
        Ok(())
    }
}
