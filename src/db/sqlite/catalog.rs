//! The tables of a SQLite file and their definitions, from its pragmas.

use anyhow::{bail, Result};
use rusqlite::OptionalExtension;

use super::Sqlite;
use crate::coltype::ColType;
use crate::db::catalog::{
    add_key_column, named_in, ColumnSchema, ForeignKey, IndexKind, IndexSchema, Listed, TableParts,
};
use crate::db::dialect::Dialect;
use crate::ident::QualifiedName;

impl Sqlite {
    /// The tables of the main database (or the attached `schema`), without
    /// SQLite's own (`sqlite_sequence`, `sqlite_stat1`, ...); or its views.
    pub fn list_relations(
        &self,
        schema: Option<&str>,
        listed: Listed,
    ) -> Result<Vec<QualifiedName>> {
        let mut stmt = self.conn.prepare(
            "SELECT name FROM pragma_table_list WHERE schema = ?1 AND type = ?2 \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )?;
        let names = stmt
            .query_map([schema.unwrap_or("main"), listed.sqlite_type()], |row| {
                row.get::<_, String>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(named_in(schema, names))
    }

    pub fn table_parts(&self, table: &QualifiedName) -> Result<TableParts> {
        let schema = table.schema.as_deref().unwrap_or("main");
        let name = table.name.as_str();
        // `hidden` 2 and 3 are generated columns, which are not written.
        let rows: Vec<(String, String, bool, Option<String>, i64)> = self.pragma(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1, ?2) \
             WHERE hidden = 0 ORDER BY cid",
            [name, schema],
            |row| row.try_into(),
        )?;
        if rows.is_empty() {
            bail!("table {} does not exist", table.display());
        }
        let mut pk: Vec<(i64, String)> = rows
            .iter()
            .filter(|r| r.4 > 0)
            .map(|r| (r.4, r.0.clone()))
            .collect();
        pk.sort();
        let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        // An INTEGER PRIMARY KEY is the rowid: new rows get the next one.
        let rowid_key = |column: &str, decl: &str| {
            primary_key.len() == 1
                && primary_key[0] == column
                && decl.eq_ignore_ascii_case("INTEGER")
        };
        let columns = rows
            .iter()
            .map(|(column, decl, not_null, default, _)| ColumnSchema {
                name: column.clone(),
                engine_type: decl.clone(),
                portable: ColType::sqlite(decl),
                nullable: !not_null,
                default: default.clone(),
                auto_increment: rowid_key(column, decl),
            })
            .collect();
        let listed: Vec<(String, bool, bool, String, Option<String>)> = self.pragma(
            "SELECT l.name, l.\"unique\", l.partial, l.origin, m.sql \
             FROM pragma_index_list(?1, ?2) l \
             LEFT JOIN sqlite_schema m ON m.type = 'index' AND m.name = l.name \
             ORDER BY l.name",
            [name, schema],
            |row| row.try_into(),
        )?;
        let mut indexes = Vec::new();
        for (index, unique, partial, origin, sql) in listed {
            if origin == "pk" {
                continue;
            }
            let (columns, definition) = match self.index_columns(&index, schema)? {
                Some(columns) if !partial => (columns, None),
                _ => (Vec::new(), sql.as_deref().map(after_table)),
            };
            indexes.push(IndexSchema {
                name: index,
                columns,
                unique,
                definition,
                kind: IndexKind::Plain,
            });
        }
        type ForeignRow = (i64, String, String, Option<String>, String, String);
        let rows: Vec<ForeignRow> = self.pragma(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?1, ?2) ORDER BY id, seq",
            [name, schema],
            |row| row.try_into(),
        )?;
        let mut foreign_keys = Vec::new();
        for (id, referenced, from, to, on_update, on_delete) in rows {
            let key = ForeignKey {
                name: format!("{name}_fk{id}"),
                columns: Vec::new(),
                references: QualifiedName {
                    schema: None,
                    name: referenced,
                },
                referenced_columns: Vec::new(),
                on_delete,
                on_update,
            };
            add_key_column(&mut foreign_keys, key, from, to);
        }
        let create: Option<String> = self
            .conn
            .query_row(
                &format!(
                    "SELECT sql FROM {}.sqlite_schema WHERE type = 'table' AND name = ?1",
                    Dialect::Sqlite.quote(schema)
                ),
                [name],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        let checks = create
            .as_deref()
            .map(|sql| super::checks::checks(name, sql))
            .unwrap_or_default();
        Ok((columns, primary_key, indexes, foreign_keys, checks))
    }

    /// `SQLite 3.50.2`, for a dump's manifest.
    pub fn server_version(&self) -> String {
        format!("SQLite {}", rusqlite::version())
    }
}

/// What a `CREATE INDEX ... ON table` statement says after the table's
/// name: from the first `(` after ` ON ` (the keys, then any `WHERE`).
fn after_table(sql: &str) -> String {
    let upper = sql.to_ascii_uppercase();
    let from = upper.find(" ON ").unwrap_or(0);
    match sql[from..].find('(') {
        Some(at) => sql[from + at..].to_string(),
        None => sql.to_string(),
    }
}
