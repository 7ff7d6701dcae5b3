//! SQLite through rusqlite (bundled, so no system library is needed).
//!
//! Every value keeps its own storage class: SQLite columns may mix
//! integers, reals, text and blobs, and each row is written as it is
//! stored. rusqlite is synchronous; it runs on the export task's thread,
//! which has nothing else to do while a row is being read.

use anyhow::{bail, Context, Result};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};

use crate::cell::{Cell, Column, RowSink};
use crate::coltype::ColType;
use crate::db::dialect::Dialect;
use crate::db::relation::{
    check_names, choose_key, output_names, positions, trim_query, ChunkRead, Chunks, Key, KeyCheck,
    Read, Relation, Request, Source,
};
use crate::plan::{Select, Statement};
use crate::url::DbUrl;

mod catalog;
mod checks;
mod write;

pub struct Sqlite {
    conn: Connection,
    path: String,
}

/// Names under which SQLite exposes a rowid table's hidden integer key.
const ROWID_ALIASES: [&str; 3] = ["rowid", "_rowid_", "oid"];

impl Sqlite {
    /// Opens the file read-only: an export never writes.
    pub fn open(url: &DbUrl) -> Result<Sqlite> {
        Sqlite::open_with(url, OpenFlags::SQLITE_OPEN_READ_ONLY)
    }

    /// Opens the file for an import. It must exist: its table must too.
    pub fn open_writable(url: &DbUrl) -> Result<Sqlite> {
        Sqlite::open_with(url, OpenFlags::SQLITE_OPEN_READ_WRITE)
    }

    fn open_with(url: &DbUrl, mode: OpenFlags) -> Result<Sqlite> {
        let path = url.sqlite_path.clone().expect("SQLite URLs have a path");
        let conn = if path == ":memory:" {
            Connection::open_in_memory()?
        } else {
            if !std::path::Path::new(&path).exists() {
                bail!(
                    "SQLite database file {path:?} does not exist: check the path in --url \
                     (sqlite://relative/path.db or sqlite:///absolute/path.db)"
                );
            }
            let flags = mode | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            Connection::open_with_flags(&path, flags)
                .with_context(|| format!("opening SQLite database {path:?}"))?
        };
        // A statement runs synchronously on this thread (a long COUNT(*)
        // or sort): only another thread can cut it short on Ctrl-C.
        let interrupt = conn.get_interrupt_handle();
        crate::signals::on_stop(move || interrupt.interrupt());
        Ok(Sqlite { conn, path })
    }

    pub fn describe(&mut self, request: &Request) -> Result<Relation> {
        match &request.source {
            Source::Table(table) => self.describe_table(request, table),
            Source::Query(query) => self.describe_query(request, query),
        }
    }

    fn describe_table(
        &mut self,
        request: &Request,
        table: &crate::ident::QualifiedName,
    ) -> Result<Relation> {
        let schema = table.schema.clone().unwrap_or_else(|| "main".into());
        let info = self.table_info(&table.name, &schema)?;
        if info.is_empty() {
            bail!(
                "table {} not found in {}: check the name (`SELECT name FROM sqlite_master` lists \
                 them){}",
                table.display(),
                self.path,
                table.dot_hint()
            );
        }
        let names: Vec<String> = info.iter().map(|c| c.name.clone()).collect();
        let output = output_names(request, &names)?;
        if let Some(key) = &request.key {
            let mut known = names.clone();
            known.extend(ROWID_ALIASES.iter().map(|s| s.to_string()));
            check_names("key column", key, &known, &request.source)?;
        }
        let unique_keys = self.unique_keys(&table.name, &schema, &info)?;
        let key = choose_key(request.key.as_deref(), Some(&unique_keys));
        let decl_of = |name: &String| {
            let column = info.iter().find(|c| &c.name == name);
            column.map(|c| c.decl.clone()).unwrap_or_default()
        };
        let from = Dialect::Sqlite.quote_qualified(table);
        Ok(relation(request, output, decl_of, key, from, None))
    }

    fn describe_query(&mut self, request: &Request, query: &str) -> Result<Relation> {
        let query = trim_query(query);
        let stmt = self.conn.prepare(query).context("preparing --query")?;
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let decls: Vec<String> = stmt
            .columns()
            .iter()
            .map(|c| c.decl_type().unwrap_or("").to_string())
            .collect();
        drop(stmt);
        let output = output_names(request, &names)?;
        let key = choose_key(request.key.as_deref(), None);
        check_names("key column", &key.0, &names, &request.source)?;
        let decl_of = |n: &String| decls[positions(std::slice::from_ref(n), &names)[0]].clone();
        let plain = (request.columns.is_none() && key.0.is_empty() && request.filter.is_none())
            .then(|| query.to_string());
        let from = format!("({query}) AS q");
        Ok(relation(request, output, decl_of, key, from, plain))
    }

    /// The table's columns; none when there is no such table, or no
    /// attached database `schema` (which `pragma_table_info` would make an
    /// error that does not name the table).
    fn table_info(&self, table: &str, schema: &str) -> Result<Vec<TableColumn>> {
        let attached: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_database_list WHERE name = ?1 COLLATE NOCASE)",
            [schema],
            |row| row.get(0),
        )?;
        if !attached {
            return Ok(Vec::new());
        }
        self.pragma(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1, ?2) ORDER BY cid",
            [table, schema],
            |row| {
                Ok(TableColumn {
                    name: row.get(0)?,
                    decl: row.get(1)?,
                    not_null: row.get(2)?,
                    pk: row.get(3)?,
                })
            },
        )
    }

    /// The rows of a pragma query over `(name, schema)`, each as `row` reads it
    /// (`|row| row.try_into()` for a tuple of its columns).
    fn pragma<T>(
        &self,
        sql: &str,
        args: [&str; 2],
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map(args, row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The keys that identify rows, best first: the primary key if it
    /// cannot hold NULLs, the unique indexes over NOT NULL columns (narrowest
    /// first), and the rowid of a rowid table.
    fn unique_keys(
        &self,
        table: &str,
        schema: &str,
        info: &[TableColumn],
    ) -> Result<Vec<Vec<String>>> {
        let (kind, without_rowid): (String, bool) = self
            .conn
            .query_row(
                "SELECT type, wr FROM pragma_table_list WHERE schema = ?1 AND name = ?2 COLLATE NOCASE",
                [schema, table],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap_or(("view".into(), false));
        let mut pk: Vec<&TableColumn> = info.iter().filter(|c| c.pk > 0).collect();
        pk.sort_by_key(|c| c.pk);
        let integer_pk = pk.len() == 1 && pk[0].decl.eq_ignore_ascii_case("INTEGER");
        let mut keys = Vec::new();
        if !pk.is_empty() && (without_rowid || integer_pk || pk.iter().all(|c| c.not_null)) {
            keys.push(pk.iter().map(|c| c.name.clone()).collect());
        }
        keys.extend(self.unique_indexes(table, schema, info)?);
        if kind == "table" && !without_rowid {
            let taken = |alias: &&str| info.iter().any(|c| c.name.eq_ignore_ascii_case(alias));
            if let Some(alias) = ROWID_ALIASES.iter().find(|a| !taken(a)) {
                keys.push(vec![alias.to_string()]);
            }
        }
        Ok(keys)
    }

    /// An index's columns in order; `None` when one of its keys is an
    /// expression.
    fn index_columns(&self, index: &str, schema: &str) -> Result<Option<Vec<String>>> {
        let names: Vec<Option<String>> = self.pragma(
            "SELECT name FROM pragma_index_info(?1, ?2) ORDER BY seqno",
            [index, schema],
            |row| row.get(0),
        )?;
        Ok(names.into_iter().collect())
    }

    /// Unique, non-partial indexes over NOT NULL columns, narrowest first.
    fn unique_indexes(
        &self,
        table: &str,
        schema: &str,
        info: &[TableColumn],
    ) -> Result<Vec<Vec<String>>> {
        let indexes: Vec<String> = self.pragma(
            "SELECT name FROM pragma_index_list(?1, ?2) WHERE \"unique\" = 1 AND partial = 0",
            [table, schema],
            |row| row.get(0),
        )?;
        let mut found: Vec<Vec<String>> = Vec::new();
        for index in indexes {
            let Some(names) = self.index_columns(&index, schema)? else {
                continue; // an expression index
            };
            let not_null = names
                .iter()
                .all(|n| info.iter().any(|c| &c.name == n && c.not_null));
            if not_null {
                found.push(names);
            }
        }
        found.sort_by_key(Vec::len);
        Ok(found)
    }

    /// Runs `read`'s statement, binding its key, one row at a time.
    pub fn read(&mut self, read: &Read<'_>, sink: &mut impl RowSink) -> Result<ChunkRead> {
        let mut stmt = self.conn.prepare_cached(&read.statement.sql)?;
        if let Some(Key::Sqlite(values)) = read.after {
            for (i, &k) in read.statement.params.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, &values[k])?;
            }
        }
        let width = read.relation.columns.len();
        let mut rows = stmt.raw_query();
        let mut chunks = Chunks::new(read.chunk, read.relation);
        while let Some(row) = rows.next()? {
            for i in 0..width {
                sink.cell(cell(row.get_ref(i)?));
            }
            let more = sink.end_row()?;
            chunks.row(sink, || {
                let key = read
                    .relation
                    .key_positions
                    .iter()
                    .map(|&p| row.get_ref(p).map(Value::from));
                Ok(Key::Sqlite(key.collect::<Result<_, _>>()?))
            })?;
            if !more {
                break;
            }
        }
        chunks.finish(sink)
    }

    pub fn explain(&mut self, statement: &Statement, after: Option<&Key>) -> Result<String> {
        let mut stmt = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", statement.sql))?;
        if let Some(Key::Sqlite(values)) = after {
            for (i, &k) in statement.params.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, &values[k])?;
            }
        }
        let mut rows = stmt.raw_query();
        let mut plan = String::new();
        while let Some(row) = rows.next()? {
            let detail: String = row.get(3)?;
            plan.push_str(&detail);
            plan.push('\n');
        }
        Ok(plan)
    }

    /// SQLite keeps no row counts unless `ANALYZE` has run; without a
    /// filter, `COUNT(*)` on a local file is fast enough to stand in.
    pub fn estimate(&mut self, select: &Select) -> Result<Option<u64>> {
        if select.filter.is_some() {
            return Ok(None);
        }
        self.count(&format!("SELECT COUNT(*) FROM {}", select.from))
            .map(Some)
    }

    pub fn count(&mut self, sql: &str) -> Result<u64> {
        let n: i64 = self.conn.query_row(sql, [], |row| row.get(0))?;
        Ok(n as u64)
    }

    /// The first row of `sql`, each value with its storage class; `None`
    /// when there is no row.
    pub fn first_row(&mut self, sql: &str) -> Result<Option<Key>> {
        Ok(self.key_rows(sql, 1)?.into_iter().next())
    }

    /// The first `limit` rows of `sql`, as SQLite's own values.
    pub fn key_rows(&mut self, sql: &str, limit: usize) -> Result<Vec<Key>> {
        let mut statement = self.conn.prepare(sql)?;
        let width = statement.column_count();
        let mut rows = statement.query([])?;
        let mut keys = Vec::new();
        while let Some(row) = rows.next()?.filter(|_| keys.len() < limit) {
            let values = (0..width).map(|i| row.get::<_, rusqlite::types::Value>(i));
            keys.push(Key::Sqlite(values.collect::<rusqlite::Result<_>>()?));
        }
        Ok(keys)
    }
}

/// What SQLite exports: the `output` columns of `from`, each typed by
/// its declared type (`decl_of`, SQLite's affinity rules), then the key.
fn relation(
    request: &Request,
    output: Vec<String>,
    decl_of: impl Fn(&String) -> String,
    key: (Vec<String>, KeyCheck),
    from: String,
    plain_query: Option<String>,
) -> Relation {
    let columns = output
        .iter()
        .map(|name| {
            let decl = decl_of(name);
            Column::typed(name.clone(), decl.clone(), ColType::sqlite(&decl))
        })
        .collect();
    let filter = request.filter.clone();
    Relation::plain(
        Dialect::Sqlite,
        columns,
        output,
        key,
        from,
        filter,
        plain_query,
    )
}

struct TableColumn {
    name: String,
    decl: String,
    not_null: bool,
    pk: i64,
}

#[inline]
fn cell(value: ValueRef<'_>) -> Cell<'_> {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::F64(f),
        ValueRef::Text(t) => Cell::Text(t),
        ValueRef::Blob(b) => Cell::Bytes(b),
    }
}
