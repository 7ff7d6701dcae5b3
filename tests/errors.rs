//! Errors read as dbchunk's own: the `dbchunk:` prefix and exit 2 for every
//! usage error (clap's included), and the drivers' messages cleaned to one
//! line without doubled causes or quoting.

use crate::util::db::{mysql_url, pg_url};
use crate::util::{dbchunk, BIN};

/// A port on 127.0.0.1 where nothing listens (bound, then let go).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `url` with its host and port replaced, and with `password` if given.
fn url_with(url: &str, port: Option<u16>, password: Option<&str>) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let user = user.split(':').next().unwrap();
    let user = match password {
        Some(password) => format!("{user}:{password}@"),
        None if user.is_empty() => String::new(),
        None => format!("{user}@"),
    };
    let host = match port {
        Some(port) => format!("127.0.0.1:{port}"),
        None => host.to_string(),
    };
    format!("{scheme}://{user}{host}/{path}")
}

/// No driver wrapper, quoting or repeated cause in a cleaned line.
#[track_caller]
fn assert_clean(line: &str, cause: &str) {
    for noise in [
        "Server error", "Input/output error", "`", "db error", "os error",
    ] {
        assert!(!line.contains(noise), "{noise:?} in: {line}");
    }
    let lower = line.to_lowercase();
    assert_eq!(
        lower.matches(cause).count(),
        1,
        "{cause:?} should be said once: {line}"
    );
}

#[test]
fn errors_missing_url_is_ours_with_exit_2() {
    let output = dbchunk(["export", "-t", "x"])
        .command()
        .env_clear()
        .output()
        .expect("run dbchunk");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "dbchunk: no database URL: give --url or set DATABASE_URL\n"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn errors_from_clap_have_our_prefix_and_exit_2() {
    for args in [
        &["export", "--bogus"][..],
        &[
            "export", "--url", "sqlite::memory:", "-t", "t", "--chunk", "abc",
        ],
        &[
            "count", "--url", "sqlite::memory:", "-t", "t", "--connect-timeout", "0",
        ],
        &["frobnicate"],
    ] {
        let run = dbchunk(args.to_vec()).fails(2);
        assert!(run.stdout.is_empty(), "{args:?}");
        let first = run.stderr.lines().next().unwrap_or("");
        assert!(first.starts_with("dbchunk: "), "{args:?}: {}", run.stderr);
        assert!(
            !run.stderr.lines().any(|l| l.starts_with("error:")),
            "{args:?}: {}",
            run.stderr
        );
    }
    let run = dbchunk(["export", "--bogus"]).fails(2);
    assert!(run
        .stderr
        .starts_with("dbchunk: unexpected argument '--bogus' found"));
    assert!(
        run.stderr.contains("Usage: dbchunk export"),
        "{}",
        run.stderr
    );
    // Help and version still go to stdout, with success.
    let help = dbchunk(["export", "--help"]).success();
    assert!(help.stdout_str().contains("--connect-timeout <SECONDS>"));
    assert!(help.stderr.is_empty());
    let version = dbchunk(["--version"]).success();
    assert!(version.stdout_str().starts_with("dbchunk "));
    assert!(std::path::Path::new(BIN).exists());
}

/// `url` with its database swapped for one that does not exist.
fn unknown_database(url: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/errors_no_such_db")
}

/// What follows `--url` in a run that must fail.
const TABLE_X: [&str; 2] = ["-t", "x"];
/// A query whose --where is not SQL.
const BAD_WHERE: [&str; 4] = ["-q", "SELECT 1 AS a", "--where", "a = = 1"];

/// A run that must fail: `command --url URL SOURCE`, the `cause` its line
/// says once, and what else it says.
type Failing<'a> = (&'a str, &'a str, &'a [&'a str], &'a str, &'a [&'a str]);

/// Each run fails with exit 1 and one line that says its `cause` once,
/// cleaned ([`assert_clean`]), and each of `says`; the lines.
#[track_caller]
fn assert_fail_cleanly(cases: &[Failing]) -> Vec<String> {
    let mut lines = Vec::new();
    for (command, url, source, cause, says) in cases {
        let run = dbchunk([command, "--url", url]).args(*source).fails(1);
        assert_clean(run.error_says(says), cause);
        lines.push(run.one_error_line().to_string());
    }
    lines
}

#[test]
fn errors_mysql_connection_failures_read_cleanly() {
    let refused = url_with(&mysql_url(), Some(closed_port()), None);
    let wrong = url_with(&mysql_url(), None, Some("errors_wrong_pw"));
    let lines = assert_fail_cleanly(&[
        (
            "count",
            &refused,
            &TABLE_X,
            "refused",
            &["refused the connection"],
        ),
        (
            "export",
            &wrong,
            &TABLE_X,
            "access denied",
            &["ERROR 1045 (28000): Access denied"],
        ),
        (
            "count",
            &unknown_database(&mysql_url()),
            &TABLE_X,
            "unknown database",
            &["ERROR 1049"],
        ),
        (
            "count",
            &mysql_url(),
            &BAD_WHERE,
            "error in your sql syntax",
            &["ERROR 1064 (42000)"],
        ),
    ]);
    assert!(lines[1].contains("check the user"), "{}", lines[1]);
    assert!(!lines[1].contains("errors_wrong_pw"), "{}", lines[1]);
    assert!(lines[2].contains("ERROR 1049 (42000)"), "{}", lines[2]);
    assert!(
        lines[3].ends_with("check the SQL of --where and --query (it runs as written)"),
        "{}",
        lines[3]
    );
}

#[test]
fn errors_postgres_connection_failures_read_cleanly() {
    let port = closed_port();
    let refused = url_with(&pg_url(), Some(port), None);
    let says = format!("127.0.0.1:{port} refused the connection");
    assert_fail_cleanly(&[
        ("export", &refused, &TABLE_X, "refused", &[&says]),
        ("count", &refused, &TABLE_X, "refused", &[&says]),
        (
            "count",
            &unknown_database(&pg_url()),
            &TABLE_X,
            "does not exist",
            &["check the database name"],
        ),
        (
            "export",
            &pg_url(),
            &BAD_WHERE,
            "syntax error",
            &["check the SQL of --where"],
        ),
    ]);
}
