//! `dbchunk export` from SQLite files built here with rusqlite.

mod keys;
mod people;
mod query_and_files;
mod runs;
mod values;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::util::engine::{assert_strategies_agree_at, Db, Table, Ty};
use crate::util::{count_occurrences, dbchunk, sqlite_url, Csv, TempDir};

const FORMATS: [&str; 3] = ["csv", "tsv", "ndjson"];
const SQLITE_STRATEGIES: [&str; 4] = ["auto", "keyset", "offset", "cursor"];

fn create_db(dir: &TempDir, sql: &str) -> (Connection, String) {
    let path = dir.join("test.db");
    let conn = Connection::open(&path).expect("create SQLite file");
    conn.execute_batch(sql).expect("SQLite setup SQL");
    (conn, sqlite_url(&path))
}

/// A SQLite file in `dir` with the table `t (id INTEGER PRIMARY KEY, v
/// TEXT)` of `rows` rows `(x, 'vX')`; its URL.
fn numbered_db(dir: &TempDir, rows: u64) -> String {
    let db = Db::lite(dir);
    let table = Table::new("t").key("id", Ty::Int).col("v", Ty::Text);
    table.create(&db).numbered(&db, rows);
    db.url()
}

/// `dbchunk export --url URL ARGS...`, which must succeed; its stdout.
#[track_caller]
fn export(url: &str, args: &[&str]) -> Vec<u8> {
    dbchunk(["export", "--url", url])
        .args(args)
        .success()
        .stdout
}

#[track_caller]
fn export_text(url: &str, args: &[&str]) -> String {
    String::from_utf8(export(url, args)).expect("UTF-8 output")
}

/// Asserts the same bytes from every strategy given, for each format.
#[track_caller]
fn assert_strategies_agree(url: &str, strategies: &[&str], args: &[&str]) {
    assert_strategies_agree_at(url, &FORMATS, strategies, args);
}
