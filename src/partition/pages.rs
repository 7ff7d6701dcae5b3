//! Cutting a PostgreSQL table by its pages: the ranges of `export
//! --parallel` over a table with no key to cut.
//!
//! A table is a heap of numbered pages, and every row's `ctid` names its
//! page. Since PostgreSQL 14 a condition on `ctid` ranges is a TID Range
//! Scan, which reads only those pages: N workers over N page ranges read
//! the table once between them, in its storage order, each range ordered
//! as a plain `COPY` of the table orders it. Measured with psql on
//! pgbench_accounts (docs/benchmarks.md): two such COPYs at once took
//! 0.65 of one's time, and no more CPU in all.
//!
//! The ranges are open at both ends (the first has no lower bound, the
//! last no upper one), so a row is in exactly one of them whatever the
//! table's size is when the workers read it.

use anyhow::Result;

use crate::db::{Db, Key, Relation};

/// The first PostgreSQL version with TID Range Scans: before it, each
/// worker's `ctid` condition would scan the whole table.
const TID_RANGE_SCANS: u32 = 140_000;

/// The conditions of `parts` page ranges of the relation's table, one
/// list per range; a single empty list (read it whole, on one
/// connection) where the table is too small to cut or the server cannot
/// read a range of pages alone, with a warning then (unless `quiet`).
pub async fn ranges(
    db: &mut Db,
    relation: &Relation,
    parts: usize,
    quiet: bool,
) -> Result<Vec<Vec<String>>> {
    let version = db
        .first_row("SELECT current_setting('server_version_num')")
        .await?;
    let version = text_number(version).unwrap_or(0) as u32;
    if version < TID_RANGE_SCANS {
        if !quiet {
            crate::error::warn(&format!(
                "{} has no key, and PostgreSQL before 14 cannot read a range of its pages \
                 alone: exporting it on one connection (name a key with --key to split it)",
                relation.select.from
            ));
        }
        return Ok(vec![Vec::new()]);
    }
    let pages = heap_pages(db, &relation.select.from).await?.unwrap_or(0);
    Ok(conditions(pages, parts))
}

/// The pages of the table named `from` (quoted), from its size on disk;
/// `None` for anything but a table or materialized view.
pub async fn heap_pages(db: &mut Db, from: &str) -> Result<Option<u64>> {
    let sql = format!(
        "SELECT pg_relation_size(c.oid) / current_setting('block_size')::bigint FROM pg_class c \
         WHERE c.oid = to_regclass({}) AND c.relkind IN ('r', 'm')",
        crate::db::postgres::literal(from)
    );
    Ok(text_number(db.first_row(&sql).await?))
}

fn text_number(row: Option<Key>) -> Option<u64> {
    row.and_then(Key::first_text)?.parse().ok()
}

/// The `ctid` conditions of `parts` ranges of about equal pages out of
/// `pages`; fewer ranges when there are fewer pages than parts.
fn conditions(pages: u64, parts: usize) -> Vec<Vec<String>> {
    let parts = (parts as u64).clamp(1, pages.max(1));
    let cuts: Vec<u64> = (1..parts).map(|i| pages * i / parts).collect();
    let mut ranges = Vec::with_capacity(cuts.len() + 1);
    let mut from: Option<u64> = None;
    for cut in cuts.iter().copied().map(Some).chain([None]) {
        let mut range = Vec::new();
        if let Some(from) = from {
            range.push(format!("ctid >= '({from},0)'::tid"));
        }
        if let Some(cut) = cut {
            range.push(format!("ctid < '({cut},0)'::tid"));
        }
        ranges.push(range);
        from = cut;
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_ranges_meet_and_are_open_at_the_ends() {
        assert_eq!(
            conditions(10, 3),
            [
                vec!["ctid < '(3,0)'::tid".to_string()],
                vec![
                    "ctid >= '(3,0)'::tid".to_string(),
                    "ctid < '(6,0)'::tid".to_string()
                ],
                vec!["ctid >= '(6,0)'::tid".to_string()],
            ]
        );
    }

    #[test]
    fn fewer_pages_than_parts_give_fewer_ranges() {
        assert_eq!(conditions(0, 4), [Vec::<String>::new()]);
        assert_eq!(conditions(1, 4), [Vec::<String>::new()]);
        assert_eq!(conditions(2, 4).len(), 2);
    }
}
