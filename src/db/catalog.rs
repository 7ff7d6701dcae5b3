//! What a whole table is, beyond the columns an export reads: the words a
//! dump writes into its manifest and a restore creates tables from.
//!
//! Every engine fills the same shapes from its own catalog
//! (`db/{postgres,mysql,sqlite}/catalog.rs`). Types keep the engine's own
//! spelling (`engine_type`) beside the portable one ([`ColType`]), because
//! a restore into the same engine wants the first and one into another
//! engine wants both (the portable type to choose, the engine's words for
//! what it loses: lengths, labels, unsignedness).

use crate::coltype::ColType;
use crate::ident::QualifiedName;

/// A base table and everything a restore needs to make it again.
#[derive(Clone, Debug)]
pub struct TableSchema {
    pub name: QualifiedName,
    pub columns: Vec<ColumnSchema>,
    /// Column names; empty without a primary key.
    pub primary_key: Vec<String>,
    /// Secondary indexes, unique or not (the primary key's is not here).
    pub indexes: Vec<IndexSchema>,
    pub foreign_keys: Vec<ForeignKey>,
    /// CHECK constraints (SQLite's read out of its `CREATE TABLE` text).
    pub checks: Vec<Check>,
}

/// What an engine's catalog says of a table, which [`TableSchema`] names:
/// its columns, primary key, secondary indexes, foreign keys and checks.
pub type TableParts = (
    Vec<ColumnSchema>,
    Vec<String>,
    Vec<IndexSchema>,
    Vec<ForeignKey>,
    Vec<Check>,
);

/// Which relations of a schema a listing returns: the base tables a dump
/// reads, or the views it leaves out (and names in a warning).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    Tables,
    /// Views, and PostgreSQL's materialized views.
    Views,
}

/// What each engine's catalog calls them.
impl Listed {
    /// PostgreSQL's `relkind`s.
    pub fn postgres_kinds(self) -> [&'static str; 2] {
        match self {
            Listed::Tables => ["r", "p"],
            Listed::Views => ["v", "m"],
        }
    }

    /// MySQL's `TABLE_TYPE`.
    pub fn mysql_type(self) -> &'static str {
        match self {
            Listed::Tables => "BASE TABLE",
            Listed::Views => "VIEW",
        }
    }

    /// The `type` of SQLite's `pragma_table_list`.
    pub fn sqlite_type(self) -> &'static str {
        match self {
            Listed::Tables => "table",
            Listed::Views => "view",
        }
    }
}

/// A sequence of its own, PostgreSQL's or MariaDB's (not a column's
/// counter, which a restore sets again from the rows): its definition and
/// where it stood when the dump listed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub name: QualifiedName,
    /// `smallint`, `integer` or `bigint` (MariaDB's are `bigint`).
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cycle: bool,
    /// The last value handed out; `None` before the first `nextval`.
    pub last_value: Option<i64>,
    /// Whether the user may read where it stands (`last_value` is `None`
    /// without the SELECT privilege too).
    pub readable: bool,
}

/// A CHECK constraint in the engine's own words (`CHECK ((n > 0))`),
/// which only the same engine can read: a restore into it makes it again
/// in `CREATE TABLE`, one into another engine leaves it out and says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub definition: String,
}

#[derive(Clone, Debug)]
pub struct ColumnSchema {
    pub name: String,
    /// As the engine writes it: `numeric(10,2)`, `int(10) unsigned`,
    /// `enum('a','b')`, `VARCHAR(20)`.
    pub engine_type: String,
    pub portable: ColType,
    pub nullable: bool,
    /// The default as the engine's own SQL expression; `None` without one
    /// and for the defaults that are the key's counter (see `generated`).
    pub default: Option<String>,
    /// The engine numbers new rows itself: `serial`/identity,
    /// `AUTO_INCREMENT`, SQLite's `INTEGER PRIMARY KEY`.
    pub auto_increment: bool,
}

#[derive(Clone, Debug)]
pub struct IndexSchema {
    pub name: String,
    /// Plain column names, in index order; empty when the index is over
    /// expressions (then only `definition` can make it again).
    pub columns: Vec<String>,
    pub unique: bool,
    /// For an index the columns alone cannot describe (expressions, a
    /// `WHERE`, a prefix length), the engine's own words after `CREATE
    /// INDEX name ON table`: `USING btree (lower(x)) WHERE y > 0`,
    /// `` (`doc`(10)) ``. A restore into the same engine puts them after
    /// its own `CREATE INDEX ... ON target`; another engine cannot read them.
    pub definition: Option<String>,
    /// MySQL's full-text and spatial indexes, which are not B-trees.
    pub kind: IndexKind,
}

/// What an index is for, where the engine says it in words of its own:
/// MySQL's `CREATE FULLTEXT INDEX` and `CREATE SPATIAL INDEX`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IndexKind {
    #[default]
    Plain,
    /// For `MATCH ... AGAINST`; no other engine has one to match.
    Fulltext,
    /// An R-tree over a geometry column; PostGIS's GiST does its work.
    Spatial,
}

impl IndexKind {
    /// The word a manifest keeps (`None` for a plain index).
    pub fn word(self) -> Option<&'static str> {
        match self {
            IndexKind::Plain => None,
            IndexKind::Fulltext => Some("fulltext"),
            IndexKind::Spatial => Some("spatial"),
        }
    }

    /// The kind a [`IndexKind::word`] names; MySQL's `INDEX_TYPE` too.
    pub fn from_word(word: &str) -> IndexKind {
        match word.to_ascii_lowercase().as_str() {
            "fulltext" => IndexKind::Fulltext,
            "spatial" => IndexKind::Spatial,
            _ => IndexKind::Plain,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub references: QualifiedName,
    pub referenced_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, `SET DEFAULT`, `RESTRICT` or `NO ACTION`.
    pub on_delete: String,
    pub on_update: String,
}

/// Table names found in `schema` (`None`: the connection's own), as the
/// names a command is given.
pub fn named_in(schema: Option<&str>, names: Vec<String>) -> Vec<QualifiedName> {
    names
        .into_iter()
        .map(|name| QualifiedName {
            schema: schema.map(str::to_string),
            name,
        })
        .collect()
}

/// Gathers foreign keys read a row per column, in key order: `key` (with
/// no columns yet) starts a new one when its name differs from the last.
pub fn add_key_column(
    keys: &mut Vec<ForeignKey>,
    key: ForeignKey,
    column: String,
    referenced: Option<String>,
) {
    if keys.last().is_none_or(|last| last.name != key.name) {
        keys.push(key);
    }
    let last = keys.last_mut().expect("pushed above");
    last.columns.push(column);
    // None: the referenced table's primary key (SQLite).
    last.referenced_columns.extend(referenced);
}

/// PostgreSQL's one-letter referential action, as SQL words.
pub fn referential_action(code: &str) -> String {
    match code {
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        "r" => "RESTRICT",
        _ => "NO ACTION",
    }
    .to_string()
}
