//! --explain, --query, names, count, stats, closed pipes, --parallel.

use super::*;
use crate::util::engine::{Db, Fill, Table, Ty, PARALLEL_PACED};

#[test]
fn pg_explain_shows_chunk_sql_and_plans() {
    let table = "it_pg_explain";
    let column = ("secret_payload", Ty::Text, Fill::Prefixed("payload-value-"));
    let _drop = numbered_table(table, column, 5);
    let run = crate::util::export(&pg_url(), table)
        .args(["--strategy", "keyset", "--chunk", "2", "--explain"])
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
    dbchunk([
        "export",
        "--url",
        &pg_url(),
        "--query",
        "SELECT 1 AS x, 2 AS x",
    ])
    .fails_saying(1, &["alias"]);
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

    crate::util::export(&pg_url(), "mytable").fails_saying(1, &["mytable"]);
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
    let run = crate::util::export(
        &pg_url(),
        r#""x; DROP TABLE it_pg_names_schema.mytable; --""#,
    )
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
    let _drop = numbered_table(table, ("grp", Ty::Int, Fill::Modulo(10)), 5000);
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
        let run = crate::util::export(&pg_url(), table)
            .args(["--stats", "--quiet", "--chunk", "2"])
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
    crate::util::export(&pg_url(), table)
        .args(["--where", "no_such_column = 1", "--output"])
        .arg(&path)
        .fails(1);
    assert!(!path.exists());
}

/// `dbchunk export ... | head -1` on PostgreSQL: a closed pipe is success.
#[test]
fn pg_closed_stdout_is_success() {
    let db = Db::Pg;
    let table = Table::new("it_pg_closed_stdout")
        .key("id", Ty::Int)
        .col("name", Ty::Text);
    let _drop = db.drop_on_exit(&table.name);
    table
        .create(&db)
        .fill(&db, 1..=300_000, &[Fill::Id, Fill::Prefixed("name-")]);
    for strategy in ["copy", "keyset", "cursor"] {
        for format in ["csv", "ndjson"] {
            crate::util::export(&db.url(), &table.name)
                .args(["--strategy", strategy, "--format", format])
                .assert_quiet_head(|first| first == "id,name\n" || first.starts_with("{\"id\":"));
        }
    }
}

/// A `--key` that is neither unique nor NOT NULL: keyset would lose rows.
#[test]
fn pg_key_that_is_not_unique_is_refused_for_keyset_and_resume() {
    let table = "it_pg_key_not_unique";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(k int, v text);
         INSERT INTO {table} VALUES (1,'a'),(1,'b'),(1,'c'),(2,'d'),(NULL,'e'),(3,'f');"
    ));
    crate::util::export(&pg_url(), table)
        .args(["--key", "k", "--strategy", "keyset"])
        .fails_saying(2, &["does not identify rows"]);
    let all = export_text(&["--table", table, "--key", "k", "--strategy", "cursor"]);
    assert_eq!(all.lines().count(), 7, "{all}");
    // The default (copy) only orders by it too, unless asked to resume.
    let all = export_text(&["--table", table, "--key", "k"]);
    assert_eq!(all.lines().count(), 7, "{all}");
    let dir = crate::util::TempDir::new("pg_key_not_unique");
    let state = dir.join("state.json");
    crate::util::export(&pg_url(), table)
        .args(["--key", "k", "--state", state.to_str().unwrap()])
        .fails_saying(2, &["does not identify rows", "drop --state and --resume"]);
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
    let _drop = numbered_table(table, ("v", Ty::Text, Fill::Prefixed("v")), 20_000);
    let before = export(&["--table", table]);
    // 20,000 rows at 8,000 rows a second: about 2.5 seconds. The first
    // output line comes after every worker has its snapshot: only then are
    // the changes made.
    let written = Db::Pg.export_while(
        &[&["--table", table][..], PARALLEL_PACED].concat(),
        &format!(
            "DELETE FROM {table} WHERE id BETWEEN 7000 AND 7999 OR id BETWEEN 17000 AND 17999;
             UPDATE {table} SET v = 'changed' WHERE id % 1000 = 0;
             INSERT INTO {table} SELECT g, 'new' FROM generate_series(20001, 21000) g;"
        ),
    );
    assert!(
        written == before,
        "the parallel export saw changes made after it started"
    );
    assert_ne!(export(&["--table", table]), before, "the changes were made");
}

/// A table without a key is split by its pages on PostgreSQL: the
/// workers' COPYs each read a range of pages (seen in pg_stat_activity
/// while a paced export runs), and together they give the serial
/// export's bytes, the rows in storage order (moved ones at the end).
#[test]
fn pg_parallel_splits_a_table_without_a_key_by_its_pages() {
    let table = "it_pg_parallel_heap";
    let dir = crate::util::TempDir::new("pg_parallel_heap");
    let _drop = Db::Pg.drop_on_exit(table);
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(a int, b text);
         INSERT INTO {table} SELECT g, repeat('y', g % 50) FROM generate_series(1, 20000) g;
         UPDATE {table} SET b = 'moved' WHERE a % 7 = 0;
         DELETE FROM {table} WHERE a % 11 = 0;
         ANALYZE {table};"
    ));
    let serial = export(&["--table", table]);
    let rows = 20_000 - 20_000 / 11;
    assert_eq!(
        serial.split(|&b| b == b'\n').count(),
        rows + 2,
        "header, rows, end"
    );
    for workers in ["2", "3", "5"] {
        let out = export(&["--table", table, "--parallel", workers]);
        assert!(
            out == serial,
            "--parallel {workers} differs from the serial export"
        );
    }
    let some = ["--table", table, "--where", "a > 15000"];
    assert!(export(&[&some[..], &["--parallel", "3"]].concat()) == export(&some));
    // Killed when the test ends, also when it fails while this runs.
    let paced = dbchunk(["export", "--url", &pg_url(), "--table", table])
        .args(["--parallel", "2", "--max-rate", "4000/s", "-o"])
        .arg(dir.join("paced.csv"))
        .spawn();
    let paced = crate::util::procs::KillOnDrop(paced);
    let ranges = "SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE 'COPY%ctid%::tid%' \
                  AND pid <> pg_backend_pid()";
    let started = std::time::Instant::now();
    let mut seen = 0;
    while seen < 2 && started.elapsed() < std::time::Duration::from_secs(20) {
        seen = Db::Pg.text(ranges).unwrap().trim().parse().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(paced);
    assert_eq!(seen, 2, "two COPYs over page ranges at once");
}
