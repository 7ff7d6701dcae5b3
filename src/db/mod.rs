//! The three engines behind one enum.
//!
//! Each engine connects, describes what is exported (columns, key, the
//! `SELECT` to run), reads rows and pushes them as [`Cell`]s into a
//! [`RowSink`], and counts. The SQL text comes from [`crate::plan`]; the
//! engines only run it and bind key values.
//!
//! [`Cell`]: crate::cell::Cell

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use anyhow::Result;

use crate::cell::{Column, RowSink};
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::plan::{Select, Statement};
use crate::url::{DbUrl, Engine};

/// A column an import writes into.
#[derive(Clone, Debug)]
pub struct TargetColumn {
    pub name: String,
    /// The type as the engine spells it, for messages.
    pub sql_type: String,
    /// The type to cast input text to before it is stored: PostgreSQL's
    /// without its length or precision (`character varying`, not
    /// `character varying(10)`), because an explicit cast to `varchar(10)`
    /// cuts a longer value short, while storing it checks the length and
    /// fails. Elsewhere the same as `sql_type`.
    pub cast_type: String,
    pub target: crate::values::TargetType,
}

/// An import's target table, as the catalog describes it.
#[derive(Clone, Debug)]
pub struct TargetTable {
    /// The quoted, possibly qualified name.
    pub quoted: String,
    pub columns: Vec<TargetColumn>,
    /// The primary key (else a unique NOT NULL key): the conflict target
    /// of `--on-conflict update`.
    pub key: Vec<String>,
}

/// Quoting and placeholder rules of one engine's SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

impl Dialect {
    /// Quotes an identifier so that any name, even `x"; DROP TABLE y`, is
    /// taken as a name.
    pub fn quote(self, name: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        }
    }

    pub fn quote_qualified(self, name: &QualifiedName) -> String {
        match &name.schema {
            Some(schema) => format!("{}.{}", self.quote(schema), self.quote(&name.name)),
            None => self.quote(&name.name),
        }
    }
}

/// What to export: a table or the result of a query.
#[derive(Clone, Debug)]
pub enum Source {
    Table(QualifiedName),
    /// Raw SQL by design: the user's own query.
    Query(String),
}

impl Source {
    /// `table "x"` or `query`, for messages.
    pub fn label(&self) -> String {
        match self {
            Source::Table(t) => format!("table {}", t.display()),
            Source::Query(_) => "query".to_string(),
        }
    }
}

/// What the user asked to export, before the engine has looked at it.
#[derive(Clone, Debug)]
pub struct Request {
    pub source: Source,
    pub columns: Option<Vec<String>>,
    pub key: Option<Vec<String>>,
    pub filter: Option<String>,
    pub format: Format,
}

/// Whether the catalog shows that the key identifies every row. Keyset
/// and offset would skip or repeat rows on a key that is not unique or
/// holds NULLs, so an unproven key is checked against the data first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCheck {
    /// A unique index over NOT NULL columns (or the rowid) covers the key.
    Unique,
    /// A `--key` that no such index covers, or a `--query`'s `--key`.
    Unproven,
}

/// The key to use: `--key` if given, checked against the source's
/// row-identifying keys (`None` for a query, which has no catalog), else
/// the first of those keys.
pub fn choose_key(
    requested: Option<&[String]>,
    unique_keys: Option<&[Vec<String>]>,
) -> (Vec<String>, KeyCheck) {
    match (requested, unique_keys) {
        (Some(key), Some(keys)) => {
            let covered = keys.iter().any(|u| u.iter().all(|c| key.contains(c)));
            let check = if covered {
                KeyCheck::Unique
            } else {
                KeyCheck::Unproven
            };
            (key.to_vec(), check)
        }
        (Some(key), None) => (key.to_vec(), KeyCheck::Unproven),
        (None, Some(keys)) => (keys.first().cloned().unwrap_or_default(), KeyCheck::Unique),
        (None, None) => (Vec::new(), KeyCheck::Unproven),
    }
}

/// What an engine found: the output columns, the key and the `SELECT`.
#[derive(Clone, Debug)]
pub struct Relation {
    pub columns: Vec<Column>,
    /// Unquoted key column names; empty when there is no usable key.
    pub key_names: Vec<String>,
    pub key_check: KeyCheck,
    /// Where in the select list each key value is read from, to continue a
    /// keyset export after the last row.
    pub key_positions: Vec<usize>,
    pub select: Select,
    /// `--query` without key or filter: run the user's SQL as it is, so an
    /// `ORDER BY` inside it keeps its meaning.
    pub plain_query: Option<String>,
}

impl Relation {
    /// A relation that selects its columns as they are (MySQL, SQLite):
    /// the output columns, then any key column not among them (read to
    /// continue after the last row, never written).
    pub fn plain(
        dialect: Dialect,
        columns: Vec<Column>,
        output: Vec<String>,
        (key, key_check): (Vec<String>, KeyCheck),
        from: String,
        filter: Option<String>,
        plain_query: Option<String>,
    ) -> Relation {
        let d = dialect;
        let mut list: Vec<String> = output.iter().map(|n| d.quote(n)).collect();
        let mut key_positions = Vec::new();
        for k in &key {
            match output.iter().position(|o| o == k) {
                Some(p) => key_positions.push(p),
                None => {
                    key_positions.push(list.len());
                    list.push(d.quote(k));
                }
            }
        }
        Relation {
            columns,
            key_positions,
            select: Select {
                dialect: d,
                list,
                from,
                filter,
                key: key.iter().map(|k| d.quote(k)).collect(),
                key_params: vec!["?".to_string(); key.len()],
            },
            key_names: key,
            key_check,
            plain_query,
        }
    }

    /// The statement a `cursor` export runs.
    pub fn cursor_sql(&self, limit: Option<u64>) -> String {
        match &self.plain_query {
            Some(query) => query.clone(),
            None => self.select.full(limit),
        }
    }
}

/// The last key written, to continue after it. Each engine keeps the
/// values in the form it binds back most faithfully.
#[derive(Clone, Debug)]
pub enum Key {
    /// PostgreSQL: each key column's own text form, cast back on the server.
    Text(Vec<Option<String>>),
    Mysql(Vec<mysql_async::Value>),
    Sqlite(Vec<rusqlite::types::Value>),
}

impl Key {
    /// Each key value as an SQL literal, for messages and for the range
    /// conditions of `--parallel` workers. PostgreSQL's values are its own
    /// text forms, which an untyped literal turns back into the column's
    /// type; MySQL's literals come escaped from the driver.
    pub fn literals(&self) -> Vec<String> {
        use rusqlite::types::Value as Lite;
        let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
        match self {
            Key::Text(values) => values
                .iter()
                .map(|v| v.as_deref().map_or("NULL".into(), quoted))
                .collect(),
            Key::Mysql(values) => values.iter().map(|v| v.as_sql(false)).collect(),
            Key::Sqlite(values) => values
                .iter()
                .map(|v| match v {
                    Lite::Null => "NULL".to_string(),
                    Lite::Integer(i) => i.to_string(),
                    Lite::Real(f) => format!("{f:e}"),
                    Lite::Text(t) => quoted(t),
                    Lite::Blob(b) => {
                        let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
                        format!("x'{hex}'")
                    }
                })
                .collect(),
        }
    }
}

/// The outcome of one chunk query.
pub struct ChunkRead {
    pub rows: u64,
    pub last_key: Option<Key>,
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
        match self {
            Db::Postgres(db) => db.describe_target(table).await,
            Db::Mysql(db) => db.describe_target(table).await,
            Db::Sqlite(db) => db.describe_target(table),
        }
    }

    /// Runs statements that return no rows (`BEGIN`, `SAVEPOINT`, ...).
    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        match self {
            Db::Postgres(db) => db.execute(sql).await,
            Db::Mysql(db) => db.execute(sql).await,
            Db::Sqlite(db) => db.execute(sql),
        }
    }

    /// The open transaction's id, where the engine can later tell whether
    /// it committed (PostgreSQL).
    pub async fn transaction_id(&mut self) -> Result<Option<String>> {
        match self {
            Db::Postgres(db) => db.transaction_id().await.map(Some),
            Db::Mysql(_) | Db::Sqlite(_) => Ok(None),
        }
    }

    /// Whether the transaction `xid` (from [`Db::transaction_id`])
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
        match self {
            Db::Postgres(db) => db.insert(insert, rows).await,
            Db::Mysql(db) => db.insert(insert, rows).await,
            Db::Sqlite(db) => db.insert(insert, rows),
        }
    }

    /// Writes `rows` the fastest way `strategy` names. Only PostgreSQL has
    /// `copy` and only MySQL `load-data`; the plan checks that first.
    /// `bulk` is the rows already in that strategy's text, encoded by the
    /// input thread ([`crate::writer::Batch::push`]).
    pub async fn write_fast(
        &mut self,
        strategy: crate::cli::ImportStrategy,
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

    pub fn engine(&self) -> Engine {
        match self {
            Db::Postgres(_) => Engine::Postgres,
            Db::Mysql(_) => Engine::Mysql,
            Db::Sqlite(_) => Engine::Sqlite,
        }
    }

    pub async fn describe(&mut self, request: &Request) -> Result<Relation> {
        match self {
            Db::Postgres(db) => db.describe(request).await,
            Db::Mysql(db) => db.describe(request).await,
            Db::Sqlite(db) => db.describe(request),
        }
    }

    /// Runs one chunk statement, binding `after` to its parameters.
    pub async fn read_chunk(
        &mut self,
        relation: &Relation,
        statement: &Statement,
        after: Option<&Key>,
        sink: &mut impl RowSink,
    ) -> Result<ChunkRead> {
        match self {
            Db::Postgres(db) => db.read_chunk(relation, statement, after, sink).await,
            Db::Mysql(db) => db.read_chunk(relation, statement, after, sink).await,
            Db::Sqlite(db) => db.read_chunk(relation, statement, after, sink),
        }
    }

    /// The key of row `n` in key order, read with a one-row offset query
    /// (the index walks `n` entries; nothing is sent but the one row).
    pub async fn key_of_row(&mut self, relation: &Relation, n: u64) -> Result<Option<Key>> {
        let statement = relation.select.offset_chunk(1, n.saturating_sub(1));
        let read = self
            .read_chunk(relation, &statement, None, &mut Discard)
            .await?;
        Ok(read.last_key)
    }

    /// Runs one statement and streams all its rows, `fetch` at a time.
    pub async fn stream(
        &mut self,
        relation: &Relation,
        sql: &str,
        fetch: u64,
        sink: &mut impl RowSink,
    ) -> Result<()> {
        match self {
            Db::Postgres(db) => db.stream(relation, sql, fetch, sink).await,
            Db::Mysql(db) => db.stream(relation, sql, fetch, sink).await,
            Db::Sqlite(db) => db.stream(relation, sql, fetch, sink),
        }
    }

    /// The engine's query plan for `statement`, as text.
    pub async fn explain(&mut self, statement: &Statement, after: Option<&Key>) -> Result<String> {
        match self {
            Db::Postgres(db) => db.explain(statement, after).await,
            Db::Mysql(db) => db.explain(statement, after).await,
            Db::Sqlite(db) => db.explain(statement, after),
        }
    }

    /// A fast estimate of how many rows `SELECT ... FROM from WHERE filter`
    /// returns, from the planner or the catalog. `None` when the engine has
    /// no cheap way to tell.
    pub async fn estimate(&mut self, select: &Select) -> Result<Option<u64>> {
        match self {
            Db::Postgres(db) => db.estimate(select).await,
            Db::Mysql(db) => db.estimate(select).await,
            Db::Sqlite(db) => db.estimate(select),
        }
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

    /// Runs a statement that returns one integer.
    async fn count_sql(&mut self, sql: &str) -> Result<u64> {
        match self {
            Db::Postgres(db) => db.count(sql).await,
            Db::Mysql(db) => db.count(sql).await,
            Db::Sqlite(db) => db.count(sql),
        }
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
    fn end_chunk(&mut self) -> Result<()> {
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

/// The one line for a server that took the connection and never let
/// dbchunk in (or that no packet reached) within `--connect-timeout`.
pub fn no_answer(engine: Engine, host_port: &str, timeout: std::time::Duration) -> anyhow::Error {
    anyhow::anyhow!(
        "{host_port} did not answer within {} s: check that {} is up and listening there (the \
         host and port in --url) and that no firewall drops the connection, or wait longer with \
         --connect-timeout",
        timeout.as_secs(),
        match engine {
            Engine::Mysql => "MySQL/MariaDB",
            other => other.name(),
        }
    )
}

/// An error where the server refused SQL text that the user wrote
/// (`--where`, `--query`) ends with a pointer to it: the SQL runs as
/// written, so that is where to look. Only the final message needs it, so
/// the chain is flattened into that line.
pub fn hint_raw_sql(err: anyhow::Error, request: &Request) -> anyhow::Error {
    let query = matches!(request.source, Source::Query(_));
    let flags = match (request.filter.is_some(), query) {
        (true, true) => "--where and --query",
        (true, false) => "--where",
        (false, true) => "--query",
        (false, false) => return err,
    };
    let typed = err
        .chain()
        .any(|c| c.is::<crate::error::UsageError>() || c.is::<crate::signals::Interrupted>());
    if typed || !is_sql_refused(&err) {
        return err;
    }
    anyhow::anyhow!(
        "{}; check the SQL of {flags} (it runs as written)",
        crate::error::one_line(&err)
    )
}

/// Whether the server refused a statement's text: its syntax, or a name
/// in it (column, function, operator) it does not know.
fn is_sql_refused(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(pg) = cause.downcast_ref::<tokio_postgres::Error>() {
            // Class 42: syntax error or access rule violation, less the
            // missing privilege (42501), which is not about the text.
            return pg
                .code()
                .is_some_and(|c| c.code().starts_with("42") && c.code() != "42501");
        }
        if let Some(mysql_async::Error::Server(e)) = cause.downcast_ref::<mysql_async::Error>() {
            // Syntax; unknown column, table, function; ambiguous column;
            // wrong argument count; mixed collations.
            return matches!(
                e.code,
                1064 | 1054 | 1146 | 1305 | 1052 | 1582 | 1267 | 1630
            );
        }
        let message = match cause.downcast_ref::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(_, Some(message))) => message,
            Some(rusqlite::Error::SqlInputError { msg, .. }) => msg,
            _ => return false,
        };
        [
            "syntax error", "no such column", "no such function", "unrecognized token",
        ]
        .iter()
        .any(|m| message.contains(m))
    })
}

/// Strips what would break wrapping a query as `(query) AS q`.
/// Whether `err` means the connection is gone (closed, reset, or the
/// session killed by an administrator), as opposed to a statement the
/// server refused: only then can reconnecting and reading the chunk again
/// help.
pub fn is_connection_lost(err: &anyhow::Error) -> bool {
    // Only the drivers' own errors count: an I/O error from a file (the
    // reject file, the output) is no reason to reconnect.
    err.chain().any(|cause| {
        if let Some(pg) = cause.downcast_ref::<tokio_postgres::Error>() {
            // 57P01-57P03: terminated by an administrator, crash shutdown,
            // cannot connect now.
            let killed = pg.code().is_some_and(|c| c.code().starts_with("57P"));
            let io = std::error::Error::source(pg).is_some_and(|s| s.is::<std::io::Error>());
            return pg.is_closed() || killed || io;
        }
        if let Some(my) = cause.downcast_ref::<mysql_async::Error>() {
            use mysql_async::{DriverError, Error};
            return match my {
                Error::Io(_) => true,
                Error::Driver(DriverError::ConnectionClosed) => true,
                // Connection was killed, server shutdown in progress, gone
                // away, lost during query.
                Error::Server(e) => matches!(e.code, 1927 | 1053 | 2006 | 2013),
                _ => false,
            };
        }
        false
    })
}

pub fn trim_query(query: &str) -> &str {
    query.trim().trim_end_matches(';').trim_end()
}

/// Checks that every requested name is among `available`, naming the
/// first that is not.
pub fn check_names(
    what: &str,
    requested: &[String],
    available: &[String],
    source: &Source,
) -> Result<()> {
    for name in requested {
        if !available.contains(name) {
            anyhow::bail!(
                "{what} {name:?} is not in {}, which has: {}",
                source.label(),
                crate::ident::display_list(available, ", ")
            );
        }
    }
    Ok(())
}

/// The output column names: `--columns` if given (each checked against
/// `available`), else all of them.
pub fn output_names(request: &Request, available: &[String]) -> Result<Vec<String>> {
    match &request.columns {
        Some(columns) => {
            check_names("column", columns, available, &request.source)?;
            Ok(columns.clone())
        }
        None => Ok(available.to_vec()),
    }
}

/// The positions of `requested` names in `available` (which holds them).
pub fn positions(requested: &[String], available: &[String]) -> Vec<usize> {
    requested
        .iter()
        .map(|r| available.iter().position(|a| a == r).expect("checked name"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_neutralises_hostile_names() {
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            Dialect::Mysql.quote("a`b; DROP TABLE t"),
            "`a``b; DROP TABLE t`"
        );
        let name = QualifiedName {
            schema: Some("s".into()),
            name: "t".into(),
        };
        assert_eq!(Dialect::Sqlite.quote_qualified(&name), "\"s\".\"t\"");
    }

    #[test]
    fn keys_are_checked_against_unique_indexes() {
        let keys = vec![
            vec!["id".to_string()],
            vec!["a".to_string(), "b".to_string()],
        ];
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            choose_key(None, Some(&keys)),
            (names(&["id"]), KeyCheck::Unique)
        );
        assert_eq!(
            choose_key(Some(&names(&["b", "a"])), Some(&keys)).1,
            KeyCheck::Unique
        );
        assert_eq!(
            choose_key(Some(&names(&["id", "x"])), Some(&keys)).1,
            KeyCheck::Unique
        );
        assert_eq!(
            choose_key(Some(&names(&["a"])), Some(&keys)).1,
            KeyCheck::Unproven
        );
        assert_eq!(choose_key(Some(&names(&["a"])), None).1, KeyCheck::Unproven);
        assert_eq!(choose_key(None, Some(&[])), (vec![], KeyCheck::Unique));
    }

    #[test]
    fn queries_lose_trailing_semicolons() {
        assert_eq!(trim_query(" SELECT 1; \n"), "SELECT 1");
    }
}
