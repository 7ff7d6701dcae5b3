//! What to run: the read strategies and the SQL text each one sends.
//!
//! Everything here is pure string building, so it is unit-tested without
//! a database. The engines in [`crate::db`] execute the SQL and bind the
//! parameters; the loops that repeat a query chunk after chunk live in
//! [`crate::cmd::export`].

pub mod ddl;
pub mod insert;
pub mod keyset;
pub mod sequence;

use crate::db::dialect::Dialect;
use crate::key::Key;

/// How rows are read. See `docs/strategies.md` for the trade-offs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// Pick from the engine and the table's keys.
    Auto,
    /// `WHERE key > last ORDER BY key LIMIT n`, repeated.
    Keyset,
    /// `ORDER BY key LIMIT n OFFSET k`, repeated; cost grows with k.
    Offset,
    /// One query whose rows are streamed from the server n at a time.
    Cursor,
    /// PostgreSQL `COPY (SELECT ...) TO STDOUT`.
    Copy,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Keyset => "keyset",
            Strategy::Offset => "offset",
            Strategy::Cursor => "cursor",
            Strategy::Copy => "copy",
        }
    }
}

/// The parts of a `SELECT` that every chunk of an export shares.
#[derive(Clone, Debug)]
pub struct Select {
    pub dialect: Dialect,
    /// Output expressions, then any hidden key expressions the reader needs
    /// to continue after the last row.
    pub list: Vec<String>,
    /// A quoted table name, or `(query) AS q`.
    pub from: String,
    /// The user's `--where`, raw SQL by design.
    pub filter: Option<String>,
    /// Quoted key column references, in `ORDER BY` order (empty: no key).
    pub key: Vec<String>,
    /// The parameter expression for each key column: `$1::text::integer`
    /// on PostgreSQL, `?` elsewhere.
    pub key_params: Vec<String>,
}

/// The user's `--where` and more conditions (a key range, the rows after
/// a key), as one filter.
pub fn and_filter(filter: Option<&str>, conditions: Vec<String>) -> Option<String> {
    let mut all: Vec<String> = filter.iter().map(|f| format!("({f})")).collect();
    all.extend(conditions);
    (!all.is_empty()).then(|| all.join(" AND "))
}

/// A statement and, for each of its placeholders in order, which key column
/// value it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<usize>,
}

impl Statement {
    /// A statement with no placeholders.
    pub fn plain(sql: String) -> Statement {
        Statement {
            sql,
            params: Vec::new(),
        }
    }
}

impl Select {
    /// The whole result in one statement (`cursor` and `copy`), ordered by
    /// the key when there is one, so every strategy yields the same bytes.
    pub fn full(&self, limit: Option<u64>) -> String {
        let mut sql = self.head();
        if let Some(filter) = &self.filter {
            sql.push_str(&format!(" WHERE ({filter})"));
        }
        self.push_order_and_limit(&mut sql, limit);
        sql
    }

    /// One `offset` chunk.
    pub fn offset_chunk(&self, limit: u64, offset: u64) -> Statement {
        let mut sql = self.full(Some(limit));
        if offset > 0 {
            sql.push_str(&format!(" OFFSET {offset}"));
        }
        Statement::plain(sql)
    }

    /// One `keyset` chunk: the first when `after_key` is false, else the one
    /// after the key values bound to the statement's parameters.
    pub fn keyset_chunk(&self, limit: u64, after_key: bool) -> Statement {
        let mut sql = self.head();
        let mut conditions = Vec::new();
        if let Some(filter) = &self.filter {
            conditions.push(format!("({filter})"));
        }
        let mut params = Vec::new();
        if after_key {
            let predicate = keyset::after(self.dialect, &self.key, &self.key_params);
            conditions.push(predicate.sql);
            params = predicate.params;
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        self.push_order_and_limit(&mut sql, Some(limit));
        Statement { sql, params }
    }

    /// The same select, keeping only the rows after `key`, written as
    /// literals: where a one-statement read (`cursor`, `copy`) goes on
    /// after a lost connection or a resume. `COPY` takes no parameters,
    /// and a literal plans as a bound value does.
    pub fn after(&self, key: &Key) -> Select {
        let condition = keyset::after_literals(self.dialect, &self.key, &key.literals());
        let mut select = self.clone();
        select.filter = and_filter(self.filter.as_deref(), vec![condition]);
        select
    }

    fn head(&self) -> String {
        format!("SELECT {} FROM {}", self.list.join(", "), self.from)
    }

    fn push_order_and_limit(&self, sql: &mut String, limit: Option<u64>) {
        if !self.key.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&self.key.join(", "));
        }
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(dialect: Dialect, key: &[&str]) -> Select {
        let param = |i: usize| match dialect {
            Dialect::Postgres => format!("${}::text::integer", i + 1),
            _ => "?".to_string(),
        };
        Select {
            dialect,
            list: vec!["\"id\"".into(), "\"name\"".into()],
            from: "\"people\"".into(),
            filter: None,
            key: key.iter().map(|k| k.to_string()).collect(),
            key_params: (0..key.len()).map(param).collect(),
        }
    }

    #[test]
    fn the_users_filter_comes_first() {
        assert_eq!(
            and_filter(Some("a = 1 OR b = 2"), vec!["id > 3".into()]).as_deref(),
            Some("(a = 1 OR b = 2) AND id > 3")
        );
        assert_eq!(and_filter(None, vec![]), None);
    }

    #[test]
    fn full_orders_by_key_and_limits() {
        let mut s = select(Dialect::Sqlite, &["\"id\""]);
        s.filter = Some("id > 3".into());
        assert_eq!(
            s.full(Some(10)),
            "SELECT \"id\", \"name\" FROM \"people\" WHERE (id > 3) ORDER BY \"id\" LIMIT 10"
        );
        assert_eq!(
            select(Dialect::Sqlite, &[]).full(None),
            "SELECT \"id\", \"name\" FROM \"people\""
        );
    }

    #[test]
    fn offset_chunks_skip_earlier_rows() {
        let s = select(Dialect::Postgres, &["\"id\""]);
        assert!(s
            .offset_chunk(5, 0)
            .sql
            .ends_with("ORDER BY \"id\" LIMIT 5"));
        assert!(s
            .offset_chunk(5, 10)
            .sql
            .ends_with("ORDER BY \"id\" LIMIT 5 OFFSET 10"));
    }

    #[test]
    fn keyset_first_and_next_chunk() {
        let mut s = select(Dialect::Postgres, &["\"a\"", "\"b\""]);
        s.filter = Some("x = 1".into());
        let first = s.keyset_chunk(100, false);
        assert_eq!(
            first.sql,
            "SELECT \"id\", \"name\" FROM \"people\" WHERE (x = 1) ORDER BY \"a\", \"b\" LIMIT 100"
        );
        let next = s.keyset_chunk(100, true);
        assert_eq!(
            next.sql,
            "SELECT \"id\", \"name\" FROM \"people\" WHERE (x = 1) AND \
             (\"a\", \"b\") > ($1::text::integer, $2::text::integer) ORDER BY \"a\", \"b\" LIMIT 100"
        );
        assert_eq!(next.params, vec![0, 1]);
    }
}
