//! Load: eight exports and four imports at once against the same servers
//! all finish, within a bound, with exactly the data of a run alone.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::db::{mysql_exec, mysql_url, pg_exec, pg_url};
use crate::util::dbchunk;
use crate::util::engine::{Db, DropOnExit};

const ROWS: u32 = 20_000;

fn spawn(args: &[String], input: Option<&[u8]>) -> Child {
    let mut child = dbchunk(args.to_vec())
        .command()
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dbchunk");
    if let Some(input) = input {
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    }
    child
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn eight_exports_and_four_imports_at_once() {
    let (pg, my) = (pg_url(), mysql_url());
    let _drops: Vec<DropOnExit> = ["", "_in1", "_in2"]
        .iter()
        .flat_map(|copy| {
            [
                Db::Pg.drop_on_exit(&format!("it_load_pg{copy}")),
                Db::My.drop_on_exit(&format!("it_load_my{copy}")),
            ]
        })
        .collect();
    pg_exec(&format!(
        "DROP TABLE IF EXISTS it_load_pg, it_load_pg_in1, it_load_pg_in2;
         CREATE TABLE it_load_pg(id int PRIMARY KEY, v text, ts timestamptz, n numeric(12,2));
         INSERT INTO it_load_pg SELECT g, 'v,\"' || g, '2024-01-01'::timestamptz + g * interval '1 minute', g / 7.0
         FROM generate_series(1, {ROWS}) g;
         CREATE TABLE it_load_pg_in1 (LIKE it_load_pg INCLUDING ALL);
         CREATE TABLE it_load_pg_in2 (LIKE it_load_pg INCLUDING ALL);"
    ));
    mysql_exec(&format!(
        "SET SESSION max_recursive_iterations = 100000;
         DROP TABLE IF EXISTS it_load_my, it_load_my_in1, it_load_my_in2;
         CREATE TABLE it_load_my(id INT PRIMARY KEY, v TEXT, ts DATETIME(6), n DECIMAL(12,2));
         INSERT INTO it_load_my WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS})
         SELECT x, CONCAT('v,\"', x), '2024-01-01' + INTERVAL x MINUTE, x / 7 FROM c;
         CREATE TABLE it_load_my_in1 LIKE it_load_my;
         CREATE TABLE it_load_my_in2 LIKE it_load_my;"
    ));
    let exports: Vec<Vec<String>> = [
        (&pg, "it_load_pg", "copy", "csv"),
        (&pg, "it_load_pg", "keyset", "csv"),
        (&pg, "it_load_pg", "cursor", "ndjson"),
        (&pg, "it_load_pg", "offset", "tsv"),
        (&my, "it_load_my", "keyset", "csv"),
        (&my, "it_load_my", "cursor", "csv"),
        (&my, "it_load_my", "keyset", "ndjson"),
        (&my, "it_load_my", "offset", "tsv"),
    ]
    .iter()
    .map(|(url, table, strategy, format)| {
        strings(&[
            "export", "--url", url, "--table", table, "--strategy", strategy, "--format", format,
            "--chunk", "1000", "--quiet",
        ])
    })
    .collect();
    // What each gives alone, and the inputs of the imports.
    let alone: Vec<Vec<u8>> = exports
        .iter()
        .map(|a| dbchunk(a.clone()).success().stdout)
        .collect();
    let (pg_csv, my_csv) = (&alone[1], &alone[4]);
    let imports = [
        (&pg, "it_load_pg_in1", "copy", pg_csv),
        (&pg, "it_load_pg_in2", "insert", pg_csv),
        (&my, "it_load_my_in1", "load-data", my_csv),
        (&my, "it_load_my_in2", "insert", my_csv),
    ];

    let started = Instant::now();
    let mut children: Vec<(String, Child)> = exports
        .iter()
        .map(|args| (args.join(" "), spawn(args, None)))
        .collect();
    for (url, table, strategy, input) in &imports {
        let args = strings(&[
            "import", "--url", url, "--table", table, "--strategy", strategy, "--batch", "1000",
            "--quiet",
        ]);
        children.push((args.join(" "), spawn(&args, Some(input))));
    }
    // Outputs are read on threads so that no child blocks on a full pipe.
    let waiting: Vec<_> = children
        .into_iter()
        .map(|(name, child)| (name, std::thread::spawn(move || child.wait_with_output())))
        .collect();
    let deadline = Duration::from_secs(120);
    for (i, (name, waiter)) in waiting.into_iter().enumerate() {
        while !waiter.is_finished() {
            assert!(
                started.elapsed() < deadline,
                "{name} still running after {deadline:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = waiter.join().unwrap().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        if let Some(expected) = alone.get(i) {
            assert!(
                output.stdout == *expected,
                "{name}: differs from the same export run alone"
            );
        }
    }
    // Every row of every column, as in the table exported.
    for (db, source) in [(Db::Pg, "it_load_pg"), (Db::My, "it_load_my")] {
        for copy in ["in1", "in2"] {
            let table = format!("{source}_{copy}");
            db.assert_same_table(source, &table, "imported while others ran");
        }
    }
}
