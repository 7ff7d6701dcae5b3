//! `dbchunk export` from SQLite files built here with rusqlite.

/// One test a row: on the [`TestDb`] that `$db` makes for the test, each
/// `dbchunk SUBCOMMAND --url URL ARGS...` must succeed and print exactly
/// what follows its `=>`.
macro_rules! prints {
    ($(
        $name:ident: $db:ident, [$($command:ident [$($arg:expr),* $(,)?] => $want:expr),* $(,)?];
    )*) => {$(
        #[test]
        fn $name() {
            let db = $db(stringify!($name));
            $(assert_prints(&db.url, stringify!($command), &[$($arg),*], $want);)*
        }
    )*};
}

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

/// A test's own SQLite file, `test.db` in a directory named after the
/// test: open, and by URL. Both go when it is dropped.
struct TestDb {
    conn: Connection,
    url: String,
    _dir: TempDir,
}

/// The [`TestDb`] of the test `test`, after `sql` ran in it.
fn create_db(test: &str, sql: &str) -> TestDb {
    let dir = TempDir::new(test);
    let path = dir.join("test.db");
    let conn = Connection::open(&path).expect("create SQLite file");
    conn.execute_batch(sql).expect("SQLite setup SQL");
    TestDb {
        conn,
        url: sqlite_url(&path),
        _dir: dir,
    }
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

/// `dbchunk COMMAND --url URL ARGS...` succeeds and prints exactly `want`.
#[track_caller]
fn assert_prints(url: &str, command: &str, args: &[&str], want: &str) {
    let run = dbchunk([command, "--url", url]).args(args).success();
    assert_eq!(run.stdout_str(), want, "{}", run.args);
}
