//! `--split-rows` and `--split-bytes`: an export written as numbered parts
//! (`orders.00001.csv.zst`, `orders.00002.csv.zst`, ...), each a complete
//! file of its format on its own.
//!
//! This module names the parts, finds the parts an earlier export left
//! under the same name, and opens each part as an ordinary [`Output`], so
//! every part goes through the same temporary file and rename as a single
//! `--output` file: a part appears under its name only once complete. The
//! [`crate::pipeline::Pipeline`] decides where a part ends (always at a row
//! boundary, or for Parquet after a row group) and writes each part's
//! header or Parquet footer.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::compress::{Compression, Suffix};
use crate::output::{Destination, Output};

/// Where a part ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Exactly this many rows a part (the last one may hold fewer).
    Rows(u64),
    /// A part ends at the first row (Parquet: row group) boundary after it
    /// holds this many bytes of the format, before gzip or zstd.
    Bytes(u64),
}

/// `--split-rows`/`--split-bytes`, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub limit: Limit,
    /// `-o`: the name the parts are numbered after (a symlink is not
    /// followed: the parts are new files beside it).
    pub base: PathBuf,
    /// `--overwrite`: remove an earlier export's parts before writing.
    pub overwrite: bool,
}

/// A part that is complete and under its final name.
#[derive(Clone, Debug)]
pub struct Part {
    pub path: PathBuf,
    pub rows: u64,
    /// The file's size: compressed bytes for a `.gz`/`.zst` part.
    pub bytes: u64,
}

/// `orders.csv.zst` split into its stem (`orders`) and the extensions
/// the part number goes before (`.csv.zst`): a compression suffix, and the
/// one extension before it.
fn stem_and_chain(name: &str) -> (&str, &str) {
    let without_codec = match Suffix::of(name) {
        Suffix::Compressed(_, rest) => rest,
        _ => name,
    };
    let stem = match Path::new(without_codec).extension() {
        Some(ext) => &without_codec[..without_codec.len() - ext.len() - 1],
        None => without_codec,
    };
    (stem, &name[stem.len()..])
}

/// The name of part `number` (from 1): `orders.00001.csv.zst`. Five
/// digits, more once there are more than 99,999 parts (names then still
/// sort by number within each width).
pub fn part_path(base: &Path, number: u64) -> PathBuf {
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, chain) = stem_and_chain(&name);
    base.with_file_name(format!("{stem}.{number:05}{chain}"))
}

/// The parts of `base` that exist now (any number, not only a run from
/// 1), sorted by number.
pub fn existing_parts(base: &Path) -> std::io::Result<Vec<PathBuf>> {
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, chain) = stem_and_chain(&name);
    let dir = match base.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // No directory yet: no parts (writing will say what is wrong).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut parts = Vec::new();
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        if let Some(number) = part_number(file_name, stem, chain) {
            parts.push((number, base.with_file_name(file_name)));
        }
    }
    parts.sort();
    Ok(parts.into_iter().map(|(_, path)| path).collect())
}

/// `N` if `name` is `STEM.N CHAIN` with `N` of five digits or more.
fn part_number(name: &str, stem: &str, chain: &str) -> Option<u64> {
    let digits = name
        .strip_prefix(stem)?
        .strip_prefix('.')?
        .strip_suffix(chain)?;
    let all_digits = digits.bytes().all(|b| b.is_ascii_digit());
    (digits.len() >= 5 && all_digits).then(|| digits.parse().ok())?
}

/// Opens the parts one after another, and keeps what each one held.
pub struct Parts {
    split: Split,
    compression: Option<Compression>,
    /// The number the next part gets.
    next: u64,
    done: Vec<Part>,
}

impl Parts {
    /// Removes an earlier export's parts when `--overwrite` says so (a
    /// rerun never mixes its parts with older ones), then opens part 1.
    pub fn start(split: Split, compression: Option<Compression>) -> Result<(Parts, Output)> {
        if split.overwrite {
            for path in existing_parts(&split.base)
                .with_context(|| format!("looking for earlier parts of {}", split.base.display()))?
            {
                std::fs::remove_file(&path)
                    .with_context(|| format!("removing the earlier part {}", path.display()))?;
            }
        }
        let mut parts = Parts {
            split,
            compression,
            next: 1,
            done: Vec::new(),
        };
        let first = parts.open()?;
        Ok((parts, first))
    }

    pub fn limit(&self) -> Limit {
        self.split.limit
    }

    /// The next part, under a temporary name until [`Parts::finish`].
    pub fn open(&mut self) -> Result<Output> {
        let path = part_path(&self.split.base, self.next);
        self.next += 1;
        Output::open(Destination::File(path), self.compression)
    }

    /// Writes the rest of the oldest open part (parts finish in order)
    /// and renames it into place.
    pub fn finish(&mut self, output: Output, rows: u64) -> Result<()> {
        let path = part_path(&self.split.base, self.done.len() as u64 + 1);
        output.finish()?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        self.done.push(Part { path, rows, bytes });
        Ok(())
    }

    /// The parts complete so far.
    pub fn done(&self) -> &[Part] {
        &self.done
    }

    pub fn into_done(self) -> Vec<Part> {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_goes_before_the_extensions() {
        let part = |name: &str, n| part_path(Path::new(name), n);
        assert_eq!(
            part("out/orders.csv.zst", 1),
            PathBuf::from("out/orders.00001.csv.zst")
        );
        assert_eq!(
            part("orders.parquet", 12),
            PathBuf::from("orders.00012.parquet")
        );
        assert_eq!(
            part("my.orders.tsv.GZ", 3),
            PathBuf::from("my.orders.00003.tsv.GZ")
        );
        assert_eq!(part("orders.zst", 2), PathBuf::from("orders.00002.zst"));
        assert_eq!(part("orders", 2), PathBuf::from("orders.00002"));
        assert_eq!(part("x.ndjson", 123_456), PathBuf::from("x.123456.ndjson"));
    }

    #[test]
    fn earlier_parts_are_found_by_pattern() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "o.00001.csv.gz", "o.00002.csv.gz", "o.123456.csv.gz", "o.csv.gz", "o.0001.csv.gz",
            "o.00001.csv", "oo.00001.csv.gz",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let found: Vec<String> = existing_parts(&dir.path().join("o.csv.gz"))
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            found,
            ["o.00001.csv.gz", "o.00002.csv.gz", "o.123456.csv.gz"]
        );
    }
}
