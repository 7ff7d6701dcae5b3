//! Keys: composite keys, the rowid, WITHOUT ROWID tables, --key.

use super::*;

#[test]
fn sqlite_composite_key_keyset_equals_cursor() {
    let mut db = create_db(
        "sqlite_composite_key_keyset_equals_cursor",
        "CREATE TABLE comp(a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b));",
    );
    let mut expected = Vec::new();
    let tx = db.conn.transaction().unwrap();
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
        &db.url,
        &["--table", "comp", "--strategy", "keyset", "--chunk", "3"],
    );
    assert_eq!(keyset, expected_csv);
    let cursor = export_text(
        &db.url,
        &["--table", "comp", "--strategy", "cursor", "--chunk", "3"],
    );
    assert_eq!(cursor, expected_csv);
    assert_strategies_agree(
        &db.url,
        &SQLITE_STRATEGIES,
        &["--table", "comp", "--chunk", "3"],
    );
    let explain = export_text(&db.url, &["--table", "comp", "--explain", "--chunk", "3"]);
    assert!(explain.contains("strategy: keyset"), "{explain}");
    assert!(explain.contains("key: a, b"), "{explain}");
}

#[test]
fn sqlite_table_without_primary_key_uses_rowid() {
    let mut db = create_db(
        "sqlite_table_without_primary_key_uses_rowid",
        "CREATE TABLE nopk(name TEXT, n INTEGER);",
    );
    let tx = db.conn.transaction().unwrap();
    for n in 0..20i64 {
        // Same name twice: no column could serve as key.
        tx.execute(
            "INSERT INTO nopk VALUES (?1, ?2)",
            rusqlite::params![format!("x{}", n / 2), 100 - n],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let explain = export_text(&db.url, &["--table", "nopk", "--explain", "--chunk", "3"]);
    assert!(explain.contains("strategy: keyset"), "{explain}");
    assert!(explain.contains("rowid"), "{explain}");
    assert!(explain.contains("first chunk"), "{explain}");
    assert!(explain.contains("later chunk"), "{explain}");
    let expected: String = std::iter::once("name,n\n".to_string())
        .chain((0..20).map(|n| format!("x{},{}\n", n / 2, 100 - n)))
        .collect();
    let out = export_text(&db.url, &["--table", "nopk", "--chunk", "3"]);
    assert_eq!(out, expected, "rowid order, rowid itself not written");
    assert_strategies_agree(
        &db.url,
        &SQLITE_STRATEGIES,
        &["--table", "nopk", "--chunk", "3"],
    );
    let stats = crate::util::export(&db.url, "nopk")
        .args(["--chunk", "3", "--stats"])
        .success();
    stats.stderr_says(&["\"strategy\":\"keyset\""]);
}

#[test]
fn sqlite_column_named_rowid_does_not_confuse_the_key() {
    let db = create_db(
        "sqlite_column_named_rowid_does_not_confuse_the_key",
        "CREATE TABLE shadow(rowid TEXT, v INTEGER);",
    );
    for n in 0..10i64 {
        db.conn
            .execute(
                "INSERT INTO shadow VALUES (?1, ?2)",
                rusqlite::params![format!("r{}", 9 - n), n],
            )
            .unwrap();
    }
    let expected: String = std::iter::once("rowid,v\n".to_string())
        .chain((0..10).map(|n| format!("r{},{n}\n", 9 - n)))
        .collect();
    assert_eq!(
        export_text(&db.url, &["--table", "shadow", "--chunk", "3"]),
        expected
    );
    assert_strategies_agree(
        &db.url,
        &SQLITE_STRATEGIES,
        &["--table", "shadow", "--chunk", "3"],
    );
}

#[test]
fn sqlite_without_rowid_table_and_explicit_key() {
    let db = create_db(
        "sqlite_without_rowid_table_and_explicit_key",
        "CREATE TABLE wr(code TEXT PRIMARY KEY, n INTEGER NOT NULL UNIQUE, v TEXT) WITHOUT ROWID;",
    );
    let mut rows = Vec::new();
    for k in 0..11i64 {
        let code = format!("c{:02}", (k * 4) % 11);
        let n = 100 - k * 3;
        db.conn
            .execute(
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
        export_text(&db.url, &["--table", "wr", "--chunk", "2"]),
        by_code
    );
    // --key n: ordered and split by n instead.
    rows.sort_by_key(|r| r.1);
    let by_n = csv(&rows);
    for strategy in SQLITE_STRATEGIES {
        let out = export_text(
            &db.url,
            &[
                "--table", "wr", "--chunk", "2", "--key", "n", "--strategy", strategy, "--quiet",
            ],
        );
        assert_eq!(out, by_n, "--strategy {strategy} --key n");
    }
    let explain = export_text(
        &db.url,
        &["--table", "wr", "--chunk", "2", "--key", "n", "--explain"],
    );
    assert!(explain.contains("key: n"), "{explain}");
    // A key that is not a column is refused and named.
    crate::util::export(&db.url, "wr")
        .args(["--key", "nope_key"])
        .fails_saying(1, &["nope_key"]);
}
