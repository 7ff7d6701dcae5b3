//! Round trips of every type, per engine: export, import into an empty
//! copy, export again, the same bytes.

use super::*;
use crate::util::fixtures::{pg_every_type, AWKWARD_DOUBLES};

/// The PostgreSQL table of every type ([`pg_every_type`]), with more edge
/// values than the export tests check byte for byte (a 40-digit decimal,
/// an enum label with a comma and quotes, `\N` in text, the largest
/// double), and its empty copy.
fn create_pg_types(name: &str, copy: &str) {
    pg_exec(&format!("DROP TABLE IF EXISTS {copy}"));
    pg_every_type(name);
    pg_exec(&format!("ALTER TYPE {name}_mood ADD VALUE 'so, \"so\"'"));
    pg_exec(&format!(
        r#"
ALTER TABLE {name} ALTER COLUMN ns TYPE numeric(40, 12);
-- The JSON value null comes back from NDJSON as SQL NULL (docs/types.md):
-- a round trip in every format needs another value there.
UPDATE {name} SET j = '{{"k": "v"}}' WHERE id = 4;
INSERT INTO {name} VALUES
(6, -1, -1, -1, -1.5, -0.5, 1.5, -1.7976931348623157e308, true,
    'xy    ', 'trailing  ', E'\t lead and trail \t',
    '\x00',
    '1999-01-01', '00:00:00.000001', '2000-01-01 00:00:00.000001', '2000-01-01 00:00:00.000001+00', '-1 days',
    '"plain string"', '123',
    '12345678-1234-5678-1234-567812345678',
    '{{NULL}}', '{{"NULL","null"}}',
    'happy', '::1'),
(7, NULL, NULL, NULL, NULL, -1234567890123456789012345678.123456789012, '-0', NULL, NULL,
    NULL, NULL, E'\u00e9\u00e8 🚀 "quoted" \\N', NULL, NULL, NULL, NULL, NULL, NULL,
    '{{"k": "v"}}', NULL, NULL, NULL, NULL, 'so, "so"', NULL),
(8, NULL, NULL, NULL, NULL, 0.000000000001, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
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
        &[-1.5e300][..],
        &AWKWARD_DOUBLES,
        &[f64::MIN_POSITIVE, 5e-324],
    ]
    .concat();
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
