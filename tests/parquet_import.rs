//! `dbchunk import` of Parquet: dbchunk's own files round trip on every
//! engine, files pyarrow writes (row groups, dictionaries, other time
//! units, INT96, lists) import right, and the import's promises (errors
//! that name the row, reject files, --atomic, --state/--resume, stdin)
//! hold as they do for text.

use std::time::Duration;

use crate::parquet::{create_mysql_types, create_pg_types, create_sqlite_types, run_python};
use crate::util::db::{pg_exec, pg_query_text, pg_url};
use crate::util::engine::Db;
use crate::util::procs::{kill_and_resume, read_json};
use crate::util::{dbchunk, sqlite_url, TempDir};

/// Exports `table` to Parquet in `dir`; the file's path.
fn export_parquet(url: &str, table: &str, dir: &TempDir, name: &str) -> String {
    let path = dir.join(name);
    let path = path.to_str().unwrap().to_string();
    dbchunk(["export", "--url", url, "-t", table, "-o", &path, "--quiet"]).success();
    path
}

#[test]
fn pqin_every_type_round_trips_on_every_engine() {
    let dir = TempDir::new("pqin_round_trip");
    for db in Db::all(&dir) {
        let (table, copy) = match &db {
            Db::Pg => ("it_pqin_pg_types", "it_pqin_pg_copy"),
            Db::My => ("it_pqin_my_types", "it_pqin_my_copy"),
            Db::Lite(_) => ("t", "it_pqin_lite_copy"),
        };
        match &db {
            Db::Pg => {
                create_pg_types(table);
                db.exec(&format!(
                    "DROP TABLE IF EXISTS {copy}; CREATE TABLE {copy} (LIKE {table})"
                ));
            }
            Db::My => {
                create_mysql_types(table);
                db.exec(&format!(
                    "DROP TABLE IF EXISTS {copy}; CREATE TABLE {copy} LIKE {table}"
                ));
            }
            Db::Lite(path) => {
                create_sqlite_types(path);
                let ddl = db
                    .text("SELECT sql FROM sqlite_master WHERE name = 't'")
                    .unwrap();
                db.exec(&ddl.replacen("CREATE TABLE t ", &format!("CREATE TABLE {copy} "), 1));
            }
        }
        let url = db.url();
        let original = export_parquet(&url, table, &dir, &format!("{}.parquet", db.tag()));
        for strategy in db.import_strategies() {
            dbchunk(["import", "--url", &url, "-t", copy, "-i", &original])
                .args(["--strategy", strategy, "--truncate", "--batch", "2"])
                .success();
            let context = format!("{} import --strategy {strategy}", db.name());
            // The copy's Parquet is the original's, byte for byte.
            let again = export_parquet(&url, copy, &dir, "again.parquet");
            assert!(
                std::fs::read(&original).unwrap() == std::fs::read(&again).unwrap(),
                "{context}: the copy exports other Parquet bytes"
            );
            if let Db::Lite(_) = db {
                // SQLite keeps a timestamp's text as given: Parquet's
                // typed value comes back in export's form, with a T. And
                // a column without a declared type is a Parquet STRING,
                // which comes back as text (as it would from CSV).
                db.exec("UPDATE t SET ts = replace(ts, ' ', 'T'), x = CAST(x AS TEXT)");
            }
            db.assert_same_table(table, copy, &context);
        }
        match &db {
            Db::Pg => pg_exec(&format!(
                "DROP TABLE {copy}; DROP TABLE {table}; DROP TYPE {table}_mood;"
            )),
            Db::My => db.exec(&format!("DROP TABLE {copy}; DROP TABLE {table}")),
            Db::Lite(_) => {}
        }
    }
}

/// Writes `arrow.parquet` (three row groups of at most 1000 rows, string
/// dictionaries, ms and ns timestamps, int8/int16, decimals, lists, JSON
/// text, binary, dates and times) and `int96.parquet`; prints the sums the
/// imported table must give, as the SQL of the test computes them.
const ARROW_FILES: &str = r#"
import sys, os, datetime as dt, decimal, json
import pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
n = 2500
ids = list(range(1, n + 1))
base = dt.datetime(2024, 1, 1)
ms = [base + dt.timedelta(milliseconds=i * 1001) for i in ids]
ns = [1704067200_000_000_000 + i * 1_000_001_000 for i in ids]
amount = [(decimal.Decimal(i * 37 % 100000) / 100 - 300).quantize(decimal.Decimal("0.01")) for i in ids]
tags = [[i, None] if i % 3 == 0 else ([] if i % 3 == 1 else None) for i in ids]
flag = [None if i % 5 == 0 else i % 2 == 0 for i in ids]
day = [dt.date(2000, 1, 1) + dt.timedelta(days=i) for i in ids]
tod = [dt.time(i % 24, i % 60, i % 60, i * 13 % 1000000) for i in ids]
t = pa.table({
    "id": pa.array(ids, pa.int64()),
    "small": pa.array([i % 200 - 100 for i in ids], pa.int8()),
    "mid": pa.array([i * 7 % 30000 for i in ids], pa.int16()),
    "cat": pa.array([["red", "green", "blue"][i % 3] for i in ids]).dictionary_encode(),
    "ts_ms": pa.array(ms, pa.timestamp("ms")),
    "ts_ns": pa.array(ns, pa.timestamp("ns", tz="UTC")),
    "amount": pa.array(amount, pa.decimal128(10, 2)),
    "tags": pa.array(tags, pa.list_(pa.int32())),
    "doc": pa.array([json.dumps({"i": i}) for i in ids], pa.string()),
    "flag": pa.array(flag, pa.bool_()),
    "day": pa.array(day, pa.date32()),
    "raw": pa.array([bytes([i % 256, 0]) for i in ids], pa.binary()),
    "tod": pa.array(tod, pa.time64("us")),
})
path = os.path.join(out, "arrow.parquet")
pq.write_table(t, path, row_group_size=1000, use_dictionary=True)
m = pq.ParquetFile(path).metadata
assert m.num_row_groups == 3, m.num_row_groups
assert "RLE_DICTIONARY" in m.row_group(0).column(3).encodings or "PLAIN_DICTIONARY" in m.row_group(0).column(3).encodings
t96 = pa.table({
    "id": pa.array([1, 2], pa.int32()),
    "ts": pa.array([dt.datetime(2024, 2, 29, 12, 34, 56, 789012), dt.datetime(1900, 1, 1)], pa.timestamp("us")),
})
pq.write_table(t96, os.path.join(out, "int96.parquet"), use_deprecated_int96_timestamps=True)
assert str(pq.ParquetFile(os.path.join(out, "int96.parquet")).schema.column(1).physical_type) == "INT96"
epoch = dt.datetime(1970, 1, 1)
micros = lambda d: (d - epoch) // dt.timedelta(microseconds=1)
print("|".join(str(x) for x in [
    n,
    sum(i % 200 - 100 for i in ids),
    sum(i * 7 % 30000 for i in ids),
    "blue,green,red",
    sum(micros(d) // 1000 for d in ms),
    sum(v // 1000 for v in ns),
    sum(amount),
    sum(1 for x in tags if x is not None),
    sum(len(x) for x in tags if x is not None),
    sum(1 for x in tags if x is not None and len(x) == 2 and x[1] is None),
    sum(ids),
    sum(1 for f in flag if f is not None),
    sum(1 for f in flag if f),
    sum((d - dt.date(1970, 1, 1)).days for d in day),
    sum(i % 256 for i in ids),
    sum(((x.hour * 60 + x.minute) * 60 + x.second) * 1000000 + x.microsecond for x in tod),
]))
"#;

#[test]
fn pqin_pyarrow_row_groups_dictionaries_and_time_units_import_right() {
    let dir = TempDir::new("pqin_arrow");
    let expected = run_python(ARROW_FILES, &[dir.path().to_str().unwrap()]);
    let table = "it_pqin_arrow";
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (id bigint PRIMARY KEY, small smallint, mid smallint, cat text,
           ts_ms timestamp, ts_ns timestamptz, amount numeric(10,2), tags int[], doc jsonb,
           flag boolean, day date, raw bytea, tod time);
         DROP TABLE IF EXISTS {table}96; CREATE TABLE {table}96 (id int, ts timestamp);"
    ));
    let url = pg_url();
    let file = dir.join("arrow.parquet");
    for strategy in ["copy", "insert"] {
        dbchunk(["import", "--url", &url, "-t", table, "--truncate"])
            .args(["-i", file.to_str().unwrap(), "--strategy", strategy])
            .success();
        let got = pg_query_text(&format!(
            "SELECT concat_ws('|', count(*), sum(small), sum(mid),
               (SELECT string_agg(DISTINCT cat, ',') FROM {table}),
               sum((extract(epoch FROM ts_ms) * 1000)::bigint),
               sum((extract(epoch FROM ts_ns) * 1000000)::bigint),
               sum(amount), count(tags), sum(cardinality(tags)),
               count(*) FILTER (WHERE cardinality(tags) = 2 AND tags[2] IS NULL),
               sum((doc->>'i')::int), count(flag), count(*) FILTER (WHERE flag),
               sum(day - date '1970-01-01'), sum(get_byte(raw, 0)),
               sum((extract(epoch FROM tod) * 1000000)::bigint)) FROM {table}"
        ))
        .unwrap();
        assert_eq!(got, expected.trim(), "--strategy {strategy}");
        let spot = pg_query_text(&format!(
            "SELECT string_agg(concat_ws(' ', ts_ms, coalesce(tags::text, 'NULL'), encode(raw, 'hex')), \
             ', ' ORDER BY id) FROM {table} WHERE id IN (1, 2, 3)"
        ))
        .unwrap();
        assert_eq!(
            spot,
            "2024-01-01 00:00:01.001 {} 0100, 2024-01-01 00:00:02.002 NULL 0200, \
             2024-01-01 00:00:03.003 {3,NULL} 0300"
        );
    }
    // INT96 timestamps (Impala, Spark, old pyarrow) read as pyarrow does.
    let file96 = dir.join("int96.parquet");
    dbchunk(["import", "--url", &url, "-t", &format!("{table}96")])
        .args(["-i", file96.to_str().unwrap()])
        .success();
    assert_eq!(
        pg_query_text(&format!(
            "SELECT string_agg(ts::text, ',' ORDER BY id) FROM {table}96"
        ))
        .unwrap(),
        "2024-02-29 12:34:56.789012,1900-01-01 00:00:00"
    );
    // A LIST goes only into an array or JSON column.
    pg_exec(&format!(
        "DROP TABLE IF EXISTS {table}_t; CREATE TABLE {table}_t (id bigint, small smallint,
           mid smallint, cat text, ts_ms timestamp, ts_ns timestamptz, amount numeric(10,2),
           tags text, doc jsonb, flag boolean, day date, raw bytea, tod time);"
    ));
    let run = dbchunk(["import", "--url", &url, "-t", &format!("{table}_t")])
        .args(["-i", file.to_str().unwrap()])
        .fails(1);
    run.error_says(&["\"tags\"", "LIST", "array"]);
    pg_exec(&format!(
        "DROP TABLE {table}; DROP TABLE {table}96; DROP TABLE {table}_t"
    ));
}

/// `rows` rows of `id, v` with v = id, except row `bad` (1-based) whose v
/// is 40000, written by pyarrow in row groups of 1000 to `path`.
fn int_file(path: &std::path::Path, rows: u32, bad: u32) {
    run_python(
        "import sys, pyarrow as pa, pyarrow.parquet as pq\n\
         n, bad = int(sys.argv[2]), int(sys.argv[3])\n\
         v = [40000 if i == bad else i for i in range(1, n + 1)]\n\
         t = pa.table({'id': pa.array(range(1, n + 1), pa.int32()), 'v': pa.array(v, pa.int32())})\n\
         pq.write_table(t, sys.argv[1], row_group_size=1000)",
        &[path.to_str().unwrap(), &rows.to_string(), &bad.to_string()],
    );
}

#[test]
fn pqin_bad_value_names_row_group_row_and_column_and_goes_to_the_reject_file() {
    let dir = TempDir::new("pqin_bad");
    let table = "it_pqin_bad";
    let file = dir.join("bad.parquet");
    int_file(&file, 3000, 1506);
    let reset = || {
        pg_exec(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int PRIMARY KEY, v smallint);"
        ))
    };
    reset();
    let url = pg_url();
    let run = dbchunk(["import", "--url", &url, "-t", table])
        .args(["-i", file.to_str().unwrap(), "--batch", "500"])
        .fails(1);
    run.error_says(&[
        "row 1506 (row group 1, row 505 in it, from 0), column 2 (v)",
        "40000 is out of range",
        "1500 rows were committed",
        "--resume",
    ]);
    assert_eq!(Db::Pg.count(table), 1500);
    // With a reject file: the bad row as an NDJSON line, the rest imported.
    reset();
    let rejects = dir.join("rejects.ndjson");
    let run = dbchunk(["import", "--url", &url, "-t", table])
        .args(["-i", file.to_str().unwrap(), "--batch", "500"])
        .args(["--reject-file", rejects.to_str().unwrap()])
        .fails(3);
    assert!(run.stderr.contains("1 rows rejected"), "{}", run.stderr);
    let kept = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = kept.lines().collect();
    assert_eq!(lines.len(), 2, "{kept}");
    assert!(
        lines[0].starts_with("# row 1506 (row group 1, row 505 in it, from 0), column 2 (v)"),
        "{kept}"
    );
    assert_eq!(lines[1], r#"{"id":1506,"v":40000}"#);
    assert_eq!(Db::Pg.count(table), 2999);
    // --atomic: the failed import leaves the table as it was.
    pg_exec(&format!(
        "TRUNCATE {table}; INSERT INTO {table} VALUES (-1, 1), (-2, 2);"
    ));
    let before = Db::Pg.digest(table);
    for strategy in ["copy", "insert"] {
        let run = dbchunk(["import", "--url", &url, "-t", table, "--atomic"])
            .args(["-i", file.to_str().unwrap(), "--batch", "100"])
            .args(["--strategy", strategy])
            .fails(1);
        run.error_says(&["nothing was committed"]);
        assert_eq!(Db::Pg.digest(table), before, "--strategy {strategy}");
    }
    pg_exec(&format!("DROP TABLE {table}"));
}

#[test]
fn pqin_resumes_after_kill_with_every_row_once() {
    let dir = TempDir::new("pqin_resume");
    const ROWS: u32 = 20_000;
    let file = dir.join("rows.parquet");
    int_file(&file, ROWS, 0);
    let path = file.to_str().unwrap();
    let table = "it_pqin_resume";
    let url = pg_url();
    let mut cut_midway = 0;
    for (run, millis) in [150u64, 400, 900].into_iter().enumerate() {
        // No key: whether the batch in flight committed is asked of the
        // server.
        pg_exec(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id int, v int);"
        ));
        let state = dir.join(&format!("state-{run}.json"));
        let args = [
            "import",
            "--url",
            &url,
            "-t",
            table,
            "-i",
            path,
            "--state",
            state.to_str().unwrap(),
            "--batch",
            "40",
            "--strategy",
            "insert",
            "--quiet",
        ];
        kill_and_resume(&args, &state, Duration::from_millis(millis), |saved| {
            let Some(saved) = saved else { return };
            let done = saved["input_rows"].as_u64().unwrap();
            cut_midway += u32::from(saved["done"] == false && done > 0);
        });
        assert_eq!(
            pg_query_text(&format!(
                "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || sum(id) FROM {table} \
                 WHERE v = id"
            ))
            .unwrap(),
            format!(
                "{ROWS} {ROWS} {}",
                u64::from(ROWS) * (u64::from(ROWS) + 1) / 2
            ),
            "killed after {millis} ms"
        );
        let saved = read_json(&state);
        assert_eq!(saved["done"], true);
        assert_eq!(saved["input_rows"], u64::from(ROWS));
    }
    assert!(cut_midway > 0, "no run was killed half-way");
    pg_exec(&format!("DROP TABLE {table}"));
}

#[test]
fn pqin_stdin_is_spooled_and_leaves_no_temporary_file() {
    let dir = TempDir::new("pqin_stdin");
    let file = dir.join("rows.parquet");
    int_file(&file, 2500, 0);
    let db = dir.join("t.db");
    crate::util::db::sqlite_exec(&db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);");
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let url = sqlite_url(&db);
    dbchunk(["import", "--url", &url, "-t", "t", "--format", "parquet"])
        .stdin(std::fs::read(&file).unwrap())
        .env("TMPDIR", &tmp)
        .success();
    assert_eq!(Db::Lite(db.clone()).count("t"), 2500);
    assert_eq!(
        Db::Lite(db.clone()).text("SELECT sum(v) FROM t").unwrap(),
        "3126250"
    );
    // A failed import spooled the same way leaves nothing either.
    let run = dbchunk(["import", "--url", &url, "-t", "t", "--format", "parquet"])
        .stdin(std::fs::read(&file).unwrap())
        .env("TMPDIR", &tmp)
        .fails(1);
    run.error_says(&["UNIQUE"]);
    assert!(
        std::fs::read_dir(&tmp).unwrap().next().is_none(),
        "a file was left in TMPDIR"
    );
}

#[test]
fn pqin_refuses_what_it_cannot_read_by_name() {
    let dir = TempDir::new("pqin_refused");
    let db = dir.join("t.db");
    crate::util::db::sqlite_exec(&db, "CREATE TABLE t (id INTEGER, v INTEGER);");
    let url = sqlite_url(&db);
    let file = dir.join("rows.parquet");
    int_file(&file, 3, 0);
    let path = file.to_str().unwrap();
    for (extra, needle) in [
        (&["--null", "x"][..], "--null"),
        (&["--no-header", "--columns", "id,v"][..], "--no-header"),
    ] {
        let run = dbchunk(["import", "--url", &url, "-t", "t", "-i", path])
            .args(extra)
            .fails(2);
        run.error_says(&[needle]);
    }
    dbchunk(["import", "--url", &url, "-t", "t", "-i", "x.parquet.gz"])
        .fails(2)
        .error_says(&["decompress it first"]);
    let csv = dir.join("x.csv");
    std::fs::write(&csv, "id,v\n1,2\n").unwrap();
    let run = dbchunk(["import", "--url", &url, "-t", "t", "--format", "parquet"])
        .args(["-i", csv.to_str().unwrap()])
        .fails(2);
    run.error_says(&["is not a Parquet file"]);
    let run = dbchunk(["import", "--url", &url, "-t", "t", "-i", path])
        .args(["--columns", "id"])
        .fails(2);
    run.error_says(&["the Parquet file has 2 fields"]);
    // --columns renames the file's fields.
    crate::util::db::sqlite_exec(&db, "CREATE TABLE u (a INTEGER, b INTEGER);");
    dbchunk(["import", "--url", &url, "-t", "u", "-i", path])
        .args(["--columns", "a,b"])
        .success();
    assert_eq!(Db::Lite(db).rows_by("u", &["a", "b"], "a"), "1|1;2|2;3|3");
}
