//! The rows an export reports are the rows it wrote, and the total its
//! progress shows while it runs is the planner's estimate of the export's
//! own query (its --where), or none: never the unfiltered table's count.

use crate::util::db::{mysql_exec, mysql_query_text, mysql_url, pg_exec, pg_url};
use crate::util::{dbchunk, sqlite_url, TempDir};

const ROWS: u64 = 20_000;

/// The totals (`/~N`) the progress lines claim.
fn claimed_totals(stderr: &str) -> Vec<u64> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("/~"))
        .map(|(_, rest)| {
            let digits: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == ',')
                .filter(char::is_ascii_digit)
                .collect();
            digits.parse().unwrap()
        })
        .collect()
}

/// Exports every other row with every strategy, and checks the counts.
#[track_caller]
fn check_filtered_export(
    url: &str,
    table: &str,
    strategies: &[&str],
    estimate: Option<(u64, u64)>,
) {
    for strategy in strategies {
        let run = crate::util::export(url, table)
            .args(["--where", "id % 2 = 0", "--progress", "always", "--stats"])
            .args(["--strategy", strategy, "--chunk", "1000"])
            .success();
        let context = format!("{url} {strategy}:\n{}", run.stderr);
        assert_eq!(
            run.stdout_str().lines().count() as u64,
            ROWS / 2 + 1,
            "{context}"
        );
        let lines = run.stderr_lines();
        let done = lines
            .iter()
            .find(|l| l.starts_with("dbchunk: done: "))
            .unwrap_or_else(|| panic!("no done line: {context}"));
        assert!(done.starts_with("dbchunk: done: 10000 rows,"), "{context}");
        let stats: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
        assert_eq!(stats["rows"], ROWS / 2, "{context}");
        let totals = claimed_totals(&run.stderr);
        match estimate {
            None => assert_eq!(
                totals,
                Vec::<u64>::new(),
                "no estimate, no total: {context}"
            ),
            Some((low, high)) => {
                for total in totals {
                    assert_ne!(total, ROWS, "the unfiltered count: {context}");
                    assert!((low..=high).contains(&total), "{total}: {context}");
                }
            }
        }
    }
}

#[test]
fn counts_postgres_filtered_export_reports_rows_written() {
    let table = "it_counts_pg";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id integer PRIMARY KEY, v text);
         INSERT INTO {table} SELECT g, 'v' || g FROM generate_series(1, {ROWS}) g; ANALYZE {table};"
    ));
    // The planner's guess for `id % 2 = 0` (0.5% of the rows) is what
    // progress shows at first; past it, no total at all.
    let url = pg_url();
    check_filtered_export(
        &url,
        table,
        &["copy", "keyset", "cursor", "offset"],
        Some((1, 15_000)),
    );
    let count = dbchunk(["count", "--url", &url, "--table", table])
        .args(["--where", "id % 2 = 0", "--estimate"])
        .success();
    let estimate: u64 = count.stdout_str().trim().parse().unwrap();
    assert!(estimate < ROWS, "{estimate}");
    assert_eq!(count.stderr, "", "PostgreSQL estimates the filtered query");
    pg_exec(&format!("DROP TABLE {table}"));
}

#[test]
fn counts_mysql_filtered_export_reports_rows_written() {
    let table = "it_counts_my";
    mysql_exec(&format!("DROP TABLE IF EXISTS {table}"));
    mysql_exec(&format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, v VARCHAR(20))"
    ));
    let values: Vec<String> = (1..=ROWS).map(|i| format!("({i},'v{i}')")).collect();
    mysql_exec(&format!("INSERT INTO {table} VALUES {}", values.join(",")));
    mysql_exec(&format!("ANALYZE TABLE {table}"));
    let url = mysql_url();
    // The optimizer examines every row for `id % 2 = 0` and cannot say
    // how many match: no total.
    check_filtered_export(&url, table, &["keyset", "cursor", "offset"], None);
    let count = dbchunk(["count", "--url", &url, "--table", table])
        .args(["--where", "id % 2 = 0", "--estimate"])
        .success();
    assert_eq!(count.stdout_str(), "10000\n", "counted exactly instead");
    assert!(
        count.stderr.contains("warning: MySQL has no estimate"),
        "{}",
        count.stderr
    );
    // Where the optimizer has an estimate of the rows that come out (an
    // index range), count --estimate gives it.
    let count = dbchunk(["count", "--url", &url, "--table", table])
        .args(["--where", "id <= 100", "--estimate"])
        .success();
    let estimate: u64 = count.stdout_str().trim().parse().unwrap();
    assert!((50..=200).contains(&estimate), "{estimate}");
    assert_eq!(count.stderr, "");
    assert_eq!(
        mysql_query_text(&format!("SELECT count(*) FROM {table}")).as_deref(),
        Some("20000")
    );
    mysql_exec(&format!("DROP TABLE {table}"));
}

#[test]
fn counts_sqlite_filtered_export_reports_rows_written() {
    let dir = TempDir::new("counts-sqlite");
    let path = dir.join("counts.db");
    crate::util::db::sqlite_exec(
        &path,
        &format!(
            "CREATE TABLE it_counts_lite (id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS})
             INSERT INTO it_counts_lite SELECT i, 'v' || i FROM s;"
        ),
    );
    let url = sqlite_url(&path);
    check_filtered_export(
        &url,
        "it_counts_lite",
        &["keyset", "cursor", "offset"],
        None,
    );
    let count = dbchunk(["count", "--url", &url, "--table", "it_counts_lite"])
        .args(["--where", "id % 2 = 0", "--estimate"])
        .success();
    assert_eq!(count.stdout_str(), "10000\n");
    assert!(
        count.stderr.contains("warning: SQLite has no estimate"),
        "{}",
        count.stderr
    );
}
