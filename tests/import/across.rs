//! Across engines: what one engine exports, another imports exactly.

use super::*;

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

/// The shared types go from `from` to `to` exactly: the target
/// re-exports the source's CSV byte for byte, and holds the same rows as
/// the target engine's own copy of the data.
#[track_caller]
fn assert_crossing_is_exact(from: &Db, to: &Db) {
    let name = |what: &str| format!("it_imp_x_{}_{}_{what}", from.tag(), to.tag());
    let (source, target, native) = (name("src"), name("dst"), name("native"));
    let _drops = [
        from.drop_on_exit(&source),
        to.drop_on_exit(&target),
        to.drop_on_exit(&native),
    ];
    create_shared(from, &source, true);
    create_shared(to, &target, false);
    let (original, again) = cross(from, &source, to, &target);
    assert_eq!(parse_csv(&original).len(), 7, "{original}");
    let context = format!("{} -> {}", from.name(), to.name());
    assert_same_bytes(&context, original.as_bytes(), again.as_bytes());
    create_shared(to, &native, true);
    to.assert_same_table(&native, &target, &context);
}

#[test]
fn mysql_to_postgres_shared_types_are_exact() {
    assert_crossing_is_exact(&Db::My, &Db::Pg);
}

#[test]
fn postgres_to_mysql_shared_types_are_exact() {
    assert_crossing_is_exact(&Db::Pg, &Db::My);
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
