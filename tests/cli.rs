//! The command line contract: exit codes, where messages go, and that
//! passwords never show.

use crate::util::db::pg_url;
use crate::util::{dbchunk, export, import, sqlite_url, Cmd, Run, TempDir};

const SECRET: &str = "SuperSecret123";

/// A small SQLite file with one keyed table `t` (3 rows) and a view `v`.
fn small_db(dir: &TempDir) -> String {
    let path = dir.join("small.db");
    let conn = rusqlite::Connection::open(&path).expect("create SQLite file");
    conn.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
         CREATE VIEW v AS SELECT id, name FROM t;",
    )
    .expect("fill SQLite file");
    sqlite_url(&path)
}

/// A usage error: exit 2, nothing on stdout, a message on stderr.
#[track_caller]
fn usage_error(cmd: Cmd) -> String {
    let run = cmd.fails(2);
    assert!(
        run.stdout.is_empty(),
        "{}: stdout must stay empty: {:?}",
        run.args,
        run.stdout_str()
    );
    assert!(
        !run.stderr.trim().is_empty(),
        "{}: a usage error needs a message",
        run.args
    );
    run.stderr
}

/// Command lines refused before anything runs, on the small database:
/// each row is a test of its own, with the words its one message must
/// hold (`says`) or the whole message (`is`).
macro_rules! usage_errors {
    ($($name:ident: $cmd:ident($table:literal, $args:expr) $check:ident $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let dir = TempDir::new(stringify!($name));
            let url = small_db(&dir);
            let err = usage_error($cmd(&url, $table).args($args));
            usage_errors!(@$check err, $expected);
        }
    )*};
    (@says $err:ident, $words:expr) => {
        for word in $words {
            assert!($err.contains(word), "{word:?} is not in: {}", $err);
        }
    };
    (@is $err:ident, $whole:expr) => {
        assert_eq!($err.trim(), $whole);
    };
}

usage_errors! {
    cli_copy_strategy_needs_postgres: export("t", ["--strategy", "copy"]) says ["copy", "PostgreSQL"];
    cli_zero_chunk_is_a_usage_error: export("t", ["--chunk", "0"]) is "dbchunk: --chunk must be at least 1";
    cli_zero_batch_is_a_usage_error: import("t", ["--batch", "0"]) is "dbchunk: --batch must be at least 1";
    cli_keyset_on_a_view_without_key_names_key_flag: export("v", ["--strategy", "keyset"]) says ["--key"];
    cli_offset_on_a_view_without_key_names_key_flag: export("v", ["--strategy", "offset"]) says ["--key"];
}

#[test]
fn cli_table_and_query_are_exclusive() {
    let dir = TempDir::new("cli_table_and_query_are_exclusive");
    let url = small_db(&dir);
    let err = usage_error(export(&url, "t").args(["--query", "SELECT 1"]));
    assert!(err.contains("--table") && err.contains("--query"), "{err}");
    // Neither is a usage error too.
    usage_error(dbchunk(["export", "--url", &url]));
}

#[test]
fn cli_unknown_url_scheme() {
    let err = usage_error(export("oracle://x", "t"));
    assert!(err.starts_with("dbchunk: "), "{err}");
    assert!(err.contains("oracle://x"), "{err}");
    usage_error(dbchunk(["count", "--url", "oracle://x", "--table", "t"]));
}

#[test]
fn cli_unsupported_compression_is_refused() {
    let dir = TempDir::new("cli_compressed_output_is_refused");
    let url = small_db(&dir);
    for (name, more) in [("x.csv.bz2", None), ("x.csv.gz", Some("zstd"))] {
        let out = dir.join(name);
        let mut cmd = export(&url, "t").arg("--output").arg(&out);
        if let Some(codec) = more {
            cmd = cmd.args(["--compress", codec]);
        }
        let err = usage_error(cmd);
        assert!(err.contains(name), "{err}");
        assert!(
            !out.exists(),
            "no file may be created for a refused command line"
        );
    }
    // Relative name, as a user would type it.
    usage_error(export(&url, "t").args(["--output", "x.csv.xz"]));
}

#[test]
fn cli_a_view_exports_by_the_key_named() {
    let dir = TempDir::new("cli_a_view_exports_by_the_key_named");
    let url = small_db(&dir);
    let run = export(&url, "v")
        .args(["--strategy", "keyset", "--key", "id"])
        .success();
    assert_eq!(run.stdout_str(), "id,name\n1,a\n2,b\n3,c\n");
}

#[test]
fn cli_count_prints_one_integer_line() {
    let dir = TempDir::new("cli_count_prints_one_integer_line");
    let url = small_db(&dir);
    let run = dbchunk(["count", "--url", &url, "--table", "t"]).success();
    assert_eq!(run.stdout_str(), "3\n");
    assert_eq!(run.stderr, "");
    let run = dbchunk(["count", "--url", &url, "--table", "t", "--where", "id >= 2"]).success();
    assert_eq!(run.stdout_str(), "2\n");
    let run = dbchunk([
        "count", "--url", &url, "--query", "SELECT * FROM t WHERE name <> 'b'",
    ])
    .success();
    assert_eq!(run.stdout_str(), "2\n");
    let run = dbchunk(["count", "--url", &url, "--table", "t", "--estimate"]).success();
    let n: u64 = run.stdout_str().trim_end().parse().expect("an integer");
    assert!(run.stdout_str().ends_with('\n') && run.stdout_str().lines().count() == 1);
    assert!(n <= 3, "estimate {n}");
}

#[test]
fn cli_url_from_database_url_env() {
    let dir = TempDir::new("cli_url_from_database_url_env");
    let url = small_db(&dir);
    let run = dbchunk(["count", "--table", "t"])
        .env("DATABASE_URL", &url)
        .success();
    assert_eq!(run.stdout_str(), "3\n");
    // Without either, it is a usage error.
    usage_error(dbchunk(["count", "--table", "t"]));
}

#[test]
fn cli_missing_sqlite_file_names_the_path() {
    let dir = TempDir::new("cli_missing_sqlite_file_names_the_path");
    let missing = dir.join("no-such-file.db");
    let url = sqlite_url(&missing);
    for command in ["export", "count"] {
        let run = dbchunk([command, "--url", &url, "--table", "t"]).fails(1);
        let line = run.one_error_line();
        assert!(line.contains(missing.to_str().unwrap()), "{line}");
    }
    assert!(
        !missing.exists(),
        "dbchunk must not create the SQLite file it reads"
    );
}

#[test]
fn cli_unknown_table_is_named() {
    let dir = TempDir::new("cli_unknown_table_is_named");
    let url = small_db(&dir);
    export(&url, "no_such_table_xyz").fails_saying(1, &["no_such_table_xyz"]);
    dbchunk(["count", "--url", &url, "--table", "no_such_table_xyz"])
        .fails_saying(1, &["no_such_table_xyz"]);
}

#[test]
fn cli_unknown_postgres_table_is_named() {
    export(&pg_url(), "cli_no_such_table_xyz").fails_saying(1, &["cli_no_such_table_xyz"]);
}

#[test]
fn cli_unknown_column_is_named() {
    let dir = TempDir::new("cli_unknown_column_is_named");
    let url = small_db(&dir);
    export(&url, "t")
        .args(["--columns", "id,nope_col"])
        .fails_saying(1, &["nope_col"]);
}

/// Runs `cmd`, which must fail with `code` and one error line; nothing it
/// writes shows SECRET.
#[track_caller]
fn fails_hiding_secret(cmd: Cmd, code: i32) -> Run {
    let run = cmd.fails(code);
    run.one_error_line();
    run.assert_hides(SECRET);
    run
}

#[test]
fn cli_postgres_auth_failure_hides_password() {
    let url = format!("postgres://nosuchuser:{SECRET}@127.0.0.1:5432/test");
    for args in [
        vec!["export", "--url", &url, "--table", "t"],
        vec!["count", "--url", &url, "--table", "t"],
        vec!["export", "--url", &url, "--table", "t", "--explain"],
    ] {
        let run = fails_hiding_secret(dbchunk(&args), 1);
        let line = run.one_error_line();
        assert!(!String::from_utf8_lossy(&run.stdout).contains(SECRET));
        assert!(
            line.contains("nosuchuser"),
            "the message should name the user: {line}"
        );
    }
    // The same through DATABASE_URL.
    fails_hiding_secret(
        dbchunk(["count", "--table", "t"]).env("DATABASE_URL", &url),
        1,
    );
}

#[test]
fn cli_unreachable_postgres_gives_a_hint_and_hides_password() {
    let url = format!("postgres://u:{SECRET}@127.0.0.1:1/test");
    let run = fails_hiding_secret(export(&url, "t"), 1);
    let line = run.one_error_line().to_lowercase();
    assert!(
        line.contains("host") || line.contains("server") || line.contains("running"),
        "the message should say where to look: {line}"
    );
    fails_hiding_secret(dbchunk(["count", "--url", &url, "--table", "t"]), 1);
}

#[test]
fn cli_password_in_bad_usage_is_hidden() {
    // A usage error found after the URL was read must not echo the URL's password.
    let url = format!("postgres://u:{SECRET}@127.0.0.1:1/test");
    let run = export(&url, "a.b.c").fails(2);
    run.assert_hides(SECRET);
    let run = export(&url, "t").args(["--output", "x.csv.bz2"]).fails(2);
    run.assert_hides(SECRET);
}

#[test]
fn cli_help_mentions_commands() {
    let run = dbchunk(["--help"]).success();
    let help = run.stdout_str();
    assert!(help.contains("export"), "{help}");
    assert!(help.contains("count"), "{help}");
    let run = dbchunk(["export", "--help"]).success();
    for flag in ["--strategy", "--chunk", "--format", "--where", "--key"] {
        assert!(
            run.stdout_str().contains(flag),
            "export --help lacks {flag}"
        );
    }
    // No subcommand at all is a usage error.
    dbchunk(Vec::<&str>::new()).fails(2);
}
