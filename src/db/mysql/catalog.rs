//! The base tables of a MySQL/MariaDB database and their definitions,
//! from `information_schema`.

use anyhow::{bail, Result};
use mysql_async::prelude::Queryable;

use super::Mysql;
use crate::coltype::ColType;
use crate::db::catalog::{
    add_key_column, named_in, Check, ColumnSchema, ForeignKey, IndexKind, IndexSchema, Listed,
    Sequence, TableParts,
};
use crate::db::dialect::Dialect;
use crate::ident::QualifiedName;

impl Mysql {
    /// `MariaDB 10.11.19` or `MySQL 8.4.0`, for a dump's manifest.
    pub async fn server_version(&mut self) -> Result<String> {
        let version: Option<String> = self.conn.query_first("SELECT VERSION()").await?;
        let version = version.unwrap_or_default();
        Ok(match version.split_once("-MariaDB") {
            Some((number, _)) => format!("MariaDB {number}"),
            None => format!("MySQL {version}"),
        })
    }

    /// The base tables (or the views) of `schema` (a database), or of the
    /// URL's database.
    pub async fn list_relations(
        &mut self,
        schema: Option<&str>,
        listed: Listed,
    ) -> Result<Vec<QualifiedName>> {
        Ok(self.list_of_type(schema, listed.mysql_type()).await?.1)
    }

    /// The database `schema` names (else the URL's), and its relations of
    /// one `TABLE_TYPE`, by name.
    async fn list_of_type(
        &mut self,
        schema: Option<&str>,
        kind: &str,
    ) -> Result<(String, Vec<QualifiedName>)> {
        let database = self.database_or(schema).await?;
        let names: Vec<String> = self
            .conn
            .exec(
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = ? ORDER BY TABLE_NAME",
                (&database, kind),
            )
            .await?;
        Ok((database, named_in(schema, names)))
    }

    /// MariaDB's sequences (`CREATE SEQUENCE`, 10.3+) in `schema` (a
    /// database), or in the URL's database; MySQL has none, and lists none.
    /// MariaDB keeps no last value: `next_not_cached_value` is the first
    /// one no session holds in its cache, so every value before it may
    /// have been handed out, and the one before it counts as the last.
    pub async fn list_sequences(&mut self, schema: Option<&str>) -> Result<Vec<Sequence>> {
        let (database, names) = self.list_of_type(schema, "SEQUENCE").await?;
        let mut sequences = Vec::with_capacity(names.len());
        for name in names {
            let quoted = Dialect::Mysql.quote_qualified(&QualifiedName {
                schema: Some(database.clone()),
                name: name.name.clone(),
            });
            /// next_not_cached_value, minimum_value, maximum_value,
            /// start_value, increment, cycle_option, cycle_count.
            type State = (i64, i64, i64, i64, i64, bool, i64);
            let read: Result<Option<State>, _> = self
                .conn
                .query_first(format!(
                    "SELECT next_not_cached_value, minimum_value, maximum_value, start_value, \
                     increment, cycle_option <> 0, cycle_count FROM {quoted}"
                ))
                .await;
            // Without the SELECT privilege (1142), where it stands cannot
            // be told; any other failure is the dump's.
            let state = match read {
                Err(mysql_async::Error::Server(e)) if e.code == 1142 => None,
                read => read?,
            };
            let readable = state.is_some();
            let (next, min, max, start, increment, cycle, cycles) =
                state.unwrap_or((1, 1, i64::MAX - 1, 1, 1, false, 0));
            sequences.push(Sequence {
                name,
                data_type: "bigint".into(),
                start,
                increment,
                min,
                max,
                cycle,
                last_value: (readable && (next != start || cycles > 0)).then(|| next - increment),
                readable,
            });
        }
        Ok(sequences)
    }

    pub async fn table_parts(&mut self, table: &QualifiedName) -> Result<TableParts> {
        let database = self.database_or(table.schema.as_deref()).await?;
        let at = (&database, &table.name);
        type ColumnRow = (String, String, String, String, Option<String>, String);
        let rows: Vec<ColumnRow> = self
            .conn
            .exec(
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 ORDER BY ORDINAL_POSITION",
                at,
            )
            .await?;
        if rows.is_empty() {
            bail!(
                "table {} does not exist in database {database:?}",
                table.display()
            );
        }
        let json = self.mariadb_json_columns(&database, &table.name).await;
        let columns = rows
            .into_iter()
            .filter(|(.., extra)| !extra.to_ascii_uppercase().contains("GENERATED"))
            .map(|(name, data_type, column_type, nullable, default, extra)| {
                let portable = match json.contains(&name) {
                    true => ColType::Json,
                    false => ColType::mysql(&data_type, &column_type),
                };
                ColumnSchema {
                    auto_increment: extra.to_ascii_lowercase().contains("auto_increment"),
                    // MariaDB writes a missing default as the text NULL.
                    default: default.filter(|d| d != "NULL"),
                    nullable: nullable == "YES",
                    engine_type: column_type,
                    portable,
                    name,
                }
            })
            .collect();
        type IndexRow = (String, u64, Option<String>, Option<u64>, String);
        let rows: Vec<IndexRow> = self
            .conn
            .exec(
                "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? \
                 ORDER BY INDEX_NAME, SEQ_IN_INDEX",
                at,
            )
            .await?;
        let mut primary_key = Vec::new();
        let mut indexes: Vec<IndexSchema> = Vec::new();
        for (index, non_unique, column, prefix, index_type) in rows {
            if index == "PRIMARY" {
                primary_key.extend(column);
                continue;
            }
            let kind = IndexKind::from_word(&index_type);
            if indexes.last().is_none_or(|last| last.name != index) {
                indexes.push(IndexSchema {
                    name: index,
                    columns: Vec::new(),
                    unique: non_unique == 0,
                    definition: None,
                    kind,
                });
            }
            let last = indexes.last_mut().expect("pushed above");
            match (column, prefix) {
                (Some(column), None) => last.columns.push(column),
                // A spatial index's columns are whole (MariaDB shows a
                // prefix of 32 for them).
                (Some(column), Some(_)) if kind == IndexKind::Spatial => last.columns.push(column),
                // A prefix or an expression: only MySQL's own words say it.
                _ => last.definition = Some(String::new()),
            }
        }
        for index in indexes.iter_mut().filter(|i| i.definition.is_some()) {
            index.columns.clear();
            index.definition = Some(self.index_definition(&database, table, &index.name).await?);
        }
        type ForeignRow = (
            String,
            String,
            Option<String>,
            String,
            String,
            String,
            String,
        );
        let rows: Vec<ForeignRow> = self
            .conn
            .exec(
                "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, \
                        k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE \
                 FROM information_schema.KEY_COLUMN_USAGE k \
                 JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
                   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
                  AND r.TABLE_NAME = k.TABLE_NAME \
                 WHERE k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL \
                 ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
                at,
            )
            .await?;
        let mut foreign_keys = Vec::new();
        for (name, column, schema, referenced, referenced_column, on_delete, on_update) in rows {
            // The same database is left unqualified, so a restore into
            // another database points at its own tables.
            let key = ForeignKey {
                name,
                columns: Vec::new(),
                references: QualifiedName {
                    schema: schema.filter(|s| *s != database),
                    name: referenced,
                },
                referenced_columns: Vec::new(),
                on_delete,
                on_update,
            };
            add_key_column(&mut foreign_keys, key, column, Some(referenced_column));
        }
        let checks = self.checks(&database, &table.name, &json).await?;
        Ok((columns, primary_key, indexes, foreign_keys, checks))
    }

    async fn database_or(&mut self, schema: Option<&str>) -> Result<String> {
        if let Some(schema) = schema {
            return Ok(schema.to_string());
        }
        let database: Option<String> = self.conn.query_first("SELECT DATABASE()").await?;
        match database {
            Some(database) => Ok(database),
            None => bail!("--url names no database: add /dbname to it, or give --schema"),
        }
    }

    /// The table's CHECK constraints, but MariaDB's `json_valid` checks
    /// of its JSON columns (`json` makes them again). MariaDB names the
    /// table of each; MySQL only names the constraint, unique in its
    /// database, which `TABLE_CONSTRAINTS` ties to its table.
    async fn checks(&mut self, database: &str, table: &str, json: &[String]) -> Result<Vec<Check>> {
        let mariadb = self
            .conn
            .exec(
                "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? ORDER BY CONSTRAINT_NAME",
                (database, table),
            )
            .await;
        let rows: Vec<(String, String)> = match mariadb {
            Ok(rows) => rows,
            // MySQL before 8.0.16 has neither CHECK constraints nor this
            // table: none.
            Err(_) => self
                .conn
                .exec(
                    "SELECT c.CONSTRAINT_NAME, c.CHECK_CLAUSE \
                         FROM information_schema.CHECK_CONSTRAINTS c \
                         JOIN information_schema.TABLE_CONSTRAINTS t \
                           ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA \
                          AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME \
                         WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ? \
                           AND t.CONSTRAINT_TYPE = 'CHECK' ORDER BY c.CONSTRAINT_NAME",
                    (database, table),
                )
                .await
                .unwrap_or_default(),
        };
        let json_valid = |clause: &str| {
            json.iter().any(|column| {
                let quoted = Dialect::Mysql.quote(column);
                clause == format!("json_valid({quoted})")
            })
        };
        Ok(rows
            .into_iter()
            .filter(|(_, clause)| !json_valid(clause))
            .map(|(name, clause)| Check {
                name,
                definition: format!("CHECK ({clause})"),
            })
            .collect())
    }

    /// The key part list of one index's `KEY ...` line in `SHOW CREATE
    /// TABLE`: `` (`doc`(10), `b`) ``.
    async fn index_definition(
        &mut self,
        database: &str,
        table: &QualifiedName,
        index: &str,
    ) -> Result<String> {
        let quoted = crate::db::dialect::Dialect::Mysql.quote_qualified(&QualifiedName {
            schema: Some(database.to_string()),
            name: table.name.clone(),
        });
        let create: Option<(String, String)> = self
            .conn
            .query_first(format!("SHOW CREATE TABLE {quoted}"))
            .await?;
        let create = create.map(|(_, sql)| sql).unwrap_or_default();
        let key = format!("KEY {} ", crate::db::dialect::Dialect::Mysql.quote(index));
        let columns = create
            .lines()
            .filter_map(|l| l.trim().trim_end_matches(',').split_once(&key))
            .map(|(_, columns)| columns)
            .next()
            .unwrap_or_default();
        Ok(columns.to_string())
    }
}
