//! The password never shows: not in errors, warnings, progress, stats,
//! --explain, state or reject files, from the URL, a password file or the
//! environment, in runs that succeed and runs that fail.

use crate::util::db::{mysql_exec, mysql_url, pg_url, MysqlDropOnExit};
use crate::util::{dbchunk, Cmd, TempDir};

const PASSWORD: &str = "Pw-S3cr3t-9x";
const USER: &str = "it_secret_user";

/// Runs `cmd` and returns everything it printed.
fn outputs(cmd: Cmd, code: i32) -> String {
    let run = cmd.run();
    run.assert_code(code);
    format!("{}\n{}", String::from_utf8_lossy(&run.stdout), run.stderr)
}

fn with_password(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}:{password}@{host}")
}

#[test]
fn passwords_never_appear_in_any_output() {
    let dir = TempDir::new("secrets");
    let table = "it_secret_t";
    let _drop_user = MysqlDropOnExit(format!("DROP USER IF EXISTS '{USER}'@'%'"));
    mysql_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table}(id INT PRIMARY KEY, v TEXT);
         INSERT INTO {table} VALUES (1, 'a'), (2, 'b'), (3, 'c');
         CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';
         ALTER USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';
         GRANT ALL ON {table} TO '{USER}'@'%';"
    ));
    let my = with_password(&mysql_url(), USER, PASSWORD);
    let my_bare = with_password(&mysql_url(), USER, "").replace(":@", "@");
    let my_wrong = with_password(&mysql_url(), USER, &format!("{PASSWORD}-wrong"));
    // PostgreSQL's trust auth takes any password, so these runs succeed.
    let pg = with_password(&pg_url(), "postgres", PASSWORD);
    let state = dir.join("state.json");
    let rejects = dir.join("rejects.txt");
    let password_file = dir.join("pw");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let (state_arg, rejects_arg, pw_arg) = (
        state.to_str().unwrap(),
        rejects.to_str().unwrap(),
        password_file.to_str().unwrap(),
    );
    let export = [
        "export", "--table", table, "--chunk", "1", "--stats", "--progress", "always",
    ];
    let mut printed = vec![
        outputs(
            dbchunk(export).args(["--url", &my, "--state", state_arg]),
            0,
        ),
        outputs(crate::util::export(&my, table).arg("--explain"), 0),
        outputs(dbchunk(["count", "--url", &my, "--table", table]), 0),
        outputs(
            dbchunk(export)
                .args(["--url", &my_bare])
                .env("MYSQL_PWD", PASSWORD),
            0,
        ),
        outputs(
            dbchunk(export).args(["--url", &my_bare, "--password-file", pw_arg]),
            0,
        ),
        outputs(
            dbchunk([
                "import", "--url", &my, "--table", table, "--stats", "--progress", "always",
            ])
            .args(["--reject-file", rejects_arg, "--max-errors", "5"])
            .stdin("id,v\n4,d\nx,e\n1,dup\n"),
            3, // completed, with rejects
        ),
        // Failures: wrong password, no such table, bad SQL, no server,
        // a broken URL, a usage error, a duplicate key.
        outputs(dbchunk(export).args(["--url", &my_wrong]), 1),
        outputs(
            dbchunk(export)
                .args(["--url", &my_bare])
                .env("MYSQL_PWD", "nope-9"),
            1,
        ),
        outputs(crate::util::export(&my, "it_secret_none"), 1),
        outputs(
            dbchunk(export).args(["--url", &my, "--where", "no such sql"]),
            1,
        ),
        outputs(crate::util::export(&pg, "it_secret_none"), 1),
        outputs(
            dbchunk(["export", "--url", &pg, "--query", "SELECT 1/0"]),
            1,
        ),
        outputs(
            dbchunk(["export", "--table", table])
                .arg("--url")
                .arg(with_password(
                    "postgres://x@127.0.0.1:1/test", "x", PASSWORD,
                )),
            1,
        ),
        outputs(
            dbchunk(["export", "--table", "t"])
                .arg("--url")
                .arg(format!("postgres://u:{PASSWORD}@h:notaport/db")),
            1,
        ),
        outputs(dbchunk(export).args(["--url", &my, "--chunk", "0"]), 2),
        outputs(
            dbchunk(["import", "--url", &my, "--table", table]).stdin("id,v\n1,again\n"),
            1,
        ),
        outputs(
            dbchunk([
                "import", "--url", &my, "--table", table, "--password-file", pw_arg,
            ])
            .stdin("id,v\n"),
            2,
        ),
    ];
    printed.push(std::fs::read_to_string(&state).unwrap());
    printed.push(std::fs::read_to_string(&rejects).unwrap());
    for (i, text) in printed.iter().enumerate() {
        assert!(
            !text.contains(PASSWORD),
            "run {i} printed the password:\n{text}"
        );
        assert!(
            !text.contains("S3cr3t"),
            "run {i} printed part of the password:\n{text}"
        );
    }
    // The runs did what they say: the password sources worked.
    assert!(printed[3].starts_with("id,v\n1,a\n"), "{}", printed[3]);
    assert!(printed[4].starts_with("id,v\n1,a\n"), "{}", printed[4]);
    assert!(printed[6].contains("Access denied"), "{}", printed[6]);
}
