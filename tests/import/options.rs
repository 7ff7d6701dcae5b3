//! Import options (on-conflict, truncate, columns, NULL, gzip, stats) and
//! progress.

use super::*;
use crate::util::tables::test_table;

const CONFLICT_COLUMNS: &str = "id INTEGER PRIMARY KEY, name VARCHAR(20), n INTEGER";

#[test]
fn on_conflict_error_skip_update_on_every_engine() {
    let dir = TempDir::new("imp-conflict");
    // Ids 1 and 2 are in the table; 1 comes twice in one batch and 3 twice
    // in another.
    let input = "id,name,n\n4,new,40\n1,new,11\n1,newer,12\n3,new,30\n3,newer,31\n5,new,50\n";
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_conflict") {
        let seed = || {
            db.create(&table, CONFLICT_COLUMNS);
            db.exec(&format!(
                "INSERT INTO {table} VALUES (1, 'old', 10), (2, 'old', 20)"
            ));
        };
        seed();
        let stop = Stop {
            says: &["line 3: "],
            committed: 1,
            ids: "1,2,4",
        };
        assert_import_stops(&db, &table, &["--batch", "2"], input.as_bytes(), &stop);
        let cases: &[ImportCase] = &[
            (
                "skip",
                &["--batch", "2", "--on-conflict", "skip"],
                input,
                "1|old|10;2|old|20;3|new|30;4|new|40;5|new|50",
            ),
            (
                "update",
                &["--batch", "2", "--on-conflict", "update"],
                input,
                "1|newer|12;2|old|20;3|newer|31;4|new|40;5|new|50",
            ),
            (
                "update only touches the columns the input has",
                &["--on-conflict", "update"],
                "id,name\n2,renamed\n",
                "1|old|10;2|renamed|20",
            ),
        ];
        assert_imports(&db, &table, &seed, &["id", "name", "n"], cases);
    }
}

#[test]
fn truncate_alone_and_with_atomic() {
    let dir = TempDir::new("imp-truncate");
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_truncate") {
        for strategy in db.import_strategies() {
            check_truncate(&db, &table, strategy);
        }
    }
}

#[track_caller]
fn check_truncate(db: &Db, table: &str, strategy: &str) {
    let good = format!("{BAD_HEADER}{}", good_lines(1..=5));
    for args in [&["--truncate"][..], &["--truncate", "--atomic"]] {
        create_seeded(db, table);
        let mut all = vec!["--batch", "2", "--strategy", strategy];
        all.extend_from_slice(args);
        import_ok(db, table, &all, good.clone());
        assert_eq!(db.ids(table), "1,2,3,4,5", "{db:?} {strategy} {args:?}");
    }

    // A bad line 6, found by dbchunk (a field short) or by the database
    // (id 1 again)...
    for bad in [&b"5,5,too few"[..], b"1,5,x,2024-01-05"] {
        let bad = csv_with_bad_line_6(bad);
        // ... without --atomic: the table was emptied and holds the
        // committed rows ...
        create_seeded(db, table);
        let args = ["--batch", "2", "--strategy", strategy, "--truncate"];
        assert_import_stops(db, table, &args, &bad, &Stop::after_4(&["line 6"]));
        // ... and with --atomic it is as it was, seeded rows included.
        assert_atomic_changes_nothing(db, table, &args, &bad, &[]);
    }
}

#[test]
fn columns_header_order_and_defaults() {
    let dir = TempDir::new("imp-columns");
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_columns") {
        let columns = "id INTEGER PRIMARY KEY, name VARCHAR(20) DEFAULT 'dflt', \
                       n INTEGER DEFAULT 42, note VARCHAR(20)";
        let cases: &[ImportCase] = &[
            (
                "--no-header --columns",
                &["--no-header", "--columns", "id,n,name,note"],
                "1,7,a,x\n2,,\"\",\n",
                "1|a|7|x;2||<NULL>|<NULL>",
            ),
            (
                "a header in another order than the table's",
                &[],
                "note,n,id,name\nx,7,1,a\n,8,2,b\n",
                "1|a|7|x;2|b|8|<NULL>",
            ),
            (
                "columns the input does not have get their DEFAULT (or NULL)",
                &[],
                "id\n1\n2\n",
                "1|dflt|42|<NULL>;2|dflt|42|<NULL>",
            ),
            (
                "ndjson defaults",
                &["--format", "ndjson"],
                "{\"id\":1,\"note\":\"x\"}\n",
                "1|dflt|42|x",
            ),
            (
                "--columns renames the header's fields",
                &["--columns", "id,name"],
                "a,b\n1,z\n",
                "1|z|42|<NULL>",
            ),
        ];
        assert_imports(
            &db,
            &table,
            &|| db.create(&table, columns),
            &["id", "name", "n", "note"],
            cases,
        );
    }
}

#[test]
fn null_option_and_tsv_null() {
    let dir = TempDir::new("imp-null");
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_null") {
        let columns = "id INTEGER PRIMARY KEY, a VARCHAR(10), b INTEGER";
        let cases: &[ImportCase] = &[
            (
                // With --null \N, an empty field is the empty string, and a
                // quoted "\N" is the text \N.
                "--null \\N",
                &["--null", "\\N"],
                "id,a,b\n1,\\N,\\N\n2,\"\",5\n3,,6\n4,\"\\N\",7\n",
                "1|<NULL>|<NULL>;2||5;3||6;4|\\N|7",
            ),
            (
                "tsv",
                &["--format", "tsv"],
                "id\ta\tb\n1\t\\N\t\\N\n2\t\t5\n3\tNULL\t6\n",
                "1|<NULL>|<NULL>;2||5;3|NULL|6",
            ),
            (
                "--null NULL",
                &["--null", "NULL"],
                "id,a,b\n1,NULL,NULL\n2,,5\n3,\"NULL\",6\n",
                "1|<NULL>|<NULL>;2||5;3|NULL|6",
            ),
        ];
        assert_imports(
            &db,
            &table,
            &|| db.create(&table, columns),
            &["id", "a", "b"],
            cases,
        );
    }
}

#[test]
fn pg_boolean_forms() {
    let db = Db::Pg;
    let table = "it_imp_pg_bool";
    db.create(table, "id integer PRIMARY KEY, b boolean");
    let input = "id,b\n1,t\n2,f\n3,1\n4,0\n5,yes\n6,no\n7,TRUE\n8,False\n9,\n10,on\n11,off\n";
    import_ok(&db, table, &["--batch", "3"], input);
    assert_eq!(
        db.rows(table, &["id", "b"]),
        "1|true;2|false;3|true;4|false;5|true;6|false;7|true;8|false;9|<NULL>;10|true;11|false"
    );
    let run = import(&db, table, &[], "id,b\n20,maybe\n");
    run.assert_code(1);
    let line = run.one_error_line();
    assert!(line.contains("line 2, column 2 (b)"), "{line}");
    assert!(line.contains("not a boolean"), "{line}");
}

#[test]
fn timestamps_with_space_and_offsets() {
    let input = "id,ts,tz
1,2024-05-26 10:00:00,2024-05-26 10:00:00+02:00
2,2024-05-26T10:00:00.123456,2024-05-26T01:30:00+02:00
3,2024-12-31 23:00:00,2024-12-31 23:00:00-01:30
4,2024-05-26 10:00:00.5,2024-05-26 10:00:00Z
5,2024-05-26T10:00:00,2024-05-26 10:00:00
";
    // PostgreSQL: the instant stored in the timestamptz, in UTC, and as
    // seconds since the epoch (which no session time zone can shift).
    // MariaDB TIMESTAMP is an instant too.
    let cases: [(Db, &str, &[&str], &str); 2] = [
        (
            Db::Pg,
            "id integer PRIMARY KEY, ts timestamp, tz timestamptz",
            &[
                "id", "ts", "(tz AT TIME ZONE 'UTC')", "extract(epoch from tz)",
            ],
            "1|2024-05-26 10:00:00|2024-05-26 08:00:00|1716710400.000000;\
             2|2024-05-26 10:00:00.123456|2024-05-25 23:30:00|1716679800.000000;\
             3|2024-12-31 23:00:00|2025-01-01 00:30:00|1735691400.000000;\
             4|2024-05-26 10:00:00.5|2024-05-26 10:00:00|1716717600.000000;\
             5|2024-05-26 10:00:00|2024-05-26 10:00:00|1716717600.000000",
        ),
        (
            Db::My,
            "id INT PRIMARY KEY, ts DATETIME(6), tz TIMESTAMP(6) NULL",
            &["id", "ts", "UNIX_TIMESTAMP(tz)"],
            "1|2024-05-26 10:00:00.000000|1716710400.000000;\
             2|2024-05-26 10:00:00.123456|1716679800.000000;\
             3|2024-12-31 23:00:00.000000|1735691400.000000;\
             4|2024-05-26 10:00:00.500000|1716717600.000000;\
             5|2024-05-26 10:00:00.000000|1716717600.000000",
        ),
    ];
    for (db, columns, read, expected) in cases {
        let (table, _drop) = test_table(&db, "it_imp_tz");
        db.create(&table, columns);
        import_ok(&db, &table, &["--batch", "2"], input);
        assert_eq!(db.rows(&table, read), expected, "{db:?}");
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gz_file_and_stdin_input() {
    let dir = TempDir::new("imp-gz");
    let db = Db::Pg;
    let (table, copy) = ("it_imp_gz", "it_imp_gz_copy");
    db.create(table, BAD_COLUMNS);
    db.create(copy, BAD_COLUMNS);
    db.exec(&format!(
        "INSERT INTO {table} VALUES {SEED}, (1, NULL, NULL, NULL)"
    ));
    for format in FORMATS {
        let data = export(&db, table, format);
        let path = dir.join(&format!("data.{format}.gz"));
        std::fs::write(&path, gzip(&data)).unwrap();
        db.exec(&format!("DELETE FROM {copy}"));
        // The format comes from the name under the .gz.
        let run = dbchunk(["import", "--url", &db.url(), "--table", copy, "--input"])
            .arg(&path)
            .run();
        run.assert_code(0);
        assert!(run.stdout.is_empty());
        db.assert_same_table(table, copy, &format!("{format}.gz"));

        // stdin, by default and as --input -.
        for args in [
            &["--format", format][..],
            &["--format", format, "--input", "-"],
        ] {
            db.exec(&format!("DELETE FROM {copy}"));
            import_ok(&db, copy, args, data.clone());
            db.assert_same_table(table, copy, &format!("stdin {args:?}"));
        }
    }
}

#[test]
fn stats_summary_and_quiet() {
    let dir = TempDir::new("imp-stats");
    let input = format!("{BAD_HEADER}{}", good_lines(1..=7));
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_stats") {
        db.create(&table, BAD_COLUMNS);
        let run = import_ok(&db, &table, &["--batch", "3", "--stats"], input.clone());
        let stats = stats_line(&run);
        // auto is the engine's bulk path.
        let fastest = db.import_strategies()[0];
        assert_eq!(stats["strategy"], fastest, "{}", run.stderr);
        assert_eq!(stats["rows"], 7, "{}", run.stderr);
        assert_eq!(stats["rejected"], 0, "{}", run.stderr);
        assert_eq!(stats["bytes"], input.len(), "{}", run.stderr);
        assert_eq!(stats["batches"], 3, "{}", run.stderr);
        assert_eq!(
            run.stderr_lines().len(),
            1,
            "the stats only:\n{}",
            run.stderr
        );

        // Success is silent (cron mails nothing); --verbose adds a summary.
        db.create(&table, BAD_COLUMNS);
        let run = import_ok(&db, &table, &["--batch", "3"], input.clone());
        assert_eq!(run.stderr, "", "a successful import prints nothing");
        assert_eq!(db.ids(&table), "1,2,3,4,5,6,7");
        db.create(&table, BAD_COLUMNS);
        let run = import_ok(&db, &table, &["--verbose", "--stats"], input.clone());
        let lines = run.stderr_lines();
        assert_eq!(lines.len(), 2, "a summary and the stats:\n{}", run.stderr);
        assert!(
            lines[0].starts_with("dbchunk: imported 7 rows into table "),
            "{}",
            run.stderr
        );
        assert!(lines[0].contains(&table), "{}", run.stderr);

        // --quiet: no summary; the stats still come when asked for.
        db.create(&table, BAD_COLUMNS);
        let run = import_ok(&db, &table, &["--quiet"], input.clone());
        assert_eq!(run.stderr, "", "--quiet");
        db.create(&table, BAD_COLUMNS);
        let run = import_ok(&db, &table, &["--quiet", "--stats"], input.clone());
        assert_eq!(stats_line(&run)["rows"], 7);
        assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    }
}

/// Rows of 60,000 bytes: a batch ends once it holds about 4 MiB, long
/// before `--batch` rows, and its text reaches the server in pieces cut
/// anywhere (inside a row, inside an escape) that add up to the same rows.
#[test]
fn wide_rows_end_a_batch_before_batch_rows() {
    let dir = TempDir::new("imp-wide");
    let mut input = String::from("id,t\n");
    for id in 1..=200 {
        let text = format!("{id}\\\t").repeat(20_000);
        input.push_str(&format!("{id},{}\n", &text[..60_000]));
    }
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_wide") {
        db.create(&table, "id INTEGER PRIMARY KEY, t TEXT");
        let run = import_ok(&db, &table, &["--batch", "1000", "--stats"], input.clone());
        let batches = stats_line(&run)["batches"].as_u64().unwrap();
        assert!((3..200).contains(&batches), "{db:?}: {}", run.stderr);
        assert_same_bytes(
            &format!("{db:?}"),
            input.as_bytes(),
            &export(&db, &table, "csv"),
        );
    }
}

#[test]
fn copy_and_load_data_batches_fill_their_bytes_by_default() {
    let dir = TempDir::new("imp-default-batch");
    let mut input = String::from("id,t\n");
    for id in 1..=20_000 {
        input.push_str(&format!("{id},row {id}\n"));
    }
    for (db, table, _drop) in Db::all_tables(&dir, "it_imp_default_batch") {
        db.create(&table, "id INTEGER PRIMARY KEY, t TEXT");
        let batches = |args: &[&str]| {
            db.exec(&format!("DELETE FROM {table}"));
            let run = import_ok(&db, &table, &[args, &["--stats"]].concat(), input.clone());
            assert_eq!(db.count(&table), 20_000, "{db:?} {args:?}");
            stats_line(&run)["batches"].as_u64().unwrap()
        };
        // 20,000 narrow rows are about 300 KB: one batch of COPY or LOAD
        // DATA; insert (SQLite's auto) keeps 5000 rows a batch.
        let auto = if matches!(db, Db::Lite(_)) { 4 } else { 1 };
        assert_eq!(batches(&[]), auto, "{db:?} auto");
        assert_eq!(batches(&["--strategy", "insert"]), 4, "{db:?} insert");
        assert_eq!(batches(&["--batch", "3000"]), 7, "{db:?} --batch 3000");
    }
}

#[test]
fn rows_that_trickle_in_are_committed_within_seconds() {
    use std::io::Write;
    let (url, table) = (Db::Pg.url(), "it_imp_trickle");
    let _drop = Db::Pg.drop_on_exit(table);
    Db::Pg.create(table, "id INTEGER PRIMARY KEY");
    let child = dbchunk(["import", "--url", &url, "--table", table])
        .command()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start dbchunk");
    let mut child = crate::util::procs::KillOnDrop(child);
    let mut stdin = child.0.stdin.take().unwrap();
    writeln!(stdin, "id").unwrap();
    // A row every 50 ms for two seconds, the input left open after them:
    // the rows are in the table long before a batch of 5000 rows, or of
    // 4 MiB, would fill.
    for id in 1..=40 {
        writeln!(stdin, "{id}").unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let waited = std::time::Instant::now();
    while Db::Pg.count(table) < 20 {
        assert!(
            waited.elapsed().as_secs() < 10,
            "the rows read so far were not committed while the input stayed open"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(stdin);
    assert!(child.0.wait().unwrap().success());
    assert_eq!(Db::Pg.count(table), 40);
}

// ---------------------------------------------------------------------------
// 5. Progress

#[test]
fn progress_always_goes_to_stderr_only() {
    let dir = TempDir::new("imp-progress");
    let lite = Db::lite(&dir);
    let table = "it_imp_progress";
    lite.create(table, BAD_COLUMNS);
    let input: String = (1..=2000)
        .map(|i| format!("{i},{},text {i},2024-01-01\n", i % 100))
        .collect();
    let path = dir.join("input.csv");
    std::fs::write(&path, format!("{BAD_HEADER}{input}")).unwrap();
    let run = dbchunk([
        "import",
        "--url",
        &lite.url(),
        "--table",
        table,
        "--batch",
        "100",
        "--progress",
        "always",
        "--verbose",
        "--input",
    ])
    .arg(&path)
    .run();
    run.assert_code(0);
    assert!(
        run.stdout.is_empty(),
        "progress on stdout: {:?}",
        String::from_utf8_lossy(&run.stdout)
    );
    let lines = run.stderr_lines();
    let progress: Vec<&&str> = lines
        .iter()
        .filter(|l| !l.starts_with("dbchunk: imported"))
        .collect();
    assert!(
        !progress.is_empty(),
        "no progress lines on stderr:\n{}",
        run.stderr
    );
    assert!(
        progress.iter().any(|l| l.contains("2000 rows")),
        "the last progress line shows every row:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("dbchunk: imported 2000 rows"),
        "{}",
        run.stderr
    );
    assert_eq!(lite.ids(table).split(',').count(), 2000);
}

/// A 2 GB line on stdin: an error naming the limit once the default 64 MiB
/// is passed, under an address-space limit far below the line's size.
#[test]
fn a_two_gigabyte_line_is_an_error_not_an_allocation() {
    let dir = TempDir::new("import_huge_line");
    let path = dir.join("t.db");
    crate::util::db::sqlite_exec(&path, "CREATE TABLE t(a TEXT, b TEXT);");
    let mut child = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 1500000 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_dbchunk"))
        .args([
            "import",
            "--url",
            &sqlite_url(&path),
            "--table",
            "t",
            "--quiet",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start dbchunk");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let block = vec![b'x'; 1 << 20];
        stdin.write_all(b"a,b\n1,")?;
        for _ in 0..2048 {
            stdin.write_all(&block)?; // stops when dbchunk has exited
        }
        stdin.write_all(b"\n")
    });
    let output = child.wait_with_output().unwrap();
    let fed = feeder.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("line 2: record longer than 67108864 bytes (raise --max-line-bytes)"),
        "{stderr}"
    );
    assert!(
        fed.is_err(),
        "dbchunk read the whole 2 GB line instead of stopping"
    );
    assert_eq!(
        crate::util::db::sqlite_query_text(&path, "SELECT count(*) FROM t").as_deref(),
        Some("0")
    );
}
