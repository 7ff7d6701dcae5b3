//! A 50-row table read by every strategy, with the options that shape
//! the output (--limit, --columns, --where, --no-header, NDJSON).

use super::*;

/// `people`: 50 rows, ids with gaps, inserted out of order, with awkward
/// text, NULLs and blobs sprinkled in.
pub(super) fn people_db(test: &str) -> TestDb {
    let mut db = create_db(
        test,
        "CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, note TEXT, data BLOB, misc);",
    );
    let tx = db.conn.transaction().unwrap();
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
    db
}

#[test]
fn sqlite_every_strategy_same_bytes_small_chunks() {
    let db = people_db("sqlite_every_strategy_same_bytes_small_chunks");
    // Chunks of 3, one dividing the row count exactly, one row, and one
    // bigger than the table.
    for chunk in ["3", "5", "1", "1000"] {
        assert_strategies_agree(
            &db.url,
            &SQLITE_STRATEGIES,
            &["--table", "people", "--chunk", chunk],
        );
    }
    let csv = export_text(&db.url, &["--table", "people", "--chunk", "3"]);
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
    let db = people_db("sqlite_every_strategy_same_bytes_with_options");
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
        assert_strategies_agree(&db.url, &SQLITE_STRATEGIES, args);
    }
}

#[test]
fn sqlite_limit() {
    let db = people_db("sqlite_limit");
    for strategy in SQLITE_STRATEGIES {
        for (limit, chunk) in [("7", "3"), ("6", "3"), ("1", "3"), ("100", "3"), ("0", "3")] {
            let out = export_text(
                &db.url,
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

prints! {
    sqlite_columns_in_given_order: people_db, [
        export ["--table", "people", "--columns", "name,id", "--limit", "3", "--chunk", "2"]
            => "name,id\nperson 00,1\nperson 01,4\nperson 02,7\n",
        // Without the key column among them: the key is read but not written.
        export ["--table", "people", "--columns", "name", "--limit", "4", "--chunk", "3"]
            => "name\nperson 00\nperson 01\nperson 02\nperson 03\n",
        // NDJSON keys follow the same order.
        export ["--table", "people", "--columns", "score,id", "--limit", "2", "--format", "ndjson"]
            => "{\"score\":null,\"id\":1}\n{\"score\":-1.875,\"id\":4}\n",
    ];
    sqlite_where_filter: people_db, [
        export [
            "--table", "people", "--columns", "id,name", "--where", "id BETWEEN 10 AND 20",
            "--chunk", "2",
        ]
            => "id,name\n10,person 03\n13,person 04\n16,person 05\n19,person 06\n",
        // A condition with OR is kept whole (wrapped in parentheses) under keyset.
        export [
            "--table", "people", "--columns", "id", "--where", "id = 1 OR id = 148",
            "--chunk", "1", "--strategy", "keyset",
        ]
            => "id\n1\n148\n",
        count ["--table", "people", "--where", "id BETWEEN 10 AND 20"] => "4\n",
    ];
}

#[test]
fn sqlite_no_header() {
    let db = people_db("sqlite_no_header");
    for format in ["csv", "tsv"] {
        let with = export(&db.url, &["--table", "people", "--format", format]);
        let without = export(
            &db.url,
            &["--table", "people", "--format", format, "--no-header"],
        );
        let header_len = with.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(&with[header_len..], &without[..], "{format}");
    }
    // NDJSON has no header either way.
    assert_eq!(
        export(&db.url, &["--table", "people", "--format", "ndjson"]),
        export(
            &db.url,
            &["--table", "people", "--format", "ndjson", "--no-header"]
        )
    );
}

#[test]
fn sqlite_ndjson_lines_parse() {
    let db = people_db("sqlite_ndjson_lines_parse");
    let out = export_text(
        &db.url,
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
