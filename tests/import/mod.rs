//! `dbchunk import` against the test PostgreSQL and MySQL/MariaDB and SQLite
//! files made here. Every test creates (and first drops) its own tables,
//! named `it_imp_<test>...`.
//!
//! Tables are compared with ordered digests computed by the database (every
//! column, NULL told apart from the empty string), and with the bytes
//! `dbchunk export` writes for them.

mod across;
mod bad_input;
mod going_on;
mod options;
mod types;

use std::io::Write;
use std::path::Path;

use crate::util::db::{mysql_exec, pg_exec, pg_query_text};
use crate::util::engine::Db;
use crate::util::{dbchunk, parse_csv, sqlite_url, Run, TempDir};

const FORMATS: [&str; 3] = ["csv", "tsv", "ndjson"];

/// `dbchunk export` of a whole table in `format`, which must succeed.
#[track_caller]
fn export(db: &Db, table: &str, format: &str) -> Vec<u8> {
    let run = crate::util::export(&db.url(), table)
        .args(["--format", format, "--quiet"])
        .success();
    run.stdout
}

/// `dbchunk import --url URL --table TABLE ARGS...` with `input` on stdin.
fn import(db: &Db, table: &str, args: &[&str], input: impl Into<Vec<u8>>) -> Run {
    dbchunk(["import", "--url", &db.url(), "--table", table])
        .args(args)
        .stdin(input)
        .run()
}

/// [`import`] that must succeed and write nothing to stdout.
#[track_caller]
fn import_ok(db: &Db, table: &str, args: &[&str], input: impl Into<Vec<u8>>) -> Run {
    let run = import(db, table, args, input);
    run.assert_code(0);
    assert!(
        run.stdout.is_empty(),
        "{}: import wrote to stdout: {:?}",
        run.args,
        String::from_utf8_lossy(&run.stdout)
    );
    run
}

/// A case of [`assert_imports`]: what it shows, the import's arguments,
/// its input, and the rows then in the table (as [`Db::rows`] gives them).
type ImportCase<'a> = (&'a str, &'a [&'a str], &'a str, &'a str);

/// Each case imported into `table`, which `create` makes anew first; the
/// given columns of the rows are then the case's.
#[track_caller]
fn assert_imports(db: &Db, table: &str, create: &dyn Fn(), names: &[&str], cases: &[ImportCase]) {
    for (what, args, input, rows) in cases {
        create();
        import_ok(db, table, args, *input);
        assert_eq!(db.rows(table, names), *rows, "{db:?} {what}");
    }
}

#[track_caller]
fn assert_same_bytes(context: &str, expected: &[u8], actual: &[u8]) {
    assert!(
        expected == actual,
        "{context}: the bytes differ\n--- expected ---\n{}\n--- actual ---\n{}",
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual)
    );
}

/// Exports `table` in every format, imports each export into the empty
/// `copy` (`--batch 2`), and checks that the copy equals the original by
/// digest and that every format re-exports the same bytes.
#[track_caller]
fn assert_round_trips(db: &Db, table: &str, copy: &str) {
    assert_round_trips_in(db, table, copy, &FORMATS);
}

/// [`assert_round_trips`], importing the exports in `formats` only (the
/// copy is still re-exported in every format).
#[track_caller]
fn assert_round_trips_in(db: &Db, table: &str, copy: &str, formats: &[&str]) {
    let originals: Vec<Vec<u8>> = FORMATS.iter().map(|f| export(db, table, f)).collect();
    for (format, data) in FORMATS.iter().zip(&originals) {
        if !formats.contains(format) {
            continue;
        }
        for strategy in db.import_strategies() {
            db.exec(&format!("DELETE FROM {copy}"));
            import_ok(
                db,
                copy,
                &["--format", format, "--batch", "2", "--strategy", strategy],
                data.clone(),
            );
            let context = format!("{db:?} --strategy {strategy} import of the {format} export");
            db.assert_same_table(table, copy, &context);
            for (again, original) in FORMATS.iter().zip(&originals) {
                assert_same_bytes(
                    &format!("{context}, re-exported as {again}"),
                    original,
                    &export(db, copy, again),
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The bad-input table, shared by several groups

const BAD_COLUMNS: &str = "id INTEGER PRIMARY KEY, si SMALLINT, t VARCHAR(40), d DATE";

const BAD_HEADER: &str = "id,si,t,d\n";

const FIRST_4: &str = "1,2,3,4";

/// Rows some cases put in the table first.
const SEED: &str =
    "(100, 1, 'seed a', '2020-01-01'), (101, 2, 'seed b', NULL), (102, 3, '', '2020-01-03')";

/// `table` made anew with [`BAD_COLUMNS`] and the [`SEED`] rows in it.
#[track_caller]
fn create_seeded(db: &Db, table: &str) {
    db.create(table, BAD_COLUMNS);
    db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
}

/// How a bad input stops an import: what its one error line says, and the
/// rows committed before it (their count, and the ids then in the table).
struct Stop<'a> {
    says: &'a [&'a str],
    committed: u64,
    ids: &'a str,
}

impl<'a> Stop<'a> {
    /// Stopped by line 6, after the 4 rows before it ([`FIRST_4`]).
    fn after_4(says: &'a [&'a str]) -> Stop<'a> {
        Stop {
            says,
            committed: 4,
            ids: FIRST_4,
        }
    }
}

/// `input` imported with `args` stops as `stop` says: exit 1, one error
/// line that has each of `stop.says` and the count of committed rows, and
/// the table then holds exactly `stop.ids`. Returns the line.
#[track_caller]
fn assert_import_stops(db: &Db, table: &str, args: &[&str], input: &[u8], stop: &Stop) -> String {
    let run = import(db, table, args, input);
    run.assert_code(1);
    let line = run.one_error_line();
    let count = format!("; {} rows were committed before this error", stop.committed);
    for text in stop.says.iter().chain([&count.as_str()]) {
        assert!(
            line.contains(text),
            "{db:?} {args:?}: {text:?} is not in: {line}"
        );
    }
    assert_eq!(
        db.ids(table),
        stop.ids,
        "{db:?} {args:?}: the rows in the table after: {line}"
    );
    line.to_string()
}

/// `input` imported with `args` and `--atomic` into a seeded table: exit 1,
/// one error line that has each of `says` and that nothing was committed,
/// and the table as it was.
#[track_caller]
fn assert_atomic_changes_nothing(db: &Db, table: &str, args: &[&str], input: &[u8], says: &[&str]) {
    create_seeded(db, table);
    let before = db.digest(table);
    let mut all = args.to_vec();
    all.push("--atomic");
    let run = import(db, table, &all, input);
    run.assert_code(1);
    let line = run.one_error_line();
    for text in says.iter().chain([&"nothing was committed"]) {
        assert!(
            line.contains(text),
            "{db:?} {all:?}: {text:?} is not in: {line}"
        );
    }
    assert_eq!(
        db.digest(table),
        before,
        "{db:?} {all:?}: --atomic changed the table"
    );
}

/// Lines 2..=5: ids 1..=4, which go in as two batches of two.
fn good_lines(ids: std::ops::RangeInclusive<u32>) -> String {
    ids.map(|i| format!("{i},{i},text {i},2024-01-0{}\n", i % 9 + 1))
        .collect()
}

/// A CSV input whose line 6 is `bad` (ids 1..=4 before it, 6 and 7 after).
fn csv_with_bad_line_6(bad: &[u8]) -> Vec<u8> {
    let mut input = format!("{BAD_HEADER}{}", good_lines(1..=4)).into_bytes();
    input.extend_from_slice(bad);
    input.push(b'\n');
    input.extend_from_slice(good_lines(6..=7).as_bytes());
    input
}

/// The lines of a reject file: `# line N: reason` then the record.
fn reject_entries(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert!(lines.len().is_multiple_of(2), "reject file:\n{text}");
    lines
        .chunks(2)
        .map(|pair| (pair[0].to_string(), pair[1].to_string()))
        .collect()
}

/// The `--stats` JSON line of a run.
#[track_caller]
fn stats_line(run: &Run) -> serde_json::Value {
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .collect();
    assert_eq!(lines.len(), 1, "one stats line:\n{}", run.stderr);
    serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}: {}", lines[0]))
}
