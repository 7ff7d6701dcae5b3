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
/// has: exit 1, one `dbchunk:` line that says what `stop` says, and the
/// table then holds exactly the rows `stop` names. Then the same with
/// `--atomic` into a seeded table, which must come out unchanged.
#[track_caller]
fn assert_bad_input(db: &Db, table: &str, args: &[&str], input: &[u8], stop: &Stop) {
    for strategy in db.import_strategies() {
        let mut all = vec!["--batch", "2", "--strategy", strategy];
        all.extend_from_slice(args);
        db.create(table, BAD_COLUMNS);
        assert_import_stops(db, table, &all, input, stop);
        assert_atomic_changes_nothing(db, table, &all, input, stop.says);
    }
}

/// [`assert_bad_input`] on each of `dbs`, in a table named after the case
/// and the engine, for an input whose bad line 6 stops the import after
/// the 4 rows before it.
#[track_caller]
fn bad_line_6(case: &str, dbs: Vec<Db>, args: &[&str], input: &[u8], expected: &[&str]) {
    for db in dbs {
        let table = format!("it_imp_{case}_{}", db.tag());
        assert_bad_input(&db, &table, args, input, &Stop::after_4(expected));
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
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_bad_dup_table") {
        for strategy in db.import_strategies() {
            create_seeded(&db, &table);
            let before = db.rows(&table, &["id", "si", "t", "d"]);
            let args = ["--batch", "2", "--strategy", strategy];
            let stop = Stop {
                says: &["line 6: "],
                committed: 4,
                ids: "1,2,3,4,100,101,102",
            };
            let line = assert_import_stops(&db, &table, &args, &input, &stop);
            assert!(
                line.to_lowercase().contains("duplicate") || line.contains("UNIQUE"),
                "{db:?} {strategy}: {line}"
            );
            // The seeded row is as it was.
            assert!(
                db.rows(&table, &["id", "si", "t", "d"]).ends_with(&before),
                "{db:?} {strategy}"
            );
            assert_atomic_changes_nothing(&db, &table, &args, &input, &["line 6: "]);
        }
    }
}

/// Twice the same key in the input: in one batch (lines 6 and 7), and in
/// two batches (line 6 repeats line 2).
#[test]
fn bad_duplicate_within_the_input() {
    let dir = TempDir::new("imp-bad-dup-input");
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_bad_dup_input") {
        // Same batch: lines 6 and 7 are both id 5; line 6 goes in.
        let mut input = format!("{BAD_HEADER}{}", good_lines(1..=5)).into_bytes();
        input.extend_from_slice(b"5,55,again,2024-01-05\n");
        input.extend_from_slice(good_lines(6..=7).as_bytes());
        let stop = Stop {
            says: &["line 7: "],
            committed: 5,
            ids: "1,2,3,4,5",
        };
        assert_bad_input(&db, &table, &[], &input, &stop);
        // Across batches: line 6 repeats id 1 of line 2.
        let input = csv_with_bad_line_6(b"1,5,x,2024-01-05");
        assert_bad_input(&db, &table, &[], &input, &Stop::after_4(&["line 6: "]));
    }
}

/// A header naming a column the table does not have is a usage error
/// (exit 2), found before any row is written.
#[test]
fn bad_unknown_column_in_header() {
    let dir = TempDir::new("imp-bad-unknown-col");
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_bad_unknown_col") {
        create_seeded(&db, &table);
        let before = db.digest(&table);
        let input = format!("id,si,nosuch,d\n{}", good_lines(1..=4));
        for atomic in [&[][..], &["--atomic"]] {
            let run = import(&db, &table, atomic, input.clone());
            run.assert_code(2);
            let line = run.one_error_line();
            assert!(line.contains("\"nosuch\""), "{db:?}: {line}");
            assert!(line.contains("not a column"), "{db:?}: {line}");
            assert_eq!(db.digest(&table), before, "{db:?}: the table changed");
        }
    }
}

#[test]
fn empty_input_and_header_only_are_zero_rows() {
    let dir = TempDir::new("imp-empty");
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_empty") {
        db.create(&table, BAD_COLUMNS);
        for (format, input) in [
            ("csv", ""),
            ("csv", BAD_HEADER),
            ("tsv", ""),
            ("tsv", "id\tsi\tt\td\n"),
            ("ndjson", ""),
            ("ndjson", "\n\n"),
        ] {
            let args = ["--format", format, "--stats", "--verbose"];
            let run = import_ok(&db, &table, &args, input);
            assert_eq!(db.ids(&table), "", "{db:?} {format} {input:?}");
            let stats = stats_line(&run);
            assert_eq!(
                stats["rows"], 0,
                "{db:?} {format} {input:?}: {}",
                run.stderr
            );
            run.stderr_says(&["imported 0 rows"]);
        }
    }
}

#[test]
fn missing_input_file_names_the_path() {
    let dir = TempDir::new("imp-missing-file");
    let missing = dir.join("no-such-input.csv");
    let db = Db::Pg;
    let table = "it_imp_missing_file";
    create_seeded(&db, table);
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
            let input = "id,v,c\n1,abc,x\n2,abcdefgh,y\n3,xyz,abcd\n4,vwxyz,zzz\n";
            let run = import(
                &db,
                &table,
                &["--strategy", strategy, "--batch", "2"],
                input,
            );
            assert_ne!(run.code, Some(0), "{db:?} {strategy}: {}", run.stderr);
            assert!(
                run.stderr.contains("line 3"),
                "{db:?} {strategy}: {}",
                run.stderr
            );
            db.exec(&format!("DELETE FROM {table}"));
            let args = reject_args(strategy, &rejects);
            let run = import(&db, &table, &args, input);
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

/// `--strategy STRATEGY --batch 2 --reject-file REJECTS`.
fn reject_args<'a>(strategy: &'a str, rejects: &'a Path) -> [&'a str; 6] {
    let rejects = rejects.to_str().unwrap();
    [
        "--strategy", strategy, "--batch", "2", "--reject-file", rejects,
    ]
}

#[track_caller]
fn check_rejects(dir: &TempDir, case: &RejectCase, strategy: &str, lines: &[&str]) {
    let (db, table) = (&case.db, case.table);
    let _drop = db.drop_on_exit(table);
    let rejects = dir.join(&format!("{table}.rejects"));
    let args = reject_args(strategy, &rejects);
    // Completed with rejects is exit 3, with the good rows in the table.
    let completes = |more: &[&str]| {
        db.create(table, BAD_COLUMNS);
        let run = import(db, table, &[&args[..], more].concat(), REJECT_INPUT);
        run.assert_code(3);
        let rows = db.rows(table, &["id", "si", "t", "d"]);
        assert_eq!(rows, case.rows, "{db:?} {strategy} {more:?}");
        run
    };
    // No --max-errors: no limit.
    let run = completes(&["--stats"]);
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
    completes(&["--max-errors", "10"]);
    assert_eq!(
        reject_entries(&rejects).len(),
        entries.len(),
        "{db:?} {strategy}"
    );

    // Past --max-errors the run stops, saying what was committed.
    let (max, at, committed, ids) = case.stop;
    db.create(table, BAD_COLUMNS);
    let all = [&args[..], &["--max-errors", max]].concat();
    let stop = Stop {
        says: &[&format!("{at}: "), &format!("--max-errors {max}")],
        committed,
        ids,
    };
    assert_import_stops(db, table, &all, REJECT_INPUT.as_bytes(), &stop);
    let kept = reject_entries(&rejects).len();
    assert_eq!(kept, max.parse::<usize>().unwrap() + 1, "{db:?} {strategy}");
}
