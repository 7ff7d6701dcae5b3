//! MySQL and MariaDB: the catalog and writes through mysql_async, the
//! rows of an export through a session of dbchunk's own ([`wire`]).
//!
//! Every read goes through the binary protocol (prepared statements),
//! so integers and floats arrive as numbers, never as text the server has
//! already shortened, and dates arrive as fields we format ourselves. Rows
//! are read one at a time off the socket (the server streams, TCP pushes
//! back), never collected. The session time zone is pinned to `+00:00`, so
//! a `TIMESTAMP` exports the same bytes on every machine.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::Queryable;
use mysql_async::{
    Column as MyColumn, Conn, DriverError, Opts, OptsBuilder, Params, Row, SslOpts, Value,
};

use crate::cell::{Cell, Column, RowSink};
use crate::coltype::ColType;
use crate::db::dialect::Dialect;
use crate::db::errors::no_answer;
use crate::db::relation::{
    check_names, choose_key, output_names, trim_query, ChunkRead, Chunks, Key, Read, Relation,
    Request, Source,
};
use crate::error::UsageError;
use crate::format::write_padded;
use crate::ident::QualifiedName;
use crate::plan::{Select, Statement};
use crate::tls::{Resolved, Roots, TlsMode, Verify};
use crate::url::DbUrl;

mod catalog;
mod connect;
mod wire;
mod write;

use wire::row::{self as binary_row, Field};

/// The character set number MySQL reports for binary strings.
const BINARY_CHARSET: u16 = 63;

pub struct Mysql {
    conn: Conn,
    /// The session rows are read on; `None` reads them through `conn`
    /// (when the URL asks for what only mysql_async does: compression,
    /// its own `require_ssl`).
    reader: Option<Reader>,
    /// A consistent-snapshot transaction is open on the reading session,
    /// which must then outlive a read stopped early.
    in_snapshot: bool,
    /// Columns MariaDB declares as JSON (`LONGTEXT CHECK (json_valid(..))`),
    /// which its protocol reports as plain text.
    json_columns: HashSet<String>,
    /// `(database, table)` of a table export, for catalog estimates.
    table: Option<(String, String)>,
}

/// dbchunk's own reading session: where it logs in, and the session
/// once open.
struct Reader {
    target: wire::Target,
    /// Look for the server's Unix socket before the first login (a
    /// loopback address, as mysql_async does).
    find_socket: bool,
    /// `--connect-timeout`, over the login and the session settings.
    connect_timeout: Duration,
    session: Option<wire::Session>,
}

/// How a column's values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    Plain,
    Text,
    Binary,
    Json,
    Decimal,
    Date,
    DateTime,
    /// A `TIMESTAMP`: an instant, shown in UTC with its `+00:00` offset.
    Timestamp,
    Time,
    Bit(u32),
}

impl Mysql {
    pub async fn describe(&mut self, request: &Request) -> Result<Relation> {
        let (names, unique_keys, from) = match &request.source {
            Source::Table(table) => {
                let (names, keys, from) = self.describe_table(table).await?;
                (names, Some(keys), from)
            }
            Source::Query(query) => (
                self.query_columns(query).await?,
                None,
                format!("({}) AS q", trim_query(query)),
            ),
        };
        // The result's own metadata types the columns (of a table or a
        // query alike): what the binary protocol will send.
        let sql = match &request.source {
            Source::Table(_) => format!("SELECT * FROM {from}"),
            Source::Query(query) => trim_query(query).to_string(),
        };
        let metadata = self.result_columns(&sql).await?;
        let output = output_names(request, &names)?;
        if let Some(key) = &request.key {
            check_names("key column", key, &names, &request.source)?;
        }
        let (key, key_check) = choose_key(request.key.as_deref(), unique_keys.as_deref());
        let plain_query = match &request.source {
            Source::Query(q)
                if request.columns.is_none() && key.is_empty() && request.filter.is_none() =>
            {
                Some(trim_query(q).to_string())
            }
            _ => None,
        };
        let columns = output
            .iter()
            .map(|n| {
                let column = metadata.iter().find(|c| c.name_str() == n.as_str());
                let ty = column.map_or(ColType::Other, |c| col_type(c, &self.json_columns));
                Column::typed(n.clone(), "", ty)
            })
            .collect();
        Ok(Relation::plain(
            Dialect::Mysql,
            columns,
            output,
            (key, key_check),
            from,
            request.filter.clone(),
            plain_query,
        ))
    }

    /// The table's column names, row-identifying keys, and quoted name.
    async fn describe_table(
        &mut self,
        table: &QualifiedName,
    ) -> Result<(Vec<String>, Vec<Vec<String>>, String)> {
        let database = match &table.schema {
            Some(db) => db.clone(),
            None => self
                .conn
                .query_first::<Option<String>, _>("SELECT DATABASE()")
                .await?
                .flatten()
                .ok_or_else(|| {
                    anyhow!("--url names no database: add /dbname to it, or write --table db.table")
                })?,
        };
        let columns: Vec<(String, String, String)> = self
            .conn
            .exec(
                "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (&database, &table.name),
            )
            .await?;
        if columns.is_empty() {
            bail!(
                "table {} does not exist in database {database:?}: check the name (SHOW TABLES lists \
                 them){}",
                table.display(),
                table.dot_hint()
            );
        }
        self.json_columns = columns
            .iter()
            .filter(|(_, data_type, _)| data_type.eq_ignore_ascii_case("json"))
            .map(|(name, _, _)| name.clone())
            .collect();
        let mariadb_json = self.mariadb_json_columns(&database, &table.name).await;
        self.json_columns.extend(mariadb_json);
        let not_null: HashSet<&str> = columns
            .iter()
            .filter(|(_, _, nullable)| nullable == "NO")
            .map(|(name, _, _)| name.as_str())
            .collect();
        let keys = self.unique_keys(&database, &table.name, &not_null).await?;
        self.table = Some((database.clone(), table.name.clone()));
        let names = columns.into_iter().map(|(name, _, _)| name).collect();
        let quoted = Dialect::Mysql.quote_qualified(&QualifiedName {
            schema: Some(database),
            name: table.name.clone(),
        });
        Ok((names, keys, quoted))
    }

    /// MariaDB's JSON is LONGTEXT with a `json_valid` check; MySQL has no
    /// such check (its JSON is a real type), so failures here mean "none".
    async fn mariadb_json_columns(&mut self, database: &str, table: &str) -> Vec<String> {
        let checks: Vec<String> = self
            .conn
            .exec(
                "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
                 WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
                (database, table),
            )
            .await
            .unwrap_or_default();
        checks
            .iter()
            .filter_map(|clause| {
                let inner = clause.strip_prefix("json_valid(`")?.strip_suffix("`)")?;
                Some(inner.replace("``", "`"))
            })
            .collect()
    }

    /// Every unique index over NOT NULL whole columns (no prefixes or
    /// expressions): the primary key first, then the narrowest.
    async fn unique_keys(
        &mut self,
        database: &str,
        table: &str,
        not_null: &HashSet<&str>,
    ) -> Result<Vec<Vec<String>>> {
        let rows: Vec<(String, Option<String>, Option<u64>)> = self
            .conn
            .exec(
                "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 \
                 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
                (database, table),
            )
            .await?;
        let mut keys: Vec<(bool, Vec<String>)> = Vec::new();
        let mut i = 0;
        while i < rows.len() {
            let index = &rows[i].0;
            let group: Vec<_> = rows[i..].iter().take_while(|r| &r.0 == index).collect();
            i += group.len();
            let usable = group.iter().all(|(_, col, sub)| {
                sub.is_none() && col.as_deref().is_some_and(|c| not_null.contains(c))
            });
            if !usable {
                continue;
            }
            let columns: Vec<String> = group.iter().filter_map(|(_, c, _)| c.clone()).collect();
            keys.push((index == "PRIMARY", columns));
        }
        keys.sort_by_key(|(primary, columns)| (!primary, columns.len()));
        Ok(keys.into_iter().map(|(_, columns)| columns).collect())
    }

    /// The columns a statement returns, from preparing it (nothing runs).
    async fn result_columns(&mut self, sql: &str) -> Result<Vec<MyColumn>> {
        let statement = self.conn.prep(sql).await?;
        let columns = statement.columns().to_vec();
        self.conn.close(statement).await?;
        Ok(columns)
    }

    async fn query_columns(&mut self, query: &str) -> Result<Vec<String>> {
        let statement = self
            .conn
            .prep(trim_query(query))
            .await
            .context("preparing --query")?;
        let names = statement
            .columns()
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect();
        self.conn.close(statement).await?;
        Ok(names)
    }

    /// Runs `read`'s statement, binding its key. The server streams the
    /// rows as they are read (a keyset chunk or a whole cursor alike);
    /// stopping early (`--limit`) leaves the rest unread, and the
    /// connection is dropped (outside a snapshot).
    pub async fn read(&mut self, read: &Read<'_>, sink: &mut impl RowSink) -> Result<ChunkRead> {
        let Some(session) = session(&mut self.conn, &mut self.reader).await? else {
            return self.read_through_driver(read, sink).await;
        };
        let (result, unread) = read_rows(session, read, &self.json_columns, sink).await;
        if unread && !self.in_snapshot {
            if let Some(reader) = &mut self.reader {
                reader.session = None;
            }
        }
        result
    }

    /// Starts the transaction a `--parallel` or `dump` worker reads in:
    /// a consistent snapshot, on the session the rows are read on.
    pub async fn begin_snapshot(&mut self) -> Result<()> {
        for sql in [
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        ] {
            match session(&mut self.conn, &mut self.reader).await? {
                Some(session) => session.execute(sql).await?,
                None => self.conn.query_drop(sql).await?,
            }
        }
        self.in_snapshot = true;
        Ok(())
    }

    /// [`Mysql::read`] through mysql_async's rows.
    async fn read_through_driver(
        &mut self,
        read: &Read<'_>,
        sink: &mut impl RowSink,
    ) -> Result<ChunkRead> {
        let params = driver_params(key_params(read.statement, read.after));
        let mut result = self
            .conn
            .exec_iter(read.statement.sql.as_str(), params)
            .await?;
        let kinds = kinds(result.columns_ref(), &self.json_columns);
        let width = read.relation.columns.len();
        let mut scratch = Vec::with_capacity(64);
        let mut chunks = Chunks::new(read.chunk, read.relation);
        while let Some(row) = result.next().await? {
            for (i, &kind) in kinds[..width].iter().enumerate() {
                let field = row.as_ref(i).map_or(Field::Null, Field::of);
                push_field(field, kind, &mut scratch, sink);
            }
            let more = sink.end_row()?;
            chunks.row(sink, || {
                let values = read
                    .relation
                    .key_positions
                    .iter()
                    .map(|&p| row.as_ref(p).cloned().unwrap_or(Value::NULL));
                Ok(Key::Mysql(values.collect()))
            })?;
            if !more {
                break;
            }
        }
        chunks.finish(sink)
    }

    pub async fn explain(&mut self, statement: &Statement, after: Option<&Key>) -> Result<String> {
        let params = driver_params(key_params(statement, after));
        let mut result = self
            .conn
            .exec_iter(format!("EXPLAIN {}", statement.sql), params)
            .await?;
        let names: Vec<String> = result
            .columns_ref()
            .iter()
            .map(|c| c.name_str().into_owned())
            .collect();
        let mut plan = names.join(" | ");
        plan.push('\n');
        while let Some(row) = result.next().await? {
            let values: Vec<String> = (0..names.len())
                .map(|i| match row.as_ref(i) {
                    Some(Value::NULL) | None => "NULL".to_string(),
                    Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                    Some(v) => v.as_sql(true),
                })
                .collect();
            plan.push_str(&values.join(" | "));
            plan.push('\n');
        }
        Ok(plan)
    }

    /// A table's row estimate from the catalog; with a filter or a query,
    /// the optimizer's from `EXPLAIN`.
    pub async fn estimate(&mut self, select: &Select) -> Result<Option<u64>> {
        if let (Some((database, table)), None) = (&self.table, &select.filter) {
            let rows: Option<Option<u64>> = self
                .conn
                .exec_first(
                    "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                    (database, table),
                )
                .await?;
            if let Some(Some(rows)) = rows {
                return Ok(Some(rows));
            }
        }
        let mut sql = format!("EXPLAIN SELECT 1 FROM {}", select.from);
        if let Some(filter) = &select.filter {
            sql.push_str(&format!(" WHERE ({filter})"));
        }
        let rows: Vec<Row> = self.conn.query(sql).await?;
        let estimate = rows
            .first()
            .and_then(|r| r.get_opt::<Option<u64>, _>("rows"))
            .and_then(|r| r.ok())
            .flatten();
        Ok(estimate)
    }

    /// The described InnoDB table's rows (the catalog's estimate) and the
    /// pages of its clustered index (its data length in pages); `None` for
    /// a query, another engine's table, or when the catalog has no figures.
    pub async fn table_pages(&mut self) -> Result<Option<(u64, u64)>> {
        let Some((database, table)) = &self.table else {
            return Ok(None);
        };
        let row: Option<(Option<u64>, Option<u64>, u64)> = self
            .conn
            .exec_first(
                "SELECT TABLE_ROWS, DATA_LENGTH, @@innodb_page_size FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND ENGINE = 'InnoDB'",
                (database, table),
            )
            .await?;
        Ok(match row {
            Some((Some(rows), Some(bytes), page)) if page > 0 => Some((rows, bytes / page)),
            _ => None,
        })
    }

    /// The optimizer's estimate of the rows the export's query returns,
    /// or `None` when it has none. `EXPLAIN`'s `rows` is the rows a table
    /// access examines: a full scan whose condition the optimizer could
    /// not weigh (`filtered` 100, or absent as on MariaDB) examines the
    /// whole table and says nothing of how many rows come out, and a plan
    /// of several steps (a join, a derived table) has no single figure.
    pub async fn estimate_returned(&mut self, select: &Select) -> Result<Option<u64>> {
        if self.table.is_some() && select.filter.is_none() {
            return self.estimate(select).await;
        }
        let mut sql = format!("EXPLAIN SELECT 1 FROM {}", select.from);
        if let Some(filter) = &select.filter {
            sql.push_str(&format!(" WHERE ({filter})"));
        }
        let rows: Vec<Row> = self.conn.query(sql).await?;
        let [step] = rows.as_slice() else {
            return Ok(None);
        };
        let text = |name: &str| {
            step.get_opt::<Option<String>, _>(name)
                .and_then(|v| v.ok())
                .flatten()
                .unwrap_or_default()
        };
        let Some(examined) = text("rows").parse::<f64>().ok() else {
            return Ok(None);
        };
        let filtered = text("filtered").parse::<f64>().unwrap_or(100.0);
        let full_scan = matches!(text("type").as_str(), "ALL" | "index");
        let condition = text("Extra").contains("Using where");
        if full_scan && condition && filtered >= 100.0 {
            return Ok(None);
        }
        Ok(Some((examined * filtered / 100.0).round() as u64))
    }

    pub async fn count(&mut self, sql: &str) -> Result<u64> {
        let n: Option<u64> = self.conn.exec_first(sql, Params::Empty).await?;
        Ok(n.unwrap_or(0))
    }

    /// The first row of `sql`, typed by the binary protocol (the form a
    /// [`Key::Mysql`] binds back); `None` when there is no row.
    pub async fn first_row(&mut self, sql: &str) -> Result<Option<Key>> {
        let row: Option<mysql_async::Row> = self.conn.exec_first(sql, Params::Empty).await?;
        Ok(row.map(|row| Key::Mysql(row.unwrap())))
    }

    /// Every row of `sql`, typed as [`Mysql::first_row`] types them.
    pub async fn key_rows(&mut self, sql: &str) -> Result<Vec<Key>> {
        let rows: Vec<mysql_async::Row> = self.conn.exec(sql, Params::Empty).await?;
        Ok(rows
            .into_iter()
            .map(|row| Key::Mysql(row.unwrap()))
            .collect())
    }

    /// Where the binary log stands (`file:position`, and the GTID position
    /// where the server keeps one); `None` when binary logging is off. A
    /// MySQL connection's snapshot cannot be shared, so this is what
    /// `dbchunk plan` records to tell later whether anything was written.
    pub async fn binlog_position(&mut self) -> Result<Option<String>> {
        let on: Option<u64> = self.conn.query_first("SELECT @@log_bin").await?;
        if on != Some(1) {
            return Ok(None);
        }
        // MySQL 8.4 knows only the new name.
        let status: Option<mysql_async::Row> =
            match self.conn.query_first("SHOW MASTER STATUS").await {
                Ok(row) => row,
                Err(_) => self.conn.query_first("SHOW BINARY LOG STATUS").await?,
            };
        let Some(status) = status else {
            return Ok(None);
        };
        let file: Option<String> = status.get(0);
        let position: Option<u64> = status.get(1);
        let mut shown = format!("{}:{}", file.unwrap_or_default(), position.unwrap_or(0));
        // MariaDB's GTID position, else MySQL's executed set.
        let gtid: Option<String> = match self.conn.query_first("SELECT @@gtid_binlog_pos").await {
            Ok(gtid) => gtid,
            Err(_) => self
                .conn
                .query_first("SELECT @@global.gtid_executed")
                .await
                .unwrap_or(None),
        };
        if let Some(gtid) = gtid.filter(|g| !g.is_empty()) {
            shown.push_str(&format!(" gtid {gtid}"));
        }
        Ok(Some(shown))
    }
}

/// The portable type of a result column, from the protocol's metadata.
fn col_type(c: &MyColumn, json_columns: &HashSet<String>) -> ColType {
    if json_columns.contains(c.name_str().as_ref()) {
        return ColType::Json;
    }
    let signed = !c.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    match c.column_type() {
        ColumnType::MYSQL_TYPE_TINY => ColType::int(8, signed),
        ColumnType::MYSQL_TYPE_SHORT => ColType::int(16, signed),
        ColumnType::MYSQL_TYPE_INT24 | ColumnType::MYSQL_TYPE_LONG => ColType::int(32, signed),
        ColumnType::MYSQL_TYPE_LONGLONG => ColType::int(64, signed),
        // 1901 to 2155, or 0.
        ColumnType::MYSQL_TYPE_YEAR => ColType::int(16, true),
        ColumnType::MYSQL_TYPE_FLOAT => ColType::Float32,
        ColumnType::MYSQL_TYPE_DOUBLE => ColType::Float64,
        ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => {
            // The display length counts a sign (when signed) and a point
            // (when there is a fraction) besides the digits.
            let scale = u32::from(c.decimals());
            let extra = u32::from(scale > 0) + u32::from(signed);
            match c.column_length().checked_sub(extra) {
                Some(precision) if precision > 0 => ColType::Decimal { precision, scale },
                _ => ColType::Other,
            }
        }
        ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => ColType::Date,
        ColumnType::MYSQL_TYPE_DATETIME | ColumnType::MYSQL_TYPE_DATETIME2 => {
            ColType::Timestamp { utc: false }
        }
        ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
            ColType::Timestamp { utc: true }
        }
        ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => ColType::Time,
        ColumnType::MYSQL_TYPE_JSON => ColType::Json,
        // Binary digits, as the text formats write them.
        ColumnType::MYSQL_TYPE_BIT => ColType::Other,
        _ if c.flags().contains(ColumnFlags::ENUM_FLAG) => ColType::Enum,
        _ if c.flags().contains(ColumnFlags::SET_FLAG) => ColType::Other,
        _ if c.character_set() == BINARY_CHARSET => ColType::Binary,
        _ => ColType::Text,
    }
}

fn kinds(columns: &[MyColumn], json_columns: &HashSet<String>) -> Vec<ValueKind> {
    columns
        .iter()
        .map(|c| {
            if json_columns.contains(c.name_str().as_ref()) {
                return ValueKind::Json;
            }
            let binary = c.character_set() == BINARY_CHARSET;
            match c.column_type() {
                ColumnType::MYSQL_TYPE_DATE | ColumnType::MYSQL_TYPE_NEWDATE => ValueKind::Date,
                ColumnType::MYSQL_TYPE_DATETIME | ColumnType::MYSQL_TYPE_DATETIME2 => {
                    ValueKind::DateTime
                }
                ColumnType::MYSQL_TYPE_TIMESTAMP | ColumnType::MYSQL_TYPE_TIMESTAMP2 => {
                    ValueKind::Timestamp
                }
                ColumnType::MYSQL_TYPE_TIME | ColumnType::MYSQL_TYPE_TIME2 => ValueKind::Time,
                ColumnType::MYSQL_TYPE_BIT => ValueKind::Bit(c.column_length()),
                ColumnType::MYSQL_TYPE_JSON => ValueKind::Json,
                ColumnType::MYSQL_TYPE_DECIMAL | ColumnType::MYSQL_TYPE_NEWDECIMAL => {
                    ValueKind::Decimal
                }
                ColumnType::MYSQL_TYPE_TINY
                | ColumnType::MYSQL_TYPE_SHORT
                | ColumnType::MYSQL_TYPE_INT24
                | ColumnType::MYSQL_TYPE_LONG
                | ColumnType::MYSQL_TYPE_LONGLONG
                | ColumnType::MYSQL_TYPE_YEAR
                | ColumnType::MYSQL_TYPE_FLOAT
                | ColumnType::MYSQL_TYPE_DOUBLE => ValueKind::Plain,
                _ if c
                    .flags()
                    .intersects(ColumnFlags::ENUM_FLAG | ColumnFlags::SET_FLAG) =>
                {
                    ValueKind::Text
                }
                _ if binary => ValueKind::Binary,
                _ => ValueKind::Text,
            }
        })
        .collect()
}

/// The reading session, opened on first use; `None` when rows are read
/// through mysql_async (`conn`).
async fn session<'a>(
    conn: &mut Conn,
    reader: &'a mut Option<Reader>,
) -> Result<Option<&'a mut wire::Session>> {
    let Some(reader) = reader else {
        return Ok(None);
    };
    if reader.session.is_none() {
        if std::mem::take(&mut reader.find_socket) {
            // As mysql_async does on a loopback address: the server's
            // Unix socket, when there is one.
            let socket: Option<String> = conn.query_first("SELECT @@socket").await.ok().flatten();
            if let Some(path) = socket.filter(|p| std::path::Path::new(p).exists()) {
                reader.target.address = wire::Address::Socket(path);
            }
        }
        let login = wire::Session::connect(&reader.target);
        let session = match tokio::time::timeout(reader.connect_timeout, login).await {
            Ok(session) => session.context("opening the connection that reads the rows")?,
            Err(_) => {
                let at = reader.target.address.to_string();
                return Err(no_answer(
                    crate::engine::Engine::Mysql,
                    &at,
                    reader.connect_timeout,
                ));
            }
        };
        reader.session = Some(session);
    }
    Ok(reader.session.as_mut())
}

/// Reads the rows of `read` on dbchunk's own session into `sink`; also
/// says whether rows were left unread (the sink wanted no more).
async fn read_rows(
    session: &mut wire::Session,
    read: &Read<'_>,
    json_columns: &HashSet<String>,
    sink: &mut impl RowSink,
) -> (Result<ChunkRead>, bool) {
    let params = key_params(read.statement, read.after);
    if let Err(err) = session.run(&read.statement.sql, &params).await {
        return (Err(err.into()), false);
    }
    let kinds = kinds(session.columns(), json_columns);
    let layouts = binary_row::layouts(session.columns());
    let width = read.relation.columns.len();
    let mut scratch = Vec::with_capacity(64);
    let mut chunks = Chunks::new(read.chunk, read.relation);
    let mut unread = false;
    let result = async {
        while let Some(row) = session.next_row().await? {
            binary_row::walk(row, &layouts, |i, field| {
                if i < width {
                    push_field(field, kinds[i], &mut scratch, sink);
                }
            })
            .ok_or_else(|| malformed_row(&layouts))?;
            let more = sink.end_row()?;
            chunks.row(sink, || {
                let positions = &read.relation.key_positions;
                let mut key = vec![Value::NULL; positions.len()];
                binary_row::walk(row, &layouts, |i, field| {
                    if let Some(slot) = positions.iter().position(|&p| p == i) {
                        key[slot] = field.to_value();
                    }
                });
                Ok(Key::Mysql(key))
            })?;
            if !more {
                unread = true;
                break;
            }
        }
        chunks.finish(sink)
    }
    .await;
    (result, unread)
}

fn malformed_row(layouts: &[binary_row::Layout]) -> anyhow::Error {
    anyhow!(
        "the server sent a row that does not fit the {} columns it announced; this is a bug in \
         dbchunk or the server: please report it, with the server's version",
        layouts.len()
    )
}

/// Pushes one field to `sink` in the form its column's kind asks for.
#[inline]
fn push_field(field: Field<'_>, kind: ValueKind, scratch: &mut Vec<u8>, sink: &mut impl RowSink) {
    match field {
        Field::Null => sink.cell(Cell::Null),
        Field::Int(v) => sink.cell(Cell::Int(v)),
        Field::UInt(v) => sink.cell(Cell::UInt(v)),
        Field::Float(v) => sink.cell(Cell::F32(v)),
        Field::Double(v) => sink.cell(Cell::F64(v)),
        Field::Bytes(bytes) => match kind {
            ValueKind::Binary => sink.cell(Cell::Bytes(bytes)),
            ValueKind::Json => sink.cell(Cell::Json(bytes)),
            ValueKind::Decimal | ValueKind::Plain => sink.cell(Cell::Number(bytes)),
            ValueKind::Bit(width) => push_formatted(sink, scratch, |s| write_bits(s, bytes, width)),
            _ => sink.cell(Cell::Text(bytes)),
        },
        Field::Date(y, mo, d, h, mi, s, us) => push_formatted(sink, scratch, |out| {
            write_date(out, y, mo, d);
            if kind != ValueKind::Date {
                out.push(b'T');
                write_clock(out, u32::from(h), mi, s, us);
            }
            if kind == ValueKind::Timestamp {
                out.extend_from_slice(b"+00:00");
            }
        }),
        Field::Time(negative, days, h, mi, s, us) => push_formatted(sink, scratch, |out| {
            if negative {
                out.push(b'-');
            }
            write_clock(out, days * 24 + u32::from(h), mi, s, us);
        }),
    }
}

/// Formats a value into `scratch` and pushes it as text.
#[inline]
fn push_formatted(
    sink: &mut impl RowSink,
    scratch: &mut Vec<u8>,
    format: impl FnOnce(&mut Vec<u8>),
) {
    scratch.clear();
    format(scratch);
    sink.cell(Cell::Text(scratch));
}

fn write_date(out: &mut Vec<u8>, year: u16, month: u8, day: u8) {
    write_padded(out, year.into(), 4);
    out.push(b'-');
    write_padded(out, month.into(), 2);
    out.push(b'-');
    write_padded(out, day.into(), 2);
}

/// `HH:MM:SS`, then `.ffffff` without trailing zeros when there is a
/// fraction (hours may exceed 24 for a MySQL `TIME`).
fn write_clock(out: &mut Vec<u8>, hours: u32, minutes: u8, seconds: u8, micros: u32) {
    write_padded(out, hours, 2);
    out.push(b':');
    write_padded(out, minutes.into(), 2);
    out.push(b':');
    write_padded(out, seconds.into(), 2);
    if micros > 0 {
        out.push(b'.');
        let start = out.len();
        write_padded(out, micros, 6);
        while out.last() == Some(&b'0') && out.len() > start {
            out.pop();
        }
    }
}

/// A `BIT(n)` value as its n binary digits, like PostgreSQL's bit strings.
fn write_bits(out: &mut Vec<u8>, bytes: &[u8], width: u32) {
    let total = bytes.len() * 8;
    let width = (width as usize).clamp(1, total.max(1));
    for bit in (0..width).rev() {
        let byte = bytes[bytes.len() - 1 - bit / 8];
        out.push(if byte >> (bit % 8) & 1 == 1 {
            b'1'
        } else {
            b'0'
        });
    }
}

fn driver_params(values: Vec<Value>) -> Params {
    match values.is_empty() {
        true => Params::Empty,
        false => Params::Positional(values),
    }
}

/// The values a statement's parameters take: the key it goes on after.
fn key_params(statement: &Statement, after: Option<&Key>) -> Vec<Value> {
    match after {
        Some(Key::Mysql(values)) => statement
            .params
            .iter()
            .map(|&k| values[k].clone())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::written as text;

    #[test]
    fn clocks_trim_fractions_and_allow_long_hours() {
        assert_eq!(text(|o| write_clock(o, 838, 59, 59, 0)), "838:59:59");
        assert_eq!(text(|o| write_clock(o, 1, 2, 3, 500_000)), "01:02:03.5");
        assert_eq!(
            text(|o| write_clock(o, 0, 0, 0, 123_456)),
            "00:00:00.123456"
        );
    }

    #[test]
    fn bits_keep_their_declared_width() {
        assert_eq!(text(|o| write_bits(o, &[0x05], 4)), "0101");
        assert_eq!(text(|o| write_bits(o, &[0x01, 0xff], 10)), "0111111111");
        assert_eq!(text(|o| write_bits(o, &[0x01], 1)), "1");
    }
}
