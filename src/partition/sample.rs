//! Cuts found without walking the key's index: from a sample of the
//! table's pages on PostgreSQL, from the index's own row estimates on
//! MySQL/MariaDB. Walking to row `total·i/n` reads most of the index
//! (3.75M entries for 4 parts of 5M rows); these read a few thousand
//! pages or ask the index a few hundred questions, and give ranges of
//! about equal rows, not exactly equal ones. Where they cannot work (a
//! query, a small table, a key they cannot place), the caller walks.

use anyhow::Result;

use crate::db::{Db, Key, Relation};

/// Cuts placed by a sample, and each part's share of the rows (summing
/// to 1), as the sample sees them.
pub struct Sampled {
    pub cuts: Vec<Option<Key>>,
    pub shares: Vec<f64>,
}

/// Pages sampled per part on PostgreSQL. Rows stored in key order make a
/// page a block of neighbouring keys, so the sample's size is its pages:
/// a part's share of `m` sampled pages is off by about `sqrt(N/m)` of
/// itself, 6% for 4 parts of 1,000 pages, and ±25% is then four times
/// that. Rows stored out of key order only make it better.
const PAGES_PER_PART: u64 = 250;

/// A table must have this many times the sampled pages to be sampled: on
/// a smaller one the walk costs about what the sample does.
const TABLE_PER_SAMPLE: u64 = 4;

/// MySQL: rows per part below which the walk is cheap enough (and its
/// parts exact).
const MYSQL_ROWS_PER_PART: u64 = 100_000;

/// The cuts of `parts` ranges without walking the index, or `None` where
/// that cannot work here. `table`: the source is a table (not a query).
pub async fn cuts(
    db: &mut Db,
    relation: &Relation,
    table: bool,
    parts: usize,
) -> Result<Option<Sampled>> {
    if !table || parts < 2 || relation.key_names.is_empty() {
        return Ok(None);
    }
    match db {
        Db::Postgres(_) => postgres(db, relation, parts).await,
        Db::Mysql(_) => mysql(db, relation, parts).await,
        Db::Sqlite(_) => Ok(None),
    }
}

/// PostgreSQL: `TABLESAMPLE SYSTEM` reads about `250·N` of the table's
/// pages (all their rows, in the reading transaction's snapshot, the
/// user's `--where` applied), and the keys at the sample's `i/N`
/// quantiles are the cuts.
async fn postgres(db: &mut Db, relation: &Relation, parts: usize) -> Result<Option<Sampled>> {
    let select = &relation.select;
    let pages = super::pages::heap_pages(db, &select.from).await?;
    let sample = PAGES_PER_PART * parts as u64;
    let Some(pages) = pages.filter(|&p| p >= sample * TABLE_PER_SAMPLE) else {
        return Ok(None);
    };
    let percent = 100.0 * sample as f64 / pages as f64;
    let rows = db
        .key_rows(&postgres_sql(relation, parts, percent, seed()))
        .await?;
    let mut cuts = Vec::with_capacity(parts - 1);
    let mut at = Vec::with_capacity(parts - 1);
    let mut sampled = 0;
    for row in rows {
        let Key::Text(mut values) = row else {
            return Ok(None);
        };
        let number = |v: Option<Option<String>>| {
            v.flatten().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        };
        sampled = number(values.pop());
        at.push(number(values.pop()));
        cuts.push(Some(Key::Text(values)));
    }
    // Too few rows sampled (a selective --where) to place N-1 cuts well.
    if cuts.len() != parts - 1 || sampled < 20 * parts as u64 {
        return Ok(None);
    }
    Ok(Some(Sampled {
        cuts,
        shares: shares(&at, sampled),
    }))
}

/// The sample's keys at rows `ceil(n·i/N)`, `i` in `1..N`, with their row
/// number and the sample's rows. The sample is taken once (a CTE used
/// twice is computed once), ordered by the key.
fn postgres_sql(relation: &Relation, parts: usize, percent: f64, seed: u32) -> String {
    let select = &relation.select;
    let keys: Vec<String> = relation
        .key_positions
        .iter()
        .enumerate()
        .map(|(i, &p)| format!("{} AS k{i}", select.list[p]))
        .collect();
    let names: Vec<String> = (0..keys.len()).map(|i| format!("k{i}")).collect();
    let filter = select
        .filter
        .as_ref()
        .map(|f| format!(" WHERE ({f})"))
        .unwrap_or_default();
    format!(
        "WITH s AS (SELECT {}, row_number() OVER (ORDER BY {}) AS r FROM {} TABLESAMPLE SYSTEM \
         ({percent:.6}) REPEATABLE ({seed}){filter}), c AS (SELECT count(*) AS n FROM s) \
         SELECT {}, r, n FROM s, c WHERE r * {parts} / n > (r - 1) * {parts} / n AND r < n \
         ORDER BY r",
        keys.join(", "),
        select.key.join(", "),
        select.from,
        names.join(", "),
    )
}

/// Each part's share of `total` sampled rows, when part `i` ends at
/// sampled row `at[i]`.
fn shares(at: &[u64], total: u64) -> Vec<f64> {
    let mut shares = Vec::with_capacity(at.len() + 1);
    let mut before = 0;
    for &end in at.iter().chain([total].iter()) {
        shares.push(end.saturating_sub(before) as f64 / total.max(1) as f64);
        before = end.max(before);
    }
    shares
}

/// A seed for the sample: a new one each time, so that an unlucky choice
/// of pages is not made again by every plan of the table.
fn seed() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.subsec_nanos() ^ (now.as_secs() as u32) ^ std::process::id()
}

/// MySQL/MariaDB have no `TABLESAMPLE`. What InnoDB offers cheaply is an
/// estimate of the rows in a key range (the optimizer's "index dives":
/// `EXPLAIN ... WHERE k BETWEEN a AND b` reads a few pages down the
/// index). A range over at most 10 leaf pages is counted; a longer one
/// is extrapolated from the pages at the level where the two dives part
/// (and then doubled: measured, about 2.1× the real rows on a table
/// filled in key order), and no estimate is above half the table. The
/// extrapolated figures follow the index's pages, hence the rows
/// wherever they are in the key space. So the first key column's
/// `min..max` is cut into `4·N` (at least 32) equal widths, each width's
/// rows estimated, the widths at the cap or holding a cut and more than a
/// quarter of a part cut finer, the extrapolated figures scaled to the
/// counted ones (by the catalog's total), and each cut is the last real
/// key at or before the place where the rows before it reach `i/N`. Only
/// for a first key column of integers, without `--where` (the estimates
/// would ignore it), on InnoDB tables of at least 100,000 rows a part,
/// and while it takes at most `32·N + 64` widths.
async fn mysql(db: &mut Db, relation: &Relation, parts: usize) -> Result<Option<Sampled>> {
    let select = &relation.select;
    if select.filter.is_some() {
        return Ok(None);
    }
    let Db::Mysql(my) = db else {
        return Ok(None);
    };
    let Some((total, pages)) = my.table_pages().await? else {
        return Ok(None);
    };
    if total < MYSQL_ROWS_PER_PART * parts as u64 || pages == 0 {
        return Ok(None);
    }
    let first = &select.key[0];
    let bounds = format!("SELECT MIN({first}), MAX({first}) FROM {}", select.from);
    let (min, max) = match db.first_row(&bounds).await? {
        Some(Key::Mysql(values)) => match (integer(&values[0]), integer(&values[1])) {
            (Some(min), Some(max)) if max - min >= 64 => (min, max),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    // Estimates under 10 pages' rows were counted, not extrapolated.
    let counted_below = 10.0 * total as f64 / pages as f64;
    let mut widths = Widths::new(min, max, (4 * parts as i128).max(32));
    widths.scale = (counted_below, total as f64);
    for (lo, hi) in widths.unestimated() {
        let rows = range_rows(db, relation, lo, hi).await?;
        widths.estimate(lo, rows);
    }
    // Widths estimated at the cap (half the table) hold more than their
    // figure: cut those finer first, then those a cut falls in.
    // InnoDB's cap: half the rows its statistics give the table.
    let cap = total as f64 / 2.0;
    // Keys spread over a huge span with the rows in a few narrow places
    // need many rounds: past this many estimates the walk is cheaper.
    let budget = 32 * parts + 64;
    loop {
        let coarse = widths.to_refine(parts, cap);
        if coarse.is_empty() {
            break;
        }
        for at in coarse.into_iter().rev() {
            widths.split(at, 16);
        }
        if widths.widths.len() > budget {
            return Ok(None);
        }
        for (lo, hi) in widths.unestimated() {
            let rows = range_rows(db, relation, lo, hi).await?;
            widths.estimate(lo, rows);
        }
    }
    let places = widths.places(parts);
    let mut cuts = Vec::with_capacity(parts - 1);
    for &place in &places {
        let order: Vec<String> = select.key.iter().map(|k| format!("{k} DESC")).collect();
        let keys: Vec<&str> = relation
            .key_positions
            .iter()
            .map(|&p| select.list[p].as_str())
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE {first} <= {place} ORDER BY {} LIMIT 1",
            keys.join(", "),
            select.from,
            order.join(", ")
        );
        cuts.push(db.first_row(&sql).await?);
    }
    Ok(Some(Sampled {
        cuts,
        shares: widths.shares_at(&places),
    }))
}

/// The index's estimate of the rows with the first key column in
/// `lo..=hi`.
async fn range_rows(db: &mut Db, relation: &Relation, lo: i128, hi: i128) -> Result<f64> {
    let mut select = relation.select.clone();
    select.filter = Some(format!("{} BETWEEN {lo} AND {hi}", select.key[0]));
    Ok(db.estimate(&select).await?.unwrap_or(0) as f64)
}

fn integer(value: &mysql_async::Value) -> Option<i128> {
    match value {
        mysql_async::Value::Int(i) => Some(*i as i128),
        mysql_async::Value::UInt(u) => Some(*u as i128),
        _ => None,
    }
}

/// The key space `min..=max` cut into consecutive widths, each with its
/// estimated rows (`None` until asked).
struct Widths {
    /// `(first key, last key, estimate)`, in key order.
    widths: Vec<(i128, i128, Option<f64>)>,
    /// Estimates below `.0` are counts; the others are scaled so that all
    /// of them add up to `.1`, the table's rows.
    scale: (f64, f64),
}

impl Widths {
    fn new(min: i128, max: i128, count: i128) -> Widths {
        let mut widths = Widths {
            widths: vec![(min, max, None)],
            scale: (0.0, 0.0),
        };
        widths.split(0, count);
        widths
    }

    /// Cuts width `at` into up to `count` equal widths.
    fn split(&mut self, at: usize, count: i128) {
        let (lo, hi, _) = self.widths[at];
        let count = count.min(hi - lo + 1).max(1);
        let span = hi - lo + 1;
        let new: Vec<(i128, i128, Option<f64>)> = (0..count)
            .map(|i| (lo + span * i / count, lo + span * (i + 1) / count - 1, None))
            .collect();
        self.widths.splice(at..=at, new);
    }

    fn unestimated(&self) -> Vec<(i128, i128)> {
        self.widths
            .iter()
            .filter(|w| w.2.is_none())
            .map(|w| (w.0, w.1))
            .collect()
    }

    fn estimate(&mut self, lo: i128, rows: f64) {
        if let Some(w) = self.widths.iter_mut().find(|w| w.0 == lo) {
            w.2 = Some(rows);
        }
    }

    /// Each width's rows: a counted estimate as it is, an extrapolated
    /// one scaled (by at most 4) so that the widths hold the table's rows.
    fn rows(&self) -> Vec<f64> {
        let (counted_below, total) = self.scale;
        let raw = || self.widths.iter().map(|w| w.2.unwrap_or(0.0));
        let counted: f64 = raw().filter(|&e| e < counted_below).sum();
        let extrapolated: f64 = raw().filter(|&e| e >= counted_below).sum();
        let factor = match total - counted {
            rest if rest > 0.0 && extrapolated > 0.0 => (extrapolated / rest).clamp(1.0, 4.0),
            _ => 1.0,
        };
        raw()
            .map(|e| if e < counted_below { e } else { e / factor })
            .collect()
    }

    /// The widths to cut finer (indexes, ascending): those at the
    /// estimate's cap, and those a cut falls in that hold more than a
    /// quarter of a part (where the rows are not spread evenly over a
    /// width, a cut interpolated in it can miss by that much); never a
    /// width of one key.
    fn to_refine(&self, parts: usize, cap: f64) -> Vec<usize> {
        let all = self.rows();
        let total: f64 = all.iter().sum();
        let fine = total / parts as f64 / 4.0;
        let mut chosen: Vec<usize> = Vec::new();
        let mut before = 0.0;
        let mut next_cut = 1;
        for (i, (&(lo, hi, estimate), &rows)) in self.widths.iter().zip(&all).enumerate() {
            let after = before + rows;
            let mut holds_cut = false;
            while next_cut < parts && after >= total * next_cut as f64 / parts as f64 {
                holds_cut = true;
                next_cut += 1;
            }
            let at_cap = estimate.unwrap_or(0.0) >= cap * 0.9 && rows > fine;
            if hi > lo && (at_cap || (holds_cut && rows > fine)) {
                chosen.push(i);
            }
            before = after;
        }
        chosen
    }

    /// Where the cuts go: for cut `i`, the key at which the estimated rows
    /// before it reach `total·i/N`, interpolated in its width.
    fn places(&self, parts: usize) -> Vec<i128> {
        let all = self.rows();
        let total: f64 = all.iter().sum();
        let mut places = Vec::with_capacity(parts - 1);
        let mut before = 0.0;
        let mut i = 1;
        for (&(lo, hi, _), &rows) in self.widths.iter().zip(&all) {
            while i < parts && before + rows >= total * i as f64 / parts as f64 {
                let into = if rows > 0.0 {
                    (total * i as f64 / parts as f64 - before) / rows
                } else {
                    1.0
                };
                let span = (hi - lo + 1) as f64;
                places.push((lo + (span * into).floor() as i128 - 1).clamp(lo - 1, hi));
                i += 1;
            }
            before += rows;
        }
        while places.len() < parts - 1 {
            places.push(self.widths.last().map_or(0, |w| w.1));
        }
        places
    }

    /// Each part's share of the estimated rows, the cuts at `places`.
    fn shares_at(&self, places: &[i128]) -> Vec<f64> {
        let all = self.rows();
        let total: f64 = all.iter().sum::<f64>().max(1.0);
        let upto = |place: i128| -> f64 {
            self.widths
                .iter()
                .zip(&all)
                .map(|(&(lo, hi, _), &rows)| {
                    if hi <= place {
                        rows
                    } else if lo > place {
                        0.0
                    } else {
                        rows * (place - lo + 1) as f64 / (hi - lo + 1) as f64
                    }
                })
                .sum()
        };
        let mut shares = Vec::with_capacity(places.len() + 1);
        let mut before = 0.0;
        for &place in places {
            let now = upto(place).max(before);
            shares.push((now - before) / total);
            before = now;
        }
        shares.push((total - before).max(0.0) / total);
        shares
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_the_cut_rows() {
        assert_eq!(shares(&[25, 50, 75], 100), [0.25, 0.25, 0.25, 0.25]);
        assert_eq!(shares(&[10, 10], 40), [0.25, 0.0, 0.75]);
    }

    /// A dense block of keys and a sparse tail, as an index's estimates
    /// would see them: the widths the cuts fall in are cut finer until the
    /// cuts land where the rows are, not at equal key widths.
    #[test]
    fn widths_place_cuts_where_the_rows_are() {
        // 15,000 rows at keys 1..=15000, 5,000 at 20M..25M, every 1000.
        let rows_in = |lo: i128, hi: i128| -> f64 {
            let dense = (hi.min(15_000) - lo.max(1) + 1).max(0);
            let sparse_lo = lo.max(20_000_000);
            let sparse_hi = hi.min(24_999_000);
            let sparse = if sparse_hi >= sparse_lo {
                sparse_hi / 1000 - (sparse_lo - 1) / 1000
            } else {
                0
            };
            (dense + sparse) as f64
        };
        let mut widths = Widths::new(1, 24_999_000, 64);
        let ask = |widths: &mut Widths| {
            for (lo, hi) in widths.unestimated() {
                widths.estimate(lo, rows_in(lo, hi));
            }
        };
        ask(&mut widths);
        for _ in 0..64 {
            let coarse = widths.to_refine(4, 10_000.0);
            if coarse.is_empty() {
                break;
            }
            for at in coarse.into_iter().rev() {
                widths.split(at, 16);
            }
            ask(&mut widths);
        }
        let places = widths.places(4);
        let mut before = 0.0;
        for (i, &place) in places.iter().chain([24_999_000].iter()).enumerate() {
            let part = rows_in(1, place) - before;
            assert!(
                (4_000.0..=6_000.0).contains(&part),
                "part {} holds {part} rows (cuts at {places:?})",
                i + 1
            );
            before += part;
        }
        let shares = widths.shares_at(&places);
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(shares.iter().all(|s| (0.2..=0.3).contains(s)), "{shares:?}");
    }

    #[test]
    fn the_postgres_sample_orders_by_the_key_and_keeps_the_filter() {
        use crate::db::{Dialect, KeyCheck};
        use crate::plan::Select;
        let relation = Relation {
            columns: Vec::new(),
            key_names: vec!["a".into(), "b".into()],
            key_check: KeyCheck::Unique,
            key_positions: vec![0, 1],
            select: Select {
                dialect: Dialect::Postgres,
                list: vec!["t.\"a\"::text".into(), "t.\"b\"::text".into()],
                from: "t".into(),
                filter: Some("x > 1".into()),
                key: vec!["t.\"a\"".into(), "t.\"b\"".into()],
                key_params: Vec::new(),
            },
            plain_query: None,
        };
        assert_eq!(
            postgres_sql(&relation, 4, 1.5, 7),
            "WITH s AS (SELECT t.\"a\"::text AS k0, t.\"b\"::text AS k1, row_number() OVER \
             (ORDER BY t.\"a\", t.\"b\") AS r FROM t TABLESAMPLE SYSTEM (1.500000) REPEATABLE (7) \
             WHERE (x > 1)), c AS (SELECT count(*) AS n FROM s) SELECT k0, k1, r, n FROM s, c \
             WHERE r * 4 / n > (r - 1) * 4 / n AND r < n ORDER BY r"
        );
    }
}
