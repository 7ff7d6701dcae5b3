//! `--split-rows` and `--split-bytes`: an export written as numbered parts.
//! Judged by concatenation (every part, headers aside, gives the unsplit
//! export's bytes: no row lost or doubled), by each part alone (a CSV part
//! has its header, a `.zst`/`.gz` part decompresses with the real tool, a
//! Parquet part is read by pyarrow), and by what a killed run leaves.
//! SQLite throughout (parts are cut after the engine), plus PostgreSQL's
//! `COPY` pass-through, whose rows skip the encoder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::parquet::run_python;
use crate::util::db::{pg_exec, pg_url};
use crate::util::engine::Db;
use crate::util::fixtures::sqlite_awkward;
use crate::util::procs::{finish, signal, wait_until};
use crate::util::tables::{lite_file, lite_id_v};
use crate::util::{dbchunk, decompress_file, export, kill_after, parse_csv, TempDir};

/// The awkward-values table `split_t` ([`sqlite_awkward`]).
fn source_db(dir: &TempDir, rows: u32) -> String {
    sqlite_awkward(dir, "split_t", rows)
}

/// The unsplit export of `table` to stdout, with `more` arguments.
fn plain(url: &str, table: &str, more: &[&str]) -> Vec<u8> {
    let mut args = vec!["export", "--url", url, "--table", table, "--quiet"];
    args.extend_from_slice(more);
    dbchunk(args).success().stdout
}

/// The parts of `base` in `dir` (by name, which sorts by number here).
fn parts_of(dir: &TempDir, stem: &str, chain: &str) -> Vec<PathBuf> {
    dir.entries()
        .into_iter()
        .filter(|n| n.starts_with(&format!("{stem}.")) && n.ends_with(chain))
        .filter(|n| {
            let middle = &n[stem.len() + 1..n.len() - chain.len()];
            middle.len() >= 5 && middle.bytes().all(|b| b.is_ascii_digit())
        })
        .map(|n| dir.join(&n))
        .collect()
}

/// The bytes of each part of `stem` in `dir`, in order.
fn read_parts(dir: &TempDir, stem: &str, chain: &str) -> Vec<Vec<u8>> {
    parts_of(dir, stem, chain)
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

/// The first line of `bytes` (with its newline), which a header is.
fn first_line(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Rows in one part's bytes: CSV records (fields may hold newlines), or
/// lines for TSV and NDJSON; without the header when `header`.
fn rows_in(format: &str, bytes: &[u8], header: bool) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    let all = match format {
        "csv" => parse_csv(text).len(),
        _ => text.lines().count(),
    };
    all - usize::from(header)
}

/// Checks that `parts` (decompressed already) are each a whole file with
/// the header (when `header`) and `per_part` rows but the last, and that
/// together, headers aside, they are `whole` byte for byte.
#[track_caller]
fn assert_parts_make(whole: &[u8], parts: &[Vec<u8>], format: &str, header: bool, per_part: usize) {
    assert!(
        parts.len() > 1,
        "expected several parts, got {}",
        parts.len()
    );
    let head = if header { first_line(whole) } else { &[][..] };
    let mut joined = head.to_vec();
    for (i, part) in parts.iter().enumerate() {
        assert!(part.starts_with(head), "part {} lacks the header", i + 1);
        let rows = rows_in(format, part, header);
        if i + 1 < parts.len() {
            assert_eq!(rows, per_part, "rows in part {} of {format}", i + 1);
        } else {
            assert!(rows >= 1 && rows <= per_part, "last part: {rows} rows");
        }
        joined.extend_from_slice(&part[head.len()..]);
    }
    assert!(
        joined == whole,
        "{format}: the parts joined differ from the unsplit export"
    );
}

#[test]
fn split_rows_parts_join_to_the_unsplit_export_in_every_text_format() {
    let dir = TempDir::new("split-rows-text");
    let url = source_db(&dir, 500);
    // keyset holds each chunk whole (cuts are made when it is shipped);
    // cursor ships as it goes. 37 rows a part: cuts fall mid-chunk.
    for strategy in ["keyset", "cursor"] {
        for (format, header) in [
            ("csv", true),
            ("tsv", true),
            ("ndjson", false),
            ("csv", false),
        ] {
            let mut flags = vec!["--format", format, "--chunk", "100"];
            if header != (format != "ndjson") {
                flags.push("--no-header");
            }
            let whole = plain(&url, "split_t", &flags);
            let name = format!("{strategy}-{format}-{header}.{format}");
            let mut args = vec!["--strategy", strategy, "--split-rows", "37", "-o"];
            let out = dir.join(&name);
            args.push(out.to_str().unwrap());
            args.extend_from_slice(&flags);
            plain(&url, "split_t", &args);
            let stem = name.trim_end_matches(&format!(".{format}"));
            let parts = read_parts(&dir, stem, &format!(".{format}"));
            assert_eq!(parts.len(), 14, "{name}: 500 rows in parts of 37");
            assert_parts_make(&whole, &parts, format, header && format != "ndjson", 37);
            assert!(!out.exists(), "{name}: the unnumbered name is not written");
        }
    }
}

#[test]
fn split_bytes_parts_are_about_the_size_and_join_to_the_export() {
    let dir = TempDir::new("split-bytes-text");
    let url = source_db(&dir, 400);
    let whole = plain(&url, "split_t", &["--format", "ndjson"]);
    let longest = whole.split(|&b| b == b'\n').map(<[u8]>::len).max().unwrap() + 1;
    let out = dir.join("b.ndjson");
    export(&url, "split_t")
        .args(["--split-bytes", "4KiB", "-o"])
        .arg(&out)
        .success();
    let parts = read_parts(&dir, "b", ".ndjson");
    assert!(parts.len() > 3, "{} parts", parts.len());
    for (i, part) in parts.iter().enumerate() {
        assert!(part.ends_with(b"\n"), "part {} ends inside a row", i + 1);
        if i + 1 < parts.len() {
            // Cut at the first row boundary after 4096 bytes.
            assert!(
                part.len() >= 4096 && part.len() < 4096 + longest,
                "part {}: {} bytes",
                i + 1,
                part.len()
            );
        }
    }
    assert!(parts.concat() == whole, "the parts joined differ");
}

#[test]
fn compressed_parts_each_decompress_alone_with_the_real_tools() {
    let dir = TempDir::new("split-compressed");
    let url = source_db(&dir, 300);
    for (format, ext, tool) in [
        ("csv", "zst", "zstd"),
        ("tsv", "gz", "gzip"),
        ("ndjson", "zst", "zstd"),
    ] {
        let whole = plain(&url, "split_t", &["--format", format]);
        let name = format!("c-{format}.{format}.{ext}");
        export(&url, "split_t")
            .args(["--split-rows", "64", "--chunk", "50", "-o"])
            .arg(dir.join(&name))
            .success();
        let files = parts_of(&dir, &format!("c-{format}"), &format!(".{format}.{ext}"));
        assert_eq!(files.len(), 5, "{name}: 300 rows in parts of 64");
        // Each part alone is a complete stream (the tool checks the
        // trailer, and zstd the checksum).
        let parts: Vec<Vec<u8>> = files.iter().map(|p| decompress_file(tool, p)).collect();
        assert_parts_make(&whole, &parts, format, format != "ndjson", 64);
    }
    // --split-bytes counts the bytes before compression.
    export(&url, "split_t")
        .args(["--split-bytes", "5000", "-o"])
        .arg(dir.join("sb.csv.gz"))
        .success();
    let files = parts_of(&dir, "sb", ".csv.gz");
    assert!(files.len() > 2, "{} parts", files.len());
    let first = decompress_file("gzip", &files[0]);
    assert!(
        first.len() >= 5000,
        "{} bytes before compression",
        first.len()
    );
    assert!(std::fs::metadata(&files[0]).unwrap().len() < 5000);
}

/// Reads each part alone with pyarrow (rows per part), then all of them
/// together, and compares them with the unsplit file.
const PARQUET_PARTS: &str = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
whole, parts = sys.argv[1], sys.argv[2:]
tables = [pq.read_table(p) for p in parts]
print(" ".join(str(t.num_rows) for t in tables))
print(pa.concat_tables(tables).equals(pq.read_table(whole)))
"#;

/// pyarrow's view of `parts`: rows of each, and whether they equal `whole`.
fn read_parquet_parts(whole: &Path, parts: &[PathBuf]) -> (Vec<u64>, bool) {
    let mut args = vec![whole.to_str().unwrap()];
    args.extend(parts.iter().map(|p| p.to_str().unwrap()));
    let stdout = run_python(PARQUET_PARTS, &args);
    let mut lines = stdout.lines();
    let rows = lines
        .next()
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    (rows, lines.next() == Some("True"))
}

#[test]
fn parquet_parts_are_files_of_their_own_that_join_to_the_export() {
    let dir = TempDir::new("split-parquet");
    let url = source_db(&dir, 3000);
    let whole = dir.join("whole.parquet");
    export(&url, "split_t").arg("-o").arg(&whole).success();
    // By rows, and by size: a part ends after the row group that reaches
    // it (row groups are at most that size of values; keyset cuts them at
    // chunk ends).
    for (stem, split, size) in [("r", "--split-rows", "300"), ("s", "--split-bytes", "8KiB")] {
        for strategy in ["keyset", "cursor"] {
            let what = format!("{split} {size} --strategy {strategy}");
            let stem = format!("{stem}-{strategy}");
            export(&url, "split_t")
                .args(["--strategy", strategy, "--chunk", "100", split, size, "-o"])
                .arg(dir.join(&format!("{stem}.parquet")))
                .success();
            let parts = parts_of(&dir, &stem, ".parquet");
            let (rows, same) = read_parquet_parts(&whole, &parts);
            assert!(same, "{what}: the parts differ from the unsplit file");
            assert_eq!(rows.iter().sum::<u64>(), 3000, "{what}");
            if split == "--split-rows" {
                assert_eq!(rows[..3], [300, 300, 300], "{what}");
                assert_eq!(rows.len(), 10, "{what}");
                continue;
            }
            assert!(parts.len() > 2, "{what}: {} parts", parts.len());
            for part in &parts[..parts.len() - 1] {
                let bytes = std::fs::metadata(part).unwrap().len();
                assert!((8192..3 * 8192).contains(&bytes), "{part:?}: {bytes} bytes");
            }
        }
    }
}

#[test]
fn stats_lists_every_part_with_its_rows_and_size() {
    let dir = TempDir::new("split-stats");
    let db = lite_id_v(&dir, "split_stats", 250);
    let run = export(&db.url(), "split_stats")
        .args(["--split-rows", "100", "--stats", "-o"])
        .arg(dir.join("s.csv.zst"))
        .success();
    let stats: serde_json::Value = serde_json::from_str(run.stderr.trim()).unwrap();
    assert_eq!(stats["rows"], 250);
    let parts = stats["parts"].as_array().expect("parts in --stats");
    let rows: Vec<u64> = parts.iter().map(|p| p["rows"].as_u64().unwrap()).collect();
    assert_eq!(rows, [100, 100, 50]);
    for (i, part) in parts.iter().enumerate() {
        let name = PathBuf::from(part["name"].as_str().unwrap());
        assert_eq!(name, dir.join(&format!("s.{:05}.csv.zst", i + 1)));
        let size = std::fs::metadata(&name).unwrap().len();
        assert_eq!(part["bytes"].as_u64(), Some(size), "{name:?}");
    }
    assert_eq!(
        dir.entries(),
        ["s.00001.csv.zst", "s.00002.csv.zst", "s.00003.csv.zst", "test.db"]
    );
}

#[test]
fn an_export_that_ends_at_a_part_end_writes_no_empty_part() {
    let dir = TempDir::new("split-exact");
    let db = lite_id_v(&dir, "split_exact", 200);
    let split = |rows: &str, name: &str| {
        export(&db.url(), "split_exact")
            .args(["--split-rows", rows, "-o"])
            .arg(dir.join(name))
    };
    for format in ["csv", "parquet"] {
        split("100", &format!("e.{format}")).success();
        let parts = parts_of(&dir, "e", &format!(".{format}"));
        assert_eq!(parts.len(), 2, "{format}: 200 rows, parts of 100");
    }
    // No rows at all: one part, with the header.
    split("10", "none.csv")
        .args(["--where", "id < 0"])
        .success();
    assert_eq!(
        std::fs::read(dir.join("none.00001.csv")).unwrap(),
        b"id,v\n"
    );
}

#[test]
fn earlier_parts_stop_a_rerun_unless_overwrite_removes_them_all() {
    let dir = TempDir::new("split-rerun");
    let db = lite_id_v(&dir, "split_rerun", 100);
    let url = db.url();
    let out = dir.join("o.csv");
    let split = |rows: &str| {
        export(&url, "split_rerun")
            .args(["--split-rows", rows, "-o"])
            .arg(&out)
    };
    split("10").success();
    assert_eq!(parts_of(&dir, "o", ".csv").len(), 10);
    split("50")
        .fails(2)
        .error_says(&["o.00001.csv", "--overwrite"]);
    assert_eq!(
        parts_of(&dir, "o", ".csv").len(),
        10,
        "a refused run removes nothing"
    );
    // With --overwrite, none of the ten earlier parts survive beside the
    // two new ones.
    split("50").arg("--overwrite").success();
    let parts = parts_of(&dir, "o", ".csv");
    assert_eq!(parts.len(), 2);
    let second = std::fs::read_to_string(&parts[1]).unwrap();
    assert!(second.starts_with("id,v\n51,"), "{second}");
}

#[test]
fn splitting_needs_a_file_and_refuses_what_it_cannot_honour() {
    let dir = TempDir::new("split-usage");
    let db = Db::lite(&dir);
    let url = db.url();
    let out = dir.join("u.csv");
    let out = out.to_str().unwrap();
    let refused: &[(&[&str], &str)] = &[
        (&["--split-rows", "10"], "stdout cannot be split"),
        (&["--split-rows", "10", "-o", "-"], "stdout cannot be split"),
        (
            &["--split-bytes", "1MB", "-o", "/dev/stdout"],
            "stdout cannot be split",
        ),
        (&["--split-rows", "10", "-o", "/dev/null"], "device"),
        (&["--split-bytes", "lots", "-o", out], "is not a size"),
        (
            &["--split-rows", "10", "--state", "s.json", "-o", out],
            "--state",
        ),
        (&["--overwrite", "-o", out], "--overwrite goes with"),
    ];
    for (more, expected) in refused {
        let mut args = vec!["export", "--url", &url, "--table", "t"];
        args.extend_from_slice(more);
        dbchunk(args).fails(2).error_says(&[expected]);
    }
    // Flags that must come before connecting: a server that is not there
    // is never reached.
    let run = dbchunk([
        "export", "--url", "postgres://nobody@127.0.0.1:1/none", "--table", "t", "--parallel", "2",
        "--split-rows", "10", "-o", out,
    ])
    .fails(2);
    run.error_says(&["--parallel"]);
    let run = dbchunk([
        "export", "--url", &url, "--table", "t", "--split-rows", "0", "-o", out,
    ])
    .fails(2);
    assert!(run.stderr.contains("--split-rows"), "{}", run.stderr);
    assert!(
        dir.entries().iter().all(|n| !n.starts_with("u.")),
        "{:?}",
        dir.entries()
    );
}

/// `export` of `table` in parts of 1000 rows, in chunks of 500 at `rate`
/// rows a second, to `out`.
fn slow_split<'a>(url: &'a str, table: &'a str, rate: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "export", "--url", url, "--table", table, "--split-rows", "1000", "--chunk", "500",
        "--max-rate", rate, "-o", out,
    ]
}

/// `parts` (of an `id, v` table from id 1, named `STEM.00001.EXT` on) are
/// numbered from 1 and each holds the header and its 1000 rows, as `text`
/// reads it.
#[track_caller]
fn assert_whole_parts(
    dir: &TempDir,
    name: &str,
    parts: &[PathBuf],
    text: impl Fn(&Path) -> String,
) {
    let (stem, ext) = name.split_once('.').unwrap();
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part, &dir.join(&format!("{stem}.{:05}.{ext}", i + 1)));
        let text = text(part);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1001, "{part:?}: the header and 1000 rows");
        assert_eq!(lines[0], "id,v");
        assert!(
            lines[1].starts_with(&format!("{},", i * 1000 + 1)),
            "{part:?}"
        );
    }
}

#[test]
fn a_killed_split_export_leaves_only_complete_parts_under_final_names() {
    let dir = TempDir::new("split-killed");
    let db = lite_id_v(&dir, "split_killed", 200_000);
    let (url, out) = (db.url(), dir.join("k.csv.zst"));
    let args = slow_split(&url, "split_killed", "20000/s", out.to_str().unwrap());
    kill_after(&args, Duration::from_millis(1500));
    let parts = parts_of(&dir, "k", ".csv.zst");
    assert!(!parts.is_empty(), "no part was complete after 1.5 s");
    assert!(parts.len() < 200, "the export was not cut short");
    assert_whole_parts(&dir, "k.csv.zst", &parts, |part| {
        String::from_utf8(decompress_file("zstd", part)).unwrap()
    });
    // The part being written is left only as a hidden temporary file.
    for name in dir.entries() {
        let known = name == "test.db" || name.starts_with(".k.") && name.ends_with(".partial");
        assert!(
            known || parts.contains(&dir.join(&name)),
            "left behind: {name}"
        );
    }
}

#[test]
fn postgres_copy_rows_are_split_at_row_boundaries() {
    let dir = TempDir::new("split-pg-copy");
    let _drop = Db::Pg.drop_on_exit("split_pg_copy");
    pg_exec(
        "DROP TABLE IF EXISTS split_pg_copy;
         CREATE TABLE split_pg_copy(id int PRIMARY KEY, note text, t timestamptz, b bytea);
         INSERT INTO split_pg_copy SELECT i,
           CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'a,' || E'\\n' || '\"b\"' ELSE '' END,
           '2024-05-26 10:00:00+00'::timestamptz + i * interval '1 minute',
           CASE WHEN i % 2 = 0 THEN '\\x0102'::bytea END
         FROM generate_series(1, 700) i;",
    );
    let url = pg_url();
    for format in ["csv", "tsv"] {
        let copy = ["--strategy", "copy", "--format", format];
        let whole = plain(&url, "split_pg_copy", &copy);
        let out = dir.join(&format!("pg.{format}"));
        let split = ["--split-rows", "100", "-o", out.to_str().unwrap()];
        plain(&url, "split_pg_copy", &[&copy[..], &split].concat());
        let parts = read_parts(&dir, "pg", &format!(".{format}"));
        assert_eq!(parts.len(), 7, "{format}");
        assert_parts_make(&whole, &parts, format, true, 100);
    }
}

#[test]
fn a_failed_split_export_keeps_its_complete_parts_and_names_them() {
    let dir = TempDir::new("split-failed");
    // Row 2500 holds bytes NDJSON cannot carry: the export fails there.
    let db = lite_file(
        &dir,
        "bad.db",
        "CREATE TABLE split_failed(id INTEGER PRIMARY KEY, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO split_failed
           SELECT i, CASE WHEN i = 2500 THEN CAST(x'ff' AS TEXT) ELSE 'v' END FROM n;",
    );
    export(&db.url(), "split_failed")
        .args(["--split-rows", "1000", "--chunk", "100", "-o"])
        .arg(dir.join("f.ndjson"))
        .fails(1)
        .error_says(&[
            "f.00001.ndjson to ", "f.00002.ndjson were complete", "row 2500",
        ]);
    assert_eq!(
        dir.entries(),
        ["bad.db", "f.00001.ndjson", "f.00002.ndjson"]
    );
    let second = std::fs::read_to_string(dir.join("f.00002.ndjson")).unwrap();
    assert_eq!(second.lines().count(), 1000);
    assert!(second.starts_with("{\"id\":1001,"), "{second}");
}

#[test]
fn sigint_keeps_the_complete_parts_and_says_which() {
    let dir = TempDir::new("split-sigint");
    let db = lite_id_v(&dir, "split_sigint", 100_000);
    let (url, out) = (db.url(), dir.join("i.csv"));
    let child = dbchunk(slow_split(
        &url,
        "split_sigint",
        "10000/s",
        out.to_str().unwrap(),
    ))
    .spawn();
    wait_until(Duration::from_secs(20), "a second part", || {
        dir.join("i.00002.csv").exists()
    });
    signal(&child, "-INT");
    let stopped = finish(child, "the split export stopped by SIGINT");
    stopped.assert_code(130);
    let stderr = &stopped.stderr;
    let parts = parts_of(&dir, "i", ".csv");
    let last = parts.last().unwrap().file_name().unwrap().to_string_lossy();
    assert!(
        stderr.contains(&format!("i.00001.csv to {}", dir.join(&last).display())),
        "{stderr}"
    );
    assert!(stderr.contains("are complete and kept"), "{stderr}");
    // Nothing else is left: the part being written was removed.
    assert_eq!(dir.entries().len(), parts.len() + 1, "{:?}", dir.entries());
    assert_whole_parts(&dir, "i.csv", &parts, |part| {
        std::fs::read_to_string(part).unwrap()
    });
}
