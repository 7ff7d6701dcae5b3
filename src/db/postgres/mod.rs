//! PostgreSQL through tokio-postgres.
//!
//! Values are rendered to canonical text on the server, by the `SELECT`
//! list built here, and only then sent. Every strategy runs that same list,
//! so `COPY` (whose bytes pass straight through) and the row-by-row
//! strategies cannot disagree on a single byte. The session is pinned to
//! `TimeZone = UTC`, ISO dates and shortest-exact floats, so the same row
//! exports the same bytes from every machine.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures_util::{pin_mut, TryStreamExt};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{FromSql, Kind as TypeKind, ToSql, Type};
use tokio_postgres::{Client, Row};

mod catalog;
mod connect;
mod copy;
mod render;
mod tls;
mod write;

pub use copy::Copy;
use render::{copy_render, fix_timestamp, is_text_type, render};
pub use write::value_expression;

use crate::cell::{Cell, Column, RowSink};
use crate::coltype::ColType;
use crate::db::dialect::Dialect;
use crate::db::errors::no_answer;
use crate::db::relation::{
    check_names, choose_key, output_names, trim_query, ChunkRead, Chunks, Key, Read, Relation,
    Request, Source,
};
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::plan::{Select, Statement};
use crate::tls::TlsMode;
use crate::url::DbUrl;

pub struct Postgres {
    client: Client,
    /// Keyset chunks after the first all run the same SQL: prepare it once.
    prepared: Option<(String, tokio_postgres::Statement)>,
    /// How each output column's text becomes a cell, set by `describe`.
    kinds: Vec<ValueKind>,
    /// What the client finishes in each column's text on the row path.
    row_fixups: Vec<Fixup>,
    /// The select list `COPY` uses: like the row strategies' list, but
    /// numbers stay raw, since `COPY` writes them in the same text form
    /// without the cost of a cast. A key column whose text is not already
    /// in the list comes last, read only to checkpoint.
    copy_list: Vec<String>,
    /// Where each key column's own text stands in a `COPY` row.
    copy_key_positions: Vec<usize>,
    /// How each column's raw `COPY` text becomes canonical on the client.
    copy_fixups: Vec<Fixup>,
}

/// Types whose output text is not yet canonical are sent raw by `COPY`
/// and finished on the client, which costs far less than rendering them
/// on the server (`to_json` for a timestamp doubles the server's time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fixup {
    None,
    /// `t`/`f` → `true`/`false`.
    Bool,
    /// `\x0102` → `0102`.
    Bytea,
    /// `\x0102` → the bytes 01 02, for formats that store binary as it is.
    ByteaRaw,
    /// `2024-05-26 10:00:00` → `2024-05-26T10:00:00`.
    Timestamp,
    /// As `Timestamp`, and `+00` → `+00:00`.
    TimestampTz,
}

/// What the text of a column means, for NDJSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    Text,
    Number,
    Bool,
    Json,
}

/// One column as the catalog describes it.
pub(super) struct PgColumn {
    name: String,
    attnum: i16,
    /// `format_type()`: the type as SQL spells it, for casting key values.
    sql_type: String,
    /// `format_type()` without the type modifier: see `TargetColumn::cast_type`.
    /// `character` and `bit` without a length mean a length of 1, so those
    /// become `bpchar` and `varbit`, which have no limit.
    cast_type: String,
    type_name: String,
    is_array: bool,
    is_enum: bool,
    not_null: bool,
}

impl Postgres {
    /// Opens a repeatable-read transaction and exports its snapshot, for
    /// `--parallel` workers to share. The transaction must stay open until
    /// every worker has joined it.
    pub async fn export_snapshot(&mut self) -> Result<String> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
        let row = self
            .client
            .query_one("SELECT pg_export_snapshot()", &[])
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Starts a transaction that sees exactly the exported snapshot.
    pub async fn join_snapshot(&mut self, snapshot: &str) -> Result<()> {
        connect::join_snapshot(&self.client, snapshot).await
    }

    pub async fn describe(&mut self, request: &Request) -> Result<Relation> {
        let (all, unique_keys, from) = match &request.source {
            Source::Table(table) => self.table_columns(table).await?,
            Source::Query(query) => self.query_columns(query).await?,
        };
        let names: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
        let output: Vec<&PgColumn> = output_names(request, &names)?
            .iter()
            .map(|n| all.iter().find(|c| &c.name == n).expect("checked"))
            .collect();
        if let Some(key) = &request.key {
            check_names("key column", key, &names, &request.source)?;
        }
        let (key, key_check) = choose_key(request.key.as_deref(), unique_keys.as_deref());
        // Qualified references, so that `ORDER BY` binds to the column and
        // not to the select list's text rendering of it, which has the same
        // name (text order would put 10 before 2).
        let qualifier = match &request.source {
            Source::Query(_) => "q.".to_string(),
            Source::Table(_) => format!("{from}."),
        };
        let reference = |c: &PgColumn| format!("{qualifier}{}", Dialect::Postgres.quote(&c.name));
        let mut list = Vec::new();
        self.kinds.clear();
        self.row_fixups.clear();
        self.copy_list.clear();
        self.copy_fixups.clear();
        for column in &output {
            let (expr, kind, row_fixup) = render(&reference(column), column, request.format);
            let (copy_expr, fixup) = copy_render(&reference(column), &expr, column, request.format);
            self.copy_list.push(copy_expr);
            self.copy_fixups.push(fixup);
            list.push(expr);
            self.kinds.push(kind);
            self.row_fixups.push(row_fixup);
        }
        let mut key_positions = Vec::new();
        let mut key_params = Vec::new();
        for (i, name) in key.iter().enumerate() {
            let column = all.iter().find(|c| &c.name == name).expect("checked");
            let text = format!("{}::text", reference(column));
            let reusable = |e: &String| {
                *e == text || (*e == reference(column) && is_text_type(&column.type_name))
            };
            match output
                .iter()
                .position(|c| &c.name == name)
                .filter(|&p| reusable(&list[p]))
            {
                Some(p) => key_positions.push(p),
                None => {
                    key_positions.push(list.len());
                    list.push(text);
                }
            }
            key_params.push(format!("${}::text::{}", i + 1, column.sql_type));
        }
        // A raw column's `COPY` text is its type's output, as `::text` is.
        self.copy_key_positions.clear();
        for name in &key {
            let column = all.iter().find(|c| &c.name == name).expect("checked");
            let raw = reference(column);
            let at = output.iter().position(|c| &c.name == name);
            match at.filter(|&p| self.copy_list[p] == raw) {
                Some(p) => self.copy_key_positions.push(p),
                None => {
                    self.copy_key_positions.push(self.copy_list.len());
                    self.copy_list.push(format!("{raw}::text"));
                }
            }
        }
        let columns = output
            .iter()
            .map(|c| {
                let ty = ColType::postgres(&c.type_name, &c.sql_type, c.is_array, c.is_enum);
                Column::typed(c.name.clone(), c.sql_type.clone(), ty)
            })
            .collect();
        Ok(Relation {
            columns,
            key_positions,
            select: Select {
                dialect: Dialect::Postgres,
                list,
                from,
                filter: request.filter.clone(),
                key: key
                    .iter()
                    .map(|k| format!("{qualifier}{}", Dialect::Postgres.quote(k)))
                    .collect(),
                key_params,
            },
            key_names: key,
            key_check,
            plain_query: None,
        })
    }

    /// The catalog's id of a table (its quoted name); `None`: no such table.
    pub(super) async fn oid_of(&self, quoted: &str) -> Result<Option<u32>> {
        Ok(self
            .client
            .query_one("SELECT to_regclass($1::text)::oid", &[&quoted])
            .await?
            .get(0))
    }

    /// The table's columns, its row-identifying keys, and its quoted name.
    pub(super) async fn table_columns(
        &mut self,
        table: &QualifiedName,
    ) -> Result<(Vec<PgColumn>, Option<Vec<Vec<String>>>, String)> {
        let quoted = Dialect::Postgres.quote_qualified(table);
        let Some(oid) = self.oid_of(&quoted).await? else {
            if table.schema.is_some() {
                bail!(
                    "table {} does not exist: check the schema and table names{}",
                    table.display(),
                    table.dot_hint()
                );
            }
            let path: String = self
                .client
                .query_one("SELECT array_to_string(current_schemas(false), ', ')", &[])
                .await?
                .get(0);
            bail!(
                "table {} does not exist (schemas searched: {path}): check the name, or qualify \
                 it as schema.table",
                table.display()
            );
        };
        let rows = self
            .client
            .query(
                "SELECT a.attname::text, a.attnum, format_type(a.atttypid, a.atttypmod), t.typname::text, \
                        t.typcategory = 'A', t.typtype = 'e', a.attnotnull, \
                        CASE a.atttypid WHEN 'bpchar'::regtype THEN 'bpchar' \
                                        WHEN '_bpchar'::regtype THEN 'bpchar[]' \
                                        WHEN 'bit'::regtype THEN 'varbit' \
                                        WHEN '_bit'::regtype THEN 'varbit[]' \
                                        ELSE format_type(a.atttypid, NULL) END \
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                &[&oid],
            )
            .await?;
        let columns: Vec<PgColumn> = rows
            .iter()
            .map(|r| PgColumn {
                name: r.get(0),
                attnum: r.get(1),
                sql_type: r.get(2),
                type_name: r.get(3),
                is_array: r.get(4),
                is_enum: r.get(5),
                not_null: r.get(6),
                cast_type: r.get(7),
            })
            .collect();
        let keys = self.unique_keys(oid, &columns).await?;
        Ok((columns, Some(keys), quoted))
    }

    /// Every valid, non-partial unique index whose columns are all NOT NULL:
    /// the primary key first, then the narrowest.
    async fn unique_keys(&mut self, oid: u32, columns: &[PgColumn]) -> Result<Vec<Vec<String>>> {
        let rows = self
            .client
            .query(
                "SELECT (i.indkey::int2[])[0:i.indnkeyatts - 1] FROM pg_index i \
                 WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid \
                   AND i.indpred IS NULL AND i.indexprs IS NULL \
                 ORDER BY i.indisprimary DESC, i.indnkeyatts, i.indexrelid",
                &[&oid],
            )
            .await?;
        let mut keys = Vec::new();
        for row in rows {
            let attnums: Vec<i16> = row.get(0);
            let key: Option<Vec<String>> = attnums
                .iter()
                .map(|n| columns.iter().find(|c| c.attnum == *n && c.not_null))
                .map(|c| c.map(|c| c.name.clone()))
                .collect();
            keys.extend(key);
        }
        Ok(keys)
    }

    /// A query's columns from the prepared statement; it is read as
    /// `(query) AS q(c1, c2, ...)`, which also tolerates duplicate names.
    async fn query_columns(
        &mut self,
        query: &str,
    ) -> Result<(Vec<PgColumn>, Option<Vec<Vec<String>>>, String)> {
        let query = trim_query(query);
        let statement = self
            .client
            .prepare(query)
            .await
            .context("preparing --query")?;
        let mut columns = Vec::new();
        for (i, c) in statement.columns().iter().enumerate() {
            columns.push(PgColumn {
                name: c.name().to_string(),
                attnum: i as i16 + 1,
                sql_type: qualified_type_name(c.type_()),
                // A query's result columns carry no type modifier.
                cast_type: qualified_type_name(c.type_()),
                type_name: c.type_().name().to_string(),
                is_array: matches!(c.type_().kind(), TypeKind::Array(_)),
                is_enum: matches!(c.type_().kind(), TypeKind::Enum(_)),
                not_null: false,
            });
        }
        let aliases: Vec<String> = columns
            .iter()
            .map(|c| Dialect::Postgres.quote(&c.name))
            .collect();
        let mut unique = aliases.clone();
        unique.sort();
        unique.dedup();
        let from = if unique.len() == aliases.len() {
            format!("({query}) AS q({})", aliases.join(", "))
        } else {
            bail!("--query returns two columns with the same name; give them distinct aliases (AS ...)");
        };
        Ok((columns, None, from))
    }

    /// Runs `read`'s statement, binding its key. A keyset chunk is sent
    /// whole; a streamed read (`cursor`) goes through a portal in a
    /// read-only transaction, fetched `read.chunk` rows at a time, so the
    /// server never sends more than a chunk ahead of what is written.
    pub async fn read(&mut self, read: &Read<'_>, sink: &mut impl RowSink) -> Result<ChunkRead> {
        let params = key_params(read.statement, read.after);
        let mut chunks = Chunks::new(read.chunk, read.relation);
        if !read.streamed {
            let prepared = self.prepare(&read.statement.sql).await?;
            let stream = self.client.query_raw(&prepared, params.iter()).await?;
            let render = (&self.kinds[..], &self.row_fixups[..]);
            push_rows(stream, read, render, &mut chunks, sink).await?;
            return chunks.finish(sink);
        }
        let transaction = self
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .await?;
        let statement = transaction.prepare(&read.statement.sql).await?;
        let bound: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let portal = transaction.bind(&statement, &bound).await?;
        let fetch = i32::try_from(read.chunk).unwrap_or(i32::MAX);
        let render = (&self.kinds[..], &self.row_fixups[..]);
        loop {
            let stream = transaction.query_portal_raw(&portal, fetch).await?;
            let (rows, more) = push_rows(stream, read, render, &mut chunks, sink).await?;
            if !more || rows < fetch as u64 {
                break;
            }
        }
        chunks.finish(sink)
    }

    pub async fn explain(&mut self, statement: &Statement, after: Option<&Key>) -> Result<String> {
        let params = key_params(statement, after);
        let explain = format!("EXPLAIN {}", statement.sql);
        let prepared = self.client.prepare(&explain).await?;
        let stream = self.client.query_raw(&prepared, params.iter()).await?;
        pin_mut!(stream);
        let mut plan = String::new();
        while let Some(row) = stream.try_next().await? {
            plan.push_str(row.try_get::<_, &str>(0)?);
            plan.push('\n');
        }
        Ok(plan)
    }

    /// The planner's row estimate, which needs no scan.
    pub async fn estimate(&mut self, select: &Select) -> Result<Option<u64>> {
        let mut sql = format!("EXPLAIN (FORMAT JSON) SELECT 1 FROM {}", select.from);
        if let Some(filter) = &select.filter {
            sql.push_str(&format!(" WHERE ({filter})"));
        }
        let row = self.client.query_one(&sql, &[]).await?;
        let text: RawText<'_> = row.try_get(0)?;
        let plan: serde_json::Value = serde_json::from_slice(text.0)?;
        Ok(plan[0]["Plan"]["Plan Rows"]
            .as_f64()
            .map(|r| r.max(0.0) as u64))
    }

    pub async fn count(&mut self, sql: &str) -> Result<u64> {
        let n: i64 = self.client.query_one(sql, &[]).await?.get(0);
        Ok(n as u64)
    }

    /// The first row of `sql`, every value in the server's text form (the
    /// form a [`Key::Text`] binds back); `None` when there is no row.
    pub async fn first_row(&mut self, sql: &str) -> Result<Option<Key>> {
        Ok(self.key_rows(sql).await?.into_iter().next())
    }

    /// Every row of `sql`, each column in its text form.
    pub async fn key_rows(&mut self, sql: &str) -> Result<Vec<Key>> {
        use tokio_postgres::SimpleQueryMessage;
        let mut rows = Vec::new();
        for message in self.client.simple_query(sql).await? {
            if let SimpleQueryMessage::Row(row) = message {
                let values = (0..row.len()).map(|i| row.get(i).map(str::to_string));
                rows.push(Key::Text(values.collect()));
            }
        }
        Ok(rows)
    }

    async fn prepare(&mut self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some((cached_sql, statement)) = &self.prepared {
            if cached_sql == sql {
                return Ok(statement.clone());
            }
        }
        let statement = self.client.prepare(sql).await?;
        self.prepared = Some((sql.to_string(), statement.clone()));
        Ok(statement)
    }
}

fn qualified_type_name(ty: &Type) -> String {
    if ty.schema() == "pg_catalog" {
        ty.name().to_string()
    } else {
        format!(
            "{}.{}",
            Dialect::Postgres.quote(ty.schema()),
            Dialect::Postgres.quote(ty.name())
        )
    }
}

/// Any column's value as its raw bytes; every column is text-typed by the
/// select list, so these are the canonical text.
struct RawText<'a>(&'a [u8]);

impl<'a> FromSql<'a> for RawText<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawText(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[inline]
/// `fixed`: scratch space for the columns whose text the client finishes.
fn push_row(
    kinds: &[ValueKind],
    fixups: &[Fixup],
    row: &Row,
    width: usize,
    sink: &mut impl RowSink,
    fixed: &mut Vec<u8>,
) -> Result<()> {
    for (i, (&kind, &fixup)) in kinds.iter().zip(fixups).enumerate().take(width) {
        let value: Option<RawText<'_>> = row.try_get(i)?;
        sink.cell(match value {
            None => Cell::Null,
            Some(RawText(text)) => fixed_cell(kind, fixup, text, fixed),
        });
    }
    Ok(())
}

/// A column's text as a cell, finished as its fixup says (into `fixed`
/// when the text changes).
#[inline]
fn fixed_cell<'a>(
    kind: ValueKind,
    fixup: Fixup,
    text: &'a [u8],
    fixed: &'a mut Vec<u8>,
) -> Cell<'a> {
    match fixup {
        Fixup::None => cell(kind, text),
        Fixup::Bool => Cell::Bool(text == b"t"),
        Fixup::Bytea => Cell::Text(text.strip_prefix(b"\\x").unwrap_or(text)),
        Fixup::ByteaRaw => {
            fixed.clear();
            let hex = text.strip_prefix(b"\\x").unwrap_or(text);
            match crate::format::parquet::text::decode_hex(hex, fixed) {
                Some(()) => Cell::Bytes(fixed),
                None => Cell::Text(text), // not bytea output: refused downstream
            }
        }
        Fixup::Timestamp | Fixup::TimestampTz => {
            fix_timestamp(text, fixup == Fixup::TimestampTz, fixed);
            Cell::Text(fixed)
        }
    }
}

#[inline]
fn cell(kind: ValueKind, text: &[u8]) -> Cell<'_> {
    match kind {
        ValueKind::Text => Cell::Text(text),
        ValueKind::Number => Cell::Number(text),
        ValueKind::Bool => Cell::Bool(text == b"true"),
        ValueKind::Json => Cell::Json(text),
    }
}

/// Pushes the rows of one result into `sink`, ending them through
/// `chunks`; returns how many came and whether more are wanted.
async fn push_rows(
    stream: tokio_postgres::RowStream,
    read: &Read<'_>,
    (kinds, fixups): (&[ValueKind], &[Fixup]),
    chunks: &mut Chunks,
    sink: &mut impl RowSink,
) -> Result<(u64, bool)> {
    pin_mut!(stream);
    let width = read.relation.columns.len();
    let mut fixed = Vec::new();
    let mut rows = 0;
    while let Some(row) = stream.try_next().await? {
        push_row(kinds, fixups, &row, width, sink, &mut fixed)?;
        rows += 1;
        let more = sink.end_row()?;
        chunks.row(sink, || row_key(&row, &read.relation.key_positions))?;
        if !more {
            return Ok((rows, false));
        }
    }
    Ok((rows, true))
}

fn row_key(row: &Row, positions: &[usize]) -> Result<Key> {
    let mut values = Vec::with_capacity(positions.len());
    for &p in positions {
        let value: Option<RawText<'_>> = row.try_get(p)?;
        values.push(value.map(|v| String::from_utf8_lossy(v.0).into_owned()));
    }
    Ok(Key::Text(values))
}

fn key_params<'a>(statement: &Statement, after: Option<&'a Key>) -> Vec<Option<&'a str>> {
    match after {
        Some(Key::Text(values)) => statement
            .params
            .iter()
            .map(|&k| values[k].as_deref())
            .collect(),
        _ => Vec::new(),
    }
}

/// A SQL string literal (standard_conforming_strings is on).
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_double_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
    }
}
