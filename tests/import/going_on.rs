//! Going on after a failure: where the uncommitted input starts, and the
//! command that continues.

use super::*;

/// A CSV of `rows` rows (`id,note`), every fourth note a quoted field over
/// two lines, and row `bad` with the note `bad`; with the line and byte
/// offset each row starts at.
fn multi_line_csv(rows: u64, bad: u64) -> (String, Vec<(u64, usize)>) {
    let mut text = String::from("id,note\n");
    let mut line = 2;
    let mut starts = Vec::new();
    for id in 1..=rows {
        starts.push((line, text.len()));
        let note = match id {
            _ if id == bad => "bad".to_string(),
            _ if id % 4 == 0 => {
                line += 1;
                format!("\"note {id}\nsecond line, \"\"quoted\"\"\"")
            }
            _ => format!("note {id}"),
        };
        text.push_str(&format!("{id},{note}\n"));
        line += 1;
    }
    (text, starts)
}

/// A row the database refuses in a later batch stops the import; the error
/// names the line and byte offset where the input that is not committed
/// starts (multi-line records make the line differ from the row number),
/// and the command it gives, run as it is once the cause is fixed,
/// imports exactly the rest: every row is then in the table once.
#[test]
fn failed_import_names_where_to_go_on_and_the_continuation_completes_it() {
    let dir = TempDir::new("imp-continue");
    let (rows, bad) = (60, 37);
    let (text, starts) = multi_line_csv(rows, bad);
    let input = dir.join("imp_continue input.csv");
    std::fs::write(&input, &text).unwrap();
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_continue") {
        // The cause, and how the test then fixes it.
        let fix = match db {
            Db::Lite(_) => {
                db.create(&table, "id INTEGER PRIMARY KEY, note VARCHAR(60)");
                db.exec(&format!(
                    "CREATE TRIGGER {table}_no_bad BEFORE INSERT ON {table} \
                     WHEN NEW.note = 'bad' BEGIN SELECT RAISE(ABORT, 'bad note'); END"
                ));
                format!("DROP TRIGGER {table}_no_bad")
            }
            _ => {
                db.create(
                    &table,
                    &format!(
                        "id INTEGER PRIMARY KEY, note VARCHAR(60), \
                         CONSTRAINT {table}_ck CHECK (note <> 'bad')"
                    ),
                );
                format!("ALTER TABLE {table} DROP CONSTRAINT {table}_ck")
            }
        };
        let run = dbchunk(["import", "--url", &db.url(), "--table", &table])
            .args(["--batch", "5", "--truncate", "--input"])
            .arg(&input)
            .run();
        run.assert_code(1);
        let message = run.one_error_line();
        // Batch 36..=40 is replayed row by row: 36 goes in, 37 stops it.
        let (line, offset) = starts[bad as usize - 1];
        assert!(line > bad + 1, "the test needs multi-line records before");
        assert!(
            message.contains("36 rows were committed before this error"),
            "{db:?}: {message}"
        );
        let first: Vec<String> = (1..bad).map(|i| i.to_string()).collect();
        assert_eq!(db.ids(&table), first.join(","), "{db:?}: {message}");
        let place = format!("starts at line {line}, byte offset {offset} of ");
        assert!(
            message.contains(&place),
            "{db:?}: {place:?} is not in: {message}"
        );
        let continuation = message
            .split_once("continue with: ")
            .unwrap_or_else(|| panic!("{db:?}: no command in: {message}"))
            .1;
        let header = "id,note\n".len();
        assert!(
            continuation.starts_with(&format!("(head -c {header} ")),
            "{db:?}: {continuation}"
        );
        assert!(
            continuation.contains(&format!("tail -c +{} ", offset + 1)),
            "{db:?}: {continuation}"
        );
        assert!(
            !continuation.contains("--truncate"),
            "{db:?}: the continuation would empty the table: {continuation}"
        );

        // Once the cause is fixed, the command itself, as the message gives
        // it: the header's bytes, then the input from the offset on.
        db.exec(&fix);
        let bin_dir = Path::new(crate::util::BIN).parent().unwrap();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
        let output = std::process::Command::new("sh")
            .args(["-c", continuation])
            .env("PATH", path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{db:?}: {continuation}: {stderr}"
        );
        assert_eq!(stderr, "", "{db:?}: a successful import is silent");
        let all: Vec<String> = (1..=rows).map(|i| i.to_string()).collect();
        assert_eq!(db.ids(&table), all.join(","), "{db:?}: every row once");
        let notes = db.rows(&table, &["note"]);
        assert!(
            notes.contains("note 35;note 36\nsecond line, \"quoted\";bad;note 38;"),
            "{db:?}: {notes}"
        );
    }
}

/// From stdin there is no file to cut: the error gives the line and byte
/// offset, and points at --state, whose --resume finds the place itself.
#[test]
fn failed_import_from_stdin_names_the_offset_and_suggests_state() {
    let dir = TempDir::new("imp-continue-stdin");
    let db = Db::lite(&dir);
    let table = "it_imp_continue_stdin";
    db.create(table, "id INTEGER PRIMARY KEY, note TEXT NOT NULL");
    let (text, starts) = multi_line_csv(12, 99);
    // Row 10's note is NULL: batch 9..=10 is replayed and stops at row 10.
    let text = text.replace("10,note 10\n", "10,\n");
    let run = import(&db, table, &["--batch", "2"], text);
    run.assert_code(1);
    let message = run.one_error_line();
    let (line, offset) = starts[9];
    let place = format!("starts at line {line}, byte offset {offset} of stdin");
    assert!(message.contains(&place), "{place:?} is not in: {message}");
    assert!(message.contains("9 rows were committed"), "{message}");
    assert!(message.contains("--state"), "{message}");
    assert_eq!(db.ids(table), "1,2,3,4,5,6,7,8,9");
}

/// Past --max-errors without --state, the reject file keeps the rejects of
/// the committed input only, and the continuation writes its own, so each
/// bad row is listed once across the two.
#[test]
fn failed_import_with_rejects_splits_them_at_the_committed_input() {
    let dir = TempDir::new("imp-continue-rejects");
    let db = Db::lite(&dir);
    let table = "it_imp_continue_rejects";
    db.create(table, "id INTEGER PRIMARY KEY, n INTEGER NOT NULL");
    let input = dir.join("in.csv");
    // Batch 1..2 commits with line 3 rejected; row 3 is not committed
    // when line 7, the third bad one, goes past --max-errors 2.
    std::fs::write(&input, "id,n\n1,1\n9\n2,2\n3,3\n9\n9\n4,4\n").unwrap();
    let rejects = dir.join("bad.txt");
    let run = dbchunk(["import", "--url", &db.url(), "--table", table])
        .args(["--batch", "2", "--max-errors", "2", "--reject-file"])
        .arg(&rejects)
        .arg("--input")
        .arg(&input)
        .run();
    run.assert_code(1);
    let message = run.one_error_line();
    assert!(message.contains("more than --max-errors 2"), "{message}");
    assert!(message.contains("2 rows were committed"), "{message}");
    assert!(
        message.contains(&format!(
            "{} holds the 1 rows rejected before it",
            rejects.display()
        )),
        "{message}"
    );
    let entries = reject_entries(&rejects);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].1, "9");
    assert!(
        message.contains("starts at line 5, byte offset 15 of "),
        "{message}"
    );
    let rest = format!("{}.rest", rejects.display());
    assert!(
        message.contains(&format!("--reject-file {rest}")),
        "{message}"
    );
    assert_eq!(db.ids(table), "1,2");
}
