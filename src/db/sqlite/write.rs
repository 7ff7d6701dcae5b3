//! Writing rows into SQLite: one prepared single-row `INSERT`, run once
//! per row inside the batch's transaction. Values are bound as text except
//! where text would change them: SQLite's column affinity then stores
//! numbers as numbers, as it does for its own `INSERT`s. Binary columns
//! take the hex of export decoded to a blob.

use anyhow::{bail, Result};
use rusqlite::types::Value as LiteValue;

use super::Sqlite;
use crate::db::relation::{TargetColumn, TargetTable};
use crate::ident::QualifiedName;
use crate::plan::insert::Insert;
use crate::values::{TargetType, Value};

impl Sqlite {
    pub fn describe_target(&mut self, table: &QualifiedName) -> Result<TargetTable> {
        let schema = table.schema.clone().unwrap_or_else(|| "main".into());
        let info = self.table_info(&table.name, &schema)?;
        if info.is_empty() {
            bail!(
                "table {} not found in {}: create it first (import writes into an existing \
                 table){}",
                table.display(),
                self.path,
                table.dot_hint()
            );
        }
        let columns = info
            .iter()
            .map(|c| TargetColumn {
                name: c.name.clone(),
                sql_type: c.decl.clone(),
                cast_type: c.decl.clone(),
                target: target_type(&c.decl),
            })
            .collect();
        // The conflict target of --on-conflict: the declared primary key,
        // even on columns SQLite lets hold NULL (`id INT PRIMARY KEY`
        // without NOT NULL): a row whose key is NULL conflicts with none
        // and goes in as a new row. Else a unique NOT NULL key; the rowid
        // is none (only declared keys are conflict targets).
        let mut declared: Vec<&super::TableColumn> = info.iter().filter(|c| c.pk > 0).collect();
        declared.sort_by_key(|c| c.pk);
        let key = match declared.is_empty() {
            false => declared.iter().map(|c| c.name.clone()).collect(),
            true => self
                .unique_keys(&table.name, &schema, &info)?
                .into_iter()
                .find(|k| !k.iter().any(|c| super::ROWID_ALIASES.contains(&c.as_str())))
                .unwrap_or_default(),
        };
        Ok(TargetTable {
            quoted: crate::db::dialect::Dialect::Sqlite.quote_qualified(table),
            columns,
            key,
        })
    }

    pub fn execute(&mut self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    pub fn insert(&mut self, insert: &Insert, rows: &[Vec<Value>]) -> Result<u64> {
        let mut statement = self.conn.prepare_cached(&insert.sql(1))?;
        let mut written = 0;
        for row in rows {
            for (i, value) in row.iter().enumerate() {
                statement.raw_bind_parameter(i + 1, bind(value))?;
            }
            written += statement.raw_execute()? as u64;
        }
        Ok(written)
    }
}

fn bind(value: &Value) -> LiteValue {
    match value {
        Value::Null => LiteValue::Null,
        Value::Bool(b) => LiteValue::Integer(i64::from(*b)),
        Value::Int(i) => {
            i64::try_from(*i).map_or_else(|_| LiteValue::Text(i.to_string()), LiteValue::Integer)
        }
        Value::Float(f) => LiteValue::Real(*f),
        Value::Bytes(b) => LiteValue::Blob(b.clone()),
        Value::Text(t) => LiteValue::Text(t.clone()),
        other => LiteValue::Text(other.to_text().unwrap_or_default()),
    }
}

/// SQLite stores what it is given, by the column's affinity. Binary
/// columns need hex decoded to a blob, and REAL columns a float parsed by
/// us: SQLite's own text-to-real conversion is not always exact. The rest
/// goes as text, and affinity converts it as SQLite's own `INSERT` would.
fn target_type(declared: &str) -> TargetType {
    let upper = declared.to_ascii_uppercase();
    // SQLite's affinity rules, in their order.
    if upper.contains("INT") || ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t)) {
        TargetType::Other
    } else if upper.contains("BLOB") {
        TargetType::Bytes
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|t| upper.contains(t)) {
        TargetType::Float
    } else {
        TargetType::Other
    }
}
