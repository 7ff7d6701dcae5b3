//! --query exports, and output files that are complete or absent.

use super::people::people_db;
use super::*;

prints! {
    sqlite_query_export: people_db, [
        // An ORDER BY inside the query is kept as given.
        export [
            "--query", "SELECT id, name FROM people WHERE id < 12 ORDER BY id DESC",
            "--chunk", "2",
        ]
            => "id,name\n10,person 03\n7,person 02\n4,person 01\n1,person 00\n",
        export [
            "--query", "SELECT id FROM people ORDER BY id DESC;", "--limit", "3", "--chunk", "2",
        ]
            => "id\n148\n145\n142\n",
        // Expressions and a trailing semicolon.
        export ["--query", "SELECT id * 2 AS twice, upper(name) AS up FROM people WHERE id = 4;"]
            => "twice,up\n8,PERSON 01\n",
        // --where and --columns apply to a query too.
        export ["--query", "SELECT id, name FROM people", "--where", "id < 5", "--columns", "name"]
            => "name\nperson 00\nperson 01\n",
    ];
    sqlite_query_limit_zero_writes_no_rows: people_db, [
        export ["--query", "SELECT id FROM people", "--limit", "0"] => "id\n",
    ];
}

#[test]
fn sqlite_query_with_a_key_reads_by_keyset_and_without_is_refused() {
    let db = people_db("sqlite_query_with_a_key");
    // A query with --key reads by keyset, same bytes as the cursor.
    let args = [
        "--query", "SELECT id, name, note FROM people", "--key", "id", "--chunk", "3",
    ];
    assert_strategies_agree(&db.url, &SQLITE_STRATEGIES, &args);
    let keyed = export_text(&db.url, &args);
    assert_eq!(
        keyed,
        export_text(&db.url, &["--table", "people", "--columns", "id,name,note"])
    );
    // A query without a key cannot be read by keyset.
    let run = dbchunk([
        "export", "--url", &db.url, "--query", "SELECT id FROM people", "--strategy", "keyset",
    ])
    .fails(2);
    assert!(run.stderr.contains("--key"), "{}", run.stderr);
    // Broken SQL is a runtime error with the engine's message.
    let run = dbchunk(["export", "--url", &db.url, "--query", "SELEKT 1"]).fails(1);
    run.one_error_line();
}

// ---------------------------------------------------------------------------
// Output files

#[test]
fn sqlite_output_file_is_complete_and_alone() {
    let db = people_db("sqlite_output_file_is_complete_and_alone");
    let out_dir = TempDir::new("sqlite_output_file_is_complete_and_alone-out");
    let stdout = export(&db.url, &["--table", "people", "--chunk", "3"]);
    let path = out_dir.join("people.csv");
    let run = crate::util::export(&db.url, "people")
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
    crate::util::export(&db.url, "people")
        .arg("-o")
        .arg(&path)
        .success();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        export(&db.url, &["--table", "people", "--format", "ndjson"])
    );
    // An existing file is replaced.
    let path = out_dir.join("people.csv");
    std::fs::write(&path, "old contents\n").unwrap();
    crate::util::export(&db.url, "people")
        .arg("--output")
        .arg(&path)
        .success();
    assert_eq!(std::fs::read(&path).unwrap(), stdout);
    assert_eq!(out_dir.entries(), vec!["people.csv", "people.ndjson"]);
    // Relative to the working directory; "-" is stdout.
    crate::util::export(&db.url, "people")
        .args(["--output", "rel.tsv"])
        .current_dir(out_dir.path())
        .success();
    assert_eq!(
        std::fs::read(out_dir.join("rel.tsv")).unwrap(),
        export(&db.url, &["--table", "people", "--format", "tsv"])
    );
    assert_eq!(
        export(&db.url, &["--table", "people", "--output", "-"]),
        stdout
    );
}

#[test]
fn sqlite_failed_export_leaves_no_output_file() {
    let db = people_db("sqlite_failed_export_leaves_no_output_file");
    let out_dir = TempDir::new("sqlite_failed_export_leaves_no_output_file-out");
    let path = out_dir.join("out.csv");
    for strategy in SQLITE_STRATEGIES {
        crate::util::export(&db.url, "people")
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
    crate::util::export(&db.url, "people")
        .args(["--where", "no_such_column = 1", "--output"])
        .arg(&path)
        .fails(1);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "previous good export\n"
    );
    // A directory that does not exist: exit 1 naming it, nothing created.
    let missing = out_dir.join("no-such-dir").join("out.csv");
    crate::util::export(&db.url, "people")
        .arg("--output")
        .arg(&missing)
        .fails_saying(1, &["no-such-dir"]);
}

#[test]
fn sqlite_failed_export_leaves_no_partial_file() {
    let db = people_db("sqlite_failed_export_leaves_no_partial_file");
    let out_dir = TempDir::new("sqlite_failed_export_leaves_no_partial_file-out");
    for _ in 0..20 {
        crate::util::export(&db.url, "people")
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
