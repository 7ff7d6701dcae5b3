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

use crate::util::{count_occurrences, dbchunk, sqlite_url, Csv, TempDir};

const FORMATS: [&str; 3] = ["csv", "tsv", "ndjson"];
const SQLITE_STRATEGIES: [&str; 4] = ["auto", "keyset", "offset", "cursor"];

fn create_db(dir: &TempDir, sql: &str) -> (Connection, String) {
    let path = dir.join("test.db");
    let conn = Connection::open(&path).expect("create SQLite file");
    conn.execute_batch(sql).expect("SQLite setup SQL");
    (conn, sqlite_url(&path))
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
    for format in FORMATS {
        let mut first: Option<(String, Vec<u8>)> = None;
        for strategy in strategies {
            let mut all = vec!["--format", format, "--strategy", strategy, "--quiet"];
            all.extend_from_slice(args);
            let out = export(url, &all);
            match &first {
                None => first = Some((strategy.to_string(), out)),
                Some((name, expected)) => assert!(
                    *expected == out,
                    "{format}: --strategy {strategy} differs from --strategy {name} (args {args:?})\n\
                     --- {name} ---\n{}\n--- {strategy} ---\n{}",
                    String::from_utf8_lossy(expected),
                    String::from_utf8_lossy(&out)
                ),
            }
        }
    }
}
