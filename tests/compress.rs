//! Compressed files both ways, judged by real readers: the `gzip` and
//! `zstd` command-line tools decompress every compressed export to exactly
//! the plain export's bytes (files, stdout, and files resumed after a
//! kill -9), and the files those tools write import as the plain ones do.
//! SQLite throughout: compression happens after the engine, in the output
//! thread and the input reader.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::db::sqlite_exec;
use crate::util::fixtures::sqlite_awkward;
use crate::util::procs::{kill_and_resume, read_json};
use crate::util::tables::{import_t, lite_file, NOT_NULL_T};
use crate::util::{dbchunk, decompress_file, kill_after, tool_stdout, TempDir};

/// The awkward-values table `t` ([`sqlite_awkward`]).
fn source_db(dir: &TempDir, rows: u32) -> String {
    sqlite_awkward(dir, "t", rows)
}

/// The plain export of `t` to stdout in `format`.
fn plain(url: &str, format: &str) -> Vec<u8> {
    dbchunk([
        "export", "--url", url, "--table", "t", "--format", format, "--quiet",
    ])
    .success()
    .stdout
}

/// `tool ARGS` (gzip or zstd) with `data` on stdin, which must succeed:
/// its stdout.
#[track_caller]
fn tool_filter(tool: &str, args: &[&str], data: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {tool} (scripts/test.sh installs it): {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    tool_stdout(&format!("{tool} {args:?}"), out)
}

/// `tool -dc` (gzip or zstd) of `data`, which must succeed.
#[track_caller]
fn tool_decompress(tool: &str, data: &[u8]) -> Vec<u8> {
    tool_filter(tool, &["-dc"], data)
}

/// `tool -c` (compress) of `data`.
#[track_caller]
fn tool_compress(tool: &str, data: &[u8]) -> Vec<u8> {
    tool_filter(tool, &["-c", "-q"], data)
}

fn tool_of(name: &str) -> &'static str {
    if name.ends_with(".gz") || name.starts_with("gzip") {
        "gzip"
    } else {
        "zstd"
    }
}

#[track_caller]
fn assert_same(context: &str, expected: &[u8], actual: &[u8]) {
    assert!(
        expected == actual,
        "{context}: decompressed bytes differ from the plain export ({} vs {} bytes)\n{}",
        expected.len(),
        actual.len(),
        String::from_utf8_lossy(&actual[..actual.len().min(300)])
    );
}

#[test]
fn compress_files_and_stdout_decompress_to_the_plain_bytes() {
    let dir = TempDir::new("compress_files_and_stdout");
    let url = source_db(&dir, 3000);
    for format in ["csv", "tsv", "ndjson"] {
        let expected = plain(&url, format);
        let names = match format {
            "csv" => vec!["out.csv.gz", "out.csv.zst", "OUT.CSV.ZST"],
            "tsv" => vec!["out.tsv.gz", "out.tsv.zst"],
            _ => vec!["out.ndjson.zst", "out.jsonl.gz", "out.ndjson.gz"],
        };
        for name in names {
            let path = dir.join(name);
            // The format comes from the name before .gz/.zst.
            dbchunk(["export", "--url", &url, "--table", "t", "--quiet", "-o"])
                .arg(&path)
                .success();
            let got = decompress_file(tool_of(name), &path);
            assert_same(name, &expected, &got);
            std::fs::remove_file(&path).unwrap();
        }
        // --compress to stdout; keyset with small chunks checkpoints (ends
        // a member or frame) after every chunk, offset writes one stream.
        for (compress, strategy) in [
            ("gzip", "keyset"),
            ("gzip:1", "offset"),
            ("zstd", "keyset"),
            ("zstd:19", "offset"),
        ] {
            let run = dbchunk([
                "export", "--url", &url, "--table", "t", "--format", format, "--compress",
                compress, "--strategy", strategy, "--chunk", "70", "--quiet",
            ])
            .success();
            let got = tool_decompress(tool_of(compress), &run.stdout);
            assert_same(&format!("{format} --compress {compress}"), &expected, &got);
        }
    }
    // An empty output is still a valid (empty) stream.
    sqlite_exec(&dir.join("source.db"), "DELETE FROM t");
    for name in ["empty.csv.gz", "empty.csv.zst"] {
        let path = dir.join(name);
        dbchunk(["export", "--url", &url, "--table", "t", "--no-header", "-o"])
            .arg(&path)
            .success();
        assert!(std::fs::metadata(&path).unwrap().len() > 0, "{name}");
        assert_eq!(decompress_file(tool_of(name), &path), b"", "{name}");
    }
}

#[test]
fn compress_mismatches_and_unsupported_codecs_are_usage_errors() {
    let dir = TempDir::new("compress_usage");
    let url = source_db(&dir, 10);
    std::fs::write(dir.join("plain.csv.zst"), "id\n1\n").unwrap();
    for (command, args, code, expected) in [
        (
            "export",
            &["-o", "x.csv.gz", "--compress", "zstd"][..],
            2,
            "--compress is zstd",
        ),
        (
            "export",
            &["-o", "x.csv", "--compress", "gzip"],
            2,
            "x.csv.gz",
        ),
        ("export", &["-o", "x.csv.bz2"], 2, "not bzip2"),
        ("export", &["-o", "x.ndjson.xz"], 2, "not xz"),
        ("export", &["--compress", "lz4"], 2, "gzip or zstd"),
        ("export", &["--compress", "zstd:99"], 2, "from 1 to 22"),
        ("import", &["-i", "in.csv.bz2"], 2, "bzip2 -dc"),
        // A .zst name that holds plain text is refused, not read as text.
        ("import", &["-i", "plain.csv.zst"], 1, "is not zstd data"),
    ] {
        dbchunk([command, "--url", &url, "--table", "t"])
            .args(args)
            .current_dir(dir.path())
            .fails(code)
            .error_says(&[expected]);
    }
    // No export wrote a file.
    assert_eq!(dir.entries(), ["plain.csv.zst", "source.db"]);
}

#[test]
fn compress_import_reads_gz_zst_and_compressed_stdin() {
    let dir = TempDir::new("compress_import");
    let url = source_db(&dir, 2000);
    let db = dir.join("source.db");
    let mut n = 0;
    for format in ["csv", "tsv", "ndjson"] {
        let expected = plain(&url, format);
        for (tool, own) in [
            ("gzip", false),
            ("zstd", false),
            ("gzip", true),
            ("zstd", true),
        ] {
            // The tools' single stream, and dbchunk's own multi-member or
            // multi-frame one (a member or frame per 70-row chunk).
            let compressed = match own {
                false => tool_compress(tool, &expected),
                true => {
                    dbchunk(["export", "--url", &url, "--table", "t", "--quiet"])
                        .args(["--format", format, "--compress", tool, "--chunk", "70"])
                        .args(["--strategy", "keyset"])
                        .success()
                        .stdout
                }
            };
            let ext = if tool == "gzip" { "gz" } else { "zst" };
            let file = dir.join(&format!("in.{format}.{ext}"));
            std::fs::write(&file, &compressed).unwrap();
            // By the file's name, and on stdin by its magic bytes.
            for stdin in [false, true] {
                n += 1;
                let table = format!("copy{n}");
                sqlite_exec(
                    &db,
                    &format!(
                        "CREATE TABLE {table}(id INTEGER PRIMARY KEY, name TEXT, note TEXT, \
                         x REAL, b BLOB)"
                    ),
                );
                let mut cmd = dbchunk(["import", "--url", &url, "--table", &table, "--quiet"]);
                cmd = match stdin {
                    false => cmd.arg("-i").arg(&file),
                    true => cmd.args(["--format", format]).stdin(compressed.clone()),
                };
                cmd.success();
                let back = dbchunk([
                    "export", "--url", &url, "--table", &table, "--format", format, "--quiet",
                ])
                .success()
                .stdout;
                assert!(
                    back == expected,
                    "{format} through {tool} (dbchunk's: {own}, stdin: {stdin}) did not import as \
                     the plain file"
                );
            }
        }
    }
}

/// An import stopped half-way through a compressed input resumes after
/// the rows it committed: offsets count decompressed bytes.
#[test]
fn compress_import_resumes_in_a_compressed_input() {
    let dir = TempDir::new("compress_import_resume");
    let db = lite_file(&dir, "t.db", NOT_NULL_T);
    let mut text = String::from("id,n\n");
    for i in 1..=500 {
        // Line 302 (id 301) breaks NOT NULL.
        let n = if i == 301 {
            String::new()
        } else {
            i.to_string()
        };
        text.push_str(&format!("{i},{n}\n"));
    }
    let input = dir.join("in.csv.zst");
    std::fs::write(&input, tool_compress("zstd", text.as_bytes())).unwrap();
    let state = dir.join("state.json");
    import_t(&db, &state, "50", false)
        .arg("-i")
        .arg(&input)
        .fails(1)
        .error_says(&["line 302"]);
    assert_eq!(read_json(&state)["rows"], 300);
    import_t(&db, &state, "50", true)
        .arg("-i")
        .arg(&input)
        .arg("--reject-file")
        .arg(dir.join("rejects.txt"))
        .args(["--max-errors", "1"])
        .fails(3); // completed, with the one bad row rejected
    assert_eq!(
        db.text("SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || sum(id) FROM t")
            .unwrap(),
        format!("499 499 {}", 500 * 501 / 2 - 301)
    );
}

/// kill -9 during a resumable compressed export, then `--resume`: the
/// file (and stdout, cut where the state says) decompresses with the real
/// tools to exactly the uninterrupted export's bytes.
#[test]
fn compress_resume_after_kill() {
    let dir = TempDir::new("compress_resume");
    let url = source_db(&dir, 20_000);
    let clean = dbchunk([
        "export", "--url", &url, "--table", "t", "--strategy", "keyset", "--quiet",
    ])
    .success()
    .stdout;
    let slow = ["--chunk", "300", "--max-rate", "20000/s", "--quiet"];
    let mut cut_midway = 0;
    for (ext, tool) in [("zst", "zstd"), ("gz", "gzip")] {
        for (run, millis) in [150u64, 450, 800].into_iter().enumerate() {
            let after = Duration::from_millis(millis);
            let state = dir.join(&format!("file-{ext}-{run}.json"));
            let output = dir.join(&format!("out-{run}.csv.{ext}"));
            let partial = dir.join(&format!(".out-{run}.csv.{ext}.dbchunk-partial"));
            let mut args = vec!["export", "--url", &url, "--table", "t"];
            args.extend(["--state", state.to_str().unwrap()]);
            args.extend(["-o", output.to_str().unwrap()]);
            args.extend(slow);
            kill_and_resume(&args, &state, after, |saved| {
                assert!(
                    !output.exists(),
                    "a killed export must not leave {output:?}"
                );
                let Some(saved) = saved else { return };
                let at = saved["compressed_bytes"]
                    .as_u64()
                    .expect("compressed_bytes");
                assert_eq!(saved["compression"], tool);
                assert!(std::fs::metadata(&partial).unwrap().len() >= at);
                // What the state claims is a whole stream already.
                let mut kept = std::fs::read(&partial).unwrap();
                kept.truncate(at as usize);
                let head = tool_decompress(tool, &kept);
                assert_eq!(head.len() as u64, saved["bytes"].as_u64().unwrap());
                assert!(clean.starts_with(&head));
                cut_midway += u32::from(saved["done"] == false && at > 0);
            });
            assert_same(
                &format!(".{ext} resumed after {millis} ms"),
                &clean,
                &decompress_file(tool, &output),
            );
            assert!(!partial.exists());

            // To stdout: keep the compressed bytes the state records, append
            // the resumed output.
            let state = dir.join(&format!("stdout-{ext}-{run}.json"));
            let mut args = vec!["export", "--url", &url, "--table", "t"];
            args.extend(["--state", state.to_str().unwrap(), "--compress", tool]);
            args.extend(slow);
            let resumed = kill_and_resume(&args, &state, after, |_| {});
            assert_same(
                &format!("stdout --compress {tool} resumed after {millis} ms"),
                &clean,
                &tool_decompress(tool, &resumed.joined("compressed_bytes")),
            );
        }
    }
    assert!(
        cut_midway > 0,
        "no run was killed half-way: make the export slower"
    );
    // A compressed state does not resume an uncompressed export.
    let state = dir.join("file-zst-2.json");
    let run = dbchunk([
        "export", "--url", &url, "--table", "t", "--resume", "--state",
    ])
    .arg(&state)
    .fails(2);
    run.error_says(&["zstd-compressed"]);
}

/// A compressed export that is killed, or fails, leaves nothing under the
/// target name, and a failed one nothing at all.
#[test]
fn compress_failed_exports_leave_no_file() {
    let dir = TempDir::new("compress_failed");
    let url = source_db(&dir, 20_000);
    for name in ["killed.csv.zst", "killed.csv.gz"] {
        let output = dir.join(name);
        kill_after(
            &[
                "export",
                "--url",
                &url,
                "--table",
                "t",
                "--chunk",
                "300",
                "--max-rate",
                "20000/s",
                "--quiet",
                "-o",
                output.to_str().unwrap(),
            ],
            Duration::from_millis(400),
        );
        assert!(!output.exists(), "a killed export left {output:?}");
    }
    // Row 15000 cannot be NDJSON: the export fails after writing chunks.
    let failing = dir.join("failing");
    std::fs::create_dir(&failing).unwrap();
    sqlite_exec(
        &dir.join("source.db"),
        "UPDATE t SET name = CAST(x'ff' AS TEXT) WHERE id = 15000",
    );
    for name in ["bad.ndjson.zst", "bad.ndjson.gz"] {
        let run = dbchunk([
            "export", "--url", &url, "--table", "t", "--chunk", "1000", "-o",
        ])
        .arg(failing.join(name))
        .fails(1);
        run.error_says(&["row 15000"]);
        assert!(
            std::fs::read_dir(&failing).unwrap().next().is_none(),
            "a failed export left files: {:?}",
            std::fs::read_dir(&failing).unwrap().collect::<Vec<_>>()
        );
    }
}
