//! `dbchunk import` against the test PostgreSQL and MySQL/MariaDB and SQLite
//! files made here. Every test creates (and first drops) its own tables,
//! named `it_imp_<test>...`.
//!
//! Tables are compared with ordered digests computed by the database (every
//! column, NULL told apart from the empty string), and with the bytes
//! `dbchunk export` writes for them.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::util::db::{
    mysql_exec, mysql_query_text, mysql_url, pg_exec, pg_query_text, pg_url, sqlite_exec,
    sqlite_query_text,
};
use crate::util::{dbchunk, parse_csv, sqlite_url, Run, TempDir};

const FORMATS: [&str; 3] = ["csv", "tsv", "ndjson"];

/// One of the three engines, and how the tests talk to it directly.
#[derive(Clone, Debug)]
enum Db {
    Pg,
    My,
    Lite(PathBuf),
}

impl Db {
    /// A fresh SQLite file in `dir`.
    fn lite(dir: &TempDir) -> Db {
        Db::Lite(dir.join("import.db"))
    }

    fn url(&self) -> String {
        match self {
            Db::Pg => pg_url(),
            Db::My => mysql_url(),
            Db::Lite(path) => sqlite_url(path),
        }
    }

    #[track_caller]
    fn exec(&self, sql: &str) {
        match self {
            Db::Pg => pg_exec(sql),
            Db::My => mysql_exec(sql),
            Db::Lite(path) => sqlite_exec(path, sql),
        }
    }

    #[track_caller]
    fn text(&self, sql: &str) -> Option<String> {
        match self {
            Db::Pg => pg_query_text(sql),
            Db::My => mysql_query_text(sql),
            Db::Lite(path) => sqlite_query_text(path, sql),
        }
    }

    /// Every `--strategy` the engine has (auto is one of them).
    fn strategies(&self) -> &'static [&'static str] {
        match self {
            Db::Pg => &["copy", "insert"],
            Db::My => &["load-data", "insert"],
            Db::Lite(_) => &["insert"],
        }
    }

    /// What goes after `CREATE TABLE t (...)`.
    fn table_options(&self) -> &'static str {
        match self {
            Db::My => " DEFAULT CHARSET=utf8mb4",
            _ => "",
        }
    }

    /// `DROP TABLE IF EXISTS t; CREATE TABLE t (columns)`.
    #[track_caller]
    fn create(&self, table: &str, columns: &str) {
        self.exec(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns}){}",
            self.table_options()
        ));
    }

    /// The given columns of every row, ordered by `id`, as
    /// `a|b;a|b`, with NULL shown as `<NULL>`: for exact expectations.
    #[track_caller]
    fn rows(&self, table: &str, columns: &[&str]) -> String {
        let sql = match self {
            Db::Pg => {
                let cols: Vec<String> = columns
                    .iter()
                    .map(|c| format!("coalesce({c}::text, '<NULL>')"))
                    .collect();
                format!(
                    "SELECT coalesce(string_agg(concat_ws('|', {}), ';' ORDER BY id), '') FROM {table}",
                    cols.join(", ")
                )
            }
            Db::My => {
                let cols: Vec<String> = columns
                    .iter()
                    .map(|c| format!("IFNULL({c}, '<NULL>')"))
                    .collect();
                format!(
                    "SET SESSION group_concat_max_len = 1073741824; \
                     SELECT IFNULL(GROUP_CONCAT(CONCAT_WS('|', {}) ORDER BY id SEPARATOR ';'), '') \
                     FROM {table}",
                    cols.join(", ")
                )
            }
            Db::Lite(_) => {
                let cols: Vec<String> = columns
                    .iter()
                    .map(|c| format!("coalesce(CAST({c} AS TEXT), '<NULL>')"))
                    .collect();
                format!(
                    "SELECT coalesce(group_concat({}, ';' ORDER BY id), '') FROM {table}",
                    cols.join(" || '|' || ")
                )
            }
        };
        self.text(&sql).unwrap_or_default()
    }

    /// The ids of the rows, in order: `1,2,3`.
    #[track_caller]
    fn ids(&self, table: &str) -> String {
        self.rows(table, &["id"]).replace(';', ",")
    }

    /// Every column of every row, ordered by `id`, with the row count in
    /// front; NULL is told apart from '' (and, in SQLite, each value's
    /// storage class is part of it). `hashed`: MD5 of it (PostgreSQL and
    /// MariaDB), for the comparison; unhashed, for the failure message.
    #[track_caller]
    fn digest_text(&self, table: &str, hashed: bool) -> String {
        let (open, close) = if hashed { ("md5(", ")") } else { ("", "") };
        let sql = match self {
            Db::Pg => format!(
                "SELECT count(*)::text || ':' || \
                 coalesce({open}string_agg(t::text, '|' ORDER BY id){close}, '') FROM {table} t"
            ),
            Db::My => {
                let cols = self
                    .text(&format!(
                        "SET SESSION group_concat_max_len = 1073741824; \
                         SELECT GROUP_CONCAT(CONCAT('QUOTE(`', COLUMN_NAME, '`)') \
                         ORDER BY ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.COLUMNS \
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
                    ))
                    .unwrap_or_else(|| panic!("no columns for {table}"));
                format!(
                    "SET SESSION group_concat_max_len = 1073741824; \
                     SELECT CONCAT(COUNT(*), ':', IFNULL({open}GROUP_CONCAT(CONCAT_WS('#', {cols}) \
                     ORDER BY id SEPARATOR '|'){close}, '')) FROM {table}"
                )
            }
            Db::Lite(_) => {
                let cols = self
                    .text(&format!(
                        "SELECT group_concat('typeof(\"' || name || '\") || '':'' || quote(\"' || name || '\")', \
                         ' || ''#'' || ') FROM pragma_table_info('{table}')"
                    ))
                    .unwrap_or_else(|| panic!("no columns for {table}"));
                format!(
                    "SELECT count(*) || ':' || coalesce(group_concat({cols}, '|' ORDER BY id), '') \
                     FROM {table}"
                )
            }
        };
        self.text(&sql).unwrap_or_default()
    }

    #[track_caller]
    fn digest(&self, table: &str) -> String {
        self.digest_text(table, true)
    }

    /// Asserts that two tables hold the same rows (by digest).
    #[track_caller]
    fn assert_same_table(&self, expected: &str, actual: &str, context: &str) {
        if self.digest(expected) != self.digest(actual) {
            panic!(
                "{context}: {actual} differs from {expected} ({self:?})\n--- {expected} ---\n{}\n--- {actual} ---\n{}",
                self.digest_text(expected, false),
                self.digest_text(actual, false)
            );
        }
    }
}

/// `dbchunk export` of a whole table in `format`, which must succeed.
#[track_caller]
fn export(db: &Db, table: &str, format: &str) -> Vec<u8> {
    let run = dbchunk([
        "export",
        "--url",
        &db.url(),
        "--table",
        table,
        "--format",
        format,
        "--quiet",
    ])
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
        for strategy in db.strategies() {
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
// 1. Round trips of every type, per engine

/// A PostgreSQL table (and enum type `name_mood`) with a column of every
/// type dbchunk renders, six rows of edge values, and its empty copy.
fn create_pg_types(name: &str, copy: &str) {
    pg_exec(&format!(
        r#"
DROP TABLE IF EXISTS {copy};
DROP TABLE IF EXISTS {name};
DROP TYPE IF EXISTS {name}_mood;
CREATE TYPE {name}_mood AS ENUM ('sad', 'happy', 'so, "so"');
CREATE TABLE {name} (
    id integer PRIMARY KEY,
    si smallint, i integer, bi bigint,
    n numeric, ns numeric(40, 12),
    r real, d double precision,
    b boolean,
    c char(6), vc varchar(20), t text,
    by bytea,
    dt date, tm time, ts timestamp, tz timestamptz, iv interval,
    j json, jb jsonb,
    u uuid,
    ia int[], ta text[],
    e {name}_mood,
    ip inet
);
INSERT INTO {name} VALUES
(1, -32768, -2147483648, -9223372036854775808,
    123456789012345678901234567890.123456789, -1234567890123456789012345678.123456789012,
    'NaN', 'NaN', true,
    'ab', 'v', E'a,b"c\r\nd\te\\f😀',
    '\x00ff',
    '0001-01-01', '10:00:00.5', '2024-05-26 10:00:00.123456', '2024-05-26 10:00:00+02', '1 day 2 hours',
    '{{"a": [1, 2]}}', '{{"b": {{"c": null}}}}',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    '{{1,NULL,3}}', '{{"x,y","q\"z",NULL}}',
    'happy', '192.168.0.1/24'),
(2, 32767, 2147483647, 9223372036854775807,
    -0.000000000000000000000000000001, 0.000000000001,
    'Infinity', '-Infinity', false,
    'abcdef', '', '',
    '\x',
    '9999-12-31', '23:59:59.999999', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00', '-3 mons',
    '[]', '[1, "x"]',
    '00000000-0000-0000-0000-000000000000',
    '{{}}', '{{}}',
    'sad', '2001:db8::/32'),
(3, 0, 0, 0, 0, 0, '-Infinity', '-0', NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
(4, 1, 1, 1, 1e20, 0.0001, '-0', 0.1, true,
    '  x', 'NULL', E'\\.',
    '\xDEADBEEF',
    '2000-02-29', '00:00', '2024-01-01 00:00:00', '2024-05-26 10:00:00.123456-05:30', '1 year 2 mons 3 days 04:05:06.789',
    '{{"k": "v"}}', '"s"',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '{{{{1,2}},{{3,4}}}}', '{{"",NULL}}',
    'so, "so"', '10.0.0.0/8'),
(5, NULL, NULL, NULL, 'NaN', 99999999.9999, 3.4028235e38, 5e-324, false,
    '', E'tab\there', E'\u00e9\u00e8 🚀 "quoted" \\N',
    '\x0a0d',
    '2024-02-29', '12:34:56', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999+00', '0 seconds',
    '{{"nested": {{"deep": [true, false, null, 1.5e10]}}}}', '{{"k": "v\nw"}}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{{-2147483648,2147483647}}', '{{"with space","back\\slash",""}}',
    'sad', '255.255.0.0/16'),
(6, -1, -1, -1, -1.5, -0.5, 1.5, -1.7976931348623157e308, true,
    'xy    ', 'trailing  ', E'\t lead and trail \t',
    '\x00',
    '1999-01-01', '00:00:00.000001', '2000-01-01 00:00:00.000001', '2000-01-01 00:00:00.000001+00', '-1 days',
    '"plain string"', '123',
    '12345678-1234-5678-1234-567812345678',
    '{{NULL}}', '{{"NULL","null"}}',
    'happy', '::1');
CREATE TABLE {copy} (LIKE {name} INCLUDING ALL);
"#
    ));
}

#[test]
fn pg_every_type_round_trips_in_every_format() {
    let (table, copy) = ("it_imp_pg_rt", "it_imp_pg_rt_copy");
    create_pg_types(table, copy);
    assert_round_trips(&Db::Pg, table, copy);
}

/// JSON `null` in a json column is a value, not SQL NULL.
fn create_pg_json_null(table: &str, copy: &str) {
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {copy}; DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (id integer PRIMARY KEY, j json, jb jsonb);
         INSERT INTO {table} VALUES (1, 'null', 'null'), (2, NULL, NULL), (3, '\"null\"', '\"null\"');
         CREATE TABLE {copy} (LIKE {table} INCLUDING ALL);"
    ));
}

#[test]
fn pg_json_null_value_round_trips_in_csv_and_tsv() {
    let (table, copy) = ("it_imp_pg_json_null_csv", "it_imp_pg_json_null_csv_copy");
    create_pg_json_null(table, copy);
    assert_round_trips_in(&Db::Pg, table, copy, &["csv", "tsv"]);
}

/// NDJSON export writes the JSON value `null` and SQL NULL the same way
/// (docs/types.md says so): after an NDJSON round trip both are SQL NULL,
/// while the JSON string `"null"` stays a string.
#[test]
fn pg_json_null_value_becomes_sql_null_in_ndjson() {
    let (table, copy) = ("it_imp_pg_json_null_nd", "it_imp_pg_json_null_nd_copy");
    create_pg_json_null(table, copy);
    let ndjson = export(&Db::Pg, table, "ndjson");
    import_ok(&Db::Pg, copy, &["--format", "ndjson", "--quiet"], ndjson);
    let stored = pg_query_text(&format!(
        "SELECT string_agg(id || ':' || coalesce(j::text, 'SQL NULL') || ':' || coalesce(jb::text, 'SQL NULL'), ' ' ORDER BY id) FROM {copy}"
    ));
    assert_eq!(
        stored.as_deref(),
        Some("1:SQL NULL:SQL NULL 2:SQL NULL:SQL NULL 3:\"null\":\"null\"")
    );
}

fn create_mysql_types(table: &str, copy: &str) {
    // The session writing the rows is at +02:00: TIMESTAMP values are
    // instants whatever the session.
    mysql_exec(&format!(
        "SET time_zone = '+02:00';
         DROP TABLE IF EXISTS {copy};
         DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT,
           su SMALLINT UNSIGNED, mi MEDIUMINT, ii INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED,
           de DECIMAL(65,30), fl FLOAT, do DOUBLE, bt BIT(10), b1 TINYINT(1), ch CHAR(6),
           vc VARCHAR(20), tx TEXT, lt LONGTEXT, bn BINARY(4), vb VARBINARY(10), bl BLOB,
           dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR, js JSON,
           en ENUM('a','b c'), st SET('x','y','z')) DEFAULT CHARSET=utf8mb4;
         INSERT INTO {table} VALUES
         (1, -128, 255, -32768, 65535, -8388608, -2147483648, 4294967295, -9223372036854775808,
          18446744073709551615, '12345678901234567890123456789012345.123456789012345678901234567890',
          2.5, 0.1, b'1010101010', 1, 'ab  ', 'x', 'a,b \"q\" \\r\\n\\t\\\\ 😀', 'long',
          X'00FF', X'0102', X'DEADBEEF', '1000-01-01', '-838:59:59', '2024-05-26 10:00:00.123456',
          '2024-05-26 12:00:00.5', 2024, '{{\"a\": [1, 2], \"b\": null}}', 'b c', 'x,z'),
         (2, 127, 0, 32767, 0, 8388607, 2147483647, 0, 9223372036854775807, 0,
          '-0.000000000000000000000000000001', -1e38, 1e300, b'0', 0, '', '', '', '', X'', X'', X'',
          '9999-12-31', '25:00:00.5', '2024-05-26 10:00:00', '1999-01-01 02:00:00', 1901, '[]',
          'a', ''),
         (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
         (4, 0, 1, -1, 1, -1, 0, 1, -1, 1, '0.000000000000000000000000000001', 3.4e38,
          2.2250738585072014e-308, b'1111111111', 0, 'NULL', 'NULL', '\\\\N', '\\t', X'0A0D0000',
          X'00', X'0a0d', '2000-02-29', '838:59:59', '0001-01-01 00:00:00',
          '2038-01-19 05:14:07.999999', 2155, '[1, \"s\"]', 'b c', 'x,y,z'),
         (5, 1, 2, 3, 4, 5, 6, 7, 8, 9, '-99999999999999999999999999999999999.999999999999999999999999999999',
          -0.5, 123456789.12345679, b'0000000001', 1, ' x', 'trailing  ', '\\tlead', 'é 🚀',
          X'FFFFFFFF', X'FF', X'00FF00', '2024-02-29', '-00:00:00.000001', '9999-12-31 23:59:59.999999',
          '1970-01-01 02:00:01', 2000, '{{\"k\": \"v\\\\nw\"}}', 'a', 'y');
         CREATE TABLE {copy} LIKE {table};"
    ));
}

#[test]
fn mysql_every_type_round_trips_in_every_format() {
    let (table, copy) = ("it_imp_my_rt", "it_imp_my_rt_copy");
    create_mysql_types(table, copy);
    assert_round_trips(&Db::My, table, copy);
}

/// A MariaDB JSON column holding a JSON string (`"s"`): NDJSON export
/// embeds it as a JSON string, which import must store quoted again.
#[test]
fn mysql_json_string_value_round_trips_in_ndjson() {
    let (table, copy) = ("it_imp_my_json_string", "it_imp_my_json_string_copy");
    let db = Db::My;
    db.exec(&format!(
        "DROP TABLE IF EXISTS {copy}; DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (id INT PRIMARY KEY, js JSON) DEFAULT CHARSET=utf8mb4;
         INSERT INTO {table} VALUES (1, '\"s\"'), (2, '\"\"'), (3, '{{\"a\": \"b\"}}'), (4, NULL);
         CREATE TABLE {copy} LIKE {table};"
    ));
    assert_round_trips(&db, table, copy);
}

const SQLITE_TYPES: &str =
    "id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, n NUMERIC, v VARCHAR(10)";

fn create_sqlite_types(db: &Db, table: &str, copy: &str) {
    let Db::Lite(path) = db else { unreachable!() };
    db.create(table, SQLITE_TYPES);
    db.create(copy, SQLITE_TYPES);
    use rusqlite::types::Value as V;
    let rows: Vec<[V; 7]> = vec![
        [
            V::Integer(1),
            V::Integer(i64::MIN),
            V::Real(0.1),
            V::Text("a,b \"q\" \r\n\t\\ 😀".into()),
            V::Blob(vec![0, 255]),
            V::Integer(10),
            V::Text("x".into()),
        ],
        [
            V::Integer(2),
            V::Integer(i64::MAX),
            V::Real(-1.5),
            V::Text(String::new()),
            V::Blob(Vec::new()),
            V::Real(2.5),
            V::Text(String::new()),
        ],
        [
            V::Integer(3),
            V::Null,
            V::Null,
            V::Null,
            V::Null,
            V::Null,
            V::Null,
        ],
        [
            V::Integer(4),
            V::Integer(0),
            V::Real(5e-324),
            V::Text("NULL".into()),
            V::Blob(vec![0xde, 0xad, 0xbe, 0xef]),
            V::Integer(-7),
            V::Text("\\N".into()),
        ],
        [
            V::Integer(5),
            V::Integer(-1),
            V::Real(123456789.12345679),
            V::Text("é \"x\"".into()),
            V::Blob(vec![b'\n', b'\r']),
            V::Real(0.5),
            V::Text(" pad ".into()),
        ],
        [
            V::Integer(6),
            V::Integer(42),
            V::Real(1.0),
            V::Text("\t".into()),
            V::Blob(vec![0]),
            V::Integer(0),
            V::Text("007".into()),
        ],
    ];
    let conn = rusqlite::Connection::open(path).unwrap();
    for row in rows {
        conn.execute(
            &format!("INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)"),
            rusqlite::params_from_iter(row.iter()),
        )
        .unwrap();
    }
}

#[test]
fn sqlite_every_type_round_trips_in_every_format() {
    let dir = TempDir::new("imp-sqlite-rt");
    let db = Db::lite(&dir);
    let (table, copy) = ("it_imp_lite_rt", "it_imp_lite_rt_copy");
    create_sqlite_types(&db, table, copy);
    assert_round_trips(&db, table, copy);
}

/// Doubles exported from a SQLite REAL column must import as the same
/// double. Import binds them as text and SQLite's own text-to-real
/// conversion is not exact: `-1.5e+300` is stored as
/// `-1.4999999999999998e+300` (one unit in the last place off).
#[test]
fn sqlite_doubles_import_exactly() {
    let dir = TempDir::new("imp-sqlite-doubles");
    let db = Db::lite(&dir);
    let (table, copy) = ("it_imp_lite_doubles", "it_imp_lite_doubles_copy");
    db.create(table, "id INTEGER PRIMARY KEY, r REAL");
    db.create(copy, "id INTEGER PRIMARY KEY, r REAL");
    let values = [
        -1.5e300,
        0.1,
        1.0 / 3.0,
        2.0f64.sqrt(),
        1e300,
        2.2250738585072014e-308,
        123456789.12345679,
        -0.30000000000000004,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
    ];
    let Db::Lite(path) = &db else { unreachable!() };
    let conn = rusqlite::Connection::open(path).unwrap();
    for (i, v) in values.iter().enumerate() {
        conn.execute(
            &format!("INSERT INTO {table} VALUES (?, ?)"),
            rusqlite::params![i as i64, v],
        )
        .unwrap();
    }
    assert_round_trips(&db, table, copy);
}

// ---------------------------------------------------------------------------
// 2. Across engines

/// The shared-types table, created on `db`, and with `filled` its rows
/// inserted natively.
fn create_shared(db: &Db, table: &str, filled: bool) {
    match db {
        Db::My => {
            db.create(
                table,
                "id INT PRIMARY KEY, bi BIGINT, de DECIMAL(20,5), d DOUBLE, t VARCHAR(100), \
                 dt DATE, ts DATETIME(6), flag INT, bin VARBINARY(20)",
            );
            if !filled {
                return;
            }
            db.exec(&format!(
                "INSERT INTO {table} VALUES
                 (1, -9223372036854775808, -999999999999999.99999, 0.1, 'a,b \"q\" \\r\\n\\t\\\\ 😀',
                  '1000-01-01', '1000-01-01 00:00:00', 1, X'00FF'),
                 (2, 9223372036854775807, 999999999999999.99999, 1e300, '', '9999-12-31',
                  '9999-12-31 23:59:59.999999', 0, X''),
                 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                 (4, 0, 0, -0.30000000000000004, 'NULL', '2000-02-29', '2024-05-26 10:00:00.5', -1,
                  X'DEADBEEF'),
                 (5, 1, 0.00001, 2.2250738585072014e-308, 'é \\\\N', '2024-02-29',
                  '2024-02-29 23:59:59', 2147483647, X'0A0D'),
                 (6, -1, 12.5, 123456789.12345679, ' pad ', '1970-01-01', '1970-01-01 00:00:00.000001',
                  -2147483648, X'00');"
            ));
        }
        Db::Pg => {
            db.create(
                table,
                "id integer PRIMARY KEY, bi bigint, de numeric(20,5), d double precision, \
                 t varchar(100), dt date, ts timestamp, flag integer, bin bytea",
            );
            if !filled {
                return;
            }
            db.exec(&format!(
                "INSERT INTO {table} VALUES
                 (1, -9223372036854775808, -999999999999999.99999, 0.1, E'a,b \"q\" \\r\\n\\t\\\\ 😀',
                  '1000-01-01', '1000-01-01 00:00:00', 1, '\\x00ff'),
                 (2, 9223372036854775807, 999999999999999.99999, 1e300, '', '9999-12-31',
                  '9999-12-31 23:59:59.999999', 0, '\\x'),
                 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                 (4, 0, 0, -0.30000000000000004, 'NULL', '2000-02-29', '2024-05-26 10:00:00.5', -1,
                  '\\xdeadbeef'),
                 (5, 1, 0.00001, 2.2250738585072014e-308, E'é \\\\N', '2024-02-29',
                  '2024-02-29 23:59:59', 2147483647, '\\x0a0d'),
                 (6, -1, 12.5, 123456789.12345679, ' pad ', '1970-01-01', '1970-01-01 00:00:00.000001',
                  -2147483648, '\\x00');"
            ));
        }
        Db::Lite(_) => {
            assert!(!filled, "the shared rows are not written for SQLite");
            db.create(
                table,
                "id INTEGER PRIMARY KEY, bi BIGINT, de DECIMAL(20,5), d DOUBLE, t VARCHAR(100), \
                 dt DATE, ts DATETIME, flag INTEGER, bin BLOB",
            )
        }
    }
}

/// Exports `from.source` as CSV, imports it into `to.target` (empty), and
/// returns (the original CSV, the CSV re-exported from the target).
#[track_caller]
fn cross(from: &Db, source: &str, to: &Db, target: &str) -> (String, String) {
    let csv = export(from, source, "csv");
    import_ok(to, target, &["--batch", "2"], csv.clone());
    let again = export(to, target, "csv");
    (
        String::from_utf8(csv).unwrap(),
        String::from_utf8(again).unwrap(),
    )
}

#[test]
fn mysql_to_postgres_shared_types_are_exact() {
    let (source, target) = ("it_imp_x_my_pg_src", "it_imp_x_my_pg_dst");
    create_shared(&Db::My, source, true);
    create_shared(&Db::Pg, target, false);
    let (original, again) = cross(&Db::My, source, &Db::Pg, target);
    assert_eq!(parse_csv(&original).len(), 7, "{original}");
    assert_same_bytes(
        "MariaDB -> PostgreSQL",
        original.as_bytes(),
        again.as_bytes(),
    );
    // The same rows as PostgreSQL's own copy of the data.
    let native = "it_imp_x_my_pg_native";
    create_shared(&Db::Pg, native, true);
    Db::Pg.assert_same_table(native, target, "MariaDB -> PostgreSQL");
}

#[test]
fn postgres_to_mysql_shared_types_are_exact() {
    let (source, target) = ("it_imp_x_pg_my_src", "it_imp_x_pg_my_dst");
    create_shared(&Db::Pg, source, true);
    create_shared(&Db::My, target, false);
    let (original, again) = cross(&Db::Pg, source, &Db::My, target);
    assert_eq!(parse_csv(&original).len(), 7, "{original}");
    assert_same_bytes(
        "PostgreSQL -> MariaDB",
        original.as_bytes(),
        again.as_bytes(),
    );
    let native = "it_imp_x_pg_my_native";
    create_shared(&Db::My, native, true);
    Db::My.assert_same_table(native, target, "PostgreSQL -> MariaDB");
}

/// MariaDB to SQLite: every shared type is exact except DECIMAL, which
/// SQLite's NUMERIC affinity (from the declared `DECIMAL(20,5)`) turns into
/// a REAL or an INTEGER: digits beyond a double's and trailing zeros are
/// lost. Declared TEXT, the decimals keep every digit.
#[test]
fn mysql_to_sqlite_shared_types() {
    let dir = TempDir::new("imp-x-my-lite");
    let lite = Db::lite(&dir);
    let (source, target) = ("it_imp_x_my_lite_src", "it_imp_x_my_lite_dst");
    create_shared(&Db::My, source, true);
    create_shared(&lite, target, false);
    let (original, again) = cross(&Db::My, source, &lite, target);
    let (original, again) = (parse_csv(&original), parse_csv(&again));
    assert_eq!(original.len(), 7);
    assert_eq!(again.len(), 7);
    let de = original[0]
        .iter()
        .position(|h| h.as_deref() == Some("de"))
        .unwrap();
    for (want, got) in original.iter().zip(&again) {
        for (i, (w, g)) in want.iter().zip(got).enumerate() {
            if i != de {
                assert_eq!(
                    w,
                    g,
                    "MariaDB -> SQLite, column {}",
                    original[0][i].as_deref().unwrap()
                );
            }
        }
    }
    let decimals: Vec<Option<&str>> = again[1..].iter().map(|r| r[de].as_deref()).collect();
    assert_eq!(
        decimals,
        [
            Some("-1000000000000000"), // -999999999999999.99999
            Some("1000000000000000"),  // 999999999999999.99999
            None,
            Some("0"),     // 0.00000
            Some("1e-05"), // 0.00001
            Some("12.5"),  // 12.50000
        ],
        "what SQLite's NUMERIC affinity makes of DECIMAL(20,5)"
    );
    assert_eq!(
        lite.text(&format!("SELECT typeof(de) || ',' || typeof(bi) || ',' || typeof(dt) || ',' || typeof(bin) FROM {target} WHERE id = 1")),
        Some("integer,integer,text,blob".into())
    );

    let exact = "it_imp_x_my_lite_text";
    lite.create(
        exact,
        "id INTEGER PRIMARY KEY, bi BIGINT, de TEXT, d DOUBLE, t VARCHAR(100), \
         dt DATE, ts DATETIME, flag INTEGER, bin BLOB",
    );
    let (original, again) = cross(&Db::My, source, &lite, exact);
    assert_same_bytes(
        "MariaDB -> SQLite, DECIMAL as TEXT",
        original.as_bytes(),
        again.as_bytes(),
    );
}

/// What does not cross from PostgreSQL to MariaDB: MariaDB's DOUBLE has
/// no -0 (it comes back as 0), NaN or infinities (the row is refused,
/// with its line).
#[test]
fn postgres_to_mysql_special_doubles() {
    let (source, target) = ("it_imp_x_pg_my_special_src", "it_imp_x_pg_my_special_dst");
    Db::Pg.create(source, "id integer PRIMARY KEY, d double precision");
    Db::Pg.exec(&format!(
        "INSERT INTO {source} VALUES (1, '-0'), (2, 'NaN'), (3, 'Infinity'), (4, '-Infinity')"
    ));
    Db::My.create(target, "id INT PRIMARY KEY, d DOUBLE");
    let csv = export(&Db::Pg, source, "csv");
    assert_eq!(csv, b"id,d\n1,-0\n2,NaN\n3,Infinity\n4,-Infinity\n");
    for (line, row) in [(3, "2,NaN"), (3, "3,Infinity"), (3, "4,-Infinity")] {
        Db::My.create(target, "id INT PRIMARY KEY, d DOUBLE");
        let input = format!("id,d\n1,-0\n{row}\n");
        let run = import(&Db::My, target, &[], input);
        run.assert_code(1);
        let error = run.one_error_line();
        assert!(error.contains(&format!("line {line}")), "{error}");
        assert!(error.contains("1 rows were committed"), "{error}");
        assert_eq!(export(&Db::My, target, "csv"), b"id,d\n1,0\n");
    }
}

/// A float the column cannot hold is bad input, as PostgreSQL itself says
/// (`'1e309'::float8` and `'1e-400'::float8` are "out of range").
#[test]
fn pg_float_out_of_range_is_refused() {
    let db = Db::Pg;
    let table = "it_imp_pg_float_range";
    for value in ["1e309", "-1e309", "1e-400"] {
        db.create(table, "id integer PRIMARY KEY, d double precision");
        let run = import(&db, table, &[], format!("id,d\n1,{value}\n"));
        run.assert_code(1);
        let line = run.one_error_line();
        assert!(line.contains("line 2, column 2 (d)"), "{value}: {line}");
        assert_eq!(db.ids(table), "", "{value}: the table must stay empty");
    }
}

// ---------------------------------------------------------------------------
// 3. Bad input

const BAD_COLUMNS: &str = "id INTEGER PRIMARY KEY, si SMALLINT, t VARCHAR(40), d DATE";
const BAD_HEADER: &str = "id,si,t,d\n";

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

fn ndjson_line(i: u32) -> String {
    format!(
        "{{\"id\":{i},\"si\":{i},\"t\":\"text {i}\",\"d\":\"2024-01-0{}\"}}\n",
        i % 9 + 1
    )
}

/// An NDJSON input whose line 6 is `bad` (ids 1..=5 before it).
fn ndjson_with_bad_line_6(bad: &str) -> Vec<u8> {
    let mut input: String = (1..=5).map(ndjson_line).collect();
    input.push_str(bad);
    input.push('\n');
    input.push_str(&ndjson_line(7));
    input.into_bytes()
}

/// Rows some cases put in the table first.
const SEED: &str =
    "(100, 1, 'seed a', '2020-01-01'), (101, 2, 'seed b', NULL), (102, 3, '', '2020-01-03')";

/// A bad input imported with `--batch 2`, with each strategy the engine
/// has: exit 1, one `dbchunk:` line that contains every one of `expected`
/// and says `committed` rows were committed, and the table then holds
/// exactly `ids`. Then the same with `--atomic` into a seeded table, which
/// must come out unchanged.
#[track_caller]
fn assert_bad_input(
    db: &Db,
    table: &str,
    args: &[&str],
    input: &[u8],
    expected: &[&str],
    committed: u64,
    ids: &str,
) {
    for strategy in db.strategies() {
        let mut all = vec!["--strategy", strategy];
        all.extend_from_slice(args);
        assert_bad_input_with(db, table, &all, input, expected, committed, ids);
    }
}

#[track_caller]
fn assert_bad_input_with(
    db: &Db,
    table: &str,
    args: &[&str],
    input: &[u8],
    expected: &[&str],
    committed: u64,
    ids: &str,
) {
    db.create(table, BAD_COLUMNS);
    let mut all = vec!["--batch", "2"];
    all.extend_from_slice(args);
    let run = import(db, table, &all, input);
    run.assert_code(1);
    let line = run.one_error_line();
    for text in expected {
        assert!(line.contains(text), "{db:?}: {text:?} is not in: {line}");
    }
    let count = format!("; {committed} rows were committed before this error");
    assert!(
        line.contains(&count),
        "{db:?} {args:?}: {count:?} is not in: {line}"
    );
    assert_eq!(
        db.ids(table),
        ids,
        "{db:?} {args:?}: the rows in the table after: {line}"
    );

    // --atomic: nothing changes.
    db.create(table, BAD_COLUMNS);
    db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
    let before = db.digest(table);
    all.push("--atomic");
    let run = import(db, table, &all, input);
    run.assert_code(1);
    let line = run.one_error_line();
    for text in expected {
        assert!(
            line.contains(text),
            "{db:?} --atomic: {text:?} is not in: {line}"
        );
    }
    assert!(
        line.contains("nothing was committed"),
        "{db:?} --atomic: {line}"
    );
    assert_eq!(
        db.digest(table),
        before,
        "{db:?} --atomic changed the table"
    );
}

const FIRST_4: &str = "1,2,3,4";

#[test]
fn bad_unterminated_quote() {
    // The quote opened on line 6 runs to the end of the input.
    let input = csv_with_bad_line_6(b"5,5,\"never closed,2024-01-05");
    for (db, table) in [
        (Db::Pg, "it_imp_bad_quote_pg"),
        (Db::My, "it_imp_bad_quote_my"),
    ] {
        assert_bad_input(
            &db,
            table,
            &[],
            &input,
            &["line 6, column 3 (t)", "unterminated quoted field"],
            4,
            FIRST_4,
        );
    }
}

#[test]
fn bad_text_after_closing_quote() {
    let input = csv_with_bad_line_6(b"5,5,\"ab\"c,2024-01-05");
    assert_bad_input(
        &Db::Pg,
        "it_imp_bad_stray_quote",
        &[],
        &input,
        &["line 6, column 3 (t)", "text after the closing quote"],
        4,
        FIRST_4,
    );
}

/// A quote inside an unquoted field is data, as Python's csv module reads
/// it: coordinates and inch marks in hand-made CSV load as written.
#[test]
fn quote_inside_unquoted_field_is_literal() {
    let dir = TempDir::new("imp-lenient-quote");
    let input = "id,si,t,d\n1,1,37°36'37.8\"N,2024-01-01\n2,2,ab\"c,\n3,3,5\" x 7\",2024-01-03\n";
    for (db, table) in [
        (Db::lite(&dir), "it_imp_lenient_quote_lite"),
        (Db::Pg, "it_imp_lenient_quote_pg"),
    ] {
        for strategy in db.strategies() {
            db.create(table, BAD_COLUMNS);
            import_ok(&db, table, &["--strategy", strategy], input);
            assert_eq!(
                db.rows(table, &["id", "t"]),
                "1|37°36'37.8\"N;2|ab\"c;3|5\" x 7\"",
                "{db:?} {strategy}"
            );
            db.exec(&format!("DROP TABLE {table}"));
        }
    }
}

#[test]
fn bad_input_ends_inside_a_quoted_field() {
    let mut input = format!("{BAD_HEADER}{}", good_lines(1..=4)).into_bytes();
    input.extend_from_slice(b"5,5,\"cut off here");
    let dir = TempDir::new("imp-bad-eof-quote");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_eof_quote_pg"),
        (lite, "it_imp_bad_eof_quote_lite"),
    ] {
        assert_bad_input(
            &db,
            table,
            &[],
            &input,
            &["line 6, column 3 (t)", "unterminated quoted field"],
            4,
            FIRST_4,
        );
    }
}

#[test]
fn bad_field_count() {
    let input = csv_with_bad_line_6(b"5,5,too few");
    let dir = TempDir::new("imp-bad-count");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_count_pg"),
        (Db::My, "it_imp_bad_count_my"),
        (lite, "it_imp_bad_count_lite"),
    ] {
        assert_bad_input(
            &db,
            table,
            &[],
            &input,
            &["line 6", "expected 4 fields, found 3"],
            4,
            FIRST_4,
        );
    }
}

#[test]
fn bad_utf8() {
    let input = csv_with_bad_line_6(b"5,5,ab\xff\xfecd,2024-01-05");
    let dir = TempDir::new("imp-bad-utf8");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_utf8_pg"),
        (Db::My, "it_imp_bad_utf8_my"),
        (lite, "it_imp_bad_utf8_lite"),
    ] {
        assert_bad_input(
            &db,
            table,
            &[],
            &input,
            &["line 6, column 3 (t)", "UTF-8"],
            4,
            FIRST_4,
        );
    }
}

#[test]
fn bad_number_out_of_range() {
    let input = csv_with_bad_line_6(b"5,99999,x,2024-01-05");
    for (db, table) in [
        (Db::Pg, "it_imp_bad_range_pg"),
        (Db::My, "it_imp_bad_range_my"),
    ] {
        assert_bad_input(
            &db,
            table,
            &[],
            &input,
            &["line 6, column 2 (si)", "99999", "out of range"],
            4,
            FIRST_4,
        );
    }
}

#[test]
fn bad_text_in_integer_column() {
    let input = csv_with_bad_line_6(b"5,five,x,2024-01-05");
    for (db, table) in [(Db::Pg, "it_imp_bad_int_pg"), (Db::My, "it_imp_bad_int_my")] {
        assert_bad_input(
            &db,
            table,
            &[],
            &input,
            &["line 6, column 2 (si)", "\"five\"", "not an integer"],
            4,
            FIRST_4,
        );
    }
}

#[test]
fn bad_impossible_date() {
    let input = csv_with_bad_line_6(b"5,5,x,2023-02-30");
    for (db, table) in [
        (Db::Pg, "it_imp_bad_date_pg"),
        (Db::My, "it_imp_bad_date_my"),
    ] {
        assert_bad_input(
            &db,
            table,
            &[],
            &input,
            &["line 6, column 4 (d)", "2023-02-30"],
            4,
            FIRST_4,
        );
    }
}

/// Line 6 has the key of a row that was in the table before the import.
#[test]
fn bad_duplicate_of_a_row_in_the_table() {
    let input = csv_with_bad_line_6(b"100,5,x,2024-01-05");
    let dir = TempDir::new("imp-bad-dup-table");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_dup_table_pg"),
        (Db::My, "it_imp_bad_dup_table_my"),
        (lite, "it_imp_bad_dup_table_lite"),
    ] {
        for strategy in db.strategies() {
            db.create(table, BAD_COLUMNS);
            db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
            let before = db.rows(table, &["id", "si", "t", "d"]);
            let run = import(
                &db,
                table,
                &["--batch", "2", "--strategy", strategy],
                input.clone(),
            );
            run.assert_code(1);
            let line = run.one_error_line();
            assert!(line.contains("line 6: "), "{db:?} {strategy}: {line}");
            assert!(
                line.to_lowercase().contains("duplicate") || line.contains("UNIQUE"),
                "{db:?} {strategy}: {line}"
            );
            assert!(
                line.contains("; 4 rows were committed before this error"),
                "{db:?} {strategy}: {line}"
            );
            assert_eq!(
                db.ids(table),
                "1,2,3,4,100,101,102",
                "{db:?} {strategy}: {line}"
            );
            // The seeded row is as it was.
            assert!(
                db.rows(table, &["id", "si", "t", "d"]).ends_with(&before),
                "{db:?} {strategy}"
            );

            // --atomic: the table is as it was.
            db.create(table, BAD_COLUMNS);
            db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
            let digest = db.digest(table);
            let run = import(
                &db,
                table,
                &["--batch", "2", "--atomic", "--strategy", strategy],
                input.clone(),
            );
            run.assert_code(1);
            let line = run.one_error_line();
            assert!(line.contains("line 6: "), "{db:?} {strategy}: {line}");
            assert!(
                line.contains("nothing was committed"),
                "{db:?} {strategy}: {line}"
            );
            assert_eq!(
                db.digest(table),
                digest,
                "{db:?} {strategy} --atomic changed the table"
            );
        }
    }
}

/// Twice the same key in the input: in one batch (lines 6 and 7), and in
/// two batches (line 6 repeats line 2).
#[test]
fn bad_duplicate_within_the_input() {
    let dir = TempDir::new("imp-bad-dup-input");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_dup_input_pg"),
        (Db::My, "it_imp_bad_dup_input_my"),
        (lite, "it_imp_bad_dup_input_lite"),
    ] {
        // Same batch: lines 6 and 7 are both id 5; line 6 goes in.
        let mut input = format!("{BAD_HEADER}{}", good_lines(1..=5)).into_bytes();
        input.extend_from_slice(b"5,55,again,2024-01-05\n");
        input.extend_from_slice(good_lines(6..=7).as_bytes());
        assert_bad_input(&db, table, &[], &input, &["line 7: "], 5, "1,2,3,4,5");
        // Across batches: line 6 repeats id 1 of line 2.
        let input = csv_with_bad_line_6(b"1,5,x,2024-01-05");
        assert_bad_input(&db, table, &[], &input, &["line 6: "], 4, FIRST_4);
    }
}

#[test]
fn bad_ndjson_invalid_json() {
    let input = ndjson_with_bad_line_6("{\"id\":6,\"si\":6,\"t\":\"x\",\"d\":");
    for (db, table) in [
        (Db::Pg, "it_imp_bad_json_pg"),
        (Db::My, "it_imp_bad_json_my"),
    ] {
        assert_bad_input(
            &db,
            table,
            &["--format", "ndjson"],
            &input,
            &["line 6: ", "invalid JSON"],
            4,
            FIRST_4,
        );
    }
}

#[test]
fn bad_ndjson_not_an_object() {
    let input = ndjson_with_bad_line_6("[6, 6, \"x\", \"2024-01-06\"]");
    assert_bad_input(
        &Db::Pg,
        "it_imp_bad_json_array",
        &["--format", "ndjson"],
        &input,
        &["line 6: ", "expected a JSON object"],
        4,
        FIRST_4,
    );
}

/// A header naming a column the table does not have is a usage error
/// (exit 2), found before any row is written.
#[test]
fn bad_unknown_column_in_header() {
    let dir = TempDir::new("imp-bad-unknown-col");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_unknown_col_pg"),
        (Db::My, "it_imp_bad_unknown_col_my"),
        (lite, "it_imp_bad_unknown_col_lite"),
    ] {
        db.create(table, BAD_COLUMNS);
        db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
        let before = db.digest(table);
        let input = format!("id,si,nosuch,d\n{}", good_lines(1..=4));
        for atomic in [&[][..], &["--atomic"]] {
            let run = import(&db, table, atomic, input.clone());
            run.assert_code(2);
            let line = run.one_error_line();
            assert!(line.contains("\"nosuch\""), "{db:?}: {line}");
            assert!(line.contains("not a column"), "{db:?}: {line}");
            assert_eq!(db.digest(table), before, "{db:?}: the table changed");
        }
    }
}

#[test]
fn empty_input_and_header_only_are_zero_rows() {
    let dir = TempDir::new("imp-empty");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_empty_pg"),
        (Db::My, "it_imp_empty_my"),
        (lite, "it_imp_empty_lite"),
    ] {
        db.create(table, BAD_COLUMNS);
        for (format, input) in [
            ("csv", ""),
            ("csv", BAD_HEADER),
            ("tsv", ""),
            ("tsv", "id\tsi\tt\td\n"),
            ("ndjson", ""),
            ("ndjson", "\n\n"),
        ] {
            let run = import_ok(&db, table, &["--format", format, "--stats"], input);
            assert_eq!(db.ids(table), "", "{db:?} {format} {input:?}");
            let stats = stats_line(&run);
            assert_eq!(
                stats["rows"], 0,
                "{db:?} {format} {input:?}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains("imported 0 rows"),
                "{db:?} {format} {input:?}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn missing_input_file_names_the_path() {
    let dir = TempDir::new("imp-missing-file");
    let missing = dir.join("no-such-input.csv");
    let db = Db::Pg;
    let table = "it_imp_missing_file";
    db.create(table, BAD_COLUMNS);
    db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
    let before = db.digest(table);
    let run = dbchunk(["import", "--url", &db.url(), "--table", table, "--input"])
        .arg(&missing)
        .run();
    run.assert_code(1);
    let line = run.one_error_line();
    assert!(
        line.contains(&missing.display().to_string()),
        "the path is not in: {line}"
    );
    assert_eq!(db.digest(table), before);
}

/// The lines of a reject file: `# line N: reason` then the record.
fn reject_entries(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert!(lines.len() % 2 == 0, "reject file:\n{text}");
    lines
        .chunks(2)
        .map(|pair| (pair[0].to_string(), pair[1].to_string()))
        .collect()
}

const REJECT_INPUT: &str = "id,si,t,d
1,1,a,2024-01-01
2,99999,b,2024-01-02
3,3,c
4,4,d,2024-01-04
1,5,dup of line 2,2024-01-05
5,5,\"x\"\"y\",2024-01-05
6,6,f,2023-02-30
7,7,g,2024-01-07
";

/// What one engine makes of [`REJECT_INPUT`].
struct RejectCase {
    db: Db,
    table: &'static str,
    /// The rows imported with a high --max-errors.
    rows: &'static str,
    /// The rejected lines, each with a word its reason must contain.
    rejected: &'static [(usize, &'static str)],
    /// A --max-errors the input exceeds, the line it stops on, the rows
    /// committed by then, and their ids.
    stop: (&'static str, &'static str, u64, &'static str),
}

#[test]
fn reject_file_keeps_bad_rows_and_imports_good_ones() {
    let dir = TempDir::new("imp-rejects");
    // PostgreSQL and MariaDB refuse lines 3 (range), 4 (field count), 6
    // (duplicate key, found by the database) and 8 (date); SQLite has no
    // column types to check, so only lines 4 and 6.
    let checked: &[(usize, &str)] = &[
        (3, "out of range"),
        (4, "expected 4 fields"),
        (6, ""),
        (8, "2023-02-30"),
    ];
    let checked_rows = "1|1|a|2024-01-01;4|4|d|2024-01-04;5|5|x\"y|2024-01-05;7|7|g|2024-01-07";
    let cases = [
        RejectCase {
            db: Db::Pg,
            table: "it_imp_rejects_pg",
            rows: checked_rows,
            rejected: checked,
            // Lines 2 and 5 went in (a batch), line 6 is the third bad row.
            stop: ("2", "line 6", 2, "1,4"),
        },
        RejectCase {
            db: Db::My,
            table: "it_imp_rejects_my",
            rows: checked_rows,
            rejected: checked,
            stop: ("2", "line 6", 2, "1,4"),
        },
        RejectCase {
            db: Db::lite(&dir),
            table: "it_imp_rejects_lite",
            rows: "1|1|a|2024-01-01;2|99999|b|2024-01-02;4|4|d|2024-01-04;\
                   5|5|x\"y|2024-01-05;6|6|f|2023-02-30;7|7|g|2024-01-07",
            rejected: &[(4, "expected 4 fields"), (6, "")],
            // Lines 2 and 3 (a batch) and 5 (replayed before line 6) went in.
            stop: ("1", "line 6", 3, "1,2,4"),
        },
    ];
    let lines: Vec<&str> = REJECT_INPUT.lines().collect();
    for case in cases {
        for strategy in case.db.strategies() {
            check_rejects(&dir, &case, strategy, &lines);
        }
    }
}

#[track_caller]
fn check_rejects(dir: &TempDir, case: &RejectCase, strategy: &str, lines: &[&str]) {
    let (db, table) = (&case.db, case.table);
    db.create(table, BAD_COLUMNS);
    let rejects = dir.join(&format!("{table}.rejects"));
    let rejects_arg = rejects.to_str().unwrap();
    let run = import_ok(
        db,
        table,
        &[
            "--strategy",
            strategy,
            "--batch",
            "2",
            "--reject-file",
            rejects_arg,
            "--max-errors",
            "10",
            "--stats",
        ],
        REJECT_INPUT,
    );
    assert_eq!(
        db.rows(table, &["id", "si", "t", "d"]),
        case.rows,
        "{db:?} {strategy}"
    );
    let entries = reject_entries(&rejects);
    assert_eq!(
        entries.len(),
        case.rejected.len(),
        "{db:?} {strategy}: {entries:#?}"
    );
    for ((comment, raw), &(line, reason)) in entries.iter().zip(case.rejected) {
        // `# line N: reason`, or `# line N, column M (name): reason`.
        let prefix = format!("# line {line}");
        let rest = comment.strip_prefix(&prefix).unwrap_or_else(|| {
            panic!("{db:?} {strategy}: {comment:?} does not start with {prefix:?}")
        });
        assert!(
            rest.starts_with(": ") || rest.starts_with(", column "),
            "{db:?} {strategy}: {comment:?}"
        );
        assert!(comment.contains(reason), "{db:?} {strategy}: {comment:?}");
        assert_eq!(
            raw,
            lines[line - 1],
            "{db:?} {strategy}: the original text of line {line}"
        );
    }
    let stats = stats_line(&run);
    let good = case.rows.split(';').count();
    assert_eq!(stats["rows"], good, "{db:?} {strategy}: {}", run.stderr);
    assert_eq!(
        stats["rejected"],
        entries.len(),
        "{db:?} {strategy}: {}",
        run.stderr
    );
    let note = format!("{} bad rows are in", entries.len());
    assert!(
        run.stderr.contains(&note),
        "{db:?} {strategy}: {}",
        run.stderr
    );

    // Past --max-errors the run stops, saying what was committed.
    let (max, at, committed, ids) = case.stop;
    db.create(table, BAD_COLUMNS);
    let run = import(
        db,
        table,
        &[
            "--strategy",
            strategy,
            "--batch",
            "2",
            "--reject-file",
            rejects_arg,
            "--max-errors",
            max,
        ],
        REJECT_INPUT,
    );
    run.assert_code(1);
    let line = run.one_error_line();
    assert!(
        line.contains(&format!("{at}: ")),
        "{db:?} {strategy}: {line}"
    );
    assert!(
        line.contains(&format!("--max-errors {max}")),
        "{db:?} {strategy}: {line}"
    );
    let count = format!("; {committed} rows were committed before this error");
    assert!(line.contains(&count), "{db:?} {strategy}: {line}");
    assert_eq!(db.ids(table), ids, "{db:?} {strategy}");
    let kept = reject_entries(&rejects).len();
    assert_eq!(kept, max.parse::<usize>().unwrap() + 1, "{db:?} {strategy}");
}

// ---------------------------------------------------------------------------
// 4. Options

const CONFLICT_COLUMNS: &str = "id INTEGER PRIMARY KEY, name VARCHAR(20), n INTEGER";

#[test]
fn on_conflict_error_skip_update_on_every_engine() {
    let dir = TempDir::new("imp-conflict");
    let lite = Db::lite(&dir);
    // Ids 1 and 2 are in the table; 1 comes twice in one batch and 3 twice
    // in another.
    let input = "id,name,n\n4,new,40\n1,new,11\n1,newer,12\n3,new,30\n3,newer,31\n5,new,50\n";
    for (db, table) in [
        (Db::Pg, "it_imp_conflict_pg"),
        (Db::My, "it_imp_conflict_my"),
        (lite, "it_imp_conflict_lite"),
    ] {
        let seed = || {
            db.create(table, CONFLICT_COLUMNS);
            db.exec(&format!(
                "INSERT INTO {table} VALUES (1, 'old', 10), (2, 'old', 20)"
            ));
        };
        seed();
        let run = import(&db, table, &["--batch", "2"], input);
        run.assert_code(1);
        let line = run.one_error_line();
        assert!(line.contains("line 3: "), "{db:?}: {line}");
        assert!(line.contains("; 1 rows were committed"), "{db:?}: {line}");
        assert_eq!(db.ids(table), "1,2,4", "{db:?}");

        seed();
        import_ok(
            &db,
            table,
            &["--batch", "2", "--on-conflict", "skip"],
            input,
        );
        assert_eq!(
            db.rows(table, &["id", "name", "n"]),
            "1|old|10;2|old|20;3|new|30;4|new|40;5|new|50",
            "{db:?} skip"
        );

        seed();
        import_ok(
            &db,
            table,
            &["--batch", "2", "--on-conflict", "update"],
            input,
        );
        assert_eq!(
            db.rows(table, &["id", "name", "n"]),
            "1|newer|12;2|old|20;3|newer|31;4|new|40;5|new|50",
            "{db:?} update"
        );

        // update only touches the columns the input has.
        seed();
        import_ok(
            &db,
            table,
            &["--on-conflict", "update"],
            "id,name\n2,renamed\n",
        );
        assert_eq!(
            db.rows(table, &["id", "name", "n"]),
            "1|old|10;2|renamed|20",
            "{db:?} update of some columns"
        );
    }
}

#[test]
fn truncate_alone_and_with_atomic() {
    let dir = TempDir::new("imp-truncate");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_truncate_pg"),
        (Db::My, "it_imp_truncate_my"),
        (lite, "it_imp_truncate_lite"),
    ] {
        for strategy in db.strategies() {
            check_truncate(&db, table, strategy);
        }
    }
}

#[track_caller]
fn check_truncate(db: &Db, table: &str, strategy: &str) {
    let seed = || {
        db.create(table, BAD_COLUMNS);
        db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
    };
    let good = format!("{BAD_HEADER}{}", good_lines(1..=5));
    for args in [&["--truncate"][..], &["--truncate", "--atomic"]] {
        seed();
        let mut all = vec!["--batch", "2", "--strategy", strategy];
        all.extend_from_slice(args);
        import_ok(db, table, &all, good.clone());
        assert_eq!(db.ids(table), "1,2,3,4,5", "{db:?} {strategy} {args:?}");
    }

    // A bad line 6, found by dbchunk (a field short) or by the database
    // (id 1 again)...
    for bad in [&b"5,5,too few"[..], b"1,5,x,2024-01-05"] {
        let bad = csv_with_bad_line_6(bad);
        // ... without --atomic: the table was emptied and holds the
        // committed rows ...
        seed();
        let args = ["--batch", "2", "--strategy", strategy, "--truncate"];
        let run = import(db, table, &args, bad.clone());
        run.assert_code(1);
        let line = run.one_error_line();
        assert!(line.contains("line 6"), "{db:?} {strategy}: {line}");
        assert!(
            line.contains("; 4 rows were committed"),
            "{db:?} {strategy}: {line}"
        );
        assert_eq!(db.ids(table), FIRST_4, "{db:?} {strategy}");

        // ... and with --atomic it is as it was, seeded rows included.
        seed();
        let before = db.digest(table);
        let args = [
            "--batch",
            "2",
            "--strategy",
            strategy,
            "--truncate",
            "--atomic",
        ];
        let run = import(db, table, &args, bad);
        run.assert_code(1);
        let line = run.one_error_line();
        assert!(
            line.contains("nothing was committed"),
            "{db:?} {strategy}: {line}"
        );
        assert_eq!(
            db.digest(table),
            before,
            "{db:?} {strategy}: --truncate --atomic"
        );
    }
}

#[test]
fn columns_header_order_and_defaults() {
    let dir = TempDir::new("imp-columns");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_columns_pg"),
        (Db::My, "it_imp_columns_my"),
        (lite, "it_imp_columns_lite"),
    ] {
        let create = || {
            db.create(
                table,
                "id INTEGER PRIMARY KEY, name VARCHAR(20) DEFAULT 'dflt', \
                 n INTEGER DEFAULT 42, note VARCHAR(20)",
            )
        };
        let all = ["id", "name", "n", "note"];

        // --no-header --columns.
        create();
        import_ok(
            &db,
            table,
            &["--no-header", "--columns", "id,n,name,note"],
            "1,7,a,x\n2,,\"\",\n",
        );
        assert_eq!(
            db.rows(table, &all),
            "1|a|7|x;2||<NULL>|<NULL>",
            "{db:?} --no-header"
        );

        // A header in another order than the table's.
        create();
        import_ok(&db, table, &[], "note,n,id,name\nx,7,1,a\n,8,2,b\n");
        assert_eq!(
            db.rows(table, &all),
            "1|a|7|x;2|b|8|<NULL>",
            "{db:?} header order"
        );

        // Columns the input does not have get their DEFAULT (or NULL).
        create();
        import_ok(&db, table, &[], "id\n1\n2\n");
        assert_eq!(
            db.rows(table, &all),
            "1|dflt|42|<NULL>;2|dflt|42|<NULL>",
            "{db:?} defaults"
        );
        create();
        import_ok(
            &db,
            table,
            &["--format", "ndjson"],
            "{\"id\":1,\"note\":\"x\"}\n",
        );
        assert_eq!(
            db.rows(table, &all),
            "1|dflt|42|x",
            "{db:?} ndjson defaults"
        );

        // --columns renames the header's fields.
        create();
        import_ok(&db, table, &["--columns", "id,name"], "a,b\n1,z\n");
        assert_eq!(db.rows(table, &all), "1|z|42|<NULL>", "{db:?} renamed");
    }
}

#[test]
fn null_option_and_tsv_null() {
    let dir = TempDir::new("imp-null");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_null_pg"),
        (Db::My, "it_imp_null_my"),
        (lite, "it_imp_null_lite"),
    ] {
        db.create(table, "id INTEGER PRIMARY KEY, a VARCHAR(10), b INTEGER");
        import_ok(
            &db,
            table,
            &["--null", "\\N"],
            "id,a,b\n1,\\N,\\N\n2,\"\",5\n3,,6\n4,\"\\N\",7\n",
        );
        // With --null \N, an empty field is the empty string, and a quoted
        // "\N" is the text \N.
        assert_eq!(
            db.rows(table, &["id", "a", "b"]),
            "1|<NULL>|<NULL>;2||5;3||6;4|\\N|7",
            "{db:?} --null \\N"
        );
        db.exec(&format!("DELETE FROM {table}"));
        import_ok(
            &db,
            table,
            &["--format", "tsv"],
            "id\ta\tb\n1\t\\N\t\\N\n2\t\t5\n3\tNULL\t6\n",
        );
        assert_eq!(
            db.rows(table, &["id", "a", "b"]),
            "1|<NULL>|<NULL>;2||5;3|NULL|6",
            "{db:?} tsv"
        );
        db.exec(&format!("DELETE FROM {table}"));
        import_ok(
            &db,
            table,
            &["--null", "NULL"],
            "id,a,b\n1,NULL,NULL\n2,,5\n3,\"NULL\",6\n",
        );
        assert_eq!(
            db.rows(table, &["id", "a", "b"]),
            "1|<NULL>|<NULL>;2||5;3|NULL|6",
            "{db:?} --null NULL"
        );
    }
}

#[test]
fn pg_boolean_forms() {
    let db = Db::Pg;
    let table = "it_imp_pg_bool";
    db.create(table, "id integer PRIMARY KEY, b boolean");
    let input = "id,b\n1,t\n2,f\n3,1\n4,0\n5,yes\n6,no\n7,TRUE\n8,False\n9,\n10,on\n11,off\n";
    import_ok(&db, table, &["--batch", "3"], input);
    assert_eq!(
        db.rows(table, &["id", "b"]),
        "1|true;2|false;3|true;4|false;5|true;6|false;7|true;8|false;9|<NULL>;10|true;11|false"
    );
    let run = import(&db, table, &[], "id,b\n20,maybe\n");
    run.assert_code(1);
    let line = run.one_error_line();
    assert!(line.contains("line 2, column 2 (b)"), "{line}");
    assert!(line.contains("not a boolean"), "{line}");
}

#[test]
fn timestamps_with_space_and_offsets() {
    let input = "id,ts,tz
1,2024-05-26 10:00:00,2024-05-26 10:00:00+02:00
2,2024-05-26T10:00:00.123456,2024-05-26T01:30:00+02:00
3,2024-12-31 23:00:00,2024-12-31 23:00:00-01:30
4,2024-05-26 10:00:00.5,2024-05-26 10:00:00Z
5,2024-05-26T10:00:00,2024-05-26 10:00:00
";
    // PostgreSQL: the instant stored in the timestamptz, in UTC, and as
    // seconds since the epoch (which no session time zone can shift).
    let pg = Db::Pg;
    let table = "it_imp_pg_tz";
    pg.create(
        table,
        "id integer PRIMARY KEY, ts timestamp, tz timestamptz",
    );
    import_ok(&pg, table, &["--batch", "2"], input);
    assert_eq!(
        pg.rows(
            table,
            &[
                "id",
                "ts",
                "(tz AT TIME ZONE 'UTC')",
                "extract(epoch from tz)"
            ]
        ),
        "1|2024-05-26 10:00:00|2024-05-26 08:00:00|1716710400.000000;\
         2|2024-05-26 10:00:00.123456|2024-05-25 23:30:00|1716679800.000000;\
         3|2024-12-31 23:00:00|2025-01-01 00:30:00|1735691400.000000;\
         4|2024-05-26 10:00:00.5|2024-05-26 10:00:00|1716717600.000000;\
         5|2024-05-26 10:00:00|2024-05-26 10:00:00|1716717600.000000"
    );
    // MariaDB TIMESTAMP is an instant too.
    let my = Db::My;
    let table = "it_imp_my_tz";
    my.create(
        table,
        "id INT PRIMARY KEY, ts DATETIME(6), tz TIMESTAMP(6) NULL",
    );
    import_ok(&my, table, &["--batch", "2"], input);
    assert_eq!(
        my.rows(table, &["id", "ts", "UNIX_TIMESTAMP(tz)"]),
        "1|2024-05-26 10:00:00.000000|1716710400.000000;\
         2|2024-05-26 10:00:00.123456|1716679800.000000;\
         3|2024-12-31 23:00:00.000000|1735691400.000000;\
         4|2024-05-26 10:00:00.500000|1716717600.000000;\
         5|2024-05-26 10:00:00.000000|1716717600.000000"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gz_file_and_stdin_input() {
    let dir = TempDir::new("imp-gz");
    let db = Db::Pg;
    let (table, copy) = ("it_imp_gz", "it_imp_gz_copy");
    db.create(table, BAD_COLUMNS);
    db.create(copy, BAD_COLUMNS);
    db.exec(&format!(
        "INSERT INTO {table} VALUES {SEED}, (1, NULL, NULL, NULL)"
    ));
    for format in FORMATS {
        let data = export(&db, table, format);
        let path = dir.join(&format!("data.{format}.gz"));
        std::fs::write(&path, gzip(&data)).unwrap();
        db.exec(&format!("DELETE FROM {copy}"));
        // The format comes from the name under the .gz.
        let run = dbchunk(["import", "--url", &db.url(), "--table", copy, "--input"])
            .arg(&path)
            .run();
        run.assert_code(0);
        assert!(run.stdout.is_empty());
        db.assert_same_table(table, copy, &format!("{format}.gz"));

        // stdin, by default and as --input -.
        for args in [
            &["--format", format][..],
            &["--format", format, "--input", "-"],
        ] {
            db.exec(&format!("DELETE FROM {copy}"));
            import_ok(&db, copy, args, data.clone());
            db.assert_same_table(table, copy, &format!("stdin {args:?}"));
        }
    }
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

#[test]
fn stats_summary_and_quiet() {
    let dir = TempDir::new("imp-stats");
    let lite = Db::lite(&dir);
    let input = format!("{BAD_HEADER}{}", good_lines(1..=7));
    for (db, table) in [
        (Db::Pg, "it_imp_stats_pg"),
        (Db::My, "it_imp_stats_my"),
        (lite, "it_imp_stats_lite"),
    ] {
        db.create(table, BAD_COLUMNS);
        let run = import_ok(&db, table, &["--batch", "3", "--stats"], input.clone());
        let stats = stats_line(&run);
        // auto is the engine's bulk path.
        let fastest = db.strategies()[0];
        assert_eq!(stats["strategy"], fastest, "{}", run.stderr);
        assert_eq!(stats["rows"], 7, "{}", run.stderr);
        assert_eq!(stats["rejected"], 0, "{}", run.stderr);
        assert_eq!(stats["bytes"], input.len(), "{}", run.stderr);
        assert_eq!(stats["batches"], 3, "{}", run.stderr);
        let lines = run.stderr_lines();
        assert_eq!(lines.len(), 2, "a summary and the stats:\n{}", run.stderr);
        assert!(
            lines[0].starts_with("dbchunk: imported 7 rows into table "),
            "{}",
            run.stderr
        );
        assert!(lines[0].contains(table), "{}", run.stderr);

        // --quiet: no summary; the stats still come when asked for.
        db.create(table, BAD_COLUMNS);
        let run = import_ok(&db, table, &["--quiet"], input.clone());
        assert_eq!(run.stderr, "", "--quiet");
        db.create(table, BAD_COLUMNS);
        let run = import_ok(&db, table, &["--quiet", "--stats"], input.clone());
        assert_eq!(stats_line(&run)["rows"], 7);
        assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    }
}

// ---------------------------------------------------------------------------
// 5. Progress

#[test]
fn progress_always_goes_to_stderr_only() {
    let dir = TempDir::new("imp-progress");
    let lite = Db::lite(&dir);
    let table = "it_imp_progress";
    lite.create(table, BAD_COLUMNS);
    let input: String = (1..=2000)
        .map(|i| format!("{i},{},text {i},2024-01-01\n", i % 100))
        .collect();
    let path = dir.join("input.csv");
    std::fs::write(&path, format!("{BAD_HEADER}{input}")).unwrap();
    let run = dbchunk([
        "import",
        "--url",
        &lite.url(),
        "--table",
        table,
        "--batch",
        "100",
        "--progress",
        "always",
        "--input",
    ])
    .arg(&path)
    .run();
    run.assert_code(0);
    assert!(
        run.stdout.is_empty(),
        "progress on stdout: {:?}",
        String::from_utf8_lossy(&run.stdout)
    );
    let lines = run.stderr_lines();
    let progress: Vec<&&str> = lines
        .iter()
        .filter(|l| !l.starts_with("dbchunk: imported"))
        .collect();
    assert!(
        !progress.is_empty(),
        "no progress lines on stderr:\n{}",
        run.stderr
    );
    assert!(
        progress.iter().any(|l| l.contains("2000 rows")),
        "the last progress line shows every row:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("dbchunk: imported 2000 rows"),
        "{}",
        run.stderr
    );
    assert_eq!(lite.ids(table).split(',').count(), 2000);
}

/// A 2 GB line on stdin: an error naming the limit once the default 64 MiB
/// is passed, under an address-space limit far below the line's size.
#[test]
fn a_two_gigabyte_line_is_an_error_not_an_allocation() {
    let dir = TempDir::new("import_huge_line");
    let path = dir.join("t.db");
    crate::util::db::sqlite_exec(&path, "CREATE TABLE t(a TEXT, b TEXT);");
    let mut child = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 1500000 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_dbchunk"))
        .args([
            "import",
            "--url",
            &sqlite_url(&path),
            "--table",
            "t",
            "--quiet",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start dbchunk");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let block = vec![b'x'; 1 << 20];
        stdin.write_all(b"a,b\n1,")?;
        for _ in 0..2048 {
            stdin.write_all(&block)?; // stops when dbchunk has exited
        }
        stdin.write_all(b"\n")
    });
    let output = child.wait_with_output().unwrap();
    let fed = feeder.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("line 2: record longer than 67108864 bytes (raise --max-line-bytes)"),
        "{stderr}"
    );
    assert!(
        fed.is_err(),
        "dbchunk read the whole 2 GB line instead of stopping"
    );
    assert_eq!(
        crate::util::db::sqlite_query_text(&path, "SELECT count(*) FROM t").as_deref(),
        Some("0")
    );
}
