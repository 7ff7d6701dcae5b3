//! Every type: the same bytes from every strategy, in the canonical form.

use super::*;

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
    let run = crate::util::export(&pg_url(), table)
        .args(["--strategy", "offset", "--chunk", "1"])
        .success();
    assert_eq!(run.stderr.matches("warning").count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("keyset"), "{}", run.stderr);
    let quiet = crate::util::export(&pg_url(), table)
        .args(["--strategy", "offset", "--chunk", "1", "--quiet"])
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
    // (row, column, field) of the data rows, from 0.
    let expected: &[(usize, &str, Option<&str>)] = &[
        // Integers.
        (0, "si", Some("-32768")),
        (0, "i", Some("-2147483648")),
        (0, "bi", Some("-9223372036854775808")),
        (1, "bi", Some("9223372036854775807")),
        // Decimals exactly as stored, scale kept.
        (0, "n", Some("123456789012345678901234567890.123456789")),
        (1, "n", Some("-0.000000000000000000000000000001")),
        (3, "n", Some("100000000000000000000")),
        (4, "n", Some("NaN")),
        (0, "ns", Some("12.3400")),
        (1, "ns", Some("-1.5000")),
        // Floats: shortest round-trip, PostgreSQL's spelling of the specials.
        (0, "r", Some("NaN")),
        (0, "d", Some("NaN")),
        (1, "r", Some("Infinity")),
        (1, "d", Some("-Infinity")),
        (2, "r", Some("-Infinity")),
        (2, "d", Some("-0")),
        (3, "r", Some("0.1")),
        (3, "d", Some("0.1")),
        (4, "r", Some("3.4028235e+38")),
        (4, "d", Some("5e-324")),
        // Booleans.
        (0, "b", Some("true")),
        (1, "b", Some("false")),
        (2, "b", None),
        // char(n) keeps its trailing blanks.
        (0, "c", Some("ab    ")),
        (1, "c", Some("abcdef")),
        (3, "c", Some("  x   ")),
        (4, "c", Some("      ")),
        // Empty string next to NULL; the text NULL.
        (1, "vc", Some("")),
        (2, "vc", None),
        (3, "vc", Some("NULL")),
        (0, "t", Some("a,b\"c\r\nd\te\\f😀")),
        (1, "t", Some("")),
        (3, "t", Some("\\.")),
        // Binary as lowercase hex without \x; empty bytea is "", not NULL.
        (0, "by", Some("00ff")),
        (1, "by", Some("")),
        (2, "by", None),
        (3, "by", Some("deadbeef")),
        // Dates and times.
        (0, "dt", Some("0001-01-01")),
        (1, "dt", Some("9999-12-31")),
        (0, "tm", Some("10:00:00.5")),
        (3, "tm", Some("00:00:00")),
        (0, "ts", Some("2024-05-26T10:00:00.123456")),
        (1, "ts", Some("1999-12-31T23:59:59")),
        (4, "ts", Some("0001-01-01T00:00:00")),
        (0, "tz", Some("2024-05-26T08:00:00+00:00")),
        (1, "tz", Some("1970-01-01T00:00:00+00:00")),
        (3, "tz", Some("2024-05-26T15:30:00.123456+00:00")),
        (4, "tz", Some("9999-12-31T23:59:59.999999+00:00")),
        (0, "iv", Some("P1DT2H")),
        // JSON as its text.
        (0, "j", Some(r#"{"a": [1, 2]}"#)),
        (0, "jb", Some(r#"{"b": {"c": null}}"#)),
        (3, "j", Some("null")),
        (2, "j", None),
        // UUIDs lowercase.
        (0, "u", Some("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
        (3, "u", Some("ffffffff-ffff-ffff-ffff-ffffffffffff")),
        // Arrays, enums, inet: PostgreSQL's own text.
        (0, "ia", Some("{1,NULL,3}")),
        (0, "ta", Some(r#"{"x,y","q\"z",NULL}"#)),
        (1, "ia", Some("{}")),
        (3, "ia", Some("{{1,2},{3,4}}")),
        (0, "e", Some("happy")),
        (1, "e", Some("sad")),
        (0, "ip", Some("192.168.0.1/24")),
        (1, "ip", Some("2001:db8::/32")),
    ];
    for &(row, column, value) in expected {
        assert_eq!(
            csv.get(row, column),
            value,
            "row {} column {column}",
            row + 1
        );
    }
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
