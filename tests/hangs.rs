//! Nothing hangs without a limit: a server that accepts TCP and never
//! answers fails after --connect-timeout, and the first SIGINT or SIGTERM
//! ends the run at any stage (connecting, a blocked pipe, a silent stdin)
//! with its exit code and one line.

use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::db::{mysql_url, pg_url};
use crate::util::{dbchunk, sqlite_url, TempDir};

/// A server on 127.0.0.1 that accepts every connection and never says a
/// word. Returns its port; the connections are held until the tests end.
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a silent server");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

/// The test URL with its host and port replaced by 127.0.0.1:`port`.
fn at_port(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    format!(
        "{scheme}://{}127.0.0.1:{port}/{path}",
        user.unwrap_or_default()
    )
}

/// Waits for `child` up to `limit`; kills it and fails if it is still running.
fn wait_within(child: &mut Child, limit: Duration, what: &str) -> (i32, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code().expect("an exit code, not a signal"), stderr);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send(signal: &str, child: &Child) {
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
}

/// The single non-empty stderr line, which must start with `dbchunk: `.
#[track_caller]
fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got:\n{stderr}");
    assert!(lines[0].starts_with("dbchunk: "), "{stderr}");
    lines[0]
}

#[test]
fn hang_silent_server_fails_after_connect_timeout() {
    let port = silent_server();
    for (url, engine) in [
        (at_port(&pg_url(), port), "PostgreSQL"),
        (at_port(&mysql_url(), port), "MySQL"),
    ] {
        for command in ["export", "count"] {
            let started = Instant::now();
            let run =
                dbchunk([command, "--url", &url, "-t", "x", "--connect-timeout", "1"]).fails(1);
            let line = run.one_error_line();
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{engine} {command}: took {:?}",
                started.elapsed()
            );
            assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
            assert!(line.contains("did not answer within 1 s"), "{line}");
            assert!(line.contains("--connect-timeout"), "{line}");
        }
    }
    // Without the flag, PostgreSQL's own connect_timeout in the URL holds.
    let url = format!("{}?connect_timeout=1", at_port(&pg_url(), port));
    let started = Instant::now();
    let run = dbchunk(["count", "--url", &url, "-t", "x"]).fails(1);
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(
        run.one_error_line().contains("within 1 s"),
        "{}",
        run.stderr
    );
    // The flag wins over the URL.
    let run = dbchunk(["count", "--url", &url, "-t", "x", "--connect-timeout", "2"]).fails(1);
    assert!(
        run.one_error_line().contains("within 2 s"),
        "{}",
        run.stderr
    );
}

#[test]
fn hang_signal_while_connecting_ends_at_once() {
    let port = silent_server();
    let dir = TempDir::new("hang_signal_connecting");
    let file = dir.join("out.csv");
    let cases = [
        (at_port(&pg_url(), port), "-TERM", 143, "SIGTERM", true),
        (at_port(&mysql_url(), port), "-INT", 130, "SIGINT", false),
    ];
    for (url, signal, code, name, to_file) in cases {
        let mut args = vec![
            "export", "--url", &url, "-t", "x", "--connect-timeout", "600",
        ];
        if to_file {
            args.extend(["-o", file.to_str().unwrap()]);
        }
        let mut child = dbchunk(args)
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dbchunk");
        std::thread::sleep(Duration::from_millis(500));
        let sent = Instant::now();
        send(signal, &child);
        let (exit, stderr) = wait_within(&mut child, Duration::from_secs(10), name);
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            sent.elapsed()
        );
        assert_eq!(exit, code, "{stderr}");
        let line = one_line(&stderr);
        assert!(
            line.starts_with(&format!("dbchunk: stopped by {name} while connecting; ")),
            "{line}"
        );
        let outcome = match to_file {
            true => "the output file was not created",
            false => "nothing was written",
        };
        assert!(line.ends_with(outcome), "{line}");
    }
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
}

#[test]
fn hang_sigint_while_blocked_on_a_full_pipe() {
    let dir = TempDir::new("hang_full_pipe");
    let path = dir.join("big.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
         INSERT INTO t SELECT x, printf('%.100c', 'x') FROM c;",
    )
    .unwrap();
    drop(conn);
    let sqlite = sqlite_url(&path);
    let pg = pg_url();
    let runs: [&[&str]; 2] = [
        &["export", "--url", &sqlite, "-t", "t"],
        &[
            "export",
            "--url",
            &pg,
            "-q",
            "SELECT g, repeat('x', 100) FROM generate_series(1, 2000000) g",
        ],
    ];
    for args in runs {
        // stdout is a pipe that nobody reads: the export fills it and waits.
        let mut child = dbchunk(args.to_vec()).spawn();
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{args:?} ended before the signal: the pipe should hold it"
        );
        send("-INT", &child);
        let (exit, stderr) = wait_within(&mut child, Duration::from_secs(10), "SIGINT");
        assert_eq!(exit, 130, "{stderr}");
        let line = one_line(&stderr);
        assert!(
            line.starts_with("dbchunk: stopped by SIGINT while "),
            "{line}"
        );
        assert!(line.contains("stdout"), "{line}");
    }
}

#[test]
fn hang_sigterm_while_import_waits_for_its_header() {
    let dir = TempDir::new("hang_import_header");
    let path = dir.join("target.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE hang_t(id INTEGER PRIMARY KEY, v TEXT);")
        .unwrap();
    drop(conn);
    let url = sqlite_url(&path);
    // stdin stays open and empty: the header never comes.
    let mut child = dbchunk(["import", "--url", &url, "-t", "hang_t"])
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dbchunk");
    std::thread::sleep(Duration::from_millis(500));
    send("-TERM", &child);
    let (exit, stderr) = wait_within(&mut child, Duration::from_secs(10), "SIGTERM");
    assert_eq!(exit, 143, "{stderr}");
    assert_eq!(
        one_line(&stderr),
        "dbchunk: stopped by SIGTERM while reading the input's header; nothing was imported"
    );
}

/// SIGINT during a keyset export to a file with --state: the line says
/// what the state records, the partial file is kept, and --resume ends
/// with the same file a clean export writes.
#[test]
fn hang_sigint_with_state_says_what_to_resume() {
    let dir = TempDir::new("hang_state_sigint");
    let path = dir.join("src.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
         INSERT INTO t SELECT x, 'v' || x FROM c;",
    )
    .unwrap();
    drop(conn);
    let url = sqlite_url(&path);
    let clean = dbchunk(["export", "--url", &url, "-t", "t"])
        .success()
        .stdout;
    let (state, out) = (dir.join("s.json"), dir.join("out.csv"));
    let (state_arg, out_arg) = (state.to_str().unwrap(), out.to_str().unwrap());
    let args = [
        "export", "--url", &url, "-t", "t", "--state", state_arg, "-o", out_arg, "--chunk", "500",
        "--max-rate", "5000/s",
    ];
    let mut child = dbchunk(args)
        .command()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dbchunk");
    let started = Instant::now();
    while !state.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no checkpoint was written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    send("-INT", &child);
    let (exit, stderr) = wait_within(&mut child, Duration::from_secs(10), "SIGINT");
    assert_eq!(exit, 130, "{stderr}");
    let line = one_line(&stderr);
    assert!(
        line.contains(&format!("--state {state_arg} records ")),
        "{line}"
    );
    assert!(line.ends_with("rows: rerun with --resume"), "{line}");
    assert!(
        !out.exists(),
        "an interrupted export must not leave {out:?}"
    );
    dbchunk(args).arg("--resume").success();
    assert!(
        std::fs::read(&out).unwrap() == clean,
        "the resumed file differs"
    );
}
