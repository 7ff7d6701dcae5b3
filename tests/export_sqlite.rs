//! `dbchunk export` from SQLite files built here with rusqlite.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
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

// ---------------------------------------------------------------------------
// Values and their canonical text

/// Every storage class, awkward text, NULL next to empty, and a column
/// without affinity holding a different type on each row.
///
/// `-0.0` goes in the untyped column `m`: a REAL column stores a real with
/// no fractional part as an integer, so SQLite itself turns `-0.0` into `0`
/// there before dbchunk ever sees it.
fn values_db(dir: &TempDir) -> String {
    let (conn, url) = create_db(
        dir,
        "CREATE TABLE vals(id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, m);",
    );
    let rows: Vec<[Value; 6]> = vec![
        [
            Value::Integer(1),
            Value::Integer(42),
            Value::Real(0.1),
            Value::Text("a,b\"c\r\nd\te\\f😀".into()),
            Value::Blob(vec![0x00, 0xff]),
            Value::Integer(7),
        ],
        [
            Value::Integer(2),
            Value::Null,
            Value::Real(1e300),
            Value::Text(String::new()),
            Value::Null,
            Value::Real(-0.0),
        ],
        [
            Value::Integer(3),
            Value::Integer(i64::MIN),
            Value::Real(1e-7),
            Value::Null,
            Value::Blob(Vec::new()),
            Value::Text("txt".into()),
        ],
        [
            Value::Integer(4),
            Value::Integer(0),
            Value::Real(-1.5),
            Value::Text("NULL".into()),
            Value::Blob(vec![0x41]),
            Value::Blob(vec![0x0a]),
        ],
        [
            Value::Integer(5),
            Value::Integer(i64::MAX),
            Value::Real(123456789012345.6),
            Value::Text("\\.".into()),
            Value::Null,
            Value::Real(1e15),
        ],
        [
            Value::Integer(6),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
    ];
    for row in &rows {
        conn.execute(
            "INSERT INTO vals VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params_from_iter(row.iter()),
        )
        .expect("insert");
    }
    url
}

#[test]
fn sqlite_values_csv_exact_bytes() {
    let dir = TempDir::new("sqlite_values_csv_exact_bytes");
    let url = values_db(&dir);
    let out = export_text(&url, &["--table", "vals"]);
    let expected = "id,i,r,s,b,m\n\
                    1,42,0.1,\"a,b\"\"c\r\nd\te\\f😀\",00ff,7\n\
                    2,,1e+300,\"\",,-0\n\
                    3,-9223372036854775808,1e-07,,\"\",txt\n\
                    4,0,-1.5,NULL,41,0a\n\
                    5,9223372036854775807,123456789012345.6,\\.,,1e+15\n\
                    6,,,,,\n";
    assert_eq!(out, expected);
}

#[test]
fn sqlite_values_tsv_exact_bytes() {
    let dir = TempDir::new("sqlite_values_tsv_exact_bytes");
    let url = values_db(&dir);
    let out = export_text(&url, &["--table", "vals", "--format", "tsv"]);
    let expected = "id\ti\tr\ts\tb\tm\n\
                    1\t42\t0.1\ta,b\"c\\r\\nd\\te\\\\f😀\t00ff\t7\n\
                    2\t\\N\t1e+300\t\t\\N\t-0\n\
                    3\t-9223372036854775808\t1e-07\t\\N\t\ttxt\n\
                    4\t0\t-1.5\tNULL\t41\t0a\n\
                    5\t9223372036854775807\t123456789012345.6\t\\\\.\t\\N\t1e+15\n\
                    6\t\\N\t\\N\t\\N\t\\N\t\\N\n";
    assert_eq!(out, expected);
}

#[test]
fn sqlite_values_ndjson() {
    let dir = TempDir::new("sqlite_values_ndjson");
    let url = values_db(&dir);
    let out = export_text(&url, &["--table", "vals", "--format", "ndjson"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert_eq!(
        lines[0],
        r#"{"id":1,"i":42,"r":0.1,"s":"a,b\"c\r\nd\te\\f😀","b":"00ff","m":7}"#
    );
    assert_eq!(
        lines[1],
        r#"{"id":2,"i":null,"r":1e+300,"s":"","b":null,"m":-0}"#
    );
    assert_eq!(
        lines[5],
        r#"{"id":6,"i":null,"r":null,"s":null,"b":null,"m":null}"#
    );
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.is_object());
    }
    let row3: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(row3["i"].as_i64(), Some(i64::MIN));
    assert_eq!(row3["r"].as_f64(), Some(1e-7));
    assert!(row3["s"].is_null());
    assert_eq!(row3["b"], "");
    assert_eq!(row3["m"], "txt");
    let row4: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
    assert_eq!(row4["s"], "NULL", "the text NULL is a string, not null");
    assert_eq!(row4["m"], "0a", "blobs are hex strings");
    let row5: serde_json::Value = serde_json::from_str(lines[4]).unwrap();
    assert_eq!(row5["i"].as_i64(), Some(i64::MAX));
    assert_eq!(row5["r"].as_f64(), Some(123456789012345.6));
    assert_eq!(row5["s"], "\\.");
}

#[test]
fn sqlite_values_same_from_every_strategy() {
    let dir = TempDir::new("sqlite_values_same_from_every_strategy");
    let url = values_db(&dir);
    assert_strategies_agree(
        &url,
        &SQLITE_STRATEGIES,
        &["--table", "vals", "--chunk", "2"],
    );
}

#[test]
fn sqlite_null_option() {
    let dir = TempDir::new("sqlite_null_option");
    let url = values_db(&dir);
    let out = export_text(
        &url,
        &["--table", "vals", "--columns", "id,i,s", "--null", "NULL"],
    );
    // NULL is written as NULL; the text "NULL" is quoted so it stays text;
    // the empty string is no longer ambiguous and goes unquoted.
    assert_eq!(
        out,
        "id,i,s\n\
         1,42,\"a,b\"\"c\r\nd\te\\f😀\"\n\
         2,NULL,\n\
         3,-9223372036854775808,NULL\n\
         4,0,\"NULL\"\n\
         5,9223372036854775807,\\.\n\
         6,NULL,NULL\n"
    );
    let tsv = export_text(
        &url,
        &[
            "--table", "vals", "--columns", "id,s", "--format", "tsv", "--null", "(null)",
        ],
    );
    assert!(tsv.contains("\n3\t(null)\n"), "{tsv}");
    // --null makes no sense for NDJSON.
    dbchunk([
        "export", "--url", &url, "--table", "vals", "--format", "ndjson", "--null", "x",
    ])
    .fails(2);
}

// ---------------------------------------------------------------------------
// A 50-row table read by every strategy

/// `people`: 50 rows, ids with gaps, inserted out of order, with awkward
/// text, NULLs and blobs sprinkled in.
fn people_db(dir: &TempDir) -> String {
    let (mut conn, url) = create_db(
        dir,
        "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, note TEXT, data BLOB, misc);",
    );
    let tx = conn.transaction().unwrap();
    for k in 0..50i64 {
        // A permutation of 0..50, so rows go in out of key order.
        let n = (k * 17) % 50;
        let id = n * 3 + 1;
        let note = match n % 6 {
            0 => Value::Null,
            1 => Value::Text(String::new()),
            2 => Value::Text(format!("line {n}\nwith \"quotes\", commas\tand tabs\\")),
            3 => Value::Text(format!("ünïcödé {n} 🚀")),
            4 => Value::Text("NULL".into()),
            _ => Value::Text(format!("\r\n{n}\r")),
        };
        let score = if n % 7 == 0 {
            Value::Null
        } else {
            Value::Real(n as f64 / 8.0 - 2.0)
        };
        let data = if n % 5 == 0 {
            Value::Null
        } else {
            Value::Blob(vec![n as u8, 0, 255])
        };
        let misc = match n % 4 {
            0 => Value::Integer(n),
            1 => Value::Real(n as f64 + 0.25),
            2 => Value::Text(format!("m{n}")),
            _ => Value::Null,
        };
        tx.execute(
            "INSERT INTO people VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![id, format!("person {n:02}"), score, note, data, misc],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    url
}

#[test]
fn sqlite_every_strategy_same_bytes_small_chunks() {
    let dir = TempDir::new("sqlite_every_strategy_same_bytes_small_chunks");
    let url = people_db(&dir);
    assert_strategies_agree(
        &url,
        &SQLITE_STRATEGIES,
        &["--table", "people", "--chunk", "3"],
    );
    // A chunk dividing the row count exactly, one row, and one bigger than the table.
    for chunk in ["5", "1", "1000"] {
        assert_strategies_agree(
            &url,
            &SQLITE_STRATEGIES,
            &["--table", "people", "--chunk", chunk],
        );
    }
    let csv = export_text(&url, &["--table", "people", "--chunk", "3"]);
    let ids: Vec<i64> = data_rows_ids(&csv);
    assert_eq!(
        ids,
        (0..50).map(|n| n * 3 + 1).collect::<Vec<_>>(),
        "rows in key order"
    );
}

/// The ids of a people CSV export, in output order.
fn data_rows_ids(csv: &str) -> Vec<i64> {
    Csv::parse(csv)
        .rows
        .iter()
        .map(|r| r[0].as_deref().expect("id").parse().expect("integer id"))
        .collect()
}

#[test]
fn sqlite_every_strategy_same_bytes_with_options() {
    let dir = TempDir::new("sqlite_every_strategy_same_bytes_with_options");
    let url = people_db(&dir);
    let cases: [&[&str]; 5] = [
        &["--table", "people", "--chunk", "3", "--limit", "7"],
        &["--table", "people", "--chunk", "3", "--where", "id % 2 = 0"],
        &[
            "--table", "people", "--chunk", "3", "--columns", "note,name",
        ],
        &[
            "--table", "people", "--chunk", "4", "--no-header", "--columns", "misc,id",
        ],
        &[
            "--table", "people", "--chunk", "3", "--where", "score > 0", "--limit", "5",
            "--columns", "name",
        ],
    ];
    for args in cases {
        assert_strategies_agree(&url, &SQLITE_STRATEGIES, args);
    }
}

#[test]
fn sqlite_limit() {
    let dir = TempDir::new("sqlite_limit");
    let url = people_db(&dir);
    for strategy in SQLITE_STRATEGIES {
        for (limit, chunk) in [("7", "3"), ("6", "3"), ("1", "3"), ("100", "3"), ("0", "3")] {
            let out = export_text(
                &url,
                &[
                    "--table", "people", "--columns", "id", "--strategy", strategy, "--chunk",
                    chunk, "--limit", limit, "--quiet",
                ],
            );
            let n: usize = limit.parse::<usize>().unwrap().min(50);
            let expected: String = std::iter::once("id\n".to_string())
                .chain((0..n).map(|i| format!("{}\n", i * 3 + 1)))
                .collect();
            assert_eq!(
                out, expected,
                "--strategy {strategy} --limit {limit} --chunk {chunk}"
            );
        }
    }
}

#[test]
fn sqlite_columns_in_given_order() {
    let dir = TempDir::new("sqlite_columns_in_given_order");
    let url = people_db(&dir);
    let out = export_text(
        &url,
        &[
            "--table", "people", "--columns", "name,id", "--limit", "3", "--chunk", "2",
        ],
    );
    assert_eq!(out, "name,id\nperson 00,1\nperson 01,4\nperson 02,7\n");
    // Without the key column among them: the key is read but not written.
    let out = export_text(
        &url,
        &[
            "--table", "people", "--columns", "name", "--limit", "4", "--chunk", "3",
        ],
    );
    assert_eq!(out, "name\nperson 00\nperson 01\nperson 02\nperson 03\n");
    // NDJSON keys follow the same order.
    let out = export_text(
        &url,
        &[
            "--table", "people", "--columns", "score,id", "--limit", "2", "--format", "ndjson",
        ],
    );
    assert_eq!(
        out,
        "{\"score\":null,\"id\":1}\n{\"score\":-1.875,\"id\":4}\n"
    );
}

#[test]
fn sqlite_where_filter() {
    let dir = TempDir::new("sqlite_where_filter");
    let url = people_db(&dir);
    let out = export_text(
        &url,
        &[
            "--table", "people", "--columns", "id,name", "--where", "id BETWEEN 10 AND 20",
            "--chunk", "2",
        ],
    );
    assert_eq!(
        out,
        "id,name\n10,person 03\n13,person 04\n16,person 05\n19,person 06\n"
    );
    // A condition with OR is kept whole (wrapped in parentheses) under keyset.
    let out = export_text(
        &url,
        &[
            "--table", "people", "--columns", "id", "--where", "id = 1 OR id = 148", "--chunk",
            "1", "--strategy", "keyset",
        ],
    );
    assert_eq!(out, "id\n1\n148\n");
    let count = dbchunk([
        "count", "--url", &url, "--table", "people", "--where", "id BETWEEN 10 AND 20",
    ])
    .success();
    assert_eq!(count.stdout_str(), "4\n");
}

#[test]
fn sqlite_no_header() {
    let dir = TempDir::new("sqlite_no_header");
    let url = people_db(&dir);
    for format in ["csv", "tsv"] {
        let with = export(&url, &["--table", "people", "--format", format]);
        let without = export(
            &url,
            &["--table", "people", "--format", format, "--no-header"],
        );
        let header_len = with.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(&with[header_len..], &without[..], "{format}");
    }
    // NDJSON has no header either way.
    assert_eq!(
        export(&url, &["--table", "people", "--format", "ndjson"]),
        export(
            &url,
            &["--table", "people", "--format", "ndjson", "--no-header"]
        )
    );
}

#[test]
fn sqlite_ndjson_lines_parse() {
    let dir = TempDir::new("sqlite_ndjson_lines_parse");
    let url = people_db(&dir);
    let out = export_text(
        &url,
        &["--table", "people", "--format", "ndjson", "--chunk", "3"],
    );
    assert!(out.ends_with('\n'));
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(rows.len(), 50);
    for (i, row) in rows.iter().enumerate() {
        let n = i as i64;
        let object = row.as_object().expect("an object per line");
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 6);
        assert_eq!(row["id"].as_i64(), Some(n * 3 + 1));
        assert_eq!(row["name"], format!("person {n:02}"));
        match n % 6 {
            0 => assert!(row["note"].is_null(), "NULL is null: {row}"),
            1 => assert_eq!(row["note"], ""),
            2 => assert_eq!(
                row["note"],
                format!("line {n}\nwith \"quotes\", commas\tand tabs\\")
            ),
            3 => assert_eq!(row["note"], format!("ünïcödé {n} 🚀")),
            4 => assert_eq!(row["note"], "NULL"),
            _ => assert_eq!(row["note"], format!("\r\n{n}\r")),
        }
        if n % 7 == 0 {
            assert!(row["score"].is_null());
        } else {
            assert_eq!(row["score"].as_f64(), Some(n as f64 / 8.0 - 2.0));
        }
        if n % 5 == 0 {
            assert!(row["data"].is_null());
        } else {
            assert_eq!(row["data"], format!("{:02x}00ff", n as u8));
        }
    }
    assert!(
        out.starts_with("{\"id\":1,\"name\":"),
        "keys in column order: {out}"
    );
}

// ---------------------------------------------------------------------------
// Keys

#[test]
fn sqlite_composite_key_keyset_equals_cursor() {
    let dir = TempDir::new("sqlite_composite_key_keyset_equals_cursor");
    let (mut conn, url) = create_db(
        &dir,
        "CREATE TABLE comp(a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b));",
    );
    let mut expected = Vec::new();
    let tx = conn.transaction().unwrap();
    for k in 0..41i64 {
        let n = (k * 13) % 41;
        let a = n % 5; // many rows share each a: chunk borders fall inside a group
        let b = format!("b{:02}", (n * 7) % 41);
        tx.execute(
            "INSERT INTO comp VALUES (?1, ?2, ?3)",
            rusqlite::params![a, b, format!("v{n}")],
        )
        .unwrap();
        expected.push((a, b, format!("v{n}")));
    }
    tx.commit().unwrap();
    expected.sort();
    let expected_csv: String = std::iter::once("a,b,v\n".to_string())
        .chain(expected.iter().map(|(a, b, v)| format!("{a},{b},{v}\n")))
        .collect();
    let keyset = export_text(
        &url,
        &["--table", "comp", "--strategy", "keyset", "--chunk", "3"],
    );
    assert_eq!(keyset, expected_csv);
    let cursor = export_text(
        &url,
        &["--table", "comp", "--strategy", "cursor", "--chunk", "3"],
    );
    assert_eq!(cursor, expected_csv);
    assert_strategies_agree(
        &url,
        &SQLITE_STRATEGIES,
        &["--table", "comp", "--chunk", "3"],
    );
    let explain = export_text(&url, &["--table", "comp", "--explain", "--chunk", "3"]);
    assert!(explain.contains("strategy: keyset"), "{explain}");
    assert!(explain.contains("key: a, b"), "{explain}");
}

#[test]
fn sqlite_table_without_primary_key_uses_rowid() {
    let dir = TempDir::new("sqlite_table_without_primary_key_uses_rowid");
    let (mut conn, url) = create_db(&dir, "CREATE TABLE nopk(name TEXT, n INTEGER);");
    let tx = conn.transaction().unwrap();
    for n in 0..20i64 {
        // Same name twice: no column could serve as key.
        tx.execute(
            "INSERT INTO nopk VALUES (?1, ?2)",
            rusqlite::params![format!("x{}", n / 2), 100 - n],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let explain = export_text(&url, &["--table", "nopk", "--explain", "--chunk", "3"]);
    assert!(explain.contains("strategy: keyset"), "{explain}");
    assert!(explain.contains("rowid"), "{explain}");
    assert!(explain.contains("first chunk"), "{explain}");
    assert!(explain.contains("later chunk"), "{explain}");
    let expected: String = std::iter::once("name,n\n".to_string())
        .chain((0..20).map(|n| format!("x{},{}\n", n / 2, 100 - n)))
        .collect();
    let out = export_text(&url, &["--table", "nopk", "--chunk", "3"]);
    assert_eq!(out, expected, "rowid order, rowid itself not written");
    assert_strategies_agree(
        &url,
        &SQLITE_STRATEGIES,
        &["--table", "nopk", "--chunk", "3"],
    );
    let stats = dbchunk([
        "export", "--url", &url, "--table", "nopk", "--chunk", "3", "--stats",
    ])
    .success();
    assert!(
        stats.stderr.contains("\"strategy\":\"keyset\""),
        "{}",
        stats.stderr
    );
}

#[test]
fn sqlite_column_named_rowid_does_not_confuse_the_key() {
    let dir = TempDir::new("sqlite_column_named_rowid_does_not_confuse_the_key");
    let (conn, url) = create_db(&dir, "CREATE TABLE shadow(rowid TEXT, v INTEGER);");
    for n in 0..10i64 {
        conn.execute(
            "INSERT INTO shadow VALUES (?1, ?2)",
            rusqlite::params![format!("r{}", 9 - n), n],
        )
        .unwrap();
    }
    let expected: String = std::iter::once("rowid,v\n".to_string())
        .chain((0..10).map(|n| format!("r{},{n}\n", 9 - n)))
        .collect();
    assert_eq!(
        export_text(&url, &["--table", "shadow", "--chunk", "3"]),
        expected
    );
    assert_strategies_agree(
        &url,
        &SQLITE_STRATEGIES,
        &["--table", "shadow", "--chunk", "3"],
    );
}

#[test]
fn sqlite_without_rowid_table_and_explicit_key() {
    let dir = TempDir::new("sqlite_without_rowid_table_and_explicit_key");
    let (conn, url) = create_db(
        &dir,
        "CREATE TABLE wr(code TEXT PRIMARY KEY, n INTEGER NOT NULL UNIQUE, v TEXT) WITHOUT ROWID;",
    );
    let mut rows = Vec::new();
    for k in 0..11i64 {
        let code = format!("c{:02}", (k * 4) % 11);
        let n = 100 - k * 3;
        conn.execute(
            "INSERT INTO wr VALUES (?1, ?2, ?3)",
            rusqlite::params![code, n, format!("v{k}")],
        )
        .unwrap();
        rows.push((code, n, format!("v{k}")));
    }
    let csv = |rows: &[(String, i64, String)]| -> String {
        std::iter::once("code,n,v\n".to_string())
            .chain(rows.iter().map(|(c, n, v)| format!("{c},{n},{v}\n")))
            .collect()
    };
    // By default: the primary key.
    rows.sort_by(|x, y| x.0.cmp(&y.0));
    let by_code = csv(&rows);
    assert_eq!(
        export_text(&url, &["--table", "wr", "--chunk", "2"]),
        by_code
    );
    // --key n: ordered and split by n instead.
    rows.sort_by_key(|r| r.1);
    let by_n = csv(&rows);
    for strategy in SQLITE_STRATEGIES {
        let out = export_text(
            &url,
            &[
                "--table", "wr", "--chunk", "2", "--key", "n", "--strategy", strategy, "--quiet",
            ],
        );
        assert_eq!(out, by_n, "--strategy {strategy} --key n");
    }
    let explain = export_text(
        &url,
        &["--table", "wr", "--chunk", "2", "--key", "n", "--explain"],
    );
    assert!(explain.contains("key: n"), "{explain}");
    // A key that is not a column is refused and named.
    let run = dbchunk([
        "export", "--url", &url, "--table", "wr", "--key", "nope_key",
    ])
    .fails(1);
    assert!(run.one_error_line().contains("nope_key"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// --query

#[test]
fn sqlite_query_export() {
    let dir = TempDir::new("sqlite_query_export");
    let url = people_db(&dir);
    // An ORDER BY inside the query is kept as given.
    let out = export_text(
        &url,
        &[
            "--query",
            "SELECT id, name FROM people WHERE id < 12 ORDER BY id DESC",
            "--chunk",
            "2",
        ],
    );
    assert_eq!(
        out,
        "id,name\n10,person 03\n7,person 02\n4,person 01\n1,person 00\n"
    );
    let out = export_text(
        &url,
        &[
            "--query",
            "SELECT id FROM people ORDER BY id DESC;",
            "--limit",
            "3",
            "--chunk",
            "2",
        ],
    );
    assert_eq!(out, "id\n148\n145\n142\n");
    // Expressions and a trailing semicolon.
    let out = export_text(
        &url,
        &[
            "--query",
            "SELECT id * 2 AS twice, upper(name) AS up FROM people WHERE id = 4;",
        ],
    );
    assert_eq!(out, "twice,up\n8,PERSON 01\n");
    // A query with --key reads by keyset, same bytes as the cursor.
    let args = [
        "--query", "SELECT id, name, note FROM people", "--key", "id", "--chunk", "3",
    ];
    assert_strategies_agree(&url, &SQLITE_STRATEGIES, &args);
    let keyed = export_text(&url, &args);
    assert_eq!(
        keyed,
        export_text(&url, &["--table", "people", "--columns", "id,name,note"])
    );
    // --where and --columns apply to a query too.
    let out = export_text(
        &url,
        &[
            "--query", "SELECT id, name FROM people", "--where", "id < 5", "--columns", "name",
        ],
    );
    assert_eq!(out, "name\nperson 00\nperson 01\n");
    // A query without a key cannot be read by keyset.
    let run = dbchunk([
        "export", "--url", &url, "--query", "SELECT id FROM people", "--strategy", "keyset",
    ])
    .fails(2);
    assert!(run.stderr.contains("--key"), "{}", run.stderr);
    // Broken SQL is a runtime error with the engine's message.
    let run = dbchunk(["export", "--url", &url, "--query", "SELEKT 1"]).fails(1);
    run.one_error_line();
}

#[test]
fn sqlite_query_limit_zero_writes_no_rows() {
    let dir = TempDir::new("sqlite_query_limit_zero_writes_no_rows");
    let url = people_db(&dir);
    let out = export_text(&url, &["--query", "SELECT id FROM people", "--limit", "0"]);
    assert_eq!(out, "id\n");
}

// ---------------------------------------------------------------------------
// Output files

#[test]
fn sqlite_output_file_is_complete_and_alone() {
    let dir = TempDir::new("sqlite_output_file_is_complete_and_alone");
    let url = people_db(&dir);
    let out_dir = TempDir::new("sqlite_output_file_is_complete_and_alone-out");
    let stdout = export(&url, &["--table", "people", "--chunk", "3"]);
    let path = out_dir.join("people.csv");
    let run = dbchunk([
        "export", "--url", &url, "--table", "people", "--chunk", "3", "--output",
    ])
    .arg(&path)
    .success();
    assert!(run.stdout.is_empty(), "data goes to the file only");
    assert_eq!(std::fs::read(&path).unwrap(), stdout);
    assert_eq!(
        out_dir.entries(),
        vec!["people.csv"],
        "no .partial file may remain"
    );
    // The format follows the extension.
    let path = out_dir.join("people.ndjson");
    dbchunk(["export", "--url", &url, "--table", "people", "-o"])
        .arg(&path)
        .success();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        export(&url, &["--table", "people", "--format", "ndjson"])
    );
    // An existing file is replaced.
    let path = out_dir.join("people.csv");
    std::fs::write(&path, "old contents\n").unwrap();
    dbchunk(["export", "--url", &url, "--table", "people", "--output"])
        .arg(&path)
        .success();
    assert_eq!(std::fs::read(&path).unwrap(), stdout);
    assert_eq!(out_dir.entries(), vec!["people.csv", "people.ndjson"]);
    // Relative to the working directory; "-" is stdout.
    dbchunk([
        "export", "--url", &url, "--table", "people", "--output", "rel.tsv",
    ])
    .current_dir(out_dir.path())
    .success();
    assert_eq!(
        std::fs::read(out_dir.join("rel.tsv")).unwrap(),
        export(&url, &["--table", "people", "--format", "tsv"])
    );
    assert_eq!(
        export(&url, &["--table", "people", "--output", "-"]),
        stdout
    );
}

#[test]
fn sqlite_failed_export_leaves_no_output_file() {
    let dir = TempDir::new("sqlite_failed_export_leaves_no_output_file");
    let url = people_db(&dir);
    let out_dir = TempDir::new("sqlite_failed_export_leaves_no_output_file-out");
    let path = out_dir.join("out.csv");
    for strategy in SQLITE_STRATEGIES {
        let run = dbchunk([
            "export", "--url", &url, "--table", "people", "--where", "no_such_column = 1",
        ])
        .args(["--strategy", strategy, "--quiet", "--output"])
        .arg(&path)
        .fails(1);
        assert!(
            run.one_error_line().contains("no_such_column"),
            "{}",
            run.stderr
        );
        assert!(
            !path.exists(),
            "--strategy {strategy}: a failed export must not leave {}",
            path.display()
        );
    }
    // A file already there is not touched by a failed export.
    std::fs::write(&path, "previous good export\n").unwrap();
    dbchunk([
        "export", "--url", &url, "--table", "people", "--where", "no_such_column = 1", "--output",
    ])
    .arg(&path)
    .fails(1);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "previous good export\n"
    );
    // A directory that does not exist: exit 1 naming it, nothing created.
    let missing = out_dir.join("no-such-dir").join("out.csv");
    let run = dbchunk(["export", "--url", &url, "--table", "people", "--output"])
        .arg(&missing)
        .fails(1);
    assert!(
        run.one_error_line().contains("no-such-dir"),
        "{}",
        run.stderr
    );
}

#[test]
fn sqlite_failed_export_leaves_no_partial_file() {
    let dir = TempDir::new("sqlite_failed_export_leaves_no_partial_file");
    let url = people_db(&dir);
    let out_dir = TempDir::new("sqlite_failed_export_leaves_no_partial_file-out");
    for _ in 0..20 {
        dbchunk([
            "export", "--url", &url, "--table", "people", "--where", "no_such_column = 1",
            "--output",
        ])
        .arg(out_dir.join("out.csv"))
        .fails(1);
    }
    assert_eq!(
        out_dir.entries(),
        Vec::<String>::new(),
        "leftover files after failed exports"
    );
}

// ---------------------------------------------------------------------------
// stderr: stats, progress, warnings

#[test]
fn sqlite_stats_line() {
    let dir = TempDir::new("sqlite_stats_line");
    let url = people_db(&dir);
    for (strategy, expected) in [
        ("auto", "keyset"),
        ("cursor", "cursor"),
        ("offset", "offset"),
    ] {
        let run = dbchunk([
            "export", "--url", &url, "--table", "people", "--chunk", "3", "--stats", "--quiet",
        ])
        .args(["--strategy", strategy])
        .success();
        let lines = run.stderr_lines();
        assert_eq!(lines.len(), 1, "one stats line only:\n{}", run.stderr);
        let stats: serde_json::Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("stats is not JSON ({e}): {}", lines[0]));
        assert_eq!(stats["rows"].as_u64(), Some(50), "{stats}");
        assert_eq!(
            stats["bytes"].as_u64(),
            Some(run.stdout.len() as u64),
            "{stats}"
        );
        let chunks = stats["chunks"].as_u64().expect("chunks");
        assert!((17..=18).contains(&chunks), "50 rows by 3: {stats}");
        assert_eq!(stats["strategy"], expected, "{stats}");
        assert!(
            stats["seconds"].as_f64().is_some_and(|s| s >= 0.0),
            "{stats}"
        );
        assert!(
            stats["rows_per_sec"].as_f64().is_some_and(|s| s >= 0.0),
            "{stats}"
        );
        // --stats changes nothing on stdout.
        assert_eq!(
            run.stdout,
            export(
                &url,
                &["--table", "people", "--chunk", "3", "--strategy", strategy, "--quiet"]
            )
        );
    }
    // With --output, bytes are the file's size.
    let out_dir = TempDir::new("sqlite_stats_line-out");
    let path = out_dir.join("p.tsv");
    let run = dbchunk([
        "export", "--url", &url, "--table", "people", "--stats", "-o",
    ])
    .arg(&path)
    .success();
    let stats: serde_json::Value = serde_json::from_str(run.stderr_lines()[0]).unwrap();
    assert_eq!(
        stats["bytes"].as_u64(),
        Some(std::fs::metadata(&path).unwrap().len())
    );
}

#[test]
fn sqlite_progress_goes_to_stderr_only() {
    let dir = TempDir::new("sqlite_progress_goes_to_stderr_only");
    let url = people_db(&dir);
    for format in FORMATS {
        let base = [
            "export", "--url", &url, "--table", "people", "--chunk", "3", "--format", format,
        ];
        let never = dbchunk(base).args(["--progress", "never"]).success();
        let always = dbchunk(base).args(["--progress", "always"]).success();
        assert_eq!(never.stderr, "", "--progress never is silent");
        assert!(
            !always.stderr.is_empty(),
            "--progress always writes progress to stderr"
        );
        assert_eq!(
            always.stdout, never.stdout,
            "{format}: progress must not touch stdout"
        );
        // auto, with stderr not a terminal: silent.
        let auto = dbchunk(base).success();
        assert_eq!(auto.stderr, "", "no progress in pipes by default");
        assert_eq!(auto.stdout, never.stdout);
    }
}

#[test]
fn sqlite_offset_warns_once_and_quiet_silences_it() {
    let dir = TempDir::new("sqlite_offset_warns_once_and_quiet_silences_it");
    let url = people_db(&dir);
    let run = dbchunk([
        "export", "--url", &url, "--table", "people", "--strategy", "offset", "--chunk", "3",
    ])
    .success();
    assert_eq!(
        count_occurrences(&run.stderr, "warning"),
        1,
        "one warning, not one per chunk:\n{}",
        run.stderr
    );
    assert_eq!(
        count_occurrences(&run.stderr, "keyset"),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("dbchunk: "), "{}", run.stderr);
    let quiet = dbchunk([
        "export", "--url", &url, "--table", "people", "--strategy", "offset", "--chunk", "3",
        "--quiet",
    ])
    .success();
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, run.stdout);
    // Other strategies do not warn.
    for strategy in ["auto", "keyset", "cursor"] {
        let run = dbchunk([
            "export", "--url", &url, "--table", "people", "--strategy", strategy, "--chunk", "3",
        ])
        .success();
        assert_eq!(run.stderr, "", "--strategy {strategy}");
    }
}

// ---------------------------------------------------------------------------
// Big tables: flat memory, and `| head`

const BIG_ROWS: u64 = 2_000_000;
const SMALL_ROWS: u64 = 200_000;

/// One SQLite file with `big` (2,000,000 rows) and `small` (200,000 rows),
/// built once per test run and shared. It lives in
/// `$TMP/dbchunk-it-shared-PID`; directories of earlier runs whose process is
/// gone are removed here.
fn big_db() -> &'static Path {
    static BIG: OnceLock<PathBuf> = OnceLock::new();
    BIG.get_or_init(|| {
        let tmp = std::env::temp_dir();
        let prefix = "dbchunk-it-shared-";
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix(prefix) {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            }
        }
        let dir = tmp.join(format!("{prefix}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the shared test directory");
        let path = dir.join("big.db");
        let conn = Connection::open(&path).expect("create big.db");
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE big(id INTEGER PRIMARY KEY, name TEXT NOT NULL, v REAL);
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {BIG_ROWS})
             INSERT INTO big SELECT x, 'name-' || x, x * 1.5 FROM c;
             CREATE TABLE small(id INTEGER PRIMARY KEY, name TEXT NOT NULL, v REAL);
             INSERT INTO small SELECT * FROM big WHERE id <= {SMALL_ROWS};"
        ))
        .expect("fill big.db");
        path
    })
}

/// Exports `table` to a file with `--stats` and returns the stats line.
fn export_stats(url: &str, table: &str, strategy: &str, out: &Path) -> serde_json::Value {
    let run = dbchunk([
        "export", "--url", url, "--table", table, "--strategy", strategy, "--stats", "--output",
    ])
    .arg(out)
    .success();
    let line = run.stderr_lines().last().copied().expect("a stats line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn sqlite_memory_stays_flat_with_table_size() {
    let url = sqlite_url(big_db());
    let dir = TempDir::new("sqlite_memory_stays_flat_with_table_size");
    for strategy in ["keyset", "cursor"] {
        let out = dir.join(&format!("{strategy}.csv"));
        let big = export_stats(&url, "big", strategy, &out);
        let big_size = std::fs::metadata(&out).unwrap().len();
        let small = export_stats(&url, "small", strategy, &out);
        assert_eq!(big["rows"].as_u64(), Some(BIG_ROWS), "{big}");
        assert_eq!(small["rows"].as_u64(), Some(SMALL_ROWS), "{small}");
        assert_eq!(big["bytes"].as_u64(), Some(big_size), "{big}");
        let big_kb = big["peak_rss_kb"]
            .as_u64()
            .expect("peak_rss_kb in the stats (Linux)");
        let small_kb = small["peak_rss_kb"]
            .as_u64()
            .expect("peak_rss_kb in the stats (Linux)");
        let allowed = small_kb as f64 * 1.25 + 8192.0;
        assert!(
            big_kb as f64 <= allowed,
            "--strategy {strategy}: peak RSS {big_kb} KB for {BIG_ROWS} rows vs {small_kb} KB for {SMALL_ROWS} rows \
             (allowed {allowed:.0} KB)"
        );
    }
}

/// `dbchunk export ... | head -1`: the reader goes away early.
#[test]
fn sqlite_closed_stdout_is_success() {
    let url = sqlite_url(big_db());
    for args in [
        vec!["--table", "big"],
        vec!["--table", "big", "--strategy", "cursor"],
        vec!["--table", "big", "--format", "ndjson"],
        vec!["--query", "SELECT * FROM big"],
    ] {
        let mut child = dbchunk(["export", "--url", &url])
            .args(&args)
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dbchunk");
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        drop(reader);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            first.starts_with("id,name,v\n") || first.starts_with("{\"id\":1,"),
            "{args:?}: {first:?}"
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: a closed pipe is success; stderr: {stderr}"
        );
        assert_eq!(stderr, "", "{args:?}: nothing on stderr for a closed pipe");
    }
}

/// A `--key` that does not identify rows would make keyset skip rows
/// silently: it is refused, while cursor may still order by it.
#[test]
fn sqlite_key_that_is_not_unique_is_refused_for_keyset() {
    let dir = TempDir::new("sqlite_key_not_unique");
    let (_conn, url) = create_db(
        &dir,
        "CREATE TABLE dup(k INTEGER, v TEXT, u TEXT NOT NULL UNIQUE);
         INSERT INTO dup VALUES (1,'a','x1'),(1,'b','x2'),(1,'c','x3'),(2,'d','x4'),(NULL,'e','x5'),(3,'f','x6');",
    );
    for strategy in ["keyset", "offset"] {
        let run = dbchunk([
            "export", "--url", &url, "--table", "dup", "--key", "k", "--chunk", "2", "--strategy",
            strategy,
        ])
        .fails(2);
        assert!(run.stdout.is_empty());
        assert!(
            run.one_error_line()
                .contains("--key k does not identify rows"),
            "{}",
            run.stderr
        );
    }
    let cursor = export_text(
        &url,
        &[
            "--table", "dup", "--key", "k", "--strategy", "cursor", "--columns", "v",
        ],
    );
    assert_eq!(cursor.lines().count(), 7, "{cursor}");
    // A key that contains a unique NOT NULL column is fine.
    let keyed = export_text(
        &url,
        &[
            "--table", "dup", "--key", "k,u", "--chunk", "2", "--strategy", "keyset",
        ],
    );
    assert_eq!(keyed.lines().count(), 7, "{keyed}");
    // A query's key is checked against the data.
    let query = [
        "export", "--url", &url, "--query", "SELECT * FROM dup", "--strategy", "keyset",
    ];
    let run = dbchunk(query)
        .args(["--key", "u", "--chunk", "2"])
        .success();
    assert_eq!(run.stdout_str().lines().count(), 7);
    dbchunk(query).args(["--key", "k"]).fails(2);
}

#[test]
fn sqlite_duplicate_column_names_are_refused_in_ndjson() {
    let dir = TempDir::new("sqlite_duplicate_names");
    let (_conn, url) = create_db(
        &dir,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1,'a');",
    );
    let query = "SELECT id AS a, name AS a FROM t";
    let run = dbchunk([
        "export", "--url", &url, "--query", query, "--format", "ndjson",
    ])
    .fails(2);
    assert!(
        run.one_error_line().contains("two columns named \"a\""),
        "{}",
        run.stderr
    );
    assert_eq!(export_text(&url, &["--query", query]), "a,a\n1,a\n");
}

/// `--max-rate` keeps the export at or under the rate: 3000 rows at 2000
/// rows a second cannot finish in less than about 1.5 seconds.
#[test]
fn sqlite_max_rate_paces_the_export() {
    let dir = TempDir::new("sqlite_max_rate");
    let (_conn, url) = create_db(
        &dir,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000)
         INSERT INTO t SELECT x, 'v' || x FROM c;",
    );
    let started = std::time::Instant::now();
    let out = export_text(
        &url,
        &["--table", "t", "--chunk", "500", "--max-rate", "2000/s"],
    );
    let elapsed = started.elapsed();
    assert_eq!(out.lines().count(), 3001);
    assert!(
        elapsed >= std::time::Duration::from_millis(1200),
        "{elapsed:?}"
    );
    let run = dbchunk([
        "export", "--url", &url, "--table", "t", "--max-rate", "fast",
    ])
    .fails(2);
    assert!(run.stderr.contains("--max-rate"), "{}", run.stderr);
}

/// The first Ctrl-C or SIGTERM ends the export after the chunk in flight,
/// with exit 130 or 143: stdout holds whole chunks, and a file output is
/// never left looking complete.
#[test]
fn sqlite_signals_stop_after_a_whole_chunk() {
    let dir = TempDir::new("sqlite_signals");
    let (_conn, url) = create_db(
        &dir,
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
         INSERT INTO t SELECT x, 'v' || x FROM c;",
    );
    let file = dir.join("out.csv");
    let file_arg = file.to_str().unwrap().to_string();
    for (signal, code, to_file) in [("-INT", 130, false), ("-TERM", 143, true)] {
        let mut args = vec![
            "export", "--url", &url, "--table", "t", "--chunk", "1000", "--max-rate", "4000/s",
        ];
        if to_file {
            args.extend(["--output", &file_arg]);
        }
        let mut child = dbchunk(args)
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dbchunk");
        // Signal once the export is under way, however slow the start.
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut written = Vec::new();
        if to_file {
            let started = std::time::Instant::now();
            while !dir.entries().iter().any(|e| e.contains("out.csv")) {
                assert!(started.elapsed().as_secs() < 20, "the export never started");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        } else {
            std::io::BufRead::read_until(&mut stdout, b'\n', &mut written).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(400));
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        std::io::Read::read_to_end(&mut stdout, &mut written).unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains("stopped by SIG"), "{stderr}");
        if to_file {
            assert!(
                !file.exists(),
                "an interrupted export must not leave {file:?}"
            );
            assert_eq!(
                dir.entries()
                    .iter()
                    .filter(|e| e.contains("out.csv"))
                    .count(),
                0
            );
        } else {
            let rows = written.iter().filter(|&&b| b == b'\n').count() - 1;
            assert!(rows > 0 && rows < 20000 && rows % 1000 == 0, "{rows} rows");
        }
    }
}
