//! `dbchunk export` and `count` against the test PostgreSQL. Every test
//! creates (and first drops) its own objects, named after the test.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::util::db::{pg_exec, pg_query_text, pg_url};
use crate::util::{dbchunk, Csv};

const FORMATS: [&str; 3] = ["csv", "tsv", "ndjson"];
const PG_STRATEGIES: [&str; 5] = ["auto", "copy", "keyset", "offset", "cursor"];

/// `dbchunk export --url PG ARGS...`, which must succeed; its stdout.
#[track_caller]
fn export(args: &[&str]) -> Vec<u8> {
    dbchunk(["export", "--url", &pg_url()])
        .args(args)
        .success()
        .stdout
}

#[track_caller]
fn export_text(args: &[&str]) -> String {
    String::from_utf8(export(args)).expect("UTF-8 output")
}

/// Asserts the same bytes from every strategy given, for each format, and
/// returns the CSV.
#[track_caller]
fn assert_strategies_agree(strategies: &[&str], args: &[&str]) -> String {
    assert_strategies_agree_in(&FORMATS, strategies, args)
}

/// [`assert_strategies_agree`] for the given formats only (the CSV is
/// returned when csv is among them).
#[track_caller]
fn assert_strategies_agree_in(formats: &[&str], strategies: &[&str], args: &[&str]) -> String {
    let mut csv = String::new();
    for &format in formats {
        let mut first: Option<(&str, Vec<u8>)> = None;
        for &strategy in strategies {
            let mut all = vec!["--format", format, "--strategy", strategy, "--quiet"];
            all.extend_from_slice(args);
            let out = export(&all);
            match &first {
                None => first = Some((strategy, out)),
                Some((name, expected)) => assert!(
                    *expected == out,
                    "{format}: --strategy {strategy} differs from --strategy {name} (args {args:?})\n\
                     --- {name} ---\n{}\n--- {strategy} ---\n{}",
                    String::from_utf8_lossy(expected),
                    String::from_utf8_lossy(&out)
                ),
            }
        }
        if format == "csv" {
            csv = String::from_utf8(first.unwrap().1).expect("UTF-8 CSV");
        }
    }
    csv
}

/// Creates table `name` (and enum type `name_mood`) with a column of every
/// type dbchunk must render, and five rows of edge values (ids 1..5).
fn create_types_table(name: &str) {
    pg_exec(&format!(
        r#"
DROP TABLE IF EXISTS {name};
DROP TYPE IF EXISTS {name}_mood;
CREATE TYPE {name}_mood AS ENUM ('sad', 'happy');
CREATE TABLE {name} (
    id integer PRIMARY KEY,
    si smallint, i integer, bi bigint,
    n numeric, ns numeric(12, 4),
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
    123456789012345678901234567890.123456789, 12.34,
    'NaN', 'NaN', true,
    'ab', 'v', E'a,b"c\r\nd\te\\f😀',
    '\x00ff',
    '0001-01-01', '10:00:00.5', '2024-05-26 10:00:00.123456', '2024-05-26 10:00:00+02', '1 day 2 hours',
    '{{"a": [1, 2]}}', '{{"b": {{"c": null}}}}',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    '{{1,NULL,3}}', '{{"x,y","q\"z",NULL}}',
    'happy', '192.168.0.1/24'),
(2, 32767, 2147483647, 9223372036854775807,
    -0.000000000000000000000000000001, -1.5,
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
(4, 1, 1, 1, 1e20, 0.0001, 0.1, 0.1, true,
    '  x', 'NULL', E'\\.',
    '\xDEADBEEF',
    '2000-02-29', '00:00', '2024-01-01 00:00:00', '2024-05-26 10:00:00.123456-05:30', '1 year 2 mons 3 days 04:05:06.789',
    'null', '"s"',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '{{{{1,2}},{{3,4}}}}', '{{"",NULL}}',
    'happy', '10.0.0.0/8'),
(5, NULL, NULL, NULL, 'NaN', 99999999.9999, 3.4028235e38, 5e-324, false,
    '', E'tab\there', E'\u00e9\u00e8 🚀 "quoted"',
    '\x0a0d',
    '2024-02-29', '12:34:56', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999+00', '0 seconds',
    '{{"nested": {{"deep": [true, false, null, 1.5e10]}}}}', '{{"k": "v\nw"}}',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{{-2147483648,2147483647}}', '{{"with space","back\\slash",""}}',
    'sad', '255.255.0.0/16');
"#
    ));
}

// ---------------------------------------------------------------------------
// Every type

#[test]
fn pg_types_every_strategy_same_bytes() {
    let table = "it_pg_types_every_strategy_same_bytes";
    create_types_table(table);
    let csv = assert_strategies_agree(&PG_STRATEGIES, &["--table", table, "--chunk", "2"]);
    assert_eq!(Csv::parse(&csv).rows.len(), 5);
    // Other chunk sizes, --limit and --columns.
    for args in [
        &["--table", table, "--chunk", "1"][..],
        &["--table", table, "--chunk", "3", "--limit", "4"],
        &[
            "--table", table, "--chunk", "2", "--columns", "id,t,ts,ia,j",
        ],
        &[
            "--table", table, "--chunk", "2", "--where", "b", "--no-header",
        ],
    ] {
        assert_strategies_agree(&PG_STRATEGIES, args);
    }
    // --null (CSV and TSV only): COPY's NULL option and dbchunk's own encoder agree.
    for null in ["NULL", "", "\\N", "-"] {
        let csv = assert_strategies_agree_in(
            &["csv", "tsv"],
            &PG_STRATEGIES,
            &["--table", table, "--chunk", "2", "--null", null],
        );
        if null == "NULL" {
            let parsed = Csv::parse(&csv);
            assert_eq!(parsed.get(2, "vc"), Some("NULL"), "NULL written as NULL");
            assert!(csv.contains(",\"NULL\","), "the text NULL is quoted: {csv}");
        }
    }
}

#[test]
fn pg_types_offset_warns_once() {
    let table = "it_pg_types_offset_warns_once";
    create_types_table(table);
    let run = dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--table",
        table,
        "--strategy",
        "offset",
        "--chunk",
        "1",
    ])
    .success();
    assert_eq!(run.stderr.matches("warning").count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("keyset"), "{}", run.stderr);
    let quiet = dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--table",
        table,
        "--strategy",
        "offset",
        "--chunk",
        "1",
        "--quiet",
    ])
    .success();
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, run.stdout);
}

#[test]
fn pg_types_canonical_csv() {
    let table = "it_pg_types_canonical_csv";
    create_types_table(table);
    let text = export_text(&["--table", table]);
    let csv = Csv::parse(&text);
    assert_eq!(
        csv.header.join(","),
        "id,si,i,bi,n,ns,r,d,b,c,vc,t,by,dt,tm,ts,tz,iv,j,jb,u,ia,ta,e,ip"
    );
    assert_eq!(csv.rows.len(), 5);
    let expect = |row: usize, column: &str, value: Option<&str>| {
        assert_eq!(
            csv.get(row, column),
            value,
            "row {} column {column}",
            row + 1
        );
    };
    // Integers.
    expect(0, "si", Some("-32768"));
    expect(0, "i", Some("-2147483648"));
    expect(0, "bi", Some("-9223372036854775808"));
    expect(1, "bi", Some("9223372036854775807"));
    // Decimals exactly as stored, scale kept.
    expect(0, "n", Some("123456789012345678901234567890.123456789"));
    expect(1, "n", Some("-0.000000000000000000000000000001"));
    expect(3, "n", Some("100000000000000000000"));
    expect(4, "n", Some("NaN"));
    expect(0, "ns", Some("12.3400"));
    expect(1, "ns", Some("-1.5000"));
    // Floats: shortest round-trip, PostgreSQL's spelling of the specials.
    expect(0, "r", Some("NaN"));
    expect(0, "d", Some("NaN"));
    expect(1, "r", Some("Infinity"));
    expect(1, "d", Some("-Infinity"));
    expect(2, "r", Some("-Infinity"));
    expect(2, "d", Some("-0"));
    expect(3, "r", Some("0.1"));
    expect(3, "d", Some("0.1"));
    expect(4, "r", Some("3.4028235e+38"));
    expect(4, "d", Some("5e-324"));
    // Booleans.
    expect(0, "b", Some("true"));
    expect(1, "b", Some("false"));
    expect(2, "b", None);
    // char(n) keeps its trailing blanks.
    expect(0, "c", Some("ab    "));
    expect(1, "c", Some("abcdef"));
    expect(3, "c", Some("  x   "));
    expect(4, "c", Some("      "));
    // Empty string next to NULL; the text NULL.
    expect(1, "vc", Some(""));
    expect(2, "vc", None);
    expect(3, "vc", Some("NULL"));
    expect(0, "t", Some("a,b\"c\r\nd\te\\f😀"));
    expect(1, "t", Some(""));
    expect(3, "t", Some("\\."));
    // Binary as lowercase hex without \x; empty bytea is "", not NULL.
    expect(0, "by", Some("00ff"));
    expect(1, "by", Some(""));
    expect(2, "by", None);
    expect(3, "by", Some("deadbeef"));
    // Dates and times.
    expect(0, "dt", Some("0001-01-01"));
    expect(1, "dt", Some("9999-12-31"));
    expect(0, "tm", Some("10:00:00.5"));
    expect(3, "tm", Some("00:00:00"));
    expect(0, "ts", Some("2024-05-26T10:00:00.123456"));
    expect(1, "ts", Some("1999-12-31T23:59:59"));
    expect(4, "ts", Some("0001-01-01T00:00:00"));
    expect(0, "tz", Some("2024-05-26T08:00:00+00:00"));
    expect(1, "tz", Some("1970-01-01T00:00:00+00:00"));
    expect(3, "tz", Some("2024-05-26T15:30:00.123456+00:00"));
    expect(4, "tz", Some("9999-12-31T23:59:59.999999+00:00"));
    expect(0, "iv", Some("P1DT2H"));
    // JSON as its text.
    expect(0, "j", Some(r#"{"a": [1, 2]}"#));
    expect(0, "jb", Some(r#"{"b": {"c": null}}"#));
    expect(3, "j", Some("null"));
    expect(2, "j", None);
    // UUIDs lowercase.
    expect(0, "u", Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
    expect(3, "u", Some("ffffffff-ffff-ffff-ffff-ffffffffffff"));
    // Arrays, enums, inet: PostgreSQL's own text.
    expect(0, "ia", Some("{1,NULL,3}"));
    expect(0, "ta", Some(r#"{"x,y","q\"z",NULL}"#));
    expect(1, "ia", Some("{}"));
    expect(3, "ia", Some("{{1,2},{3,4}}"));
    expect(0, "e", Some("happy"));
    expect(1, "e", Some("sad"));
    expect(0, "ip", Some("192.168.0.1/24"));
    expect(1, "ip", Some("2001:db8::/32"));
    // Exact bytes of two rows.
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        text.contains("\n3,0,0,0,0,0.0000,-Infinity,-0,,,,,,,,,,,,,,,,,\n"),
        "the NULL row:\n{text}"
    );
    assert!(
        text.contains(
            "\n2,32767,2147483647,9223372036854775807,-0.000000000000000000000000000001,-1.5000,Infinity,\
             -Infinity,false,abcdef,\"\",\"\",\"\",9999-12-31,23:59:59.999999,1999-12-31T23:59:59,\
             1970-01-01T00:00:00+00:00,P-3M,[],\"[1, \"\"x\"\"]\",00000000-0000-0000-0000-000000000000,{},{},sad,\
             2001:db8::/32\n"
        ),
        "row 2:\n{}",
        lines.join("\n")
    );
}

#[test]
fn pg_types_canonical_tsv() {
    let table = "it_pg_types_canonical_tsv";
    create_types_table(table);
    let text = export_text(&[
        "--table", table, "--format", "tsv", "--columns", "id,c,vc,t,by,ts",
    ]);
    assert_eq!(
        text,
        "id\tc\tvc\tt\tby\tts\n\
         1\tab    \tv\ta,b\"c\\r\\nd\\te\\\\f😀\t00ff\t2024-05-26T10:00:00.123456\n\
         2\tabcdef\t\t\t\t1999-12-31T23:59:59\n\
         3\t\\N\t\\N\t\\N\t\\N\t\\N\n\
         4\t  x   \tNULL\t\\\\.\tdeadbeef\t2024-01-01T00:00:00\n\
         5\t      \ttab\\there\téè 🚀 \"quoted\"\t0a0d\t0001-01-01T00:00:00\n"
    );
}

#[test]
fn pg_types_canonical_ndjson() {
    let table = "it_pg_types_canonical_ndjson";
    create_types_table(table);
    for strategy in ["copy", "cursor"] {
        let text = export_text(&[
            "--table", table, "--format", "ndjson", "--strategy", strategy,
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        let rows: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{strategy}: {e}: {l}")))
            .collect();
        // Raw text: numbers keep their exact digits, as JSON numbers.
        let raw = |row: usize, needle: &str| {
            assert!(
                lines[row].contains(needle),
                "{strategy}: row {} lacks {needle}:\n{}",
                row + 1,
                lines[row]
            );
        };
        raw(0, r#""bi":-9223372036854775808,"#);
        raw(0, r#""n":123456789012345678901234567890.123456789,"#);
        raw(0, r#""ns":12.3400,"#);
        raw(1, r#""n":-0.000000000000000000000000000001,"#);
        raw(2, r#""d":-0,"#);
        raw(4, r#""r":3.4028235e+38,"#);
        raw(4, r#""d":5e-324,"#);
        // NaN and the infinities are strings; numeric NaN too.
        raw(0, r#""r":"NaN","d":"NaN","#);
        raw(1, r#""r":"Infinity","d":"-Infinity","#);
        raw(4, r#""n":"NaN","#);
        // JSON embedded as JSON, arrays as JSON arrays.
        raw(0, r#""j":{"a": [1, 2]},"jb":{"b": {"c": null}},"#);
        raw(0, r#""ia":[1,null,3],"ta":["x,y","q\"z",null],"#);
        raw(3, r#""ia":[[1,2],[3,4]],"#);
        raw(1, r#""ia":[],"ta":[],"#);
        raw(0, r#""b":true,"#);
        raw(1, r#""b":false,"#);
        raw(2, r#""b":null,"#);
        // Parsed values.
        assert_eq!(rows[0]["id"], 1);
        assert_eq!(rows[0]["c"], "ab    ");
        assert_eq!(rows[0]["t"], "a,b\"c\r\nd\te\\f😀");
        assert_eq!(rows[0]["by"], "00ff");
        assert_eq!(rows[0]["ts"], "2024-05-26T10:00:00.123456");
        assert_eq!(rows[0]["tz"], "2024-05-26T08:00:00+00:00");
        assert_eq!(rows[0]["u"], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        assert_eq!(rows[0]["e"], "happy");
        assert_eq!(rows[0]["j"]["a"][1], 2);
        assert!(rows[0]["jb"]["b"]["c"].is_null());
        assert_eq!(rows[1]["vc"], "", "empty string is not null");
        assert!(rows[2]["vc"].is_null(), "NULL is null");
        assert_eq!(rows[1]["jb"][1], "x");
        assert_eq!(rows[3]["jb"], "s");
        assert_eq!(rows[4]["jb"]["k"], "v\nw");
        assert_eq!(rows[4]["j"]["nested"]["deep"][3].as_f64(), Some(1.5e10));
        assert_eq!(rows[4]["ta"][2], "");
        assert_eq!(rows[4]["ia"][0], -2147483648i64);
        for (i, row) in rows.iter().enumerate() {
            let object = row.as_object().unwrap();
            assert_eq!(object.len(), 25, "row {}: {row}", i + 1);
            assert!(
                lines[i].starts_with(&format!("{{\"id\":{},\"si\":", i + 1)),
                "column order: {}",
                lines[i]
            );
        }
        // (serde_json's map is sorted by key, so name the columns.)
        for column in [
            "b", "c", "vc", "t", "by", "dt", "tm", "ts", "tz", "iv", "j", "jb", "u", "ia", "ta",
            "e", "ip",
        ] {
            assert!(
                rows[2][column].is_null(),
                "row 3 column {column}: {}",
                rows[2][column]
            );
        }
    }
}

/// Timestamps and bytea reach the row strategies as the server's output
/// text and are finished on the client, as COPY's are: the edge values
/// must come out the same, in ISO 8601 with `T` and `+00:00`.
#[test]
fn pg_timestamp_and_bytea_edges_agree_across_strategies() {
    let table = "it_pg_ts_edges";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, a timestamp, b timestamptz, c bytea);
         INSERT INTO {table} VALUES
           (1, '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC', '\\x00ff'),
           (2, 'infinity', '-infinity', ''),
           (3, '2024-01-01 10:00:00.5', '2024-01-01 10:00:00.123456+05:30', NULL),
           (4, '0001-01-01', '2024-06-01 00:00:00+00', NULL);"
    ));
    let csv = assert_strategies_agree(&["copy", "keyset", "cursor", "offset"], &["--table", table]);
    assert_eq!(
        csv,
        "id,a,b,c\n\
         1,4713-01-01T00:00:00 BC,4713-01-01T00:00:00+00:00 BC,00ff\n\
         2,infinity,-infinity,\"\"\n\
         3,2024-01-01T10:00:00.5,2024-01-01T04:30:00.123456+00:00,\n\
         4,0001-01-01T00:00:00,2024-06-01T00:00:00+00:00,\n"
    );
}

#[test]
fn pg_inet_uses_postgres_text_form() {
    let table = "it_pg_inet_uses_postgres_text_form";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, ip inet, net cidr);
         INSERT INTO {table} VALUES (1, '::1', '10.0.0.0/8'), (2, '192.168.0.1', '::1/128'), (3, '10.1.2.3/24', NULL);"
    ));
    let expected = "id,ip,net\n1,::1,10.0.0.0/8\n2,192.168.0.1,::1/128\n3,10.1.2.3/24,\n";
    // format('%s') uses the type's output function: PostgreSQL's own text form.
    assert_eq!(
        pg_query_text(&format!(
            "SELECT format('%s', ip) FROM {table} WHERE id = 1"
        ))
        .as_deref(),
        Some("::1")
    );
    for strategy in ["copy", "keyset", "cursor"] {
        assert_eq!(
            export_text(&["--table", table, "--strategy", strategy]),
            expected,
            "--strategy {strategy}"
        );
    }
}

// ---------------------------------------------------------------------------
// Keys and ordering

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
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, name text);
         INSERT INTO {table} SELECT g, 'n' || g FROM generate_series(1, 25) g;"
    ));
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
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table}, {table}_ts;
         CREATE TABLE {table}(id int PRIMARY KEY, name text);
         INSERT INTO {table} SELECT g, 'n' || g FROM generate_series(1, 9) g;
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

// ---------------------------------------------------------------------------
// --explain, --query, names

#[test]
fn pg_explain_shows_chunk_sql_and_plans() {
    let table = "it_pg_explain";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, secret_payload text);
         INSERT INTO {table} SELECT g, 'payload-value-' || g FROM generate_series(1, 5) g;
         ANALYZE {table};"
    ));
    let run = dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--table",
        table,
        "--strategy",
        "keyset",
        "--chunk",
        "2",
        "--explain",
    ])
    .success();
    let out = run.stdout_str();
    assert!(out.contains("strategy: keyset"), "{out}");
    assert!(out.contains("first chunk"), "{out}");
    assert!(out.contains("later chunk"), "{out}");
    assert_eq!(
        out.matches("ORDER BY").count(),
        2,
        "two chunk statements: {out}"
    );
    assert!(out.contains("LIMIT 2"), "{out}");
    assert!(
        out.contains(r#""id" > $1"#),
        "the later chunk continues after a key: {out}"
    );
    let plans = out.split("-- plan:").skip(1).collect::<Vec<_>>();
    assert_eq!(plans.len(), 2, "a plan for each chunk: {out}");
    for plan in plans {
        assert!(
            plan.contains("Scan") || plan.contains("Index"),
            "plan text: {plan}"
        );
    }
    assert!(
        !out.contains("payload-value-"),
        "--explain exports no data: {out}"
    );
    // Offset and copy explain too, and exit 0.
    let out = export_text(&[
        "--table", table, "--strategy", "offset", "--chunk", "2", "--explain", "--quiet",
    ]);
    assert!(out.contains("OFFSET"), "{out}");
    assert!(!out.contains("payload-value-"), "{out}");
    let out = export_text(&["--table", table, "--explain"]);
    assert!(
        out.contains("strategy: copy"),
        "auto is copy on PostgreSQL: {out}"
    );
    assert!(out.contains("COPY"), "{out}");
    assert!(!out.contains("payload-value-"), "{out}");
}

#[test]
fn pg_query_export_copy_and_cursor_agree() {
    let table = "it_pg_query_export";
    create_types_table(table);
    let query = format!(
        "SELECT id, t, ts, n, ia, j, id * 10 AS tens FROM {table} WHERE id <> 3 ORDER BY id DESC"
    );
    let csv = assert_strategies_agree(
        &["auto", "copy", "cursor"],
        &["--query", &query, "--chunk", "2"],
    );
    let parsed = Csv::parse(&csv);
    assert_eq!(parsed.header, ["id", "t", "ts", "n", "ia", "j", "tens"]);
    let ids: Vec<&str> = (0..parsed.rows.len())
        .map(|r| parsed.get(r, "id").unwrap())
        .collect();
    assert_eq!(
        ids,
        ["5", "4", "2", "1"],
        "the query's own ORDER BY is kept"
    );
    assert_eq!(
        parsed.get(3, "ts"),
        Some("2024-05-26T10:00:00.123456"),
        "query columns are canonical too"
    );
    assert_eq!(parsed.get(3, "tens"), Some("10"));
    // The same columns read from the table give the same values.
    let from_table = export_text(&[
        "--table", table, "--columns", "id,t,ts,n,ia,j", "--where", "id = 1",
    ]);
    let from_query = export_text(&[
        "--query",
        &format!("SELECT id, t, ts, n, ia, j FROM {table} WHERE id = 1"),
    ]);
    assert_eq!(from_query, from_table);
    // --limit, and a trailing semicolon.
    let out = export_text(&[
        "--query",
        &format!("SELECT id FROM {table} ORDER BY id DESC;"),
        "--limit",
        "2",
    ]);
    assert_eq!(out, "id\n5\n4\n");
    // Duplicate column names are refused with a hint; bad SQL is a runtime error.
    let run = dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--query",
        "SELECT 1 AS x, 2 AS x",
    ])
    .fails(1);
    assert!(run.one_error_line().contains("alias"), "{}", run.stderr);
    let run = dbchunk(["export", "--url", &pg_url(), "--query", "SELEKT 1"]).fails(1);
    run.one_error_line();
    // Keyset needs a key for a query; with --key it agrees with the others.
    dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--query",
        &format!("SELECT id FROM {table}"),
        "--strategy",
        "keyset",
    ])
    .fails(2);
    assert_strategies_agree(
        &PG_STRATEGIES,
        &[
            "--query",
            &format!("SELECT id, t, e FROM {table}"),
            "--key",
            "id",
            "--chunk",
            "2",
        ],
    );
}

#[test]
fn pg_schema_qualified_and_odd_table_names() {
    let schema = "it_pg_names_schema";
    pg_exec(&format!(
        r#"DROP SCHEMA IF EXISTS {schema} CASCADE;
           CREATE SCHEMA {schema};
           CREATE TABLE {schema}.mytable(id int PRIMARY KEY, v text);
           INSERT INTO {schema}.mytable VALUES (1, 'one'), (2, 'two'), (3, 'three');
           DROP TABLE IF EXISTS "it_pg_names we""ird name";
           CREATE TABLE "it_pg_names we""ird name"("odd ""col""" int PRIMARY KEY, "x,y" text);
           INSERT INTO "it_pg_names we""ird name" VALUES (1, 'a'), (2, 'b'), (3, 'c');"#
    ));
    let qualified = format!("{schema}.mytable");
    let csv = assert_strategies_agree(&PG_STRATEGIES, &["--table", &qualified, "--chunk", "2"]);
    assert_eq!(csv, "id,v\n1,one\n2,two\n3,three\n");
    // Not on the search path without its schema.
    let run = dbchunk(["export", "--url", &pg_url(), "--table", "mytable"]).fails(1);
    assert!(run.one_error_line().contains("mytable"), "{}", run.stderr);
    let count = dbchunk(["count", "--url", &pg_url(), "--table", &qualified]).success();
    assert_eq!(count.stdout_str(), "3\n");

    let odd = r#""it_pg_names we""ird name""#;
    let csv = assert_strategies_agree(&PG_STRATEGIES, &["--table", odd, "--chunk", "2"]);
    assert_eq!(csv, "\"odd \"\"col\"\"\",\"x,y\"\n1,a\n2,b\n3,c\n");
    let out = export_text(&[
        "--table", odd, "--columns", r#""x,y""#, "--format", "ndjson",
    ]);
    assert_eq!(out, "{\"x,y\":\"a\"}\n{\"x,y\":\"b\"}\n{\"x,y\":\"c\"}\n");
    let out = export_text(&[
        "--table",
        &format!("public.{odd}"),
        "--limit",
        "1",
        "--no-header",
    ]);
    assert_eq!(out, "1,a\n");
    // A name that tries to inject SQL is only a name.
    let run = dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--table",
        r#""x; DROP TABLE it_pg_names_schema.mytable; --""#,
    ])
    .fails(1);
    run.one_error_line();
    assert_eq!(
        pg_query_text(&format!("SELECT count(*)::text FROM {qualified}")).as_deref(),
        Some("3")
    );
}

#[test]
fn pg_count() {
    let table = "it_pg_count";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, grp int);
         INSERT INTO {table} SELECT g, g % 10 FROM generate_series(1, 5000) g;
         ANALYZE {table};"
    ));
    let url = pg_url();
    let run = dbchunk(["count", "--url", &url, "--table", table]).success();
    assert_eq!(run.stdout_str(), "5000\n");
    assert_eq!(run.stderr, "");
    let run = dbchunk([
        "count", "--url", &url, "--table", table, "--where", "grp = 3",
    ])
    .success();
    assert_eq!(run.stdout_str(), "500\n");
    let run = dbchunk([
        "count",
        "--url",
        &url,
        "--query",
        &format!("SELECT * FROM {table} WHERE id <= 42"),
    ])
    .success();
    assert_eq!(run.stdout_str(), "42\n");
    let run = dbchunk(["count", "--url", &url, "--table", table, "--estimate"]).success();
    let text = run.stdout_str();
    assert!(
        text.ends_with('\n') && text.lines().count() == 1,
        "one line: {text:?}"
    );
    let estimate: u64 = text
        .trim_end()
        .parse()
        .unwrap_or_else(|_| panic!("an integer: {text:?}"));
    assert!(
        (2500..=10000).contains(&estimate),
        "estimate {estimate} for 5000 rows"
    );
    let run = dbchunk([
        "count", "--url", &url, "--table", table, "--estimate", "--where", "grp = 3",
    ])
    .success();
    let estimate: u64 = run.stdout_str().trim_end().parse().expect("an integer");
    assert!(
        (100..=2500).contains(&estimate),
        "estimate {estimate} for 500 rows"
    );
}

#[test]
fn pg_export_stats_and_output_file() {
    let table = "it_pg_stats_output";
    create_types_table(table);
    let dir = crate::util::TempDir::new("pg_export_stats_and_output_file");
    for strategy in PG_STRATEGIES {
        let path = dir.join(&format!("{strategy}.csv"));
        let run = dbchunk([
            "export",
            "--url",
            &pg_url(),
            "--table",
            table,
            "--stats",
            "--quiet",
            "--chunk",
            "2",
        ])
        .args(["--strategy", strategy, "--output"])
        .arg(&path)
        .success();
        assert!(run.stdout.is_empty());
        let lines = run.stderr_lines();
        assert_eq!(lines.len(), 1, "{}", run.stderr);
        let stats: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(stats["rows"], 5, "{stats}");
        assert_eq!(
            stats["bytes"].as_u64(),
            Some(std::fs::metadata(&path).unwrap().len()),
            "{stats}"
        );
        let expected = if strategy == "auto" { "copy" } else { strategy };
        assert_eq!(stats["strategy"], expected, "{stats}");
        assert_eq!(std::fs::read(&path).unwrap(), export(&["--table", table]));
    }
    let mut entries = dir.entries();
    entries.sort();
    assert_eq!(
        entries,
        ["auto.csv", "copy.csv", "cursor.csv", "keyset.csv", "offset.csv"]
    );
    // A failing export leaves no file.
    let path = dir.join("bad.csv");
    dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--table",
        table,
        "--where",
        "no_such_column = 1",
        "--output",
    ])
    .arg(&path)
    .fails(1);
    assert!(!path.exists());
}

/// `dbchunk export ... | head -1` on PostgreSQL: a closed pipe is success.
#[test]
fn pg_closed_stdout_is_success() {
    let table = "it_pg_closed_stdout";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, name text);
         INSERT INTO {table} SELECT g, 'name-' || g FROM generate_series(1, 300000) g;"
    ));
    let url = pg_url();
    for strategy in ["copy", "keyset", "cursor"] {
        for format in ["csv", "ndjson"] {
            let mut child = dbchunk([
                "export", "--url", &url, "--table", table, "--strategy", strategy, "--format",
                format,
            ])
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
                first == "id,name\n" || first.starts_with("{\"id\":"),
                "{first:?}"
            );
            assert_eq!(
                output.status.code(),
                Some(0),
                "{strategy} {format}: stderr: {stderr}"
            );
            assert_eq!(stderr, "", "{strategy} {format}");
        }
    }
}

/// A `--key` that is neither unique nor NOT NULL: keyset would lose rows.
#[test]
fn pg_key_that_is_not_unique_is_refused_for_keyset() {
    let table = "it_pg_key_not_unique";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(k int, v text);
         INSERT INTO {table} VALUES (1,'a'),(1,'b'),(1,'c'),(2,'d'),(NULL,'e'),(3,'f');"
    ));
    let run = dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--table",
        table,
        "--key",
        "k",
        "--strategy",
        "keyset",
    ])
    .fails(2);
    assert!(
        run.one_error_line().contains("does not identify rows"),
        "{}",
        run.stderr
    );
    let all = export_text(&["--table", table, "--key", "k", "--strategy", "cursor"]);
    assert_eq!(all.lines().count(), 7, "{all}");
}

/// `--parallel` gives the serial export's bytes, whatever the number of
/// workers, strategy or key shape.
#[test]
fn pg_parallel_output_equals_serial() {
    let table = "it_pg_parallel";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(a int, b text, v text, ts timestamptz, PRIMARY KEY (a, b));
         INSERT INTO {table} SELECT g % 97, 'k' || g, repeat('x', g % 7), '2024-01-01'::timestamptz + g * interval '1 minute'
         FROM generate_series(1, 20000) g;
         ANALYZE {table};"
    ));
    let serial = export(&["--table", table, "--strategy", "keyset"]);
    for strategy in ["keyset", "copy"] {
        for workers in ["2", "3", "5"] {
            let out = export(&[
                "--table", table, "--strategy", strategy, "--parallel", workers, "--chunk", "700",
            ]);
            assert!(
                out == serial,
                "--strategy {strategy} --parallel {workers} differs from the serial export"
            );
        }
    }
}

/// Rows inserted, deleted and changed while a parallel export runs do not
/// show up half-way: every worker reads the snapshot taken at the start.
#[test]
fn pg_parallel_export_reads_one_snapshot() {
    let table = "it_pg_parallel_snapshot";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, v text);
         INSERT INTO {table} SELECT g, 'v' || g FROM generate_series(1, 20000) g;
         ANALYZE {table};"
    ));
    let before = export(&["--table", table]);
    let url = pg_url();
    // 20,000 rows at 8,000 rows a second: about 2.5 seconds.
    let mut child = dbchunk([
        "export", "--url", &url, "--table", table, "--parallel", "2", "--strategy", "keyset",
        "--chunk", "500", "--max-rate", "8000/s",
    ])
    .command()
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start dbchunk");
    // The first output line comes after every worker has its snapshot:
    // only then are the changes made.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut written = Vec::new();
    std::io::BufRead::read_until(&mut stdout, b'\n', &mut written).unwrap();
    pg_exec(&format!(
        "DELETE FROM {table} WHERE id BETWEEN 7000 AND 7999 OR id BETWEEN 17000 AND 17999;
         UPDATE {table} SET v = 'changed' WHERE id % 1000 = 0;
         INSERT INTO {table} SELECT g, 'new' FROM generate_series(20001, 21000) g;"
    ));
    std::io::Read::read_to_end(&mut stdout, &mut written).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        written == before,
        "the parallel export saw changes made after it started"
    );
    assert_ne!(export(&["--table", table]), before, "the changes were made");
}
