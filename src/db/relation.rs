//! The vocabulary between a command and an engine: what the user asked
//! for (`Request`), what the engine found (`Relation`, its key, an
//! import's `TargetTable`), and where a keyset read stands (`Key`).

use anyhow::Result;

use super::dialect::Dialect;
use crate::cell::{Column, RowSink};
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::plan::Select;

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
#[derive(Default)]
pub struct ChunkRead {
    pub rows: u64,
    pub last_key: Option<Key>,
}

impl ChunkRead {
    /// Ends a row the engine has pushed into `sink`; on the chunk's
    /// `limit`th row, the last of a full chunk, keeps its key, where the
    /// next chunk starts (`key` is read only then). Every engine's chunk
    /// loop ends its rows here.
    pub fn end_row(
        &mut self,
        sink: &mut impl RowSink,
        limit: u64,
        key: impl FnOnce() -> Result<Key>,
    ) -> Result<()> {
        self.rows += 1;
        sink.end_row()?;
        if self.rows == limit {
            self.last_key = Some(key()?);
        }
        Ok(())
    }
}

/// Strips what would break wrapping a query as `(query) AS q`.
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
