//! Nothing hangs without a limit: a server that accepts TCP and never
//! answers fails after --connect-timeout, and the first SIGINT or SIGTERM
//! ends the run at any stage (connecting, a blocked pipe, a silent stdin)
//! with its exit code and one line.

use std::net::TcpListener;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::util::db::{mysql_url, pg_url};
use crate::util::engine::{Db, Fill, Table};
use crate::util::procs::{finish, signal, wait_until};
use crate::util::tables::lite_id_v;
use crate::util::{dbchunk, Run, TempDir};

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

/// Waits for `child` up to `limit`; kills it and fails if it is still
/// running. What it wrote to stdout is not kept (it is not what these
/// tests judge, and a blocked pipe holds a lot).
fn wait_within(mut child: Child, limit: Duration, what: &str) -> Run {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(child.stdout.take());
    finish(child, what)
}

/// Signals the run `child` once it has had `delay` to get going, which
/// must end it within 5 s, with `code` and one `dbchunk: stopped by NAME
/// while ...` line; the line.
#[track_caller]
fn stop(mut child: Child, delay: Duration, signal_name: &str, code: i32) -> String {
    std::thread::sleep(delay);
    assert!(
        child.try_wait().unwrap().is_none(),
        "it ended before the signal: nothing held it"
    );
    let sent = Instant::now();
    signal(&child, &format!("-{signal_name}"));
    let run = wait_within(child, Duration::from_secs(10), signal_name);
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{signal_name}: {:?}",
        sent.elapsed()
    );
    run.assert_code(code);
    let line = run.one_error_line();
    assert!(
        line.starts_with(&format!("dbchunk: stopped by SIG{signal_name} while ")),
        "{line}"
    );
    line.to_string()
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
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{engine} {command}: took {:?}",
                started.elapsed()
            );
            let at = format!("127.0.0.1:{port}");
            run.error_says(&[&at, "did not answer within 1 s", "--connect-timeout"]);
        }
    }
    // Without the flag, PostgreSQL's own connect_timeout in the URL holds.
    let url = format!("{}?connect_timeout=1", at_port(&pg_url(), port));
    let started = Instant::now();
    let run = dbchunk(["count", "--url", &url, "-t", "x"]).fails(1);
    assert!(started.elapsed() < Duration::from_secs(8));
    run.error_says(&["within 1 s"]);
    // The flag wins over the URL.
    let run = dbchunk(["count", "--url", &url, "-t", "x", "--connect-timeout", "2"]).fails(1);
    run.error_says(&["within 2 s"]);
}

#[test]
fn hang_signal_while_connecting_ends_at_once() {
    let port = silent_server();
    let dir = TempDir::new("hang_signal_connecting");
    let file = dir.join("out.csv");
    let cases = [
        (at_port(&pg_url(), port), "TERM", 143, true),
        (at_port(&mysql_url(), port), "INT", 130, false),
    ];
    for (url, signal_name, code, to_file) in cases {
        let mut args = vec![
            "export", "--url", &url, "-t", "x", "--connect-timeout", "600",
        ];
        if to_file {
            args.extend(["-o", file.to_str().unwrap()]);
        }
        let child = dbchunk(args).spawn();
        let line = stop(child, Duration::from_millis(500), signal_name, code);
        let connecting = format!("dbchunk: stopped by SIG{signal_name} while connecting; ");
        assert!(line.starts_with(&connecting), "{line}");
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
    let db = Db::lite(&dir);
    let row = [Fill::Id, Fill::Literal("printf('%.100c', 'x')")];
    Table::id_v("t").create(&db).fill(&db, 1..=100_000, &row);
    let sqlite = db.url();
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
        let child = dbchunk(args.to_vec()).spawn();
        let line = stop(child, Duration::from_millis(1500), "INT", 130);
        assert!(line.contains("stdout"), "{args:?}: {line}");
    }
}

#[test]
fn hang_sigterm_while_import_waits_for_its_header() {
    let dir = TempDir::new("hang_import_header");
    let db = Db::lite(&dir);
    Table::id_v("hang_t").create(&db);
    let url = db.url();
    // stdin stays open and empty: the header never comes.
    let child = dbchunk(["import", "--url", &url, "-t", "hang_t"]).spawn_with_stdin();
    assert_eq!(
        stop(child, Duration::from_millis(500), "TERM", 143),
        "dbchunk: stopped by SIGTERM while reading the input's header; nothing was imported"
    );
}

/// SIGINT during a keyset export to a file with --state: the line says
/// what the state records, the partial file is kept, and --resume ends
/// with the same file a clean export writes.
#[test]
fn hang_sigint_with_state_says_what_to_resume() {
    let dir = TempDir::new("hang_state_sigint");
    let db = lite_id_v(&dir, "t", 20_000);
    let url = db.url();
    let clean = dbchunk(["export", "--url", &url, "-t", "t"])
        .success()
        .stdout;
    let (state, out) = (dir.join("s.json"), dir.join("out.csv"));
    let (state_arg, out_arg) = (state.to_str().unwrap(), out.to_str().unwrap());
    let args = [
        "export", "--url", &url, "-t", "t", "--state", state_arg, "-o", out_arg, "--chunk", "500",
        "--max-rate", "5000/s",
    ];
    let child = dbchunk(args).spawn();
    wait_until(Duration::from_secs(20), "a checkpoint", || state.exists());
    let line = stop(child, Duration::ZERO, "INT", 130);
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
