//! Every line dbchunk writes on stderr passes here, so that
//! `--log-format json` can turn each one into a JSON object a log
//! collector parses, while the default text stays `dbchunk: ...`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `dbchunk: ...` lines, for people.
    Text,
    /// One JSON object a line (`level`, `message`, `ts`, and fields), for
    /// log collectors.
    Json,
}

/// Set once, before any line is written; read from any thread (progress,
/// signals, the panic hook).
static JSON: AtomicBool = AtomicBool::new(false);

pub fn set_format(format: LogFormat) {
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
}

pub fn is_json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// A usage error is found before clap gives us the flag: whether the raw
/// arguments ask for JSON.
pub fn set_format_from_args(args: impl Iterator<Item = std::ffi::OsString>) {
    let mut args = args.skip(1).peekable();
    while let Some(arg) = args.next() {
        let json = match arg.to_str() {
            Some("--log-format") => args.peek().and_then(|v| v.to_str()) == Some("json"),
            Some(arg) => arg == "--log-format=json",
            None => false,
        };
        if json {
            set_format(LogFormat::Json);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// `dbchunk: {message}` in text. The message must already be scrubbed
/// if it can hold a password.
pub fn info(message: &str) {
    emit(Level::Info, message, Map::new());
}

/// `dbchunk: {message}` in text, level `error` in JSON.
pub fn error(message: &str) {
    emit(Level::Error, message, Map::new());
}

/// One line: `dbchunk: [warning: ]{message}` in text (the fields are for
/// JSON only), or one JSON object.
pub fn emit(level: Level, message: &str, fields: Map<String, Value>) {
    let line = if is_json() {
        json_line(level, message, fields)
    } else if level == Level::Warn {
        format!("dbchunk: warning: {message}")
    } else {
        format!("dbchunk: {message}")
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The `--stats` totals: the object itself in text (its established
/// form), its fields beside `level` and `message` in JSON.
pub fn stats(stats: &Value) {
    if is_json() {
        let fields = stats.as_object().cloned().unwrap_or_default();
        emit(Level::Info, "stats", fields);
    } else {
        let _ = writeln!(std::io::stderr().lock(), "{stats}");
    }
}

fn json_line(level: Level, message: &str, fields: Map<String, Value>) -> String {
    let mut object = Map::new();
    object.insert("level".into(), level.name().into());
    object.insert("message".into(), message.into());
    object.insert("ts".into(), now_utc().into());
    for (key, value) in fields {
        object.entry(key).or_insert(value);
    }
    Value::Object(object).to_string()
}

/// RFC 3339 UTC with milliseconds, without a date crate.
pub fn now_utc() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since.as_secs() as i64;
    let date = crate::values::civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year,
        date.month,
        date.day,
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_level_message_time_and_fields() {
        let mut fields = Map::new();
        fields.insert("rows".into(), 3.into());
        fields.insert("level".into(), "not this".into());
        let line: Value =
            serde_json::from_str(&json_line(Level::Warn, "a \"b\"\nc", fields)).unwrap();
        assert_eq!(line["level"], "warn");
        assert_eq!(line["message"], "a \"b\"\nc");
        assert_eq!(line["rows"], 3);
        let ts = line["ts"].as_str().unwrap();
        assert_eq!(ts.len(), "2026-01-02T03:04:05.678Z".len(), "{ts}");
        assert!(ts.starts_with("20") && ts.ends_with('Z'), "{ts}");
    }

    #[test]
    fn the_flag_is_found_in_raw_arguments() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        set_format_from_args(args(&["dbchunk", "export", "--log-format", "text"]).into_iter());
        assert!(!is_json());
        set_format_from_args(args(&["dbchunk", "--log-format=json", "export"]).into_iter());
        assert!(is_json());
        set_format(LogFormat::Text);
    }
}
