//! A dump's `manifest.json`: what was dumped, from where, at which point,
//! and every table's definition, row count and files with their
//! checksums. `dbchunk dump` writes it last, so a directory without one is
//! an unfinished dump; `dbchunk restore` reads it. Its fields are
//! documented in docs/dump.md.
//!
//! Hand-written JSON (serde_json's `Value`), as the plan file is: no
//! derive macros in the build for one file format.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use sha2::Digest;

use crate::coltype::ColType;
use crate::db::catalog::{
    Check, ColumnSchema, ForeignKey, IndexKind, IndexSchema, Sequence, TableSchema,
};
use crate::ident::QualifiedName;

/// Bumped when a field changes meaning; a reader refuses a newer one.
pub const MANIFEST_VERSION: u64 = 1;

pub const MANIFEST_NAME: &str = "manifest.json";

#[derive(Clone, Debug)]
pub struct Manifest {
    /// `postgres`, `mysql` or `sqlite`.
    pub engine: String,
    /// `PostgreSQL 15.19`, `MariaDB 10.11.19`.
    pub server: String,
    pub point: Point,
    pub format: String,
    /// `zstd`, `gzip`, or `None`.
    pub compression: Option<String>,
    /// The text a NULL is written as in CSV/TSV.
    pub null: String,
    pub tables: Vec<TableEntry>,
    /// The sequences of their own (PostgreSQL's, MariaDB's), where they
    /// stood.
    pub sequences: Vec<Sequence>,
}

/// Where in the database's history the tables were read.
#[derive(Clone, Debug, Default)]
pub struct Point {
    /// RFC 3339 UTC, when the snapshot was taken.
    pub taken: String,
    /// PostgreSQL: the exported snapshot id the workers shared.
    pub snapshot: Option<String>,
    /// PostgreSQL: the WAL position (LSN) in that snapshot.
    pub lsn: Option<String>,
    /// MySQL/MariaDB: `file:position` (and `gtid ...`) of the binary log
    /// under the global read lock; `None` when binary logging is off.
    pub binlog: Option<String>,
    /// Whether every table was read in the one snapshot: `false` after
    /// `--resume` (the tables kept were read in an earlier one) or with
    /// `--no-lock` on MySQL.
    pub consistent: bool,
}

/// One table: its definition, rows and files.
#[derive(Clone, Debug)]
pub struct TableEntry {
    pub schema: TableSchema,
    pub rows: u64,
    pub files: Vec<FileEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Relative to the dump directory.
    pub path: String,
    pub bytes: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The rows in this file: written for every file (a table cut into
    /// parts has one a part); `None` in a manifest that does not say.
    pub rows: Option<u64>,
}

impl FileEntry {
    /// Whether the file in `dir` is the one the dump wrote: its size, then
    /// its SHA-256 (read only when the size matches). An error: it cannot
    /// be read.
    pub fn is_intact(&self, dir: &std::path::Path) -> Result<bool> {
        let path = dir.join(&self.path);
        let size = std::fs::metadata(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        Ok(size == self.bytes && checksum(&path)?.0 == self.sha256)
    }
}

impl Manifest {
    pub fn to_json(&self) -> Value {
        json!({
            "dbchunk_manifest": MANIFEST_VERSION,
            "dbchunk_version": env!("CARGO_PKG_VERSION"),
            "engine": self.engine,
            "server": self.server,
            "point": {
                "taken": self.point.taken,
                "snapshot": self.point.snapshot,
                "lsn": self.point.lsn,
                "binlog": self.point.binlog,
                "consistent": self.point.consistent,
            },
            "format": self.format,
            "compression": self.compression,
            "null": self.null,
            "tables": self.tables.iter().map(TableEntry::to_json).collect::<Vec<_>>(),
            "sequences": self.sequences.iter().map(|q| json!({
                "schema": q.name.schema,
                "name": q.name.name,
                "type": q.data_type,
                "start": q.start,
                "increment": q.increment,
                "min": q.min,
                "max": q.max,
                "cycle": q.cycle,
                "last_value": q.last_value,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn from_json(value: &Value) -> Result<Manifest> {
        let version = value["dbchunk_manifest"]
            .as_u64()
            .ok_or_else(|| anyhow!("it is not a dbchunk manifest (no dbchunk_manifest field)"))?;
        if version > MANIFEST_VERSION {
            bail!(
                "it is a version {version} manifest, newer than this dbchunk reads \
                 ({MANIFEST_VERSION}): use a newer dbchunk"
            );
        }
        let point = &value["point"];
        Ok(Manifest {
            engine: text(value, "engine")?,
            server: text(value, "server")?,
            point: Point {
                taken: text(point, "taken")?,
                snapshot: optional_text(point, "snapshot"),
                lsn: optional_text(point, "lsn"),
                binlog: optional_text(point, "binlog"),
                consistent: point["consistent"].as_bool().unwrap_or(false),
            },
            format: text(value, "format")?,
            compression: optional_text(value, "compression"),
            null: text(value, "null")?,
            tables: list(value, "tables", TableEntry::from_json)?,
            // Manifests written before sequences were kept have none.
            sequences: match value.get("sequences") {
                None => Vec::new(),
                Some(_) => list(value, "sequences", sequence)?,
            },
        })
    }
}

impl TableEntry {
    pub fn to_json(&self) -> Value {
        let table = &self.schema;
        json!({
            "schema": table.name.schema,
            "name": table.name.name,
            "columns": table.columns.iter().map(|c| json!({
                "name": c.name,
                "type": c.engine_type,
                "portable": c.portable.name(),
                "nullable": c.nullable,
                "default": c.default,
                "auto_increment": c.auto_increment,
            })).collect::<Vec<_>>(),
            "primary_key": table.primary_key,
            "indexes": table.indexes.iter().map(|i| json!({
                "name": i.name,
                "columns": i.columns,
                "unique": i.unique,
                "definition": i.definition,
                "kind": i.kind.word(),
            })).collect::<Vec<_>>(),
            "checks": table.checks.iter().map(|c| json!({
                "name": c.name,
                "definition": c.definition,
            })).collect::<Vec<_>>(),
            "foreign_keys": table.foreign_keys.iter().map(|f| json!({
                "name": f.name,
                "columns": f.columns,
                "references": {"schema": f.references.schema, "name": f.references.name},
                "referenced_columns": f.referenced_columns,
                "on_delete": f.on_delete,
                "on_update": f.on_update,
            })).collect::<Vec<_>>(),
            "rows": self.rows,
            "files": self.files.iter().map(FileEntry::to_json).collect::<Vec<_>>(),
        })
    }

    pub fn from_json(value: &Value) -> Result<TableEntry> {
        let name = QualifiedName {
            schema: optional_text(value, "schema"),
            name: text(value, "name")?,
        };
        let inside = |e: anyhow::Error| e.context(format!("table {}", name.display()));
        let columns = list(value, "columns", column).map_err(inside)?;
        let indexes = list(value, "indexes", index).map_err(inside)?;
        let foreign_keys = list(value, "foreign_keys", foreign_key).map_err(inside)?;
        // Manifests written before checks were kept have none.
        let checks = match value.get("checks") {
            None => Vec::new(),
            Some(_) => list(value, "checks", check).map_err(inside)?,
        };
        let files = list(value, "files", FileEntry::from_json).map_err(inside)?;
        Ok(TableEntry {
            rows: number(value, "rows").map_err(inside)?,
            schema: TableSchema {
                primary_key: names(value, "primary_key").map_err(inside)?,
                name,
                columns,
                indexes,
                foreign_keys,
                checks,
            },
            files,
        })
    }
}

/// Each element of the list `field`, read by `read`.
fn list<T>(value: &Value, field: &str, read: fn(&Value) -> Result<T>) -> Result<Vec<T>> {
    array(value, field)?.iter().map(read).collect()
}

fn sequence(value: &Value) -> Result<Sequence> {
    let whole = |field: &str| {
        value[field]
            .as_i64()
            .ok_or_else(|| anyhow!("field {field:?} is missing or not a whole number"))
    };
    Ok(Sequence {
        name: QualifiedName {
            schema: optional_text(value, "schema"),
            name: text(value, "name")?,
        },
        data_type: text(value, "type")?,
        start: whole("start")?,
        increment: whole("increment")?,
        min: whole("min")?,
        max: whole("max")?,
        cycle: value["cycle"].as_bool().unwrap_or(false),
        last_value: value["last_value"].as_i64(),
        readable: true,
    })
}

fn check(value: &Value) -> Result<Check> {
    Ok(Check {
        name: text(value, "name")?,
        definition: text(value, "definition")?,
    })
}

fn index(value: &Value) -> Result<IndexSchema> {
    Ok(IndexSchema {
        name: text(value, "name")?,
        columns: names(value, "columns")?,
        unique: value["unique"].as_bool().unwrap_or(false),
        definition: optional_text(value, "definition"),
        kind: optional_text(value, "kind").map_or(IndexKind::Plain, |k| IndexKind::from_word(&k)),
    })
}

impl FileEntry {
    pub fn to_json(&self) -> Value {
        json!({
            "path": self.path,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
        })
    }

    pub fn from_json(value: &Value) -> Result<FileEntry> {
        Ok(FileEntry {
            path: text(value, "path")?,
            bytes: number(value, "bytes")?,
            sha256: text(value, "sha256")?,
            rows: value["rows"].as_u64(),
        })
    }
}

fn column(value: &Value) -> Result<ColumnSchema> {
    let portable = text(value, "portable")?;
    Ok(ColumnSchema {
        name: text(value, "name")?,
        engine_type: text(value, "type")?,
        portable: ColType::from_name(&portable)
            .ok_or_else(|| anyhow!("unknown portable type {portable:?}"))?,
        nullable: value["nullable"].as_bool().unwrap_or(true),
        default: optional_text(value, "default"),
        auto_increment: value["auto_increment"].as_bool().unwrap_or(false),
    })
}

fn foreign_key(value: &Value) -> Result<ForeignKey> {
    let references = &value["references"];
    Ok(ForeignKey {
        name: text(value, "name")?,
        columns: names(value, "columns")?,
        references: QualifiedName {
            schema: optional_text(references, "schema"),
            name: text(references, "name")?,
        },
        referenced_columns: names(value, "referenced_columns")?,
        on_delete: text(value, "on_delete")?,
        on_update: text(value, "on_update")?,
    })
}

fn text(value: &Value, field: &str) -> Result<String> {
    value[field]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("field {field:?} is missing or not a string"))
}

fn optional_text(value: &Value, field: &str) -> Option<String> {
    value[field].as_str().map(str::to_string)
}

fn number(value: &Value, field: &str) -> Result<u64> {
    value[field]
        .as_u64()
        .ok_or_else(|| anyhow!("field {field:?} is missing or not a whole number"))
}

fn array<'a>(value: &'a Value, field: &str) -> Result<&'a Vec<Value>> {
    value[field]
        .as_array()
        .ok_or_else(|| anyhow!("field {field:?} is missing or not a list"))
}

fn names(value: &Value, field: &str) -> Result<Vec<String>> {
    array(value, field)?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| anyhow!("field {field:?} holds something other than names"))
        })
        .collect()
}

/// SHA-256 of a file's bytes (lowercase hex) and its length.
pub fn checksum(path: &std::path::Path) -> Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    let mut bytes = 0;
    loop {
        let n = std::io::Read::read(&mut file, &mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    let sum = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((sum, bytes))
}

/// Reads `DIR/manifest.json`.
pub fn read(dir: &std::path::Path) -> Result<Manifest> {
    let path = dir.join(MANIFEST_NAME);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (a complete dump has one: is this a dump directory, and did the dump \
             finish?)",
            path.display()
        )
    })?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    Manifest::from_json(&value).with_context(|| format!("reading {}", path.display()))
}

/// A table entry as one line of the journal of a dump in progress.
pub fn entry_line(entry: &TableEntry) -> String {
    let mut line = entry.to_json().to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_contains;

    fn entry() -> TableEntry {
        TableEntry {
            schema: TableSchema {
                name: QualifiedName {
                    schema: Some("sales".into()),
                    name: "odd \"name\"".into(),
                },
                columns: vec![ColumnSchema {
                    name: "id".into(),
                    engine_type: "bigint".into(),
                    portable: ColType::int(64, true),
                    nullable: false,
                    default: None,
                    auto_increment: true,
                }],
                primary_key: vec!["id".into()],
                indexes: vec![IndexSchema {
                    name: "by_lower".into(),
                    columns: vec![],
                    unique: false,
                    definition: Some("CREATE INDEX by_lower ON t (lower(x))".into()),
                    kind: IndexKind::Fulltext,
                }],
                foreign_keys: vec![ForeignKey {
                    name: "fk".into(),
                    columns: vec!["id".into()],
                    references: QualifiedName {
                        schema: None,
                        name: "parent".into(),
                    },
                    referenced_columns: vec!["pid".into()],
                    on_delete: "CASCADE".into(),
                    on_update: "NO ACTION".into(),
                }],
                checks: vec![Check {
                    name: "positive".into(),
                    definition: "CHECK ((id > 0))".into(),
                }],
            },
            rows: 42,
            files: vec![FileEntry {
                path: "sales.odd%20%22name%22.csv.zst".into(),
                bytes: 100,
                sha256: "ab".repeat(32),
                rows: Some(42),
            }],
        }
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let manifest = Manifest {
            engine: "postgres".into(),
            server: "PostgreSQL 15.19".into(),
            point: Point {
                taken: "2026-12-03T18:00:00.000Z".into(),
                snapshot: Some("00000003-0000001B-1".into()),
                lsn: Some("0/1A2B3C".into()),
                binlog: None,
                consistent: true,
            },
            format: "csv".into(),
            compression: Some("zstd".into()),
            null: String::new(),
            tables: vec![entry()],
            sequences: vec![Sequence {
                name: QualifiedName {
                    schema: Some("sales".into()),
                    name: "invoice_no".into(),
                },
                data_type: "bigint".into(),
                start: 1000,
                increment: 1,
                min: 1,
                max: i64::MAX,
                cycle: false,
                last_value: Some(1041),
                readable: true,
            }],
        };
        let back = Manifest::from_json(&manifest.to_json()).unwrap();
        assert_eq!(back.to_json(), manifest.to_json());
    }

    #[test]
    fn a_newer_manifest_is_refused() {
        let mut value = json!({"dbchunk_manifest": MANIFEST_VERSION + 1});
        let err = Manifest::from_json(&value).unwrap_err().to_string();
        assert_contains(&err, "newer");
        value = json!({});
        assert!(Manifest::from_json(&value).is_err());
    }
}
