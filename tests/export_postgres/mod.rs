//! `dbchunk export` and `count` against the test PostgreSQL. Every test
//! creates (and first drops) its own objects, named after the test.

mod keys;
mod runs;
mod types;

use crate::util::db::{pg_exec, pg_query_text, pg_url};
use crate::util::engine::{assert_strategies_agree_at, Db, DropOnExit, Fill, Table, Ty};
use crate::util::fixtures::pg_every_type as create_types_table;
use crate::util::{dbchunk, Csv};

const FORMATS: [&str; 3] = ["csv", "tsv", "ndjson"];
const PG_STRATEGIES: [&str; 5] = ["auto", "copy", "keyset", "offset", "cursor"];

/// The PostgreSQL table `table (id int PRIMARY KEY, NAME TYPE)` with the
/// rows 1..=`rows`, the column filled as `fill` says, and analyzed; it is
/// dropped when the returned guard goes.
#[track_caller]
fn numbered_table(table: &str, (name, ty, fill): (&str, Ty, Fill), rows: u64) -> DropOnExit {
    let db = Db::Pg;
    let guard = db.drop_on_exit(table);
    Table::new(table)
        .key("id", Ty::Int)
        .col(name, ty)
        .create(&db)
        .fill(&db, 1..=rows, &[Fill::Id, fill]);
    db.exec(&format!("ANALYZE {table}"));
    guard
}

/// `dbchunk export --url PG ARGS...`, which must succeed; its stdout.
#[track_caller]
fn export(args: &[&str]) -> Vec<u8> {
    dbchunk(["export", "--url", &pg_url()])
        .args(args)
        .success()
        .stdout
}

#[track_caller]
fn export_text(args: &[&str]) -> String {
    String::from_utf8(export(args)).expect("UTF-8 output")
}

/// Asserts the same bytes from every strategy given, for each format, and
/// returns the CSV.
#[track_caller]
fn assert_strategies_agree(strategies: &[&str], args: &[&str]) -> String {
    assert_strategies_agree_in(&FORMATS, strategies, args)
}

/// [`assert_strategies_agree`] for the given formats only (the CSV is
/// returned when csv is among them).
#[track_caller]
fn assert_strategies_agree_in(formats: &[&str], strategies: &[&str], args: &[&str]) -> String {
    assert_strategies_agree_at(&pg_url(), formats, strategies, args)
}
