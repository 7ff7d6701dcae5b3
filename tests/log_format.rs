//! `--log-format json`: every stderr line is one JSON object a log
//! collector parses, with its level, message and fields, and no password.

use crate::util::tables::lite_id_v;
use crate::util::{dbchunk, export, Run, TempDir};

const PASSWORD: &str = "Log-Pw-7q2";

/// Each stderr line parsed, or the test fails naming the line.
fn json_lines(run: &Run) -> Vec<serde_json::Value> {
    assert!(!run.stderr.trim().is_empty(), "no stderr from {}", run.args);
    assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
    run.stderr
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?} in {}", run.stderr));
            assert!(
                value["ts"].as_str().is_some_and(|ts| ts.ends_with('Z')),
                "{line}"
            );
            assert!(value["message"].is_string(), "{line}");
            value
        })
        .collect()
}

/// `line` is an error whose message says `says`.
#[track_caller]
fn assert_error(line: &serde_json::Value, says: &str, run: &Run) {
    assert_eq!(line["level"], "error", "{}", run.stderr);
    let message = line["message"].as_str().unwrap();
    assert!(message.contains(says), "{says:?} not in: {}", run.stderr);
}

#[test]
fn json_log_lines_for_success_failure_and_usage() {
    let dir = TempDir::new("logfmt");
    let db = lite_id_v(&dir, "logfmt_t", 300);
    let url = db.url();

    let ok = export(&url, "logfmt_t")
        .args(["--log-format", "json", "--stats", "--progress", "always"])
        .args(["--chunk", "50", "-o"])
        .arg(dir.join("out.csv"))
        .success();
    let lines = json_lines(&ok);
    assert!(lines.iter().all(|l| l["level"] == "info"), "{}", ok.stderr);
    let stats = lines.iter().find(|l| l["message"] == "stats");
    let stats = stats.unwrap_or_else(|| panic!("no stats line: {}", ok.stderr));
    assert_eq!(stats["rows"], 300, "{}", ok.stderr);
    assert_eq!(stats["strategy"], "keyset", "{}", ok.stderr);
    let done = lines.iter().find(|l| l["event"] == "done");
    assert_eq!(done.unwrap_or_else(|| panic!("{}", ok.stderr))["rows"], 300);

    // Without --progress, a JSON log still gets the start and the totals
    // (stderr is a pipe here, as under cron).
    let quiet = export(&url, "logfmt_t")
        .args(["--log-format", "json", "-o"])
        .arg(dir.join("out2.csv"))
        .success();
    let lines = json_lines(&quiet);
    assert_eq!(
        lines.first().map(|l| &l["event"]),
        Some(&"start".into()),
        "{}",
        quiet.stderr
    );
    let done = lines.iter().find(|l| l["event"] == "done");
    assert_eq!(
        done.unwrap_or_else(|| panic!("{}", quiet.stderr))["rows"],
        300
    );

    let bad = export(&url, "logfmt_missing")
        .args(["--log-format", "json"])
        .fails(1);
    let lines = json_lines(&bad);
    // The run's start, then its one error.
    assert_eq!(lines.len(), 2, "{}", bad.stderr);
    assert_eq!(lines[0]["event"], "start", "{}", bad.stderr);
    assert_eq!(lines[0]["command"], "export", "{}", bad.stderr);
    assert_error(&lines[1], "logfmt_missing", &bad);

    // A server that is not there, with a password in the URL.
    let refused = format!("postgres://someone:{PASSWORD}@127.0.0.1:1/db");
    let refused = export(&refused, "logfmt_t")
        .args(["--log-format", "json", "--connect-timeout", "2"])
        .run();
    assert_ne!(refused.code, Some(0), "{}", refused.stderr);
    let lines = json_lines(&refused);
    assert_eq!(
        lines.last().unwrap()["level"],
        "error",
        "{}",
        refused.stderr
    );

    let usage = dbchunk(["export", "--log-format", "json", "--url", &url])
        .args(["--table", "logfmt_t", "--no-such-flag"])
        .fails(2);
    let lines = json_lines(&usage);
    assert_eq!(lines.len(), 1, "{}", usage.stderr);
    assert_error(&lines[0], "--no-such-flag", &usage);

    // The default stays text.
    let text = export(&url, "logfmt_missing").fails(1);
    assert!(text.stderr.starts_with("dbchunk: "), "{}", text.stderr);
}
