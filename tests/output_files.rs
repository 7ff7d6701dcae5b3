//! What `-o`, `--state` and `--reject-file` do to what their path points
//! at: a device or FIFO is written in place and stays what it is, a
//! symlink stays a symlink and its target gets the content, and a name
//! whose extension dbchunk does not know is refused before anything runs.

use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::util::{dbchunk, kill_after, sqlite_url, TempDir};

/// A SQLite file with one keyed table `t` of `rows` rows.
fn table_db(dir: &TempDir, rows: u32) -> String {
    let path = dir.join("source.db");
    let conn = rusqlite::Connection::open(&path).expect("create SQLite file");
    conn.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE imported(id INTEGER PRIMARY KEY, name TEXT);",
    )
    .expect("create tables");
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO t SELECT i, 'name ' || i FROM n",
        [rows],
    )
    .expect("fill t");
    sqlite_url(&path)
}

/// The table as a plain export to stdout writes it.
fn clean_export(url: &str) -> Vec<u8> {
    crate::util::export(url, "t")
        .arg("--quiet")
        .success()
        .stdout
}

#[track_caller]
fn run_tool(program: &str, args: &[&str]) {
    let status = std::process::Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(status.success(), "{program} {args:?} failed: {status}");
}

#[track_caller]
fn assert_symlink_to(link: &Path, target: &str) {
    let meta = std::fs::symlink_metadata(link).expect("the link is still there");
    assert!(
        meta.file_type().is_symlink(),
        "{link:?} is no longer a symlink"
    );
    assert_eq!(std::fs::read_link(link).unwrap(), Path::new(target));
}

/// The device node `null` in `dir`: the same device as /dev/null (1,3),
/// made where only this test looks.
fn null_device(dir: &TempDir) -> PathBuf {
    let device = dir.join("null");
    run_tool("mknod", &[device.to_str().unwrap(), "c", "1", "3"]);
    device
}

/// `path` is still a character device, not replaced by a file.
#[track_caller]
fn assert_still_a_device(path: &Path) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "{path:?} was replaced by {:?}",
        meta.file_type()
    );
}

#[test]
fn output_files_device_node_stays_a_device() {
    let dir = TempDir::new("output_files_device_node_stays_a_device");
    let url = table_db(&dir, 2000);
    let device = null_device(&dir);
    crate::util::export(&url, "t")
        .arg("-o")
        .arg(&device)
        .success();
    assert_still_a_device(&device);
    // No temporary file left beside it either.
    assert_eq!(dir.entries(), ["null", "source.db"]);
}

#[test]
fn output_files_dev_full_fails_naming_it() {
    let dir = TempDir::new("output_files_dev_full_fails_naming_it");
    let url = table_db(&dir, 2000);
    crate::util::export(&url, "t")
        .args(["-o", "/dev/full"])
        .fails_saying(1, &["/dev/full", "No space left"]);
    assert_still_a_device(Path::new("/dev/full"));
}

#[test]
fn output_files_fifo_gets_every_byte() {
    let dir = TempDir::new("output_files_fifo_gets_every_byte");
    let url = table_db(&dir, 50_000);
    let fifo = dir.join("pipe.csv");
    run_tool("mkfifo", &[fifo.to_str().unwrap()]);
    let reading = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read(reading).expect("read the FIFO"));
    crate::util::export(&url, "t")
        .arg("-o")
        .arg(&fifo)
        .success();
    let received = reader.join().unwrap();
    assert!(received == clean_export(&url), "the FIFO got other bytes");
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo(), "{fifo:?} is no longer a FIFO");
}

#[test]
fn output_files_symlinks_are_written_through() {
    let dir = TempDir::new("output_files_symlinks_are_written_through");
    let url = table_db(&dir, 500);
    std::fs::create_dir(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/data.csv"), "old content\n").unwrap();
    // A chain: two.csv -> one.csv -> real/data.csv.
    symlink("real/data.csv", dir.join("one.csv")).unwrap();
    symlink(dir.join("one.csv"), dir.join("two.csv")).unwrap();
    crate::util::export(&url, "t")
        .arg("-o")
        .arg(dir.join("two.csv"))
        .success();
    assert_symlink_to(&dir.join("one.csv"), "real/data.csv");
    assert_symlink_to(&dir.join("two.csv"), dir.join("one.csv").to_str().unwrap());
    assert!(std::fs::read(dir.join("real/data.csv")).unwrap() == clean_export(&url));
    // Nothing left beside the links or the target.
    assert_eq!(dir.entries(), ["one.csv", "real", "source.db", "two.csv"]);
    assert_eq!(
        std::fs::read_dir(dir.join("real")).unwrap().count(),
        1,
        "a temporary file was left beside the target"
    );
}

#[test]
fn output_files_dangling_symlink_gets_its_target() {
    let dir = TempDir::new("output_files_dangling_symlink_gets_its_target");
    let url = table_db(&dir, 500);
    std::fs::create_dir(dir.join("real")).unwrap();
    symlink("real/new.csv", dir.join("link.csv")).unwrap();
    crate::util::export(&url, "t")
        .arg("-o")
        .arg(dir.join("link.csv"))
        .success();
    assert_symlink_to(&dir.join("link.csv"), "real/new.csv");
    assert!(std::fs::read(dir.join("real/new.csv")).unwrap() == clean_export(&url));
}

/// An interrupted resumable export through a symlink keeps its partial
/// file beside the target, and `--resume` finishes the target.
#[test]
fn output_files_resume_through_a_symlink() {
    let dir = TempDir::new("output_files_resume_through_a_symlink");
    let url = table_db(&dir, 20_000);
    std::fs::create_dir(dir.join("real")).unwrap();
    symlink("real/out.csv", dir.join("link.csv")).unwrap();
    let (link, state) = (dir.join("link.csv"), dir.join("state.json"));
    let mut args = vec![
        "export",
        "--url",
        &url,
        "--table",
        "t",
        "--quiet",
        "-o",
        link.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ];
    let mut slow = args.clone();
    slow.extend(["--chunk", "200", "--max-rate", "4000/s"]);
    kill_after(&slow, Duration::from_millis(1500));
    assert!(
        dir.join("real/.out.csv.dbchunk-partial").exists(),
        "the partial file belongs beside the target: {:?} / {:?}",
        dir.entries(),
        std::fs::read_dir(dir.join("real")).unwrap().count()
    );
    assert!(!dir.join(".link.csv.dbchunk-partial").exists());
    args.push("--resume");
    dbchunk(args).success();
    assert_symlink_to(&link, "real/out.csv");
    assert!(std::fs::read(dir.join("real/out.csv")).unwrap() == clean_export(&url));
    assert!(!dir.join("real/.out.csv.dbchunk-partial").exists());
}

#[test]
fn output_files_state_and_reject_symlinks_stay() {
    let dir = TempDir::new("output_files_state_and_reject_symlinks_stay");
    let url = table_db(&dir, 500);
    std::fs::create_dir(dir.join("keep")).unwrap();
    symlink("keep/export.json", dir.join("export-state.json")).unwrap();
    symlink("keep/import.json", dir.join("import-state.json")).unwrap();
    symlink("keep/rejects.txt", dir.join("rejects.txt")).unwrap();
    crate::util::export(&url, "t")
        .args(["--quiet", "--state"])
        .arg(dir.join("export-state.json"))
        .success();
    assert_symlink_to(&dir.join("export-state.json"), "keep/export.json");
    let state = std::fs::read_to_string(dir.join("keep/export.json")).unwrap();
    assert!(state.contains("\"rows\":500"), "{state}");

    let input = "id,name\n1,one\nnot a number,two\n3,three\n";
    dbchunk(["import", "--url", &url, "--table", "imported", "--quiet"])
        .arg("--state")
        .arg(dir.join("import-state.json"))
        .arg("--reject-file")
        .arg(dir.join("rejects.txt"))
        .args(["--max-errors", "5"])
        .stdin(input)
        .fails(3); // completed, with rejects
    assert_symlink_to(&dir.join("import-state.json"), "keep/import.json");
    assert_symlink_to(&dir.join("rejects.txt"), "keep/rejects.txt");
    let rejects = std::fs::read_to_string(dir.join("keep/rejects.txt")).unwrap();
    assert!(rejects.contains("not a number,two"), "{rejects}");
    let state = std::fs::read_to_string(dir.join("keep/import.json")).unwrap();
    assert!(state.contains("\"rows\":2"), "{state}");
}

#[test]
fn output_files_reject_file_on_a_device() {
    let dir = TempDir::new("output_files_reject_file_on_a_device");
    let url = table_db(&dir, 1);
    let device = null_device(&dir);
    dbchunk(["import", "--url", &url, "--table", "imported", "--quiet"])
        .arg("--reject-file")
        .arg(&device)
        .args(["--max-errors", "5"])
        .stdin("id,name\n1,one\nx,two\n")
        .fails(3); // completed, with rejects
    assert_still_a_device(&device);
}

#[test]
fn output_files_state_on_a_device_or_output_on_a_directory_is_refused() {
    let dir = TempDir::new("output_files_state_on_a_device_or_output_on_a_directory");
    let url = table_db(&dir, 1);
    crate::util::export(&url, "t")
        .args(["--state", "/dev/null"])
        .fails_saying(2, &["/dev/null", "regular file"]);
    crate::util::export(&url, "t")
        .arg("-o")
        .arg(dir.path())
        .fails_saying(2, &["is a directory"]);
}

#[test]
fn output_files_unknown_extension_needs_format() {
    let dir = TempDir::new("output_files_unknown_extension_needs_format");
    let url = table_db(&dir, 3);
    let json = dir.join("x.json");
    let run = crate::util::export(&url, "t").arg("-o").arg(&json).fails(2);
    let line = run.one_error_line();
    for known in [".json", ".csv", ".tsv", ".ndjson", ".jsonl", "--format"] {
        assert!(line.contains(known), "{known} missing: {line}");
    }
    assert!(!json.exists(), "a refused export must not create {json:?}");

    crate::util::export(&url, "t")
        .args(["--format", "ndjson", "-o"])
        .arg(&json)
        .success();
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(
        text.starts_with("{\"id\":1,\"name\":\"name 1\"}\n"),
        "{text}"
    );

    // A name without an extension is csv, as before.
    crate::util::export(&url, "t")
        .arg("-o")
        .arg(dir.join("plain"))
        .success();
    let text = std::fs::read_to_string(dir.join("plain")).unwrap();
    assert!(text.starts_with("id,name\n1,name 1\n"), "{text}");

    // An import's input is checked the same way (under its .gz).
    for name in ["in.json", "in.json.gz"] {
        let input = dir.join(name);
        std::fs::write(&input, "{}\n").unwrap();
        let run = dbchunk(["import", "--url", &url, "--table", "imported", "--input"])
            .arg(&input)
            .fails(2);
        let line = run.one_error_line();
        assert!(line.contains(".json") && line.contains(".csv"), "{line}");
    }
}
