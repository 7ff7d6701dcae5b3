//! Lost connections: a keyset export reconnects and goes on from the last
//! complete chunk with no row missing or doubled; a cursor export says it
//! cannot, and how to rerun.

use std::io::{BufRead, Read};
use std::process::Stdio;
use std::time::Duration;

use crate::util::db::{mysql_exec, mysql_url, pg_exec, pg_url, MysqlDropOnExit};
use crate::util::dbchunk;

/// Starts an export, and once it has written its first line runs `kill`
/// (which ends its session) each time in `kills`. Returns the exit code,
/// stdout and stderr.
fn export_killed(
    args: &[&str],
    kills: &[Duration],
    kill: &dyn Fn(),
) -> (Option<i32>, Vec<u8>, String) {
    let mut child = dbchunk(args.to_vec())
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dbchunk");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut written = Vec::new();
    stdout.read_until(b'\n', &mut written).unwrap();
    let reader = std::thread::spawn(move || {
        stdout.read_to_end(&mut written).unwrap();
        written
    });
    for pause in kills {
        std::thread::sleep(*pause);
        kill();
    }
    let written = reader.join().unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        written,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn assert_keyset_survives(url: &str, table: &str, kill: &dyn Fn()) {
    let clean = dbchunk(["export", "--url", url, "--table", table, "--quiet"])
        .success()
        .stdout;
    let args = [
        "export",
        "--url",
        url,
        "--table",
        table,
        "--strategy",
        "keyset",
        "--chunk",
        "500",
        "--max-rate",
        "8000/s",
    ];
    let kills = [Duration::from_millis(100), Duration::from_millis(1000)];
    let (code, written, stderr) = export_killed(&args, &kills, kill);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.matches("the connection was lost").count() >= 2,
        "expected two reconnections:\n{stderr}"
    );
    assert!(
        written == clean,
        "the reconnected export differs from a clean one\n{stderr}"
    );
}

fn assert_cursor_fails_clearly(url: &str, table: &str, kill: &dyn Fn()) {
    let args = [
        "export",
        "--url",
        url,
        "--table",
        table,
        "--strategy",
        "cursor",
        "--chunk",
        "500",
        "--max-rate",
        "8000/s",
    ];
    let (code, _, stderr) = export_killed(&args, &[Duration::from_millis(100)], kill);
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("the connection was lost, and a cursor export cannot go on")
            && lines[0].contains("--strategy keyset"),
        "{stderr}"
    );
}

#[test]
fn postgres_keyset_export_reconnects_after_terminate() {
    let table = "it_retry_pg";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id int PRIMARY KEY, v text);
         INSERT INTO {table} SELECT g, 'v' || g FROM generate_series(1, 20000) g;"
    ));
    let app = "it_retry_pg_app";
    let url = format!("{}?application_name={app}", pg_url());
    let kill = || {
        pg_exec(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"
        ))
    };
    assert_keyset_survives(&url, table, &kill);
    assert_cursor_fails_clearly(&url, table, &kill);
}

#[test]
fn mysql_keyset_export_reconnects_after_kill() {
    let table = "it_retry_my";
    let user = "it_retry_user";
    let _drop_user = MysqlDropOnExit(format!("DROP USER IF EXISTS '{user}'@'%'"));
    mysql_exec(&format!(
        "SET SESSION max_recursive_iterations = 100000;
         DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id INT PRIMARY KEY, v TEXT);
         INSERT INTO {table} WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
         SELECT x, CONCAT('v', x) FROM c;
         CREATE USER IF NOT EXISTS '{user}'@'%';
         GRANT SELECT ON {table} TO '{user}'@'%';"
    ));
    // The sessions of this test's own user are the ones to kill.
    let url = mysql_url().replacen("root@", &format!("{user}@"), 1);
    assert!(
        url.contains(user),
        "DBCHUNK_TEST_MYSQL_URL must name its user before @"
    );
    let kill = || {
        mysql_exec(&format!(
            "FOR s IN (SELECT id FROM information_schema.processlist WHERE user = '{user}') DO
               KILL CONNECTION s.id;
             END FOR"
        ))
    };
    assert_keyset_survives(&url, table, &kill);
    assert_cursor_fails_clearly(&url, table, &kill);
}

/// Imports 50,000 rows while `kill` ends the session twice (each time
/// once `count` shows rows going in), and returns stderr: the import must
/// finish with exit 0.
fn import_killed(
    url: &str,
    table: &str,
    strategy: &str,
    kill: &dyn Fn(),
    count: &dyn Fn() -> u64,
) -> String {
    let mut input = String::from("id,v\n");
    for i in 1..=50_000 {
        input.push_str(&format!("{i},v{i}\n"));
    }
    let mut child = dbchunk([
        "import",
        "--url",
        url,
        "--table",
        table,
        "--batch",
        "50",
        "--strategy",
        strategy,
    ])
    .command()
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start dbchunk");
    let mut stdin = child.stdin.take().unwrap();
    let writer =
        std::thread::spawn(move || std::io::Write::write_all(&mut stdin, input.as_bytes()));
    // Each kill waits until rows are going in on the current session.
    let mut seen = 0;
    for _ in 0..2 {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while count() < seen + 500 {
            assert!(
                std::time::Instant::now() < deadline,
                "the import is not moving"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        kill();
        seen = count();
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let fed = writer.join().unwrap();
    assert!(fed.is_ok(), "dbchunk stopped reading its input: {stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.matches("the connection was lost").count() >= 2,
        "expected two reconnections:\n{stderr}"
    );
    stderr
}

#[test]
fn postgres_import_reconnects_and_writes_each_row_once() {
    // No key: a batch lost in its COMMIT is looked up by transaction id.
    let table = "it_retry_import_pg";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table}; CREATE TABLE {table}(id int, v text);"
    ));
    let app = "it_retry_import_app";
    let url = format!("{}?application_name={app}", pg_url());
    let kill = || {
        pg_exec(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"
        ))
    };
    let count = || {
        let rows = crate::util::db::pg_query_text(&format!("SELECT count(*)::text FROM {table}"));
        rows.unwrap().parse().unwrap()
    };
    import_killed(&url, table, "copy", &kill, &count);
    let counts = crate::util::db::pg_query_text(&format!(
        "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || sum(id) FROM {table} WHERE v = 'v' || id"
    ));
    assert_eq!(counts.as_deref(), Some("50000 50000 1250025000"));
}

#[test]
fn mysql_import_reconnects_and_writes_each_row_once() {
    let table = "it_retry_import_my";
    let user = "it_retry_import_user";
    let _drop_user = MysqlDropOnExit(format!("DROP USER IF EXISTS '{user}'@'%'"));
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id INT PRIMARY KEY, v TEXT);
         CREATE USER IF NOT EXISTS '{user}'@'%';
         GRANT SELECT, INSERT, UPDATE ON {table} TO '{user}'@'%';"
    ));
    // A batch lost in its COMMIT is written again skipping the keys already
    // there (ON DUPLICATE KEY UPDATE id = id, hence UPDATE).
    let url = mysql_url().replacen("root@", &format!("{user}@"), 1);
    let kill = || {
        mysql_exec(&format!(
            "FOR s IN (SELECT id FROM information_schema.processlist WHERE user = '{user}') DO
               KILL CONNECTION s.id;
             END FOR"
        ))
    };
    let count = || {
        let rows = crate::util::db::mysql_query_text(&format!("SELECT count(*) FROM {table}"));
        rows.unwrap().parse().unwrap()
    };
    import_killed(&url, table, "insert", &kill, &count);
    let counts = crate::util::db::mysql_query_text(&format!(
        "SELECT CONCAT(count(*), ' ', count(DISTINCT id), ' ', sum(id)) FROM {table} WHERE v = CONCAT('v', id)"
    ));
    assert_eq!(counts.as_deref(), Some("50000 50000 1250025000"));
}
