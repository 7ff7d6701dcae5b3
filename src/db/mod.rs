//! The three engines behind one enum.
//!
//! Each engine connects, describes what is exported (columns, key, the
//! `SELECT` to run), reads rows and pushes them as [`Cell`]s into a
//! [`RowSink`], and counts. The SQL text comes from [`crate::plan`]; the
//! engines only run it and bind key values.
//!
//! [`Cell`]: crate::cell::Cell

pub mod catalog;
pub mod dialect;
pub mod errors;
pub mod mysql;
pub mod postgres;
pub mod relation;
pub mod sqlite;

pub use dialect::Dialect;
pub use errors::{hint_raw_sql, is_connection_lost, no_answer};
pub use relation::*;

use anyhow::Result;

use crate::cell::RowSink;
use crate::engine::Engine;
use crate::ident::QualifiedName;
use crate::plan::{Select, Statement};
use crate::url::DbUrl;

/// `$call` on whichever engine `$db` is, awaited on PostgreSQL and MySQL
/// (rusqlite is synchronous): the dispatch of most of `Db`'s methods.
macro_rules! on_engine {
    ($self:ident, $db:ident => $call:expr) => {
        match $self {
            Db::Postgres($db) => $call.await,
            Db::Mysql($db) => $call.await,
            Db::Sqlite($db) => $call,
        }
    };
}

pub enum Db {
    Postgres(postgres::Postgres),
    Mysql(mysql::Mysql),
    Sqlite(sqlite::Sqlite),
}

impl Db {
    pub async fn connect(url: &DbUrl) -> Result<Db> {
        Ok(match url.engine {
            Engine::Postgres => Db::Postgres(postgres::Postgres::connect(url).await?),
            Engine::Mysql => Db::Mysql(mysql::Mysql::connect(url).await?),
            Engine::Sqlite => Db::Sqlite(sqlite::Sqlite::open(url)?),
        })
    }

    /// A connection that may write: SQLite files are otherwise opened
    /// read-only.
    pub async fn connect_for_import(url: &DbUrl) -> Result<Db> {
        match url.engine {
            Engine::Sqlite => Ok(Db::Sqlite(sqlite::Sqlite::open_writable(url)?)),
            _ => Db::connect(url).await,
        }
    }

    pub async fn describe_target(&mut self, table: &QualifiedName) -> Result<TargetTable> {
        on_engine!(self, db => db.describe_target(table))
    }

    /// Runs statements that return no rows (`BEGIN`, `SAVEPOINT`, ...).
    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        on_engine!(self, db => db.execute(sql))
    }

    /// Starts a transaction; with `with_id`, returns its id where the
    /// engine can later tell whether it committed (PostgreSQL), read in
    /// the same round trip.
    pub async fn begin(&mut self, with_id: bool) -> Result<Option<String>> {
        match self {
            Db::Postgres(db) if with_id => db.begin_with_id().await.map(Some),
            db => db.execute("BEGIN").await.map(|()| None),
        }
    }

    /// Whether the transaction `xid` (from [`Db::begin`])
    /// committed; `None` when that cannot be known any more.
    pub async fn transaction_committed(&mut self, xid: &str) -> Result<Option<bool>> {
        match self {
            Db::Postgres(db) => db.transaction_committed(xid).await,
            Db::Mysql(_) | Db::Sqlite(_) => Ok(None),
        }
    }

    /// Inserts `rows` (values in `insert.columns` order); returns how many
    /// rows the server reports as written.
    pub async fn insert(
        &mut self,
        insert: &crate::plan::insert::Insert,
        rows: &[Vec<crate::values::Value>],
    ) -> Result<u64> {
        on_engine!(self, db => db.insert(insert, rows))
    }

    /// Writes `rows` the fastest way `strategy` names. Only PostgreSQL has
    /// `copy` and only MySQL `load-data`; the plan checks that first.
    /// `bulk` is the rows already in that strategy's text, encoded by the
    /// input thread ([`crate::writer::Batch::push_bulk`]).
    pub async fn write_fast(
        &mut self,
        strategy: crate::plan::insert::ImportStrategy,
        insert: &crate::plan::insert::Insert,
        rows: &[Vec<crate::values::Value>],
        bulk: &[u8],
    ) -> Result<u64> {
        if crate::bulk::BulkFormat::for_strategy(strategy).is_none() {
            return self.insert(insert, rows).await;
        }
        debug_assert!(
            rows.is_empty() || !bulk.is_empty(),
            "a {strategy:?} batch without its bulk text"
        );
        let bulk = bytes::Bytes::copy_from_slice(bulk);
        match self {
            Db::Postgres(db) => db.copy_in(insert, bulk).await,
            Db::Mysql(db) => db.load_data(insert, bulk).await,
            db => db.insert(insert, rows).await,
        }
    }

    /// The base tables of `schema` (PostgreSQL: else the search path's
    /// schemas; MySQL: else the URL's database; SQLite: else `main`).
    pub async fn list_tables(&mut self, schema: Option<&str>) -> Result<Vec<QualifiedName>> {
        on_engine!(self, db => db.list_relations(schema, catalog::Listed::Tables))
    }

    /// The views of `schema` (PostgreSQL's materialized ones too), which a
    /// dump leaves out.
    pub async fn list_views(&mut self, schema: Option<&str>) -> Result<Vec<QualifiedName>> {
        on_engine!(self, db => db.list_relations(schema, catalog::Listed::Views))
    }

    /// The sequences no column owns: PostgreSQL's, and MariaDB's (MySQL
    /// and SQLite have none).
    pub async fn list_sequences(&mut self, schema: Option<&str>) -> Result<Vec<catalog::Sequence>> {
        match self {
            Db::Postgres(db) => db.list_sequences(schema).await,
            Db::Mysql(db) => db.list_sequences(schema).await,
            Db::Sqlite(_) => Ok(Vec::new()),
        }
    }

    /// A table's columns, keys, indexes, foreign keys and checks.
    pub async fn table_schema(&mut self, table: &QualifiedName) -> Result<catalog::TableSchema> {
        let (columns, primary_key, indexes, foreign_keys, checks) =
            on_engine!(self, db => db.table_parts(table))?;
        Ok(catalog::TableSchema {
            name: table.clone(),
            columns,
            primary_key,
            indexes,
            foreign_keys,
            checks,
        })
    }

    /// `COUNT(*)` of a whole table.
    pub async fn count_table(&mut self, table: &QualifiedName) -> Result<u64> {
        let quoted = Dialect::of(self.engine()).quote_qualified(table);
        self.count_sql(&format!("SELECT COUNT(*) FROM {quoted}"))
            .await
    }

    /// The engine and its version: `PostgreSQL 15.19`, `MariaDB 10.11.19`.
    pub async fn server_version(&mut self) -> Result<String> {
        match self {
            Db::Postgres(db) => db.server_version().await,
            Db::Mysql(db) => db.server_version().await,
            Db::Sqlite(db) => Ok(db.server_version()),
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Postgres(_) => Engine::Postgres,
            Db::Mysql(_) => Engine::Mysql,
            Db::Sqlite(_) => Engine::Sqlite,
        }
    }

    pub async fn describe(&mut self, request: &Request) -> Result<Relation> {
        on_engine!(self, db => db.describe(request))
    }

    /// Runs one statement, binding `read.after` to its parameters, and
    /// ends its rows in chunks of `read.chunk`.
    pub async fn read(&mut self, read: &Read<'_>, sink: &mut impl RowSink) -> Result<ChunkRead> {
        on_engine!(self, db => db.read(read, sink))
    }

    /// The key of row `n` in key order, read with a one-row offset query
    /// (the index walks `n` entries; nothing is sent but the one row).
    pub async fn key_of_row(&mut self, relation: &Relation, n: u64) -> Result<Option<Key>> {
        self.key_after(relation, None, n).await
    }

    /// The key of the `n`th row after `after` (of row `n` when `None`):
    /// splitting walks on from the last cut instead of from the start, so
    /// cutting N ranges walks the index once, not N/2 times.
    pub async fn key_after(
        &mut self,
        relation: &Relation,
        after: Option<&Key>,
        n: u64,
    ) -> Result<Option<Key>> {
        let skip = n.saturating_sub(1);
        let statement = match after {
            None => relation.select.offset_chunk(1, skip),
            Some(_) => {
                let mut statement = relation.select.keyset_chunk(1, true);
                if skip > 0 {
                    statement.sql.push_str(&format!(" OFFSET {skip}"));
                }
                statement
            }
        };
        let read = Read {
            relation,
            statement: &statement,
            after,
            chunk: 1,
            streamed: false,
        };
        Ok(self.read(&read, &mut Discard).await?.last_key)
    }

    /// The engine's query plan for `statement`, as text.
    pub async fn explain(&mut self, statement: &Statement, after: Option<&Key>) -> Result<String> {
        on_engine!(self, db => db.explain(statement, after))
    }

    /// A fast estimate of how many rows `SELECT ... FROM from WHERE filter`
    /// returns, from the planner or the catalog. `None` when the engine has
    /// no cheap way to tell.
    pub async fn estimate(&mut self, select: &Select) -> Result<Option<u64>> {
        on_engine!(self, db => db.estimate(select))
    }

    /// The planner's estimate of how many rows the export's own query
    /// (its `--where`, its `--query`) returns, for a progress total and
    /// `count --estimate`; `None` when the engine has no estimate of that
    /// query. [`Db::estimate`] may instead give the rows a plan examines,
    /// which is enough to split a key range but not to promise a total.
    pub async fn estimate_returned(&mut self, select: &Select) -> Result<Option<u64>> {
        match self {
            Db::Mysql(db) => db.estimate_returned(select).await,
            _ => self.estimate(select).await,
        }
    }

    /// Exact `COUNT(*)`.
    pub async fn count(&mut self, select: &Select) -> Result<u64> {
        self.count_sql(&count_sql(select)).await
    }

    /// Whether some key value is NULL or shared by two rows: one grouped
    /// scan, stopped at the first offending group.
    pub async fn key_has_duplicates(&mut self, select: &Select) -> Result<bool> {
        let any_null: Vec<String> = select.key.iter().map(|k| format!("{k} IS NULL")).collect();
        let mut inner = format!("SELECT 1 AS x FROM {}", select.from);
        if let Some(filter) = &select.filter {
            inner.push_str(&format!(" WHERE ({filter})"));
        }
        inner.push_str(&format!(
            " GROUP BY {} HAVING COUNT(*) > 1 OR SUM(CASE WHEN {} THEN 1 ELSE 0 END) > 0 LIMIT 1",
            select.key.join(", "),
            any_null.join(" OR ")
        ));
        let found = self
            .count_sql(&format!("SELECT COUNT(*) FROM ({inner}) AS d"))
            .await?;
        Ok(found > 0)
    }

    /// The first row of a statement, in the form each engine binds back
    /// as a [`Key`] (and writes as SQL literals); `None` without a row.
    pub async fn first_row(&mut self, sql: &str) -> Result<Option<Key>> {
        on_engine!(self, db => db.first_row(sql))
    }

    /// Every row of a statement, each in the form [`Db::first_row`] gives.
    pub async fn key_rows(&mut self, sql: &str) -> Result<Vec<Key>> {
        match self {
            Db::Postgres(db) => db.key_rows(sql).await,
            Db::Mysql(db) => db.key_rows(sql).await,
            Db::Sqlite(db) => db.key_rows(sql, usize::MAX),
        }
    }

    /// Runs a statement that returns one integer.
    async fn count_sql(&mut self, sql: &str) -> Result<u64> {
        on_engine!(self, db => db.count(sql))
    }
}

/// A sink that drops rows: used where only the key of a row is wanted.
struct Discard;

impl RowSink for Discard {
    fn cell(&mut self, _: crate::cell::Cell<'_>) {}
    fn end_row(&mut self) -> Result<bool> {
        Ok(true)
    }
    fn raw_rows(&mut self, _: &[u8], _: u64) -> Result<bool> {
        Ok(true)
    }
    fn end_chunk(&mut self, _: Option<&Key>) -> Result<()> {
        Ok(())
    }
}

fn count_sql(select: &Select) -> String {
    let mut sql = format!("SELECT COUNT(*) FROM {}", select.from);
    if let Some(filter) = &select.filter {
        sql.push_str(&format!(" WHERE ({filter})"));
    }
    sql
}
