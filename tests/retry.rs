//! Lost connections: an export that reads in key order (keyset, and
//! cursor or copy with a key) reconnects and goes on from the last
//! complete chunk with no row missing or doubled; a cursor export of rows
//! with no key says it cannot, and how to rerun.

use std::io::{BufRead, Read};
use std::time::Duration;

use crate::util::db::{mysql_exec, mysql_url, pg_exec, pg_url, MysqlDropOnExit};
use crate::util::engine::{Db, Fill, Table, Ty};
use crate::util::procs::finish;
use crate::util::tables::{id_counts, ids_once, test_table};
use crate::util::{dbchunk, export, import};

/// Starts an export, and once it has written its first line runs `kill`
/// (which ends its session) each time in `kills`. Returns the exit code,
/// stdout and stderr.
fn export_killed(
    args: &[&str],
    kills: &[Duration],
    kill: &dyn Fn(),
) -> (Option<i32>, Vec<u8>, String) {
    let mut child = dbchunk(args.to_vec()).spawn();
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
    let run = finish(child, &args.join(" "));
    (run.code, written, run.stderr)
}

fn assert_survives(url: &str, table: &str, strategy: &str, kill: &dyn Fn()) {
    let clean = export(url, table).arg("--quiet").success().stdout;
    let args = [
        "export", "--url", url, "--table", table, "--strategy", strategy, "--chunk", "500",
        "--max-rate", "4MB/s",
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
        "the reconnected {strategy} export differs from a clean one\n{stderr}"
    );
}

fn assert_keyless_cursor_fails_clearly(url: &str, table: &str, kill: &dyn Fn()) {
    let query = format!("SELECT id, v, pad FROM {table}");
    let args = [
        "export", "--url", url, "--query", &query, "--strategy", "cursor", "--chunk", "500",
        "--max-rate", "4MB/s",
    ];
    let (code, _, stderr) = export_killed(&args, &[Duration::from_millis(100)], kill);
    assert_eq!(code, Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("the connection was lost, and a cursor export of rows with no key")
            && lines[0].contains("name a key with --key"),
        "{stderr}"
    );
}

/// A URL whose sessions a test can end at will, and the way to end them:
/// PostgreSQL sessions by their application name, MySQL ones by a user of
/// the test's own (dropped at the end) granted `grants` on `table`.
struct Killable {
    url: String,
    kill: Box<dyn Fn()>,
    _user: Option<MysqlDropOnExit>,
}

fn killable(db: &Db, name: &str, table: &str, grants: &str) -> Killable {
    match db {
        Db::Pg => {
            let app = format!("{name}_app");
            let kill = move || {
                pg_exec(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = '{app}'"
                ))
            };
            Killable {
                url: format!("{}?application_name={name}_app", pg_url()),
                kill: Box::new(kill),
                _user: None,
            }
        }
        Db::My => {
            let user = format!("{name}_user");
            let dropped = MysqlDropOnExit(format!("DROP USER IF EXISTS '{user}'@'%'"));
            mysql_exec(&format!(
                "CREATE USER IF NOT EXISTS '{user}'@'%'; GRANT {grants} ON {table} TO '{user}'@'%';"
            ));
            let url = mysql_url().replacen("root@", &format!("{user}@"), 1);
            assert!(
                url.contains(&user),
                "DBCHUNK_TEST_MYSQL_URL must name its user before @"
            );
            let kill = move || {
                mysql_exec(&format!(
                    "FOR s IN (SELECT id FROM information_schema.processlist WHERE user = '{user}') DO
                       KILL CONNECTION s.id;
                     END FOR"
                ))
            };
            Killable {
                url,
                kill: Box::new(kill),
                _user: Some(dropped),
            }
        }
        Db::Lite(_) => unreachable!("a SQLite file has no connection to lose"),
    }
}

/// Every strategy that reads by key goes on after two lost connections;
/// a cursor over rows with no key stops. The rows are wide (20 MB in
/// all, read at 4 MB/s): more than the socket buffers hold, so the server
/// is still sending one statement's rows when its session is ended.
fn export_reconnects(db: Db, name: &str, strategies: &[&str]) {
    let table = Table::id_v(name).col("pad", Ty::Text);
    let _drop = db.drop_on_exit(name);
    table.create(&db).fill(
        &db,
        1..=40_000,
        &[
            Fill::Id,
            Fill::Prefixed("v"),
            Fill::Literal("REPEAT('x', 500)"),
        ],
    );
    let session = killable(&db, name, name, "SELECT");
    for strategy in strategies {
        assert_survives(&session.url, name, strategy, &session.kill);
    }
    assert_keyless_cursor_fails_clearly(&session.url, name, &session.kill);
}

#[test]
fn postgres_export_reconnects_after_terminate() {
    export_reconnects(Db::Pg, "it_retry_pg", &["copy", "cursor", "keyset"]);
}

#[test]
fn mysql_export_reconnects_after_kill() {
    export_reconnects(Db::My, "it_retry_my", &["cursor", "keyset"]);
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
    let mut child = import(url, table)
        .args(["--batch", "50", "--strategy", strategy])
        .spawn_with_stdin();
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
    let run = finish(child, &format!("the import into {table}"));
    let fed = writer.join().unwrap();
    assert!(
        fed.is_ok(),
        "dbchunk stopped reading its input: {}",
        run.stderr
    );
    run.assert_code(0);
    assert!(
        run.stderr.matches("the connection was lost").count() >= 2,
        "expected two reconnections:\n{}",
        run.stderr
    );
    run.stderr
}

/// 50,000 rows go in once each although the session is ended twice, into
/// `id, v` with `id` the key or not.
fn import_reconnects(db: Db, keyed: bool, strategy: &str) {
    let (name, _drop) = test_table(&db, "it_retry_import");
    let name = &name;
    let table = match keyed {
        true => Table::new(name).key("id", Ty::Int),
        false => Table::new(name).col("id", Ty::Int),
    };
    table.col("v", Ty::Text).create(&db);
    let session = killable(&db, name, name, "SELECT, INSERT, UPDATE");
    let count = || db.count(name);
    import_killed(&session.url, name, strategy, &session.kill, &count);
    let matching = match db {
        Db::My => "v = CONCAT('v', id)",
        _ => "v = 'v' || id",
    };
    assert_eq!(id_counts(&db, name, matching), ids_once(50_000));
}

#[test]
fn postgres_import_reconnects_and_writes_each_row_once() {
    // No key: a batch lost in its COMMIT is looked up by transaction id.
    import_reconnects(Db::Pg, false, "copy");
}

#[test]
fn mysql_import_reconnects_and_writes_each_row_once() {
    // A batch lost in its COMMIT is written again skipping the keys already
    // there (ON DUPLICATE KEY UPDATE id = id, hence UPDATE).
    import_reconnects(Db::My, true, "insert");
}
