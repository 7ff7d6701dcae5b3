//! `export --incremental COL --state FILE`: scheduled runs that lose no
//! row, piped into `import --on-conflict update`; and the cron manners
//! (one run per state file, exit 75).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::engine::Db;
use crate::util::procs::wait_until;
use crate::util::tables::{lite_id_v, test_table};
use crate::util::{dbchunk, export, kill_after, sqlite_url, TempDir, BIN};

/// A transaction held open on its own connection, across dbchunk runs.
enum Held {
    Pg(tokio::runtime::Runtime, tokio_postgres::Client),
    My(tokio::runtime::Runtime, mysql_async::Conn),
}

impl Held {
    /// `BEGIN`, then `sql` in that transaction, left uncommitted.
    fn begin(db: &Db, sql: &str) -> Held {
        use mysql_async::prelude::Queryable;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        match db {
            Db::Pg => {
                let client = runtime.block_on(async {
                    let (client, connection) =
                        tokio_postgres::connect(&db.url(), tokio_postgres::NoTls)
                            .await
                            .unwrap();
                    tokio::spawn(connection);
                    client
                        .batch_execute(&format!("BEGIN; {sql}"))
                        .await
                        .unwrap();
                    client
                });
                Held::Pg(runtime, client)
            }
            Db::My => {
                let conn = runtime.block_on(async {
                    let opts = mysql_async::Opts::from_url(&db.url()).unwrap();
                    let mut conn = mysql_async::Conn::new(opts).await.unwrap();
                    conn.query_drop("SET time_zone = '+00:00'").await.unwrap();
                    conn.query_drop("BEGIN").await.unwrap();
                    conn.query_drop(sql).await.unwrap();
                    conn
                });
                Held::My(runtime, conn)
            }
            Db::Lite(_) => unreachable!("the servers only"),
        }
    }

    fn commit(self) {
        use mysql_async::prelude::Queryable;
        match self {
            Held::Pg(runtime, client) => runtime.block_on(client.batch_execute("COMMIT")).unwrap(),
            Held::My(runtime, mut conn) => runtime.block_on(async {
                conn.query_drop("COMMIT").await.unwrap();
                conn.disconnect().await.unwrap();
            }),
        }
    }
}

/// `dbchunk export ARGS | dbchunk import ARGS`; panics unless both exit 0.
/// Returns export's stderr (its --stats line).
fn pipe(export_args: &[String], import_args: &[String]) -> String {
    let mut exporter = Command::new(BIN)
        .args(export_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let importer = Command::new(BIN)
        .args(import_args)
        .stdin(exporter.stdout.take().unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let imported = importer.wait_with_output().unwrap();
    let exported = exporter.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&exported.stderr).into_owned();
    assert!(exported.status.success(), "export failed: {stderr}");
    assert!(
        imported.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&imported.stderr)
    );
    stderr
}

/// The last --stats line in `stderr`, parsed.
fn stats_line(stderr: &str) -> serde_json::Value {
    let line = stderr
        .lines()
        .rfind(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no --stats line in: {stderr}"));
    serde_json::from_str(line).unwrap()
}

/// The `rows` and `overlap_rows` of a --stats line.
fn stats(stderr: &str) -> (u64, u64) {
    let json = stats_line(stderr);
    (
        json["rows"].as_u64().unwrap(),
        json["overlap_rows"].as_u64().unwrap(),
    )
}

/// Whether a --stats line says a transaction open elsewhere held the
/// next run's start back.
fn held(stderr: &str) -> bool {
    !stats_line(stderr)["held"].is_null()
}

/// The arguments of `dbchunk export` of `table` at `url` that sends the
/// rows whose column `u` moved on since `state`, then `more`.
fn incremental_u(url: &str, table: &str, state: &Path, more: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["export", "--url", url, "-t", table, "--incremental", "u"]
        .map(String::from)
        .to_vec();
    args.extend(["--state".to_string(), state.to_str().unwrap().to_string()]);
    args.extend(more.iter().map(|a| a.to_string()));
    args
}

/// Rounds of writers (one statement stamping hundreds of rows with one
/// timestamp, updates, a transaction that stamps rows early and commits
/// only after a run) and incremental runs piped into another engine: at
/// the end the target holds exactly the source's rows.
#[test]
fn simulated_days_lose_no_row() {
    for db in Db::servers() {
        let dir = TempDir::new("incr_days");
        let (table, _drop) = test_table(&db, "incr_days");
        let (stamp, column) = match db {
            Db::Pg => ("now()", "u timestamptz NOT NULL DEFAULT now()"),
            _ => (
                "NOW(6)",
                "u TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
            ),
        };
        db.create(
            &table,
            &format!("id INT PRIMARY KEY, {column}, v VARCHAR(40)"),
        );
        let target = dir.join("target.db");
        crate::util::db::sqlite_exec(
            &target,
            &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY, u TEXT, v TEXT)"),
        );
        let state = dir.join("state.json");
        let export_args = incremental_u(&db.url(), &table, &state, &["--chunk", "50", "--stats"]);
        let import_args: Vec<String> = [
            "import",
            "--url",
            &sqlite_url(&target),
            "-t",
            &table,
            "--on-conflict",
            "update",
        ]
        .map(String::from)
        .to_vec();
        let insert = |from: u64, to: u64| {
            db.exec(&format!(
                "INSERT INTO {table} (id, u, v) SELECT x, {stamp}, CONCAT('v', x) FROM ({}) AS s",
                series(&db, from, to)
            ))
        };
        let mut next_id = 1;
        let mut sent = 0;
        for round in 0..4 {
            // Many rows sharing one timestamp, so chunk boundaries fall
            // inside the tie.
            insert(next_id, next_id + 299);
            next_id += 300;
            db.exec(&format!(
                "UPDATE {table} SET v = 'r{round}', u = {stamp} WHERE id % 7 = {round}"
            ));
            // Stamped now, committed only after this round's run.
            let held = Held::begin(
                &db,
                &format!(
                    "INSERT INTO {table} (id, u, v) VALUES ({next_id}, {stamp}, 'late{round}'); \
                     UPDATE {table} SET v = 'held{round}', u = {stamp} WHERE id = {}",
                    round + 2
                ),
            );
            next_id += 1;
            std::thread::sleep(Duration::from_millis(20));
            insert(next_id, next_id + 49); // committed after the held rows' stamp
            next_id += 50;
            let stderr = pipe(&export_args, &import_args);
            let (rows, overlap) = stats(&stderr);
            assert!(rows >= overlap, "{}: {stderr}", db.name());
            sent += rows;
            held.commit();
        }
        // Quiet: one more run brings the late rows.
        let stderr = pipe(&export_args, &import_args);
        let (rows, overlap) = stats(&stderr);
        sent += rows;
        let source = export(&db.url(), &table).success();
        let copy = export(&sqlite_url(&target), &table).success();
        assert_eq!(
            copy.stdout_str(),
            source.stdout_str(),
            "{}: the target differs from the source",
            db.name()
        );
        let total = db.count(&table);
        assert!(sent >= total, "{}: {sent} rows sent for {total}", db.name());
        assert!(
            rows >= 2 && overlap <= rows,
            "{}: the last run: {stderr}",
            db.name()
        );
        // Nothing changed: a run sends no new row, only the header.
        let run = dbchunk(&export_args[..export_args.len() - 1]).success();
        let out = run.stdout_str();
        assert!(out.starts_with("id,u,v\n"), "{}: {out}", db.name());
    }
}

/// `SELECT x` for x in from..=to, as a derived table.
fn series(db: &Db, from: u64, to: u64) -> String {
    match db {
        Db::Pg => format!("SELECT generate_series({from}, {to}) AS x"),
        _ => format!("SELECT seq AS x FROM seq_{from}_to_{to}"),
    }
}

/// An ever-growing id: each run sends the rows after the last one, and a
/// run with nothing new writes only the header, or nothing with
/// --skip-empty.
#[test]
fn an_id_column_sends_each_row_once() {
    let dir = TempDir::new("incr_id");
    for db in Db::all(&dir) {
        let (table, _drop) = test_table(&db, "incr_id");
        db.create(&table, "id INT PRIMARY KEY, v VARCHAR(40)");
        db.exec(&format!("INSERT INTO {table} VALUES (1, 'a'), (2, 'b')"));
        let state = dir.join(&format!("{table}.json"));
        let run = || {
            export(&db.url(), &table)
                .args(["--incremental", "id", "--state", state.to_str().unwrap()])
                .args(["--stats"])
        };
        // Only a transaction open elsewhere on the server (another test's)
        // can hold an id run at its previous start: then it sends again.
        let settled = || {
            let first = run().success();
            if held(&first.stderr) {
                return false;
            }
            assert_eq!(first.stdout_str(), "id,v\n1,a\n2,b\n", "{}", db.name());
            db.exec(&format!("INSERT INTO {table} VALUES (3, 'c')"));
            let third = run().success();
            if held(&third.stderr) {
                assert!(third.stdout_str().ends_with("3,c\n"), "{}", db.name());
                return false;
            }
            assert_eq!(third.stdout_str(), "id,v\n3,c\n", "{}", db.name());
            assert_eq!(stats(&third.stderr), (1, 0), "{}", db.name());
            true
        };
        if !settled() {
            std::fs::remove_file(&state).unwrap();
            db.exec(&format!("DELETE FROM {table} WHERE id = 3"));
            assert!(settled(), "{}: transactions stayed open twice", db.name());
        }
        assert_eq!(run().success().stdout_str(), "id,v\n", "{}", db.name());
        let out = dir.join(&format!("{table}-{{date}}.csv"));
        run()
            .args(["--skip-empty", "-o", out.to_str().unwrap()])
            .success();
        assert!(
            !dir.entries()
                .iter()
                .any(|e| e.starts_with(&format!("{table}-"))),
            "{}: --skip-empty wrote a file: {:?}",
            db.name(),
            dir.entries()
        );
        db.exec(&format!("INSERT INTO {table} VALUES (4, 'd')"));
        run()
            .args(["--skip-empty", "-o", out.to_str().unwrap()])
            .success();
        let written: Vec<String> = dir
            .entries()
            .into_iter()
            .filter(|e| e.starts_with(&format!("{table}-20")) && e.ends_with(".csv"))
            .collect();
        assert_eq!(written.len(), 1, "{}: {:?}", db.name(), dir.entries());
        let text = std::fs::read_to_string(dir.join(&written[0])).unwrap();
        assert_eq!(text, "id,v\n4,d\n", "{}", db.name());
    }
}

/// kill -9 in the middle of a run leaves the state as it was, and the
/// next run sends everything the killed one did not finish.
#[test]
fn a_killed_run_leaves_the_state_and_the_next_catches_up() {
    let dir = TempDir::new("incr_kill");
    let db = Db::Pg;
    let (table, _drop) = test_table(&db, "incr_kill");
    db.create(
        &table,
        "id INT PRIMARY KEY, u timestamptz NOT NULL DEFAULT now(), v TEXT",
    );
    db.exec(&format!(
        "INSERT INTO {table} (id, v) SELECT x, 'v' || x FROM generate_series(1, 100) x"
    ));
    let state = dir.join("state.json");
    let url = db.url();
    let args = |out: &str| incremental_u(&url, &table, &state, &["-o", out, "--chunk", "100"]);
    let first = dir.join("first.csv");
    dbchunk(args(first.to_str().unwrap())).success();
    let before = std::fs::read(&state).unwrap();
    db.exec(&format!(
        "UPDATE {table} SET v = 'new', u = now() WHERE id <= 50; \
         INSERT INTO {table} (id, v) SELECT x, 'v' || x FROM generate_series(101, 20000) x"
    ));
    let killed = dir.join("killed.csv");
    let mut slow = args(killed.to_str().unwrap());
    slow.extend(["--max-rate".into(), "2000/s".into()]);
    let slow: Vec<&str> = slow.iter().map(String::as_str).collect();
    kill_after(&slow, Duration::from_millis(1500));
    assert_eq!(std::fs::read(&state).unwrap(), before, "the state moved");
    assert!(!killed.exists(), "a killed run left its output");
    let next = dir.join("next.csv");
    dbchunk(args(next.to_str().unwrap())).success();
    let text = std::fs::read_to_string(&next).unwrap();
    assert_eq!(
        text.lines().count(),
        1 + 50 + 19_900,
        "header, 50 updated, 19,900 new"
    );
    assert_ne!(std::fs::read(&state).unwrap(), before);
}

/// Two runs with one state file: the second exits 75 at once with one
/// line, or waits with --wait-lock.
#[test]
fn a_second_run_on_the_same_state_exits_75() {
    let dir = TempDir::new("incr_lock");
    let table = "incr_lock";
    let db = lite_id_v(&dir, table, 3_000);
    let state = dir.join("state.json");
    let args = |extra: &[&str]| {
        export(&db.url(), table)
            .args(["--incremental", "id", "--state", state.to_str().unwrap()])
            .args(["-o", "/dev/null", "--chunk", "100"])
            .args(extra.to_vec())
    };
    let mut first = args(&["--max-rate", "1000/s"]).spawn();
    let lock = dir.join("state.json.lock");
    wait_until(Duration::from_secs(10), "the first run's lock", || {
        lock.exists()
    });
    std::thread::sleep(Duration::from_millis(200));
    args(&[])
        .fails(75)
        .error_says(&["another dbchunk run", "75"]);
    assert!(!state.exists(), "the busy run wrote the state");
    let waited = args(&["--wait-lock", "30s", "--stats"]).success();
    assert!(first.wait().unwrap().success());
    // It ran after the first: nothing new was left for it.
    assert_eq!(stats(&waited.stderr), (0, 0), "{}", waited.stderr);
}

/// Wrong uses are usage errors before anything connects.
#[test]
fn incremental_refuses_what_it_cannot_honour() {
    let dir = TempDir::new("incr_usage");
    let url = sqlite_url(&dir.join("x.db"));
    let state = dir.join("s.json");
    let state = state.to_str().unwrap();
    for (extra, says) in [
        (vec!["-t", "t", "--incremental", "u"], "--state"),
        (
            vec!["-q", "select 1", "--incremental", "u", "--state", state],
            "--table",
        ),
        (
            vec![
                "-t", "t", "--incremental", "u", "--state", state, "--limit", "5",
            ],
            "--limit",
        ),
        (
            vec![
                "-t", "t", "--incremental", "u", "--state", state, "--strategy", "cursor",
            ],
            "keyset",
        ),
        (vec!["-t", "t", "-o", "x-{day}.csv"], "placeholder"),
    ] {
        let run = dbchunk(["export", "--url", &url]).args(extra).fails(2);
        assert!(
            run.stderr.starts_with("dbchunk: ") && run.stderr.contains(says),
            "{}",
            run.stderr
        );
    }
}
