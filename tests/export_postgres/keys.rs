//! Keys and ordering: composite keys, numeric order, keys of many types.

use super::*;

#[test]
fn pg_composite_key_keyset_cursor_copy_agree() {
    let table = "it_pg_composite_key";
    // a is one digit, so its text order is its numeric order (see
    // pg_integer_keys_sort_numerically for keys where that is not so).
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(a int NOT NULL, b text NOT NULL, v text, PRIMARY KEY (a, b));
         INSERT INTO {table}
             SELECT g % 5, 'b' || lpad(((g * 7) % 41)::text, 2, '0'), 'v' || g
             FROM generate_series(0, 40) g ORDER BY random();"
    ));
    let mut expected: Vec<(i64, String, String)> = (0..=40)
        .map(|g: i64| (g % 5, format!("b{:02}", (g * 7) % 41), format!("v{g}")))
        .collect();
    expected.sort();
    let expected_csv: String = std::iter::once("a,b,v\n".to_string())
        .chain(expected.iter().map(|(a, b, v)| format!("{a},{b},{v}\n")))
        .collect();
    for strategy in ["keyset", "cursor", "copy", "offset", "auto"] {
        let out = export_text(&[
            "--table", table, "--strategy", strategy, "--chunk", "3", "--quiet",
        ]);
        assert_eq!(out, expected_csv, "--strategy {strategy}");
    }
    assert_strategies_agree(&PG_STRATEGIES, &["--table", table, "--chunk", "3"]);
    let explain = export_text(&[
        "--table", table, "--strategy", "keyset", "--chunk", "3", "--explain",
    ]);
    assert!(explain.contains("key: a, b"), "{explain}");
    assert!(
        explain.contains(&format!(r#"("{table}"."a", "{table}"."b") > ("#)),
        "row-value comparison: {explain}"
    );
}

#[test]
fn pg_integer_keys_sort_numerically() {
    let table = "it_pg_integer_keys_sort_numerically";
    let _drop = numbered_table(table, ("name", Ty::Text, Fill::Prefixed("n")), 25);
    let expected: String = std::iter::once("id,name\n".to_string())
        .chain((1..=25).map(|g| format!("{g},n{g}\n")))
        .collect();
    for strategy in PG_STRATEGIES {
        let out = export_text(&[
            "--table", table, "--strategy", strategy, "--chunk", "4", "--quiet",
        ]);
        assert_eq!(out, expected, "--strategy {strategy}");
    }
}

#[test]
fn pg_keys_of_many_types() {
    let base = "it_pg_keys_of_many_types";
    let cases = [
        ("f8", "double precision", "(g - 6) / 3.0 * 1e-10"),
        ("num", "numeric", "(g - 6)::numeric / 7"),
        (
            "ts",
            "timestamp",
            "'2024-01-01'::timestamp + g * interval '1.5 second'",
        ),
        (
            "tz",
            "timestamptz",
            "'2024-01-01 00:00:00.5+05'::timestamptz + g * interval '1 hour 0.000123 s'",
        ),
        ("dt", "date", "'0001-01-01'::date + g * 100000"),
        ("uuid", "uuid", "md5(g::text)::uuid"),
        ("by", "bytea", "decode(lpad(to_hex(g * 37), 4, '0'), 'hex')"),
        (
            "txt",
            "text",
            "(ARRAY['a b','a,b','a\"b',E'a\\nb','A','é',E'a\\\\b','',' ','a''b','z'])[g]",
        ),
        ("ch", "char(4)", "lpad(g::text, 2)"),
    ];
    let mut failures = Vec::new();
    for (suffix, sql_type, expr) in cases {
        let table = format!("{base}_{suffix}");
        pg_exec(&format!(
            "DROP TABLE IF EXISTS {table};
             CREATE TABLE {table}(k {sql_type} PRIMARY KEY, v int NOT NULL);
             INSERT INTO {table} SELECT {expr}, g FROM generate_series(1, 11) g;"
        ));
        let reference = export_text(&[
            "--query",
            &format!("SELECT k, v FROM {table} ORDER BY k"),
            "--strategy",
            "cursor",
        ]);
        assert_eq!(Csv::parse(&reference).rows.len(), 11);
        for format in FORMATS {
            let reference = export(&[
                "--query",
                &format!("SELECT k, v FROM {table} ORDER BY k"),
                "--format",
                format,
                "--strategy",
                "cursor",
            ]);
            for strategy in PG_STRATEGIES {
                let out = export(&[
                    "--table", &table, "--strategy", strategy, "--chunk", "2", "--format", format,
                    "--quiet",
                ]);
                if out != reference {
                    failures.push(format!(
                        "key type {sql_type}, {format}, --strategy {strategy}:\n--- expected ---\n{}--- got ---\n{}",
                        String::from_utf8_lossy(&reference),
                        String::from_utf8_lossy(&out)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn pg_copy_writes_only_the_output_columns() {
    let table = "it_pg_copy_only_output_columns";
    let _drop = numbered_table(table, ("name", Ty::Text, Fill::Prefixed("n")), 9);
    let _drop_ts = Db::Pg.drop_on_exit(&format!("{table}_ts"));
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table}_ts;
         CREATE TABLE {table}_ts(at timestamp PRIMARY KEY, v int);
         INSERT INTO {table}_ts VALUES ('2024-01-01 10:00:00', 1), ('2024-01-02 10:00:00.5', 2);"
    ));
    for format in ["csv", "tsv"] {
        let out = export_text(&[
            "--table", table, "--columns", "name", "--strategy", "copy", "--format", format,
        ]);
        let expected: String = std::iter::once("name\n".to_string())
            .chain((1..=9).map(|g| format!("n{g}\n")))
            .collect();
        assert_eq!(out, expected, "{format}");
    }
    let out = export_text(&["--table", &format!("{table}_ts"), "--strategy", "copy"]);
    assert_eq!(
        out,
        "at,v\n2024-01-01T10:00:00,1\n2024-01-02T10:00:00.5,2\n"
    );
}
