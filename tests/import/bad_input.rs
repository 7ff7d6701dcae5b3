//! Bad input: one clear error naming the line and column, nothing lost;
//! the reject file.

use super::*;

fn ndjson_line(i: u32) -> String {
    format!(
        "{{\"id\":{i},\"si\":{i},\"t\":\"text {i}\",\"d\":\"2024-01-0{}\"}}\n",
        i % 9 + 1
    )
}

/// An NDJSON input whose line 6 is `bad` (ids 1..=5 before it).
fn ndjson_with_bad_line_6(bad: &str) -> Vec<u8> {
    let mut input: String = (1..=5).map(ndjson_line).collect();
    input.push_str(bad);
    input.push('\n');
    input.push_str(&ndjson_line(7));
    input.into_bytes()
}

/// A bad input imported with `--batch 2`, with each strategy the engine
/// has: exit 1, one `dbchunk:` line that contains every one of `expected`
/// and says `committed` rows were committed, and the table then holds
/// exactly `ids`. Then the same with `--atomic` into a seeded table, which
/// must come out unchanged.
#[track_caller]
fn assert_bad_input(
    db: &Db,
    table: &str,
    args: &[&str],
    input: &[u8],
    expected: &[&str],
    committed: u64,
    ids: &str,
) {
    for strategy in db.import_strategies() {
        let mut all = vec!["--strategy", strategy];
        all.extend_from_slice(args);
        assert_bad_input_with(db, table, &all, input, expected, committed, ids);
    }
}

#[track_caller]
fn assert_bad_input_with(
    db: &Db,
    table: &str,
    args: &[&str],
    input: &[u8],
    expected: &[&str],
    committed: u64,
    ids: &str,
) {
    db.create(table, BAD_COLUMNS);
    let mut all = vec!["--batch", "2"];
    all.extend_from_slice(args);
    let run = import(db, table, &all, input);
    run.assert_code(1);
    let line = run.one_error_line();
    for text in expected {
        assert!(line.contains(text), "{db:?}: {text:?} is not in: {line}");
    }
    let count = format!("; {committed} rows were committed before this error");
    assert!(
        line.contains(&count),
        "{db:?} {args:?}: {count:?} is not in: {line}"
    );
    assert_eq!(
        db.ids(table),
        ids,
        "{db:?} {args:?}: the rows in the table after: {line}"
    );

    // --atomic: nothing changes.
    db.create(table, BAD_COLUMNS);
    db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
    let before = db.digest(table);
    all.push("--atomic");
    let run = import(db, table, &all, input);
    run.assert_code(1);
    let line = run.one_error_line();
    for text in expected {
        assert!(
            line.contains(text),
            "{db:?} --atomic: {text:?} is not in: {line}"
        );
    }
    assert!(
        line.contains("nothing was committed"),
        "{db:?} --atomic: {line}"
    );
    assert_eq!(
        db.digest(table),
        before,
        "{db:?} --atomic changed the table"
    );
}

/// [`assert_bad_input`] on each of `dbs`, in a table named after the case
/// and the engine, for an input whose bad line 6 stops the import after
/// the 4 rows before it.
#[track_caller]
fn bad_line_6(case: &str, dbs: Vec<Db>, args: &[&str], input: &[u8], expected: &[&str]) {
    for db in dbs {
        let table = format!("it_imp_{case}_{}", db.tag());
        assert_bad_input(&db, &table, args, input, expected, 4, FIRST_4);
    }
}

/// One test a row: its name, the engines it runs on, extra arguments, the
/// input, and what the one error line must say.
macro_rules! bad_line_6_tests {
    ($($name:ident: $engines:expr, $args:expr, $input:expr, $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let dir = TempDir::new(stringify!($name));
            let engines: fn(&TempDir) -> Vec<Db> = $engines;
            bad_line_6(stringify!($name), engines(&dir), $args, &$input, &$expected);
        }
    )*};
}

fn servers(_: &TempDir) -> Vec<Db> {
    Db::servers()
}

fn pg(_: &TempDir) -> Vec<Db> {
    vec![Db::Pg]
}

/// An input that ends inside a quoted field on line 6.
fn cut_off_in_a_quote() -> Vec<u8> {
    let mut input = format!("{BAD_HEADER}{}", good_lines(1..=4)).into_bytes();
    input.extend_from_slice(b"5,5,\"cut off here");
    input
}

const NDJSON: &[&str] = &["--format", "ndjson"];

bad_line_6_tests! {
    // The quote opened on line 6 runs to the end of the input.
    bad_unterminated_quote: servers, &[], csv_with_bad_line_6(b"5,5,\"never closed,2024-01-05"),
        ["line 6, column 3 (t)", "unterminated quoted field"];
    bad_text_after_closing_quote: pg, &[], csv_with_bad_line_6(b"5,5,\"ab\"c,2024-01-05"),
        ["line 6, column 3 (t)", "text after the closing quote"];
    bad_input_ends_inside_a_quoted_field: |dir| vec![Db::Pg, Db::lite(dir)], &[],
        cut_off_in_a_quote(), ["line 6, column 3 (t)", "unterminated quoted field"];
    bad_field_count: Db::all, &[], csv_with_bad_line_6(b"5,5,too few"),
        ["line 6", "expected 4 fields, found 3"];
    bad_utf8: Db::all, &[], csv_with_bad_line_6(b"5,5,ab\xff\xfecd,2024-01-05"),
        ["line 6, column 3 (t)", "UTF-8"];
    bad_number_out_of_range: servers, &[], csv_with_bad_line_6(b"5,99999,x,2024-01-05"),
        ["line 6, column 2 (si)", "99999", "out of range"];
    bad_text_in_integer_column: servers, &[], csv_with_bad_line_6(b"5,five,x,2024-01-05"),
        ["line 6, column 2 (si)", "\"five\"", "not an integer"];
    bad_impossible_date: servers, &[], csv_with_bad_line_6(b"5,5,x,2023-02-30"),
        ["line 6, column 4 (d)", "2023-02-30"];
    bad_ndjson_invalid_json: servers, NDJSON,
        ndjson_with_bad_line_6("{\"id\":6,\"si\":6,\"t\":\"x\",\"d\":"),
        ["line 6: ", "invalid JSON"];
    bad_ndjson_not_an_object: pg, NDJSON, ndjson_with_bad_line_6("[6, 6, \"x\", \"2024-01-06\"]"),
        ["line 6: ", "expected a JSON object"];
}

/// A quote inside an unquoted field is data, as Python's csv module reads
/// it: coordinates and inch marks in hand-made CSV load as written.
#[test]
fn quote_inside_unquoted_field_is_literal() {
    let dir = TempDir::new("imp-lenient-quote");
    let input = "id,si,t,d\n1,1,37°36'37.8\"N,2024-01-01\n2,2,ab\"c,\n3,3,5\" x 7\",2024-01-03\n";
    for db in [Db::lite(&dir), Db::Pg] {
        let table = format!("it_imp_lenient_quote_{}", db.tag());
        for strategy in db.import_strategies() {
            db.create(&table, BAD_COLUMNS);
            import_ok(&db, &table, &["--strategy", strategy], input);
            assert_eq!(
                db.rows(&table, &["id", "t"]),
                "1|37°36'37.8\"N;2|ab\"c;3|5\" x 7\"",
                "{db:?} {strategy}"
            );
            db.exec(&format!("DROP TABLE {table}"));
        }
    }
}

/// Line 6 has the key of a row that was in the table before the import.
#[test]
fn bad_duplicate_of_a_row_in_the_table() {
    let input = csv_with_bad_line_6(b"100,5,x,2024-01-05");
    let dir = TempDir::new("imp-bad-dup-table");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_dup_table_pg"),
        (Db::My, "it_imp_bad_dup_table_my"),
        (lite, "it_imp_bad_dup_table_lite"),
    ] {
        for strategy in db.import_strategies() {
            db.create(table, BAD_COLUMNS);
            db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
            let before = db.rows(table, &["id", "si", "t", "d"]);
            let run = import(
                &db,
                table,
                &["--batch", "2", "--strategy", strategy],
                input.clone(),
            );
            run.assert_code(1);
            let line = run.one_error_line();
            assert!(line.contains("line 6: "), "{db:?} {strategy}: {line}");
            assert!(
                line.to_lowercase().contains("duplicate") || line.contains("UNIQUE"),
                "{db:?} {strategy}: {line}"
            );
            assert!(
                line.contains("; 4 rows were committed before this error"),
                "{db:?} {strategy}: {line}"
            );
            assert_eq!(
                db.ids(table),
                "1,2,3,4,100,101,102",
                "{db:?} {strategy}: {line}"
            );
            // The seeded row is as it was.
            assert!(
                db.rows(table, &["id", "si", "t", "d"]).ends_with(&before),
                "{db:?} {strategy}"
            );

            // --atomic: the table is as it was.
            db.create(table, BAD_COLUMNS);
            db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
            let digest = db.digest(table);
            let run = import(
                &db,
                table,
                &["--batch", "2", "--atomic", "--strategy", strategy],
                input.clone(),
            );
            run.assert_code(1);
            let line = run.one_error_line();
            assert!(line.contains("line 6: "), "{db:?} {strategy}: {line}");
            assert!(
                line.contains("nothing was committed"),
                "{db:?} {strategy}: {line}"
            );
            assert_eq!(
                db.digest(table),
                digest,
                "{db:?} {strategy} --atomic changed the table"
            );
        }
    }
}

/// Twice the same key in the input: in one batch (lines 6 and 7), and in
/// two batches (line 6 repeats line 2).
#[test]
fn bad_duplicate_within_the_input() {
    let dir = TempDir::new("imp-bad-dup-input");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_dup_input_pg"),
        (Db::My, "it_imp_bad_dup_input_my"),
        (lite, "it_imp_bad_dup_input_lite"),
    ] {
        // Same batch: lines 6 and 7 are both id 5; line 6 goes in.
        let mut input = format!("{BAD_HEADER}{}", good_lines(1..=5)).into_bytes();
        input.extend_from_slice(b"5,55,again,2024-01-05\n");
        input.extend_from_slice(good_lines(6..=7).as_bytes());
        assert_bad_input(&db, table, &[], &input, &["line 7: "], 5, "1,2,3,4,5");
        // Across batches: line 6 repeats id 1 of line 2.
        let input = csv_with_bad_line_6(b"1,5,x,2024-01-05");
        assert_bad_input(&db, table, &[], &input, &["line 6: "], 4, FIRST_4);
    }
}

/// A header naming a column the table does not have is a usage error
/// (exit 2), found before any row is written.
#[test]
fn bad_unknown_column_in_header() {
    let dir = TempDir::new("imp-bad-unknown-col");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_bad_unknown_col_pg"),
        (Db::My, "it_imp_bad_unknown_col_my"),
        (lite, "it_imp_bad_unknown_col_lite"),
    ] {
        db.create(table, BAD_COLUMNS);
        db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
        let before = db.digest(table);
        let input = format!("id,si,nosuch,d\n{}", good_lines(1..=4));
        for atomic in [&[][..], &["--atomic"]] {
            let run = import(&db, table, atomic, input.clone());
            run.assert_code(2);
            let line = run.one_error_line();
            assert!(line.contains("\"nosuch\""), "{db:?}: {line}");
            assert!(line.contains("not a column"), "{db:?}: {line}");
            assert_eq!(db.digest(table), before, "{db:?}: the table changed");
        }
    }
}

#[test]
fn empty_input_and_header_only_are_zero_rows() {
    let dir = TempDir::new("imp-empty");
    let lite = Db::lite(&dir);
    for (db, table) in [
        (Db::Pg, "it_imp_empty_pg"),
        (Db::My, "it_imp_empty_my"),
        (lite, "it_imp_empty_lite"),
    ] {
        db.create(table, BAD_COLUMNS);
        for (format, input) in [
            ("csv", ""),
            ("csv", BAD_HEADER),
            ("tsv", ""),
            ("tsv", "id\tsi\tt\td\n"),
            ("ndjson", ""),
            ("ndjson", "\n\n"),
        ] {
            let args = ["--format", format, "--stats", "--verbose"];
            let run = import_ok(&db, table, &args, input);
            assert_eq!(db.ids(table), "", "{db:?} {format} {input:?}");
            let stats = stats_line(&run);
            assert_eq!(
                stats["rows"], 0,
                "{db:?} {format} {input:?}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains("imported 0 rows"),
                "{db:?} {format} {input:?}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn missing_input_file_names_the_path() {
    let dir = TempDir::new("imp-missing-file");
    let missing = dir.join("no-such-input.csv");
    let db = Db::Pg;
    let table = "it_imp_missing_file";
    db.create(table, BAD_COLUMNS);
    db.exec(&format!("INSERT INTO {table} VALUES {SEED}"));
    let before = db.digest(table);
    let run = dbchunk(["import", "--url", &db.url(), "--table", table, "--input"])
        .arg(&missing)
        .run();
    run.assert_code(1);
    let line = run.one_error_line();
    assert!(
        line.contains(&missing.display().to_string()),
        "the path is not in: {line}"
    );
    assert_eq!(db.digest(table), before);
}

const REJECT_INPUT: &str = "id,si,t,d
1,1,a,2024-01-01
2,99999,b,2024-01-02
3,3,c
4,4,d,2024-01-04
1,5,dup of line 2,2024-01-05
5,5,\"x\"\"y\",2024-01-05
6,6,f,2023-02-30
7,7,g,2024-01-07
";

/// What one engine makes of [`REJECT_INPUT`].
struct RejectCase {
    db: Db,
    table: &'static str,
    /// The rows imported with a high --max-errors.
    rows: &'static str,
    /// The rejected lines, each with a word its reason must contain.
    rejected: &'static [(usize, &'static str)],
    /// A --max-errors the input exceeds, the line it stops on, the rows
    /// committed by then, and their ids.
    stop: (&'static str, &'static str, u64, &'static str),
}

#[test]
fn reject_file_keeps_bad_rows_and_imports_good_ones() {
    let dir = TempDir::new("imp-rejects");
    // PostgreSQL and MariaDB refuse lines 3 (range), 4 (field count), 6
    // (duplicate key, found by the database) and 8 (date); SQLite has no
    // column types to check, so only lines 4 and 6.
    let checked: &[(usize, &str)] = &[
        (3, "out of range"),
        (4, "expected 4 fields"),
        (6, ""),
        (8, "2023-02-30"),
    ];
    let checked_rows = "1|1|a|2024-01-01;4|4|d|2024-01-04;5|5|x\"y|2024-01-05;7|7|g|2024-01-07";
    let cases = [
        RejectCase {
            db: Db::Pg,
            table: "it_imp_rejects_pg",
            rows: checked_rows,
            rejected: checked,
            // Lines 2 and 5 went in (a batch), line 6 is the third bad row.
            stop: ("2", "line 6", 2, "1,4"),
        },
        RejectCase {
            db: Db::My,
            table: "it_imp_rejects_my",
            rows: checked_rows,
            rejected: checked,
            stop: ("2", "line 6", 2, "1,4"),
        },
        RejectCase {
            db: Db::lite(&dir),
            table: "it_imp_rejects_lite",
            rows: "1|1|a|2024-01-01;2|99999|b|2024-01-02;4|4|d|2024-01-04;\
                   5|5|x\"y|2024-01-05;6|6|f|2023-02-30;7|7|g|2024-01-07",
            rejected: &[(4, "expected 4 fields"), (6, "")],
            // Lines 2 and 3 (a batch) and 5 (replayed before line 6) went in.
            stop: ("1", "line 6", 3, "1,2,4"),
        },
    ];
    let lines: Vec<&str> = REJECT_INPUT.lines().collect();
    for case in cases {
        for strategy in case.db.import_strategies() {
            check_rejects(&dir, &case, strategy, &lines);
        }
    }
}

/// A value longer than its `varchar(n)` column is refused, never cut
/// short, whichever way the rows go in (PostgreSQL's explicit cast to
/// `varchar(5)` truncates; the `insert` path, also the replay of a failed
/// COPY batch, used to cast that way).
#[test]
fn too_long_text_is_refused_not_truncated() {
    let dir = TempDir::new("imp-too-long");
    for db in [Db::Pg, Db::My] {
        for strategy in db.import_strategies() {
            let table = format!("it_imp_too_long_{}", strategy.replace('-', "_"));
            let _drop = db.drop_on_exit(&table);
            db.create(&table, "id INT PRIMARY KEY, v VARCHAR(5), c CHAR(3)");
            let rejects = dir.join(&format!("{table}.rejects"));
            let run = import(
                &db,
                &table,
                &["--strategy", strategy, "--batch", "2"],
                "id,v,c\n1,abc,x\n2,abcdefgh,y\n3,xyz,abcd\n4,vwxyz,zzz\n",
            );
            assert_ne!(run.code, Some(0), "{db:?} {strategy}: {}", run.stderr);
            assert!(
                run.stderr.contains("line 3"),
                "{db:?} {strategy}: {}",
                run.stderr
            );
            db.exec(&format!("DELETE FROM {table}"));
            let run = import(
                &db,
                &table,
                &[
                    "--strategy",
                    strategy,
                    "--batch",
                    "2",
                    "--reject-file",
                    rejects.to_str().unwrap(),
                ],
                "id,v,c\n1,abc,x\n2,abcdefgh,y\n3,xyz,abcd\n4,vwxyz,zzz\n",
            );
            run.assert_code(3);
            assert_eq!(
                db.rows(&table, &["id", "v", "c"]),
                "1|abc|x;4|vwxyz|zzz",
                "{db:?} {strategy}"
            );
            let lines: Vec<String> = reject_entries(&rejects)
                .into_iter()
                .map(|(reason, _)| reason.split(':').next().unwrap().to_string())
                .collect();
            assert_eq!(lines, ["# line 3", "# line 4"], "{db:?} {strategy}");
        }
    }
}

#[track_caller]
fn check_rejects(dir: &TempDir, case: &RejectCase, strategy: &str, lines: &[&str]) {
    let (db, table) = (&case.db, case.table);
    db.create(table, BAD_COLUMNS);
    let rejects = dir.join(&format!("{table}.rejects"));
    let rejects_arg = rejects.to_str().unwrap();
    // No --max-errors: no limit. Completed with rejects is exit 3.
    let run = import(
        db,
        table,
        &[
            "--strategy", strategy, "--batch", "2", "--reject-file", rejects_arg, "--stats",
        ],
        REJECT_INPUT,
    );
    run.assert_code(3);
    assert_eq!(
        db.rows(table, &["id", "si", "t", "d"]),
        case.rows,
        "{db:?} {strategy}"
    );
    let entries = reject_entries(&rejects);
    assert_eq!(
        entries.len(),
        case.rejected.len(),
        "{db:?} {strategy}: {entries:#?}"
    );
    for ((comment, raw), &(line, reason)) in entries.iter().zip(case.rejected) {
        // `# line N: reason`, or `# line N, column M (name): reason`.
        let prefix = format!("# line {line}");
        let rest = comment.strip_prefix(&prefix).unwrap_or_else(|| {
            panic!("{db:?} {strategy}: {comment:?} does not start with {prefix:?}")
        });
        assert!(
            rest.starts_with(": ") || rest.starts_with(", column "),
            "{db:?} {strategy}: {comment:?}"
        );
        assert!(comment.contains(reason), "{db:?} {strategy}: {comment:?}");
        assert_eq!(
            raw,
            lines[line - 1],
            "{db:?} {strategy}: the original text of line {line}"
        );
    }
    let stats = stats_line(&run);
    let good = case.rows.split(';').count();
    assert_eq!(stats["rows"], good, "{db:?} {strategy}: {}", run.stderr);
    assert_eq!(
        stats["rejected"],
        entries.len(),
        "{db:?} {strategy}: {}",
        run.stderr
    );
    let summary = format!(
        "dbchunk: imported {good} rows into table {table}; {} rows rejected, written to {}",
        entries.len(),
        rejects.display()
    );
    assert_eq!(
        run.stderr_lines().first(),
        Some(&summary.as_str()),
        "{db:?} {strategy}: {}",
        run.stderr
    );
    assert_eq!(
        run.stderr_lines().len(),
        2,
        "{db:?} {strategy}: {}",
        run.stderr
    );

    // A high --max-errors is not reached: the same rows, the same exit 3.
    db.create(table, BAD_COLUMNS);
    let args = [
        "--strategy", strategy, "--batch", "2", "--reject-file", rejects_arg,
    ];
    let run = import(
        db,
        table,
        &[&args[..], &["--max-errors", "10"]].concat(),
        REJECT_INPUT,
    );
    run.assert_code(3);
    assert_eq!(
        db.rows(table, &["id", "si", "t", "d"]),
        case.rows,
        "{db:?} {strategy}"
    );
    assert_eq!(
        reject_entries(&rejects).len(),
        entries.len(),
        "{db:?} {strategy}"
    );

    // Past --max-errors the run stops, saying what was committed.
    let (max, at, committed, ids) = case.stop;
    db.create(table, BAD_COLUMNS);
    let run = import(
        db,
        table,
        &[
            "--strategy", strategy, "--batch", "2", "--reject-file", rejects_arg, "--max-errors",
            max,
        ],
        REJECT_INPUT,
    );
    run.assert_code(1);
    let line = run.one_error_line();
    assert!(
        line.contains(&format!("{at}: ")),
        "{db:?} {strategy}: {line}"
    );
    assert!(
        line.contains(&format!("--max-errors {max}")),
        "{db:?} {strategy}: {line}"
    );
    let count = format!("; {committed} rows were committed before this error");
    assert!(line.contains(&count), "{db:?} {strategy}: {line}");
    assert_eq!(db.ids(table), ids, "{db:?} {strategy}");
    let kept = reject_entries(&rejects).len();
    assert_eq!(kept, max.parse::<usize>().unwrap() + 1, "{db:?} {strategy}");
}
