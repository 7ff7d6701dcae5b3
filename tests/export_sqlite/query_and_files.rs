//! --query exports, and output files that are complete or absent.

use super::people::people_db;
use super::*;

#[test]
fn sqlite_query_export() {
    let dir = TempDir::new("sqlite_query_export");
    let url = people_db(&dir);
    // An ORDER BY inside the query is kept as given.
    let out = export_text(
        &url,
        &[
            "--query",
            "SELECT id, name FROM people WHERE id < 12 ORDER BY id DESC",
            "--chunk",
            "2",
        ],
    );
    assert_eq!(
        out,
        "id,name\n10,person 03\n7,person 02\n4,person 01\n1,person 00\n"
    );
    let out = export_text(
        &url,
        &[
            "--query",
            "SELECT id FROM people ORDER BY id DESC;",
            "--limit",
            "3",
            "--chunk",
            "2",
        ],
    );
    assert_eq!(out, "id\n148\n145\n142\n");
    // Expressions and a trailing semicolon.
    let out = export_text(
        &url,
        &[
            "--query",
            "SELECT id * 2 AS twice, upper(name) AS up FROM people WHERE id = 4;",
        ],
    );
    assert_eq!(out, "twice,up\n8,PERSON 01\n");
    // A query with --key reads by keyset, same bytes as the cursor.
    let args = [
        "--query", "SELECT id, name, note FROM people", "--key", "id", "--chunk", "3",
    ];
    assert_strategies_agree(&url, &SQLITE_STRATEGIES, &args);
    let keyed = export_text(&url, &args);
    assert_eq!(
        keyed,
        export_text(&url, &["--table", "people", "--columns", "id,name,note"])
    );
    // --where and --columns apply to a query too.
    let out = export_text(
        &url,
        &[
            "--query", "SELECT id, name FROM people", "--where", "id < 5", "--columns", "name",
        ],
    );
    assert_eq!(out, "name\nperson 00\nperson 01\n");
    // A query without a key cannot be read by keyset.
    let run = dbchunk([
        "export", "--url", &url, "--query", "SELECT id FROM people", "--strategy", "keyset",
    ])
    .fails(2);
    assert!(run.stderr.contains("--key"), "{}", run.stderr);
    // Broken SQL is a runtime error with the engine's message.
    let run = dbchunk(["export", "--url", &url, "--query", "SELEKT 1"]).fails(1);
    run.one_error_line();
}

#[test]
fn sqlite_query_limit_zero_writes_no_rows() {
    let dir = TempDir::new("sqlite_query_limit_zero_writes_no_rows");
    let url = people_db(&dir);
    let out = export_text(&url, &["--query", "SELECT id FROM people", "--limit", "0"]);
    assert_eq!(out, "id\n");
}

// ---------------------------------------------------------------------------
// Output files

#[test]
fn sqlite_output_file_is_complete_and_alone() {
    let dir = TempDir::new("sqlite_output_file_is_complete_and_alone");
    let url = people_db(&dir);
    let out_dir = TempDir::new("sqlite_output_file_is_complete_and_alone-out");
    let stdout = export(&url, &["--table", "people", "--chunk", "3"]);
    let path = out_dir.join("people.csv");
    let run = crate::util::export(&url, "people")
        .args(["--chunk", "3", "--output"])
        .arg(&path)
        .success();
    assert!(run.stdout.is_empty(), "data goes to the file only");
    assert_eq!(std::fs::read(&path).unwrap(), stdout);
    assert_eq!(
        out_dir.entries(),
        vec!["people.csv"],
        "no .partial file may remain"
    );
    // The format follows the extension.
    let path = out_dir.join("people.ndjson");
    crate::util::export(&url, "people")
        .arg("-o")
        .arg(&path)
        .success();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        export(&url, &["--table", "people", "--format", "ndjson"])
    );
    // An existing file is replaced.
    let path = out_dir.join("people.csv");
    std::fs::write(&path, "old contents\n").unwrap();
    crate::util::export(&url, "people")
        .arg("--output")
        .arg(&path)
        .success();
    assert_eq!(std::fs::read(&path).unwrap(), stdout);
    assert_eq!(out_dir.entries(), vec!["people.csv", "people.ndjson"]);
    // Relative to the working directory; "-" is stdout.
    crate::util::export(&url, "people")
        .args(["--output", "rel.tsv"])
        .current_dir(out_dir.path())
        .success();
    assert_eq!(
        std::fs::read(out_dir.join("rel.tsv")).unwrap(),
        export(&url, &["--table", "people", "--format", "tsv"])
    );
    assert_eq!(
        export(&url, &["--table", "people", "--output", "-"]),
        stdout
    );
}

#[test]
fn sqlite_failed_export_leaves_no_output_file() {
    let dir = TempDir::new("sqlite_failed_export_leaves_no_output_file");
    let url = people_db(&dir);
    let out_dir = TempDir::new("sqlite_failed_export_leaves_no_output_file-out");
    let path = out_dir.join("out.csv");
    for strategy in SQLITE_STRATEGIES {
        crate::util::export(&url, "people")
            .args(["--where", "no_such_column = 1"])
            .args(["--strategy", strategy, "--quiet", "--output"])
            .arg(&path)
            .fails_saying(1, &["no_such_column"]);
        assert!(
            !path.exists(),
            "--strategy {strategy}: a failed export must not leave {}",
            path.display()
        );
    }
    // A file already there is not touched by a failed export.
    std::fs::write(&path, "previous good export\n").unwrap();
    crate::util::export(&url, "people")
        .args(["--where", "no_such_column = 1", "--output"])
        .arg(&path)
        .fails(1);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "previous good export\n"
    );
    // A directory that does not exist: exit 1 naming it, nothing created.
    let missing = out_dir.join("no-such-dir").join("out.csv");
    crate::util::export(&url, "people")
        .arg("--output")
        .arg(&missing)
        .fails_saying(1, &["no-such-dir"]);
}

#[test]
fn sqlite_failed_export_leaves_no_partial_file() {
    let dir = TempDir::new("sqlite_failed_export_leaves_no_partial_file");
    let url = people_db(&dir);
    let out_dir = TempDir::new("sqlite_failed_export_leaves_no_partial_file-out");
    for _ in 0..20 {
        crate::util::export(&url, "people")
            .args(["--where", "no_such_column = 1", "--output"])
            .arg(out_dir.join("out.csv"))
            .fails(1);
    }
    assert_eq!(
        out_dir.entries(),
        Vec::<String>::new(),
        "leftover files after failed exports"
    );
}
