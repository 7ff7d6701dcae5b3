//! stderr (stats, progress, warnings), big tables with flat memory,
//! `| head`, refusals, --max-rate, signals.

use super::people::people_db;
use super::*;

#[test]
fn sqlite_stats_line() {
    let db = people_db("sqlite_stats_line");
    for (strategy, expected) in [
        ("auto", "keyset"),
        ("cursor", "cursor"),
        ("offset", "offset"),
    ] {
        let run = crate::util::export(&db.url, "people")
            .args(["--chunk", "3", "--stats", "--quiet"])
            .args(["--strategy", strategy])
            .success();
        let lines = run.stderr_lines();
        assert_eq!(lines.len(), 1, "one stats line only:\n{}", run.stderr);
        let stats: serde_json::Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("stats is not JSON ({e}): {}", lines[0]));
        assert_eq!(stats["rows"].as_u64(), Some(50), "{stats}");
        assert_eq!(
            stats["bytes"].as_u64(),
            Some(run.stdout.len() as u64),
            "{stats}"
        );
        let chunks = stats["chunks"].as_u64().expect("chunks");
        assert!((17..=18).contains(&chunks), "50 rows by 3: {stats}");
        assert_eq!(stats["strategy"], expected, "{stats}");
        assert!(
            stats["seconds"].as_f64().is_some_and(|s| s >= 0.0),
            "{stats}"
        );
        assert!(
            stats["rows_per_sec"].as_f64().is_some_and(|s| s >= 0.0),
            "{stats}"
        );
        // --stats changes nothing on stdout.
        assert_eq!(
            run.stdout,
            export(
                &db.url,
                &["--table", "people", "--chunk", "3", "--strategy", strategy, "--quiet"]
            )
        );
    }
    // With --output, bytes are the file's size.
    let out_dir = TempDir::new("sqlite_stats_line-out");
    let path = out_dir.join("p.tsv");
    let run = crate::util::export(&db.url, "people")
        .args(["--stats", "-o"])
        .arg(&path)
        .success();
    let stats: serde_json::Value = serde_json::from_str(run.stderr_lines()[0]).unwrap();
    assert_eq!(
        stats["bytes"].as_u64(),
        Some(std::fs::metadata(&path).unwrap().len())
    );
}

#[test]
fn sqlite_progress_goes_to_stderr_only() {
    let db = people_db("sqlite_progress_goes_to_stderr_only");
    for format in FORMATS {
        let base = [
            "export", "--url", &db.url, "--table", "people", "--chunk", "3", "--format", format,
        ];
        let never = dbchunk(base).args(["--progress", "never"]).success();
        let always = dbchunk(base).args(["--progress", "always"]).success();
        assert_eq!(never.stderr, "", "--progress never is silent");
        assert!(
            !always.stderr.is_empty(),
            "--progress always writes progress to stderr"
        );
        assert_eq!(
            always.stdout, never.stdout,
            "{format}: progress must not touch stdout"
        );
        // auto, with stderr not a terminal: silent.
        let auto = dbchunk(base).success();
        assert_eq!(auto.stderr, "", "no progress in pipes by default");
        assert_eq!(auto.stdout, never.stdout);
    }
}

#[test]
fn sqlite_offset_warns_once_and_quiet_silences_it() {
    let db = people_db("sqlite_offset_warns_once_and_quiet_silences_it");
    let run = crate::util::export(&db.url, "people")
        .args(["--strategy", "offset", "--chunk", "3"])
        .success();
    assert_eq!(
        count_occurrences(&run.stderr, "warning"),
        1,
        "one warning, not one per chunk:\n{}",
        run.stderr
    );
    assert_eq!(
        count_occurrences(&run.stderr, "keyset"),
        1,
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr_lines().len(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("dbchunk: "), "{}", run.stderr);
    let quiet = crate::util::export(&db.url, "people")
        .args(["--strategy", "offset", "--chunk", "3", "--quiet"])
        .success();
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, run.stdout);
    // Other strategies do not warn.
    for strategy in ["auto", "keyset", "cursor"] {
        let run = crate::util::export(&db.url, "people")
            .args(["--strategy", strategy, "--chunk", "3"])
            .success();
        assert_eq!(run.stderr, "", "--strategy {strategy}");
    }
}

// ---------------------------------------------------------------------------
// Big tables: flat memory, and `| head`

const BIG_ROWS: u64 = 2_000_000;
const SMALL_ROWS: u64 = 200_000;

/// One SQLite file with `big` (2,000,000 rows) and `small` (200,000 rows),
/// built once per test run and shared. It lives in
/// `$TMP/dbchunk-it-shared-PID`; directories of earlier runs whose process is
/// gone are removed here.
fn big_db() -> &'static Path {
    static BIG: OnceLock<PathBuf> = OnceLock::new();
    BIG.get_or_init(|| {
        let tmp = std::env::temp_dir();
        let prefix = "dbchunk-it-shared-";
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix(prefix) {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(entry.path());
                    }
                }
            }
        }
        let dir = tmp.join(format!("{prefix}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the shared test directory");
        let path = dir.join("big.db");
        let conn = Connection::open(&path).expect("create big.db");
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE big(id INTEGER PRIMARY KEY, name TEXT NOT NULL, v REAL);
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {BIG_ROWS})
             INSERT INTO big SELECT x, 'name-' || x, x * 1.5 FROM c;
             CREATE TABLE small(id INTEGER PRIMARY KEY, name TEXT NOT NULL, v REAL);
             INSERT INTO small SELECT * FROM big WHERE id <= {SMALL_ROWS};"
        ))
        .expect("fill big.db");
        path
    })
}

/// Exports `table` to a file with `--stats` and returns the stats line.
fn export_stats(url: &str, table: &str, strategy: &str, out: &Path) -> serde_json::Value {
    let run = crate::util::export(url, table)
        .args(["--strategy", strategy, "--stats", "--output"])
        .arg(out)
        .success();
    let line = run.stderr_lines().last().copied().expect("a stats line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn sqlite_memory_stays_flat_with_table_size() {
    let url = sqlite_url(big_db());
    let dir = TempDir::new("sqlite_memory_stays_flat_with_table_size");
    for strategy in ["keyset", "cursor"] {
        let out = dir.join(&format!("{strategy}.csv"));
        let big = export_stats(&url, "big", strategy, &out);
        let big_size = std::fs::metadata(&out).unwrap().len();
        let small = export_stats(&url, "small", strategy, &out);
        assert_eq!(big["rows"].as_u64(), Some(BIG_ROWS), "{big}");
        assert_eq!(small["rows"].as_u64(), Some(SMALL_ROWS), "{small}");
        assert_eq!(big["bytes"].as_u64(), Some(big_size), "{big}");
        let big_kb = big["peak_rss_kb"]
            .as_u64()
            .expect("peak_rss_kb in the stats (Linux)");
        let small_kb = small["peak_rss_kb"]
            .as_u64()
            .expect("peak_rss_kb in the stats (Linux)");
        let allowed = small_kb as f64 * 1.25 + 8192.0;
        assert!(
            big_kb as f64 <= allowed,
            "--strategy {strategy}: peak RSS {big_kb} KB for {BIG_ROWS} rows vs {small_kb} KB for {SMALL_ROWS} rows \
             (allowed {allowed:.0} KB)"
        );
    }
}

/// `dbchunk export ... | head -1`: the reader goes away early.
#[test]
fn sqlite_closed_stdout_is_success() {
    let url = sqlite_url(big_db());
    for args in [
        vec!["--table", "big"],
        vec!["--table", "big", "--strategy", "cursor"],
        vec!["--table", "big", "--format", "ndjson"],
        vec!["--query", "SELECT * FROM big"],
    ] {
        dbchunk(["export", "--url", &url])
            .args(&args)
            .assert_quiet_head(|first| {
                first.starts_with("id,name,v\n") || first.starts_with("{\"id\":1,")
            });
    }
}

/// A `--key` that does not identify rows would make keyset skip rows
/// silently: it is refused, while cursor may still order by it.
#[test]
fn sqlite_key_that_is_not_unique_is_refused_for_keyset() {
    let db = create_db("sqlite_key_not_unique",
        "CREATE TABLE dup(k INTEGER, v TEXT, u TEXT NOT NULL UNIQUE);
         INSERT INTO dup VALUES (1,'a','x1'),(1,'b','x2'),(1,'c','x3'),(2,'d','x4'),(NULL,'e','x5'),(3,'f','x6');",
    );
    for strategy in ["keyset", "offset"] {
        let run = crate::util::export(&db.url, "dup")
            .args(["--key", "k", "--chunk", "2", "--strategy", strategy])
            .fails(2);
        assert!(run.stdout.is_empty());
        assert!(
            run.one_error_line()
                .contains("--key k does not identify rows"),
            "{}",
            run.stderr
        );
    }
    let cursor = export_text(
        &db.url,
        &[
            "--table", "dup", "--key", "k", "--strategy", "cursor", "--columns", "v",
        ],
    );
    assert_eq!(cursor.lines().count(), 7, "{cursor}");
    // A key that contains a unique NOT NULL column is fine.
    let keyed = export_text(
        &db.url,
        &[
            "--table", "dup", "--key", "k,u", "--chunk", "2", "--strategy", "keyset",
        ],
    );
    assert_eq!(keyed.lines().count(), 7, "{keyed}");
    // A query's key is checked against the data.
    let query = [
        "export", "--url", &db.url, "--query", "SELECT * FROM dup", "--strategy", "keyset",
    ];
    let run = dbchunk(query)
        .args(["--key", "u", "--chunk", "2"])
        .success();
    assert_eq!(run.stdout_str().lines().count(), 7);
    dbchunk(query).args(["--key", "k"]).fails(2);
}

#[test]
fn sqlite_duplicate_column_names_are_refused_in_ndjson() {
    let db = create_db(
        "sqlite_duplicate_names",
        "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1,'a');",
    );
    let query = "SELECT id AS a, name AS a FROM t";
    dbchunk([
        "export", "--url", &db.url, "--query", query, "--format", "ndjson",
    ])
    .fails_saying(2, &["two columns named \"a\""]);
    assert_eq!(export_text(&db.url, &["--query", query]), "a,a\n1,a\n");
}

/// `--max-rate` keeps the export at or under the rate: 3000 rows at 2000
/// rows a second cannot finish in less than about 1.5 seconds.
#[test]
fn sqlite_max_rate_paces_the_export() {
    let dir = TempDir::new("sqlite_max_rate");
    let url = numbered_db(&dir, 3000);
    let started = std::time::Instant::now();
    let out = export_text(
        &url,
        &["--table", "t", "--chunk", "500", "--max-rate", "2000/s"],
    );
    let elapsed = started.elapsed();
    assert_eq!(out.lines().count(), 3001);
    assert!(
        elapsed >= std::time::Duration::from_millis(1200),
        "{elapsed:?}"
    );
    let run = crate::util::export(&url, "t")
        .args(["--max-rate", "fast"])
        .fails(2);
    assert!(run.stderr.contains("--max-rate"), "{}", run.stderr);
}

/// The first Ctrl-C or SIGTERM ends the export after the chunk in flight,
/// with exit 130 or 143: stdout holds whole chunks, and a file output is
/// never left looking complete.
#[test]
fn sqlite_signals_stop_after_a_whole_chunk() {
    let dir = TempDir::new("sqlite_signals");
    let url = numbered_db(&dir, 20000);
    let file = dir.join("out.csv");
    let file_arg = file.to_str().unwrap().to_string();
    for (signal, code, to_file) in [("-INT", 130, false), ("-TERM", 143, true)] {
        let mut args = vec![
            "export", "--url", &url, "--table", "t", "--chunk", "1000", "--max-rate", "4000/s",
        ];
        if to_file {
            args.extend(["--output", &file_arg]);
        }
        let mut child = dbchunk(args).spawn();
        // Signal once the export is under way, however slow the start.
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut written = Vec::new();
        if to_file {
            let started = std::time::Instant::now();
            while !dir.entries().iter().any(|e| e.contains("out.csv")) {
                assert!(started.elapsed().as_secs() < 20, "the export never started");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        } else {
            std::io::BufRead::read_until(&mut stdout, b'\n', &mut written).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(400));
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        std::io::Read::read_to_end(&mut stdout, &mut written).unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains("stopped by SIG"), "{stderr}");
        if to_file {
            assert!(
                !file.exists(),
                "an interrupted export must not leave {file:?}"
            );
            assert_eq!(
                dir.entries()
                    .iter()
                    .filter(|e| e.contains("out.csv"))
                    .count(),
                0
            );
        } else {
            let rows = written.iter().filter(|&&b| b == b'\n').count() - 1;
            assert!(rows > 0 && rows < 20000 && rows % 1000 == 0, "{rows} rows");
        }
    }
}
