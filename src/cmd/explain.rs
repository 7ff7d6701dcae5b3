//! `dbchunk export --explain`: the SQL of the first and of a later chunk,
//! each with the engine's plan, so a user can see whether the key is
//! indexed before a two-hour export.

use anyhow::{Context, Result};

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
        let key = crate::ident::display_list(&relation.key_names, ", ");
        out.push_str(&format!(", key: {key}"));
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
            let later_key = db.key_of_row(relation, chunk).await?;
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
            let copy = pg.copy_plan(&relation.select, plan.limit, plan.format, &plan.null);
            out.push_str(&format!("\n-- the one statement:\n{};\n", copy.statement));
            steps.push(("the query inside it", Statement::plain(copy.query), None));
        }
        Strategy::Cursor => {
            let sql = relation.cursor_sql(None, plan.limit);
            steps.push(("the one query, streamed", Statement::plain(sql), None));
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

fn describe_key(key: &Key, params: &[usize]) -> String {
    let values = key.literals();
    let bound: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, &k)| format!("parameter {} = {}", i + 1, values[k]))
        .collect();
    bound.join(", ")
}
