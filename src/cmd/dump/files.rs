//! A dump directory on disk: what state it is in, the name of each
//! table's file, the journal of finished tables, the checksums and the
//! manifest written last.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::JOURNAL;
use crate::compress::Compression;
use crate::error::UsageError;
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::manifest::{self, Manifest, TableEntry, MANIFEST_NAME};

/// Makes sure `dir` can take this dump, and returns the tables an
/// unfinished dump there already completed (with `--resume`; checked
/// against their checksums, the others dropped). A complete dump is never
/// written over, and an unfinished one is only continued when asked.
pub fn prepare_dir(dir: &Path, resume: bool) -> Result<Vec<TableEntry>> {
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
            return Ok(Vec::new());
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
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err).with_context(|| format!("reading {}", journal.display())),
    };
    let mut kept = Vec::new();
    for entry in manifest::read_journal(&text) {
        if entry
            .files
            .iter()
            .all(|f| f.is_intact(dir).unwrap_or(false))
        {
            kept.push(entry);
        }
    }
    Ok(kept)
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

/// The journal of finished tables: a line each, synced before the next
/// table can count on it.
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Starts the journal afresh with the tables kept from an earlier run.
    pub fn open<'a>(path: &Path, kept: impl Iterator<Item = &'a TableEntry>) -> Result<Journal> {
        let text: String = kept.map(manifest::entry_line).collect();
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

    pub fn record(&mut self, entry: &TableEntry) -> Result<()> {
        self.file
            .write_all(manifest::entry_line(entry).as_bytes())
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
}
