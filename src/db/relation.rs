//! The vocabulary between a command and an engine: what the user asked
//! for (`Request`), what the engine found (`Relation`, its key, an
//! import's `TargetTable`), and how a read's rows end in chunks (`Read`,
//! `Chunks`).

use anyhow::Result;

use super::dialect::Dialect;
use crate::cell::{Column, RowSink};
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::plan::{Select, Statement};

pub use crate::key::Key;

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

    /// The same relation, still ordered by its key but never gone on
    /// from after one: for a `--key` not known to identify rows, which a
    /// one-statement read may order by, and which a read after the last
    /// key would make it skip rows that share that key.
    pub fn ordered_only(mut self) -> Relation {
        self.key_positions.clear();
        self
    }

    /// The select, keeping only the rows after `after` when a one-statement
    /// read (`cursor`, `copy`) goes on from a key.
    pub fn select_after(&self, after: Option<&Key>) -> Select {
        match after {
            Some(key) => self.select.after(key),
            None => self.select.clone(),
        }
    }

    /// The statement a `cursor` export runs: after `after` when it goes
    /// on from a key.
    pub fn cursor_sql(&self, after: Option<&Key>, limit: Option<u64>) -> String {
        match &self.plain_query {
            Some(query) => query.clone(),
            None => self.select_after(after).full(limit),
        }
    }
}

/// One statement to run for an export, its rows ended in chunks.
pub struct Read<'a> {
    pub relation: &'a Relation,
    pub statement: &'a Statement,
    /// The key the statement's parameters take (the last row written).
    pub after: Option<&'a Key>,
    /// Rows per chunk: each full chunk ends at a row whose key (when the
    /// relation has one) goes to the sink, for a checkpoint and for where
    /// a read after a lost connection starts.
    pub chunk: u64,
    /// The statement reads the rest of the export, not one chunk:
    /// PostgreSQL then fetches it through a portal `chunk` rows at a
    /// time, so the server never sends more than a chunk ahead.
    pub streamed: bool,
}

/// What a read did.
#[derive(Default)]
pub struct ChunkRead {
    pub rows: u64,
    /// The key of the last row of the last full chunk.
    pub last_key: Option<Key>,
}

/// Counts a read's rows into chunks of a set size and ends each at its
/// last row, with that row's key when the rows come in key order. Every
/// engine's read loop ends its rows here, so keyset chunks, cursor
/// fetches and `COPY` rows all checkpoint the same way.
pub struct Chunks {
    size: u64,
    in_chunk: u64,
    keyed: bool,
    read: ChunkRead,
}

impl Chunks {
    pub fn new(size: u64, relation: &Relation) -> Chunks {
        Chunks {
            size: size.max(1),
            in_chunk: 0,
            keyed: !relation.key_positions.is_empty(),
            read: ChunkRead::default(),
        }
    }

    /// Counts a row the engine has pushed and ended in `sink`; on the
    /// last row of a chunk, ends the chunk there (`key` is read only
    /// then, once per chunk).
    #[inline]
    pub fn row(
        &mut self,
        sink: &mut impl RowSink,
        key: impl FnOnce() -> Result<Key>,
    ) -> Result<()> {
        self.read.rows += 1;
        self.in_chunk += 1;
        if self.in_chunk == self.size {
            self.in_chunk = 0;
            let key = match self.keyed {
                true => Some(key()?),
                false => None,
            };
            sink.end_chunk(key.as_ref())?;
            self.read.last_key = key;
        }
        Ok(())
    }

    /// Ends the last, partial chunk (with no key: the read is over).
    pub fn finish(self, sink: &mut impl RowSink) -> Result<ChunkRead> {
        if self.in_chunk > 0 {
            sink.end_chunk(None)?;
        }
        Ok(self.read)
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
