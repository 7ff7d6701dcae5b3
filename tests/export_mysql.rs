//! `dbchunk export` and `count` against the test MySQL/MariaDB. Every test
//! creates (and first drops) its own tables, named after the test.

use crate::util::db::{mysql_exec, mysql_url, with_params};
use crate::util::engine::{assert_strategies_agree_at, Db, Fill, Table, Ty, PARALLEL_PACED};
use crate::util::fixtures::AWKWARD_DOUBLES;
use crate::util::{dbchunk, Csv};

const STRATEGIES: [&str; 4] = ["auto", "keyset", "offset", "cursor"];

#[track_caller]
fn export(args: &[&str]) -> String {
    let out = dbchunk(["export", "--url", &mysql_url()])
        .args(args)
        .success()
        .stdout;
    String::from_utf8(out).expect("UTF-8 output")
}

/// Every strategy gives the same bytes in every format; returns the CSV.
#[track_caller]
fn assert_strategies_agree(args: &[&str]) -> String {
    assert_strategies_agree_at(&mysql_url(), &["csv", "tsv", "ndjson"], &STRATEGIES, args)
}

pub fn create_types_table(table: &str) {
    // The session writing the rows is at +02:00: TIMESTAMP values must still
    // export in UTC.
    mysql_exec(&format!(
        "SET time_zone = '+02:00';
         DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT,
           mi MEDIUMINT, ii INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
           de DECIMAL(65,30), fl FLOAT, do DOUBLE, bt BIT(10), b1 TINYINT(1), ch CHAR(6),
           vc VARCHAR(20), tx TEXT, lt LONGTEXT, bn BINARY(4), vb VARBINARY(10), bl BLOB,
           dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR, js JSON,
           en ENUM('a','b c'), st SET('x','y','z')) DEFAULT CHARSET=utf8mb4;
         INSERT INTO {table} VALUES
         (1, -128, 255, -32768, -8388608, -2147483648, 4294967295, -9223372036854775808,
          18446744073709551615, '12345678901234567890123456789012345.123456789012345678901234567890',
          2.5, 0.1, b'1010101010', 1, 'ab  ', 'x', 'a,b \"q\" \\r\\n\\t\\\\ 😀', 'long',
          X'00FF', X'0102', X'DEADBEEF', '1000-01-01', '-838:59:59', '2024-05-26 10:00:00.123456',
          '2024-05-26 12:00:00.5', 2024, '{{\"a\": [1, 2], \"b\": null}}', 'b c', 'x,z'),
         (2, 127, 0, 32767, 8388607, 2147483647, 0, 9223372036854775807, 0,
          '-0.000000000000000000000000000001', -1e38, 1e300, b'0', 0, '', '', '', '', X'', X'', X'',
          '9999-12-31', '25:00:00.5', '2024-05-26 10:00:00', '1999-01-01 02:00:00', 1901, '[]',
          'a', ''),
         (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
    ));
}

#[test]
fn mysql_types_have_one_canonical_form_from_every_strategy() {
    let table = "it_my_types";
    create_types_table(table);
    let csv = assert_strategies_agree(&["--table", table, "--chunk", "2"]);
    let parsed = Csv::parse(&csv);
    let value = |row: usize, column: &str| parsed.get(row, column).map(str::to_string);
    let expected = [
        (0, "ti", "-128"),
        (0, "tu", "255"),
        (0, "bi", "-9223372036854775808"),
        (0, "bu", "18446744073709551615"),
        (
            0,
            "de",
            "12345678901234567890123456789012345.123456789012345678901234567890",
        ),
        (0, "fl", "2.5"),
        (0, "do", "0.1"),
        (1, "fl", "-1e+38"),
        (1, "do", "1e+300"),
        (0, "bt", "1010101010"),
        (1, "bt", "0000000000"),
        (0, "b1", "1"),
        (0, "ch", "ab"),
        (0, "tx", "a,b \"q\" \r\n\t\\ 😀"),
        (0, "bn", "00ff0000"),
        (0, "vb", "0102"),
        (0, "bl", "deadbeef"),
        (1, "bl", ""),
        (0, "dt", "1000-01-01"),
        (1, "dt", "9999-12-31"),
        (0, "tm", "-838:59:59"),
        (1, "tm", "25:00:00.5"),
        (0, "dtm", "2024-05-26T10:00:00.123456"),
        (1, "dtm", "2024-05-26T10:00:00"),
        (0, "ts", "2024-05-26T10:00:00.5+00:00"),
        (1, "ts", "1999-01-01T00:00:00+00:00"),
        (0, "yr", "2024"),
        (0, "en", "b c"),
        (0, "st", "x,z"),
        (1, "st", ""),
    ];
    for (row, column, text) in expected {
        assert_eq!(
            value(row, column).as_deref(),
            Some(text),
            "row {row} column {column}"
        );
    }
    // NULL is an unquoted empty field; the empty string is quoted.
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines.last().unwrap().starts_with("3,,,"), "{csv}");
    assert!(csv.contains(",\"\",\"\","), "{csv}");
}

#[test]
fn mysql_ndjson_keeps_json_types() {
    let table = "it_my_ndjson";
    create_types_table(table);
    let out = export(&["--table", table, "--format", "ndjson"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["js"], serde_json::json!({"a": [1, 2], "b": null}));
    assert_eq!(first["bu"].to_string(), "18446744073709551615");
    assert!(lines[0]
        .contains("\"de\":12345678901234567890123456789012345.123456789012345678901234567890,"));
    assert_eq!(first["yr"], 2024);
    assert_eq!(first["tx"], "a,b \"q\" \r\n\t\\ 😀");
    let third: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert!(third["js"].is_null() && third["ti"].is_null());
}

/// Doubles go through the binary protocol: every one must read back as
/// exactly the value stored, whatever its digits.
#[test]
fn mysql_doubles_survive_exactly() {
    let table = "it_my_doubles";
    let values = AWKWARD_DOUBLES;
    let rows: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("({i}, {v:e})"))
        .collect();
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table}(id INT PRIMARY KEY, d DOUBLE);
         INSERT INTO {table} VALUES {};",
        rows.join(", ")
    ));
    let out = export(&["--table", table, "--no-header", "--columns", "d"]);
    let got: Vec<f64> = out.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(got.len(), values.len());
    for (g, v) in got.iter().zip(values) {
        assert_eq!(g.to_bits(), v.to_bits(), "{g} != {v}\n{out}");
    }
}

#[test]
fn mysql_composite_keys_use_the_expanded_form() {
    let table = "it_my_composite";
    let rows: Vec<String> = (0..40)
        .map(|i| format!("({}, 'k{}', {i})", i % 7, i))
        .collect();
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b));
         INSERT INTO {table} VALUES {};",
        rows.join(", ")
    ));
    let csv = assert_strategies_agree(&["--table", table, "--chunk", "3"]);
    assert_eq!(csv.lines().count(), 41);
    let explain = export(&[
        "--table", table, "--chunk", "3", "--strategy", "keyset", "--explain",
    ]);
    assert!(
        explain.contains("`a` >= ? AND ((`a` > ?) OR (`a` = ? AND `b` > ?))"),
        "{explain}"
    );
    assert!(explain.contains("PRIMARY"), "{explain}");
}

#[test]
fn mysql_table_without_key_uses_cursor_and_refuses_keyset() {
    let table = "it_my_nokey";
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table}(v INT, w TEXT);
         INSERT INTO {table} VALUES (1, 'a'), (2, NULL), (3, '');"
    ));
    let explain = export(&["--table", table, "--explain"]);
    assert!(explain.contains("strategy: cursor"), "{explain}");
    assert_eq!(export(&["--table", table]), "v,w\n1,a\n2,\n3,\"\"\n");
    let run = crate::util::export(&mysql_url(), table)
        .args(["--strategy", "keyset"])
        .fails(2);
    assert!(run.stderr.contains("--key"), "{}", run.stderr);
    let keyed = export(&[
        "--table", table, "--strategy", "keyset", "--key", "v", "--chunk", "2",
    ]);
    assert_eq!(keyed, "v,w\n1,a\n2,\n3,\"\"\n");
}

#[test]
fn mysql_copy_is_a_usage_error() {
    let run = crate::util::export(&mysql_url(), "whatever")
        .args(["--strategy", "copy"])
        .fails(2);
    assert!(run.stderr.contains("PostgreSQL"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn mysql_query_where_limit_columns_and_count() {
    let table = "it_my_query";
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table}(id INT PRIMARY KEY, name VARCHAR(20));
         INSERT INTO {table} VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e');"
    ));
    let query = format!("SELECT name, id FROM {table} ORDER BY id DESC");
    assert_eq!(
        export(&["--query", &query, "--limit", "2"]),
        "name,id\ne,5\nd,4\n"
    );
    assert_eq!(
        export(&["--table", table, "--where", "id % 2 = 1", "--columns", "name", "--chunk", "1"]),
        "name\na\nc\ne\n"
    );
    let url = mysql_url();
    let count = dbchunk(["count", "--url", &url, "--table", table]).success();
    assert_eq!(count.stdout_str(), "5\n");
    let count = dbchunk([
        "count", "--url", &url, "--table", table, "--where", "id > 3",
    ])
    .success();
    assert_eq!(count.stdout_str(), "2\n");
    let count = dbchunk(["count", "--url", &url, "--query", &query]).success();
    assert_eq!(count.stdout_str(), "5\n");
    let estimate = dbchunk(["count", "--url", &url, "--table", table, "--estimate"]).success();
    assert!(
        estimate.stdout_str().trim().parse::<u64>().is_ok(),
        "{}",
        estimate.stdout_str()
    );
}

#[test]
fn mysql_unknown_table_and_bad_password_are_one_line() {
    let url = mysql_url();
    crate::util::export(&url, "it_my_no_such_table").fails_saying(1, &["it_my_no_such_table"]);
    let bad = url.replacen("://root@", "://root:Wr0ngSecret@", 1);
    let run = crate::util::export(&bad, "t").fails(1);
    let line = run.one_error_line();
    assert!(!run.stderr.contains("Wr0ngSecret"), "{}", run.stderr);
    assert!(line.contains("password"), "{line}");
}

#[test]
fn mysql_closed_stdout_is_success() {
    let db = Db::My;
    let table = Table::new("it_my_closed_stdout")
        .key("id", Ty::Int)
        .col("name", Ty::Varchar(30));
    let _drop = db.drop_on_exit(&table.name);
    table
        .create(&db)
        .fill(&db, 1..=100_000, &[Fill::Id, Fill::Prefixed("name-")]);
    for strategy in ["keyset", "cursor"] {
        crate::util::export(&db.url(), &table.name)
            .args(["--strategy", strategy])
            .assert_quiet_head(|first| first == "id,name\n");
    }
}

#[test]
fn mysql_key_that_is_not_unique_is_refused_for_keyset() {
    let table = "it_my_key_not_unique";
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table}(k INT, v TEXT, u INT NOT NULL, UNIQUE KEY (u));
         INSERT INTO {table} VALUES (1,'a',1),(1,'b',2),(2,'c',3),(NULL,'d',4);"
    ));
    crate::util::export(&mysql_url(), table)
        .args(["--key", "k", "--strategy", "offset"])
        .fails_saying(2, &["does not identify rows"]);
    // Without --key, the unique NOT NULL index is the key.
    let explain = export(&["--table", table, "--explain"]);
    assert!(explain.contains("strategy: cursor, key: u"), "{explain}");
}

#[test]
fn mysql_parallel_output_equals_serial_and_reads_one_snapshot() {
    let table = "it_my_parallel";
    mysql_exec(&format!(
        "SET SESSION max_recursive_iterations = 1000000;
         DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(a INT NOT NULL, b VARCHAR(20) NOT NULL, v TEXT, PRIMARY KEY (a, b));
         INSERT INTO {table} WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
         SELECT x % 97, CONCAT('k', x), REPEAT('x', x % 7) FROM c;
         ANALYZE TABLE {table};"
    ));
    let serial = export(&["--table", table, "--strategy", "cursor"]);
    // auto streams each range with one query: there are no reconnections
    // or resumes for keyset's query per chunk to buy.
    let run = crate::util::export(&mysql_url(), table)
        .args(["--parallel", "2", "--stats", "--quiet"])
        .success();
    let stats: serde_json::Value = serde_json::from_str(run.stderr_lines()[0]).unwrap();
    assert_eq!(stats["strategy"], "cursor", "{stats}");
    assert!(
        run.stdout == serial.as_bytes(),
        "auto --parallel 2 differs from the serial export"
    );
    for strategy in ["keyset", "cursor"] {
        for workers in ["2", "3"] {
            let out = export(&[
                "--table", table, "--strategy", strategy, "--parallel", workers, "--chunk", "700",
            ]);
            assert!(
                out == serial,
                "--strategy {strategy} --parallel {workers} differs from the serial export"
            );
        }
    }
    // The first output line comes after every worker has its snapshot:
    // only then are the changes made.
    let written = Db::My.export_while(
        &[&["--table", table][..], PARALLEL_PACED].concat(),
        &format!(
            "DELETE FROM {table} WHERE a BETWEEN 80 AND 90;
             UPDATE {table} SET v = 'changed' WHERE a = 10;
             INSERT INTO {table} VALUES (200, 'new', 'new'), (0, 'a-new', 'new');"
        ),
    );
    assert!(
        String::from_utf8(written).unwrap() == serial,
        "the parallel export saw later changes"
    );
}

/// The rows of an export are read on dbchunk's own session; a URL asking
/// for what only mysql_async does (compression) reads them through it.
/// Both give the same bytes, for every type, strategy and format.
#[test]
fn mysql_rows_read_through_the_driver_are_the_same_bytes() {
    let table = "it_my_driver_rows";
    let _drop = Db::My.drop_on_exit(table);
    create_types_table(table);
    let url = mysql_url();
    let through_driver = with_params(&url, "compression=fast");
    for strategy in ["keyset", "cursor"] {
        for format in ["csv", "ndjson"] {
            let args = [
                "--table", table, "--strategy", strategy, "--format", format, "--chunk", "2",
            ];
            let own = dbchunk(["export", "--url", &url])
                .args(args)
                .success()
                .stdout;
            let driver = dbchunk(["export", "--url", &through_driver])
                .args(args)
                .success()
                .stdout;
            assert_eq!(
                String::from_utf8_lossy(&own),
                String::from_utf8_lossy(&driver),
                "{strategy} {format}"
            );
        }
    }
}

/// A row of 20 MB comes in several packets of the protocol (at most
/// 16 MiB each), which are joined: the row exports whole.
#[test]
fn mysql_a_row_longer_than_a_packet_exports_whole() {
    let table = "it_my_long_row";
    let _drop = Db::My.drop_on_exit(table);
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (id INT PRIMARY KEY, a LONGBLOB, b LONGTEXT);
         INSERT INTO {table} VALUES (1, REPEAT('a', 10000000), NULL), (2, 'x', 'y');
         UPDATE {table} SET b = REPEAT('b', 10000000) WHERE id = 1;"
    ));
    for strategy in ["keyset", "cursor"] {
        let out = export(&[
            "--table", table, "--strategy", strategy, "--format", "ndjson",
        ]);
        let rows: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(rows.len(), 2, "{strategy}");
        let long = &rows[0];
        assert!(
            long["a"] == "61".repeat(10_000_000),
            "{strategy}: the blob is whole"
        );
        assert!(
            long["b"] == "b".repeat(10_000_000),
            "{strategy}: the text is whole"
        );
        assert_eq!(
            rows[1],
            serde_json::json!({"id": 2, "a": "78", "b": "y"}),
            "{strategy}"
        );
    }
}
