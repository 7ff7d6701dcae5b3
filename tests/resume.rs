//! Resumable exports: kill -9 at several points, resume, and the output
//! equals a clean export byte for byte, on every engine and with every
//! strategy that reads by key (auto's at three points, the others at one).

use std::time::Duration;

use crate::util::engine::{Db, Fill, Table, Ty};
use crate::util::procs::{finish, kill_and_resume, signal};
use crate::util::tables::lite_id_v;
use crate::util::{dbchunk, TempDir};

/// For a file output and for stdout: kill, resume, compare.
fn assert_resumes(url: &str, table: &str, strategy: &str, dir: &TempDir) {
    let clean = dbchunk([
        "export", "--url", url, "--table", table, "--strategy", "keyset", "--quiet",
    ])
    .success()
    .stdout;
    let slow = [
        "--chunk", "300", "--max-rate", "20000/s", "--quiet", "--strategy", strategy,
    ];
    let kills: &[u64] = match strategy {
        "auto" => &[150, 450, 800],
        _ => &[450],
    };
    for &millis in kills {
        let run = format!("{strategy}-{millis}");
        let after = Duration::from_millis(millis);
        // To a file: the partial file is cut back and continued.
        let state = dir.join(&format!("file-{run}.json"));
        let output = dir.join(&format!("out-{run}.csv"));
        let (state_arg, output_arg) = (state.to_str().unwrap(), output.to_str().unwrap());
        let mut args = vec![
            "export", "--url", url, "--table", table, "--state", state_arg, "-o", output_arg,
        ];
        args.extend(slow);
        kill_and_resume(&args, &state, after, |_| {
            assert!(
                !output.exists(),
                "a killed export must not leave {output:?}"
            );
        });
        assert!(
            std::fs::read(&output).unwrap() == clean,
            "{strategy} file resumed after {millis} ms differs"
        );

        // To stdout: keep what the state file records, append the rest.
        let state = dir.join(&format!("stdout-{run}.json"));
        let state_arg = state.to_str().unwrap();
        let mut args = vec![
            "export", "--url", url, "--table", table, "--state", state_arg,
        ];
        args.extend(slow);
        let resumed = kill_and_resume(&args, &state, after, |_| {});
        assert!(
            resumed.joined("bytes") == clean,
            "{strategy} stdout resumed after {millis} ms differs"
        );
    }
}

/// A composite key (one part repeating), and a time column.
fn assert_resumes_on(db: Db, dir: &TempDir, strategies: &[&str]) {
    let table = Table::new("it_resume")
        .key("a", Ty::Int)
        .key("b", Ty::Varchar(20))
        .col("ts", Ty::Timestamp);
    let _drop = db.drop_on_exit(&table.name);
    table.create(&db).fill(
        &db,
        1..=20_000,
        &[Fill::Modulo(13), Fill::Prefixed("k"), Fill::Seconds],
    );
    for strategy in strategies {
        assert_resumes(&db.url(), &table.name, strategy, dir);
    }
}

#[test]
fn sqlite_export_resumes_after_kill() {
    let dir = TempDir::new("resume_sqlite");
    assert_resumes_on(Db::lite(&dir), &dir, &["auto", "cursor"]);
}

#[test]
fn postgres_export_resumes_after_kill() {
    let dir = TempDir::new("resume_pg");
    assert_resumes_on(Db::Pg, &dir, &["auto", "cursor", "keyset"]);
}

#[test]
fn mysql_export_resumes_after_kill() {
    let dir = TempDir::new("resume_mysql");
    assert_resumes_on(Db::My, &dir, &["auto", "keyset"]);
}

/// A state written by one strategy resumes with another: keyset chunks and
/// those of one streamed statement end at the same kind of key.
#[test]
fn a_state_resumes_with_another_strategy() {
    let dir = TempDir::new("resume_across");
    let db = Db::Pg;
    let table = Table::id_v("it_resume_across");
    let _drop = db.drop_on_exit(&table.name);
    table.create(&db).numbered(&db, 20_000);
    let url = db.url();
    let clean = crate::util::export(&url, &table.name).success().stdout;
    for (first, then) in [("keyset", "auto"), ("copy", "cursor"), ("cursor", "keyset")] {
        let state = dir.join(&format!("{first}.json"));
        let output = dir.join(&format!("{first}.csv"));
        let (state_arg, output_arg) = (state.to_str().unwrap(), output.to_str().unwrap());
        let args = |strategy| {
            vec![
                "export", "--url", &url, "--table", &table.name, "--state", state_arg, "-o",
                output_arg, "--chunk", "300", "--max-rate", "20000/s", "--quiet", "--strategy",
                strategy,
            ]
        };
        crate::util::kill_after(&args(first), Duration::from_millis(450));
        assert!(state.exists(), "the {first} export left no state");
        let mut again = args(then);
        again.push("--resume");
        dbchunk(again).success();
        assert!(
            std::fs::read(&output).unwrap() == clean,
            "{first} resumed by {then} differs"
        );
    }
}

/// A resume token from stderr continues an export to stdout that had no
/// --state; a token from another table is refused.
#[test]
fn resume_token_from_the_hint() {
    let dir = TempDir::new("resume_token");
    let db = lite_id_v(&dir, "t", 20_000);
    Table::new("other").key("id", Ty::Int).create(&db);
    let url = db.url();
    let clean = dbchunk(["export", "--url", &url, "--table", "t"])
        .success()
        .stdout;
    let mut child = dbchunk([
        "export", "--url", &url, "--table", "t", "--chunk", "500", "--max-rate", "10000/s",
    ])
    .spawn();
    // Once the first chunk is out there is a checkpoint to resume from.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut written = Vec::new();
    std::io::BufRead::read_until(&mut stdout, b'\n', &mut written).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    std::io::Read::read_to_end(&mut stdout, &mut written).unwrap();
    let stopped = finish(child, "the export stopped by SIGINT");
    stopped.assert_code(130);
    let stderr = &stopped.stderr;
    let token = stderr
        .split("--resume-from '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no resume hint in: {stderr}"));
    let keep: usize = stderr
        .split("keep the first ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte count in: {stderr}"));
    assert!(!stderr.contains("SuperSecret"));
    let mut joined = written[..keep].to_vec();
    joined.extend(
        dbchunk([
            "export", "--url", &url, "--table", "t", "--chunk", "500", "--resume-from", token,
        ])
        .success()
        .stdout,
    );
    assert!(
        joined == clean,
        "the token did not resume where the export stopped"
    );
    let run = dbchunk([
        "export", "--url", &url, "--table", "other", "--resume-from", token,
    ])
    .fails(2);
    run.error_says(&["not of a csv export of table other"]);
}

/// A `--state` in a directory that is not there: dbchunk makes no
/// directories, and says which one to create; nothing is written.
#[test]
fn a_state_file_in_a_missing_directory_says_to_create_it() {
    let dir = TempDir::new("resume-missing-dir");
    let db = lite_id_v(&dir, "t", 10);
    let missing = dir.join("not/there");
    let state = missing.join("t.state");
    crate::util::export(&db.url(), "t")
        .arg("--state")
        .arg(&state)
        .arg("-o")
        .arg(dir.join("out.csv"))
        .fails_saying(
            1,
            &[&missing.display().to_string(), "does not exist: create it"],
        );
    assert!(!dir.join("out.csv").exists());
}

/// A resume goes on after a key: rows with none (a `--query` without
/// `--key`) cannot resume, and an offset export cannot either.
#[test]
fn a_source_with_no_key_or_offset_cannot_resume() {
    let dir = TempDir::new("resume_no_key");
    let db = lite_id_v(&dir, "t", 10);
    let state = dir.join("state.json");
    let state = state.to_str().unwrap();
    let url = db.url();
    dbchunk(["export", "--url", &url, "--query", "SELECT v FROM t"])
        .args(["--state", state])
        .fails_saying(2, &["--state and --resume go on after the key", "--key"]);
    dbchunk([
        "export", "--url", &url, "--table", "t", "--strategy", "offset",
    ])
    .args(["--state", state])
    .fails_saying(2, &["an offset export cannot resume"]);
    assert!(!dir.join("state.json").exists());
}
