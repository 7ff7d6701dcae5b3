//! Resumable imports: kill -9 at several points, resume, and the table
//! holds every input row exactly once, on every engine.

use std::time::Duration;

use crate::util::engine::Db;
use crate::util::procs::{kill_and_resume, read_json};
use crate::util::tables::{id_counts, ids_once, import_t, lite_file, test_table, NOT_NULL_T};
use crate::util::{dbchunk, TempDir};

const ROWS: u64 = 20_000;

/// `id,name` rows with quotes, commas and newlines in the names.
fn input(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.join("in.csv");
    let mut text = String::from("id,name\n");
    for i in 1..=ROWS {
        text.push_str(&format!("{i},\"n{i}, \"\"q\"\"\nline\"\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Kills imports into a table of `columns` on `db` at several points,
/// resumes each, and checks after each resume that every row is there
/// once.
fn assert_resumes(db: Db, columns: &str, strategy: &str, dir: &TempDir) {
    let (table, _drop) = test_table(&db, "it_import_resume");
    let table = &table;
    let matching = match db {
        Db::Pg => "name = 'n' || id || ', \"q\"' || chr(10) || 'line'",
        Db::My => "name = CONCAT('n', id, ', \"q\"\\nline')",
        Db::Lite(_) => "name = 'n' || id || ', \"q\"' || char(10) || 'line'",
    };
    let url = db.url();
    let input = input(dir);
    let (mut cut_midway, mut pending) = (0, 0);
    for (run, millis) in [150u64, 400, 900].into_iter().enumerate() {
        db.create(table, columns);
        let state = dir.join(&format!("state-{run}.json"));
        let (state_arg, input_arg) = (state.to_str().unwrap(), input.to_str().unwrap());
        let mut args = vec![
            "import", "--url", &url, "--table", table, "--input", input_arg, "--state", state_arg,
            "--batch", "40", "--strategy", strategy, "--quiet",
        ];
        kill_and_resume(&args, &state, Duration::from_millis(millis), |saved| {
            let Some(saved) = saved else { return };
            let rows = saved["rows"].as_u64().unwrap();
            cut_midway += u32::from(saved["done"] == false && rows > 0);
            pending += u32::from(!saved["pending"].is_null());
        });
        let what = format!("{}: killed after {millis} ms", db.name());
        assert_eq!(id_counts(&db, table, matching), ids_once(ROWS), "{what}");
        let state = read_json(&state);
        assert_eq!(state["done"], true);
        assert_eq!(state["rows"], ROWS);
        assert_eq!(state["bytes"], std::fs::metadata(&input).unwrap().len());
        // A finished import resumed again writes nothing.
        args.push("--resume");
        dbchunk(args).success();
        assert_eq!(id_counts(&db, table, matching), ids_once(ROWS), "{what}");
    }
    assert!(
        cut_midway > 0,
        "no run was killed half-way: make the import slower"
    );
    eprintln!("{cut_midway} runs killed half-way, {pending} with a batch pending");
}

#[test]
fn postgres_import_without_a_key_resumes_after_kill() {
    // No key: whether the batch in flight committed is asked of the server.
    let dir = TempDir::new("import_resume_pg");
    assert_resumes(Db::Pg, "id int, name text", "copy", &dir);
}

#[test]
fn mysql_import_resumes_after_kill() {
    let dir = TempDir::new("import_resume_my");
    assert_resumes(Db::My, "id INT PRIMARY KEY, name TEXT", "load-data", &dir);
}

#[test]
fn sqlite_import_resumes_after_kill() {
    let dir = TempDir::new("import_resume_lite");
    let columns = "id INTEGER PRIMARY KEY, name TEXT NOT NULL";
    assert_resumes(Db::lite(&dir), columns, "insert", &dir);
}

#[test]
fn resume_refuses_another_input_and_keeps_rejects_once() {
    let dir = TempDir::new("import_resume_rejects");
    let db = lite_file(&dir, "t.db", NOT_NULL_T);
    let (state, rejects) = (dir.join("s.json"), dir.join("rejects.txt"));
    let import = |max_errors: &str, resume: bool| {
        import_t(&db, &state, "2", resume)
            .args(["--max-errors", max_errors, "--reject-file"])
            .arg(&rejects)
    };
    // Line 4 breaks NOT NULL; line 7 repeats key 1, the second bad row: over
    // --max-errors 1, which stops the import.
    let input = "id,n\n1,1\n2,2\n3,\n4,4\n5,5\n1,6\n7,7\n";
    let failed = import("1", false).stdin(input).fails(1);
    failed.error_says(&["--max-errors"]);
    assert_eq!(
        db.text("SELECT group_concat(id) FROM t").unwrap(),
        "1,2,4,5"
    );
    let saved = read_json(&state);
    assert_eq!(
        (saved["rows"].as_u64(), saved["rejected"].as_u64()),
        (Some(4), Some(2))
    );
    assert!(saved["pending"].is_null());

    // Another input: no record ends where the state says.
    let other = "id,n\n10,10\n11,11\n12,12\n13,13\n14,14\n15,15\n16,16\n";
    import("5", true)
        .stdin(other)
        .fails(1)
        .error_says(&["no record of this input ends there"]);

    // The same input goes on after line 7, and each bad row is kept once;
    // completed with rejects is exit 3, with its summary despite --quiet.
    let done = import("5", true).stdin(input).fails(3);
    assert_eq!(
        done.stderr_lines(),
        [format!(
            "dbchunk: imported 5 rows into table t; 2 rows rejected, written to {}",
            rejects.display()
        )],
        "{}",
        done.stderr
    );
    assert_eq!(
        db.text("SELECT group_concat(id) FROM t").unwrap(),
        "1,2,4,5,7"
    );
    let kept = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(
        (
            kept.matches("\n3,\n").count(),
            kept.matches("\n1,6\n").count()
        ),
        (1, 1),
        "{kept}"
    );
}
