//! Values and their canonical text: every storage class, NULL next to
//! empty, the same bytes from every strategy.

use super::*;

/// Every storage class, awkward text, NULL next to empty, and a column
/// without affinity holding a different type on each row.
///
/// `-0.0` goes in the untyped column `m`: a REAL column stores a real with
/// no fractional part as an integer, so SQLite itself turns `-0.0` into `0`
/// there before dbchunk ever sees it.
fn values_db(test: &str) -> TestDb {
    let db = create_db(
        test,
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
        db.conn
            .execute(
                "INSERT INTO vals VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params_from_iter(row.iter()),
            )
            .expect("insert");
    }
    db
}

prints! {
    sqlite_values_csv_exact_bytes: values_db, [
        export ["--table", "vals"]
            => "id,i,r,s,b,m\n\
                1,42,0.1,\"a,b\"\"c\r\nd\te\\f😀\",00ff,7\n\
                2,,1e+300,\"\",,-0\n\
                3,-9223372036854775808,1e-07,,\"\",txt\n\
                4,0,-1.5,NULL,41,0a\n\
                5,9223372036854775807,123456789012345.6,\\.,,1e+15\n\
                6,,,,,\n",
    ];
    // NULL is written as NULL; the text "NULL" is quoted so it stays text;
    // the empty string is no longer ambiguous and goes unquoted.
    sqlite_null_option: values_db, [
        export ["--table", "vals", "--columns", "id,i,s", "--null", "NULL"]
            => "id,i,s\n\
                1,42,\"a,b\"\"c\r\nd\te\\f😀\"\n\
                2,NULL,\n\
                3,-9223372036854775808,NULL\n\
                4,0,\"NULL\"\n\
                5,9223372036854775807,\\.\n\
                6,NULL,NULL\n",
    ];
    sqlite_values_tsv_exact_bytes: values_db, [
        export ["--table", "vals", "--format", "tsv"]
            => "id\ti\tr\ts\tb\tm\n\
                1\t42\t0.1\ta,b\"c\\r\\nd\\te\\\\f😀\t00ff\t7\n\
                2\t\\N\t1e+300\t\t\\N\t-0\n\
                3\t-9223372036854775808\t1e-07\t\\N\t\ttxt\n\
                4\t0\t-1.5\tNULL\t41\t0a\n\
                5\t9223372036854775807\t123456789012345.6\t\\\\.\t\\N\t1e+15\n\
                6\t\\N\t\\N\t\\N\t\\N\t\\N\n",
    ];
}

#[test]
fn sqlite_values_ndjson() {
    let db = values_db("sqlite_values_ndjson");
    let out = export_text(&db.url, &["--table", "vals", "--format", "ndjson"]);
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
    let db = values_db("sqlite_values_same_from_every_strategy");
    assert_strategies_agree(
        &db.url,
        &SQLITE_STRATEGIES,
        &["--table", "vals", "--chunk", "2"],
    );
}

#[test]
fn sqlite_null_option_in_tsv_and_not_in_ndjson() {
    let db = values_db("sqlite_null_option_tsv");
    let tsv = export_text(
        &db.url,
        &[
            "--table", "vals", "--columns", "id,s", "--format", "tsv", "--null", "(null)",
        ],
    );
    assert!(tsv.contains("\n3\t(null)\n"), "{tsv}");
    // --null makes no sense for NDJSON.
    crate::util::export(&db.url, "vals")
        .args(["--format", "ndjson", "--null", "x"])
        .fails(2);
}
