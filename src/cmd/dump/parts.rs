//! Big tables cut into parts, so that `--jobs` workers share a table that
//! would otherwise be one job's long pole (one 5M-row table among small
//! ones keeps one job busy while the others have finished).
//!
//! A part is a key range (the rows after one key, up to and with the
//! next) read in the shared snapshot into a file of its own. The ranges
//! are `export --parallel`'s ([`crate::cmd::parallel::split`]: sampled
//! cuts on big tables, else the walk to rows `total·i/N`), so they cover
//! the key space exactly once whatever the cuts' accuracy, and each part
//! is ordered by the key as the whole table is: the parts' rows in order
//! are the one-file dump's rows.
//!
//! The cuts are kept as their keys' SQL literals ([`crate::db::Key::literals`]),
//! in the journal before any part is read, so that `--resume` reads the
//! same ranges again and keeps the parts already complete.
//!
//! A PostgreSQL table without a key is cut by its pages instead, as
//! `export --parallel` cuts it ([`by_pages`]): its parts are in storage
//! order, and a resumed dump reads them all again.

use anyhow::{Context, Result};

use crate::db::{Dialect, Relation};
use crate::engine::Engine;
use crate::partition;

/// Rows per part by default, with `--jobs` 2 or more: parts of 1M rows
/// keep two to four jobs within a part's time of each other at the end,
/// and cost a query, a file and a header each.
const PART_ROWS: u64 = 1_000_000;

/// The smallest default part: below it a part's own costs (the cut, a
/// statement, a file) stop being small next to its rows.
const MIN_PART_ROWS: u64 = 100_000;

/// Rows per part in this dump, or `None` when no table is cut:
/// `--part-rows` (0: never), else, with two jobs or more, 1,000,000 or
/// the dump's rows shared out over the jobs when that is fewer (at least
/// 100,000), so that a dump of a few mid-sized tables also keeps every
/// job busy.
pub fn rows_per_part(asked: Option<u64>, jobs: usize, total: u64) -> Option<u64> {
    match asked {
        Some(0) => None,
        Some(rows) => Some(rows),
        None if jobs < 2 => None,
        None => Some((total / jobs as u64).clamp(MIN_PART_ROWS, PART_ROWS)),
    }
}

/// How many parts a table of `estimate` rows is cut into: the nearest
/// whole number of parts, so a table is cut from 1.5 parts' rows up.
pub fn count(estimate: u64, rows_per_part: u64) -> usize {
    let rows = rows_per_part.max(1);
    (estimate.saturating_add(rows / 2) / rows).max(1) as usize
}

/// Where the parts of a table end: the key (as SQL literals) of each
/// part's last row, all but the last part's (which runs to the end).
pub type Cuts = Vec<Vec<String>>;

/// A table cut into parts: each part's filter, in order, and the cuts
/// that place them, for the journal. `cuts` is `None` for a PostgreSQL
/// table without a key, cut by its pages ([`by_pages`]): `--resume` keeps
/// none of its parts, since an update moves a row to another page, and a
/// part read in an earlier snapshot could hold a row that one read now
/// holds too.
pub struct Parts {
    pub cuts: Option<Cuts>,
    pub filters: Vec<String>,
}

/// Cuts the relation's key space into about `parts` ranges; `None` when
/// the table has no key to cut by, or its rows leave one range.
pub async fn cut(
    db: &mut crate::db::Db,
    relation: &Relation,
    parts: usize,
) -> Result<Option<Cuts>> {
    if parts < 2 || relation.key_names.is_empty() {
        return Ok(None);
    }
    let ranges = crate::cmd::parallel::split(db, relation, true, parts)
        .await
        .context("cutting the table into parts")?;
    let cuts: Cuts = ranges
        .iter()
        .filter_map(|range| range.through.as_ref())
        .map(crate::db::Key::literals)
        .collect();
    Ok((!cuts.is_empty()).then_some(cuts))
}

/// A PostgreSQL table without a key cut into about `parts` ranges of
/// its pages ([`partition::pages`]), as `export --parallel` cuts it; `None`
/// where it stays whole (another engine, a small table, a server before
/// PostgreSQL 14).
pub async fn by_pages(
    db: &mut crate::db::Db,
    relation: &Relation,
    parts: usize,
) -> Result<Option<Vec<String>>> {
    if parts < 2 || !relation.key_names.is_empty() || db.engine() != Engine::Postgres {
        return Ok(None);
    }
    let ranges = partition::pages::ranges(db, relation, parts, true)
        .await
        .context("cutting the table into parts by its pages")?;
    let filters: Vec<String> = ranges
        .into_iter()
        .map(|range| crate::plan::and_filter(None, range).unwrap_or_else(|| "1 = 1".into()))
        .collect();
    Ok((filters.len() > 1).then_some(filters))
}

/// Each part's filter, in key order: `cuts.len() + 1` of them.
pub fn filters(dialect: Dialect, key: &[String], cuts: &Cuts) -> Vec<String> {
    (0..=cuts.len())
        .map(|i| {
            let after = i.checked_sub(1).map(|j| cuts[j].as_slice());
            let through = cuts.get(i).map(Vec::as_slice);
            let conditions = partition::literal_conditions(dialect, key, after, through);
            crate::plan::and_filter(None, conditions).unwrap_or_else(|| "1 = 1".to_string())
        })
        .collect()
}

/// A part's file: the table's file name with the part's number (from 1)
/// before the extensions, as `export --split-rows` names its parts:
/// `public.orders.00002.csv.zst`. A table's own name never holds a dot
/// (it is written `%2E`), so no table's file looks like a part of another.
pub fn file_name(table_file: &str, number: usize) -> String {
    crate::split::part_path(std::path::Path::new(table_file), number as u64)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_cut_from_one_and_a_half_parts_up() {
        assert_eq!(count(1_400_000, 1_000_000), 1);
        assert_eq!(count(1_500_000, 1_000_000), 2);
        assert_eq!(count(5_000_000, 1_000_000), 5);
        assert_eq!(count(0, 1_000_000), 1);
        assert_eq!(count(10, 0), 10);
    }

    #[test]
    fn the_default_part_follows_the_jobs() {
        assert_eq!(rows_per_part(None, 1, 6_000_000), None);
        assert_eq!(rows_per_part(None, 2, 6_000_000), Some(1_000_000));
        assert_eq!(rows_per_part(None, 8, 3_000_000), Some(375_000));
        assert_eq!(rows_per_part(None, 8, 10_000), Some(100_000));
        assert_eq!(rows_per_part(Some(0), 8, 6_000_000), None);
        assert_eq!(rows_per_part(Some(500), 1, 10), Some(500));
    }

    #[test]
    fn filters_cover_the_key_once_in_order() {
        let cuts = vec![vec!["10".to_string()], vec!["20".to_string()]];
        let key = ["\"id\"".to_string()];
        assert_eq!(
            filters(Dialect::Sqlite, &key, &cuts),
            ["\"id\" <= 10", "\"id\" > 10 AND \"id\" <= 20", "\"id\" > 20"]
        );
    }

    #[test]
    fn part_files_carry_their_number_before_the_extensions() {
        assert_eq!(file_name("public.t.csv.zst", 2), "public.t.00002.csv.zst");
        assert_eq!(file_name("a%2Eb.tsv", 1), "a%2Eb.00001.tsv");
    }
}
