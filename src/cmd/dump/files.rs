//! A dump directory on disk: what state it is in, the name of each
//! table's file, the journal of finished tables, the checksums and the
//! manifest written last.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::parts::Cuts;
use super::JOURNAL;
use crate::compress::Compression;
use crate::error::UsageError;
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::manifest::{self, FileEntry, Manifest, TableEntry, MANIFEST_NAME};

/// What an unfinished dump in the directory already holds, for
/// `--resume`: the complete tables, and of each table cut into parts, its
/// cuts and the parts complete (each checked against its size and
/// checksum; the others are dumped again).
#[derive(Default)]
pub struct Resumed {
    pub tables: Vec<TableEntry>,
    /// By the table's name as shown ([`QualifiedName::display`]).
    pub cuts: HashMap<String, Cuts>,
    /// By the table's name as shown, then the part's number (from 0).
    pub parts: HashMap<String, BTreeMap<usize, FileEntry>>,
}

/// Makes sure `dir` can take this dump, and returns what an unfinished
/// dump there already completed (with `--resume`; checked against their
/// checksums, the others dropped). A complete dump is never written over,
/// and an unfinished one is only continued when asked.
pub fn prepare_dir(dir: &Path, resume: bool) -> Result<Resumed> {
    let shown = dir.display();
    if dir.join(MANIFEST_NAME).exists() {
        return Err(UsageError(format!(
            "{shown} holds a complete dump (it has a {MANIFEST_NAME}): remove it, or dump to \
             another directory"
        ))
        .into());
    }
    let journal = dir.join(JOURNAL);
    match fs::read_dir(dir) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).with_context(|| format!("creating {shown}"))?;
            return Ok(Resumed::default());
        }
        Err(err) => return Err(err).with_context(|| format!("reading {shown}")),
        Ok(mut entries) => {
            let empty = entries.next().is_none();
            if !resume && journal.exists() {
                return Err(UsageError(format!(
                    "{shown} holds an unfinished dump: add --resume to go on with it, or remove \
                     the directory to start over"
                ))
                .into());
            }
            if !resume && !empty {
                return Err(UsageError(format!(
                    "{shown} is not empty: dump into a new or empty directory"
                ))
                .into());
            }
        }
    }
    remove_partials(dir)?;
    let text = match fs::read_to_string(&journal) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Resumed::default()),
        Err(err) => return Err(err).with_context(|| format!("reading {}", journal.display())),
    };
    let intact = |f: &FileEntry| f.is_intact(dir).unwrap_or(false);
    let mut resumed = Resumed::default();
    for line in read_journal(&text) {
        match line {
            Line::Table(entry) => {
                if entry.files.iter().all(intact) {
                    resumed.tables.push(entry);
                }
            }
            Line::Cuts { table, cuts } => {
                resumed.cuts.insert(table, cuts);
            }
            Line::Part {
                table,
                number,
                file,
            } => {
                if intact(&file) {
                    resumed.parts.entry(table).or_default().insert(number, file);
                }
            }
        }
    }
    // A table complete needs no parts; parts without their cuts (a
    // journal damaged by hand) cannot be placed.
    for entry in &resumed.tables {
        let name = entry.schema.name.display();
        resumed.cuts.remove(&name);
        resumed.parts.remove(&name);
    }
    resumed
        .parts
        .retain(|table, _| resumed.cuts.contains_key(table));
    Ok(resumed)
}

/// A killed dump leaves its table files' temporary names behind
/// (`.NAME.XXXXXX.partial`, see `output`): they are never complete.
fn remove_partials(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".partial") {
            fs::remove_file(dir.join(name.as_ref()))?;
        }
    }
    Ok(())
}

/// The file a table is dumped to: `schema.table.csv.zst`, each name part
/// with every byte that is not a letter, digit, `_` or `-` written as
/// `%XX` (so a name can hold a dot, a slash or anything else and still be
/// one file, different from every other table's).
pub fn table_file(
    table: &QualifiedName,
    format: Format,
    compression: Option<Compression>,
) -> String {
    let mut name = String::new();
    if let Some(schema) = &table.schema {
        name.push_str(&escape(schema));
        name.push('.');
    }
    name.push_str(&escape(&table.name));
    name.push('.');
    name.push_str(format.name());
    if let Some(compression) = compression {
        name.push('.');
        name.push_str(compression.codec.extension());
    }
    name
}

fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for byte in part.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// One line of the journal: a table complete (its manifest entry); the
/// cuts of a table about to be dumped in parts, written before any of its
/// parts is read; or one part complete.
#[derive(Clone, Debug)]
pub enum Line {
    Table(TableEntry),
    Cuts {
        table: String,
        cuts: Cuts,
    },
    Part {
        table: String,
        /// From 0, in key order.
        number: usize,
        file: FileEntry,
    },
}

impl Line {
    fn to_text(&self) -> String {
        let value = match self {
            Line::Table(entry) => return manifest::entry_line(entry),
            Line::Cuts { table, cuts } => json!({"cuts_of": table, "cuts": cuts}),
            Line::Part {
                table,
                number,
                file,
            } => json!({"part_of": table, "part": number, "file": file.to_json()}),
        };
        let mut line = value.to_string();
        line.push('\n');
        line
    }

    fn from_text(text: &str) -> Option<Line> {
        let value: Value = serde_json::from_str(text).ok()?;
        if let Some(table) = value["cuts_of"].as_str() {
            let cuts = serde_json::from_value(value["cuts"].clone()).ok()?;
            return Some(Line::Cuts {
                table: table.to_string(),
                cuts,
            });
        }
        if let Some(table) = value["part_of"].as_str() {
            return Some(Line::Part {
                table: table.to_string(),
                number: value["part"].as_u64()? as usize,
                file: FileEntry::from_json(&value["file"]).ok()?,
            });
        }
        TableEntry::from_json(&value).ok().map(Line::Table)
    }
}

/// The lines of a journal; a last line cut short by a crash is left out.
fn read_journal(text: &str) -> Vec<Line> {
    text.lines().filter_map(Line::from_text).collect()
}

/// The journal of finished tables and parts: a line each, synced before
/// the next one can count on it.
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Starts the journal afresh with what is kept from an earlier run.
    pub fn open<'a>(path: &Path, kept: impl Iterator<Item = &'a Line>) -> Result<Journal> {
        let text: String = kept.map(Line::to_text).collect();
        crate::place::write_atomically(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn record(&mut self, line: &Line) -> Result<()> {
        self.file
            .write_all(line.to_text().as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// Writes `manifest.json` under a temporary name and renames it into
/// place: the last step of a dump.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let mut text = serde_json::to_string_pretty(&manifest.to_json())?;
    text.push('\n');
    let path = dir.join(MANIFEST_NAME);
    crate::place::write_atomically(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_files_keep_every_name_apart() {
        let name = |schema: Option<&str>, table: &str| QualifiedName {
            schema: schema.map(str::to_string),
            name: table.to_string(),
        };
        let zstd = Some(Compression::new(crate::compress::Codec::Zstd));
        assert_eq!(
            table_file(&name(Some("public"), "orders"), Format::Csv, zstd),
            "public.orders.csv.zst"
        );
        assert_eq!(
            table_file(&name(None, "a.b/c d"), Format::Tsv, None),
            "a%2Eb%2Fc%20d.tsv"
        );
        assert_ne!(
            table_file(&name(Some("a.b"), "c"), Format::Csv, None),
            table_file(&name(Some("a"), "b.c"), Format::Csv, None)
        );
        assert_eq!(
            table_file(&name(None, "é"), Format::Csv, None),
            "%C3%A9.csv"
        );
    }

    #[test]
    fn a_journal_cut_short_keeps_its_whole_lines() {
        let cuts = Line::Cuts {
            table: "public.t".into(),
            cuts: vec![vec!["'10'".into()], vec!["'20'".into(), "NULL".into()]],
        };
        let part = Line::Part {
            table: "public.t".into(),
            number: 1,
            file: FileEntry {
                path: "public.t.00002.csv".into(),
                bytes: 7,
                sha256: "ab".repeat(32),
                rows: Some(3),
            },
        };
        let text = format!("{}{}", cuts.to_text(), part.to_text());
        let cut_short = &text[..text.len() - 5];
        let shown =
            |text: &str| -> Vec<String> { read_journal(text).iter().map(Line::to_text).collect() };
        assert_eq!(shown(&text), [cuts.to_text(), part.to_text()]);
        assert_eq!(shown(cut_short), [cuts.to_text()]);
    }
}
