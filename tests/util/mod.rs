//! Helpers shared by the integration tests: run the real `dbchunk` binary
//! and look at what it did, fresh temporary directories, database access.

#![allow(dead_code)] // not every test module uses every helper

pub mod db;
pub mod engine;
pub mod fixtures;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_dbchunk");

/// A `dbchunk` invocation being put together.
#[must_use]
pub struct Cmd {
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    env: Vec<(OsString, OsString)>,
    env_remove: Vec<OsString>,
    dir: Option<PathBuf>,
}

/// `dbchunk ARGS...`.
pub fn dbchunk<I, S>(args: I) -> Cmd
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    Cmd {
        args: args.into_iter().map(Into::into).collect(),
        stdin: None,
        env: Vec::new(),
        env_remove: Vec::new(),
        dir: None,
    }
}

/// `dbchunk export --url URL --table TABLE`, for more arguments to follow.
pub fn export(url: &str, table: &str) -> Cmd {
    dbchunk(["export", "--url", url, "--table", table])
}

/// `dbchunk import --url URL --table TABLE`, for more arguments to follow.
pub fn import(url: &str, table: &str) -> Cmd {
    dbchunk(["import", "--url", url, "--table", table])
}

impl Cmd {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn env_remove(mut self, key: impl Into<OsString>) -> Cmd {
        self.env_remove.push(key.into());
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.dir = Some(dir.into());
        self
    }

    /// The `std::process::Command` this describes. `DATABASE_URL` from the
    /// environment of `cargo test` is removed unless set with [`Cmd::env`],
    /// and backtraces are always off.
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command.args(&self.args);
        command.env_remove("DATABASE_URL");
        for key in &self.env_remove {
            command.env_remove(key);
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command.env("RUST_BACKTRACE", "0");
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }

    /// Runs to completion, whatever the exit code.
    /// Starts the binary with stdin empty and stdout and stderr piped, for
    /// a test that reads (or stops reading) while it runs.
    pub fn spawn(&self) -> std::process::Child {
        self.spawn_reading(Stdio::null())
    }

    /// Runs the binary, reads the first line of its stdout, then closes
    /// the pipe (`dbchunk ... | head -1`): that line, the exit code and
    /// stderr.
    pub fn first_line_then_close(&self) -> (String, Option<i32>, String) {
        use std::io::BufRead;
        let mut child = self.spawn();
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        drop(reader);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (first, output.status.code(), stderr)
    }

    /// `dbchunk ... | head -1`: the first line is `first_ok`, and the
    /// closed pipe ends the run with exit 0 and nothing on stderr.
    #[track_caller]
    pub fn assert_quiet_head(&self, first_ok: impl Fn(&str) -> bool) {
        let (first, code, stderr) = self.first_line_then_close();
        let args = self.describe();
        assert!(first_ok(&first), "{args}: first line {first:?}");
        assert_eq!(
            code,
            Some(0),
            "{args}: a closed pipe is success; stderr: {stderr}"
        );
        assert_eq!(stderr, "", "{args}: nothing on stderr for a closed pipe");
    }

    pub fn run(&self) -> Run {
        let mut command = self.command();
        command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        let feeder = self.stdin.clone().map(|bytes| {
            let mut pipe = child.stdin.take().expect("piped stdin");
            std::thread::spawn(move || {
                // The child may exit without reading it all: not our failure.
                let _ = pipe.write_all(&bytes);
            })
        });
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("waiting for {BIN}: {e}"));
        if let Some(feeder) = feeder {
            feeder.join().expect("stdin feeder thread");
        }
        Run {
            args: self.describe(),
            code: output.status.code(),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs and asserts exit code 0 (printing stderr if not).
    #[track_caller]
    pub fn success(&self) -> Run {
        let run = self.run();
        run.assert_code(0);
        run
    }

    /// Runs and asserts the given non-zero exit code.
    #[track_caller]
    pub fn fails(&self, code: i32) -> Run {
        let run = self.run();
        run.assert_code(code);
        run
    }

    /// Runs and asserts the usual shape of a failure (see
    /// [`Run::one_error_line`]) with exit `code` and a line that has each
    /// of `texts`.
    #[track_caller]
    pub fn fails_saying(&self, code: i32, texts: &[&str]) -> Run {
        let run = self.fails(code);
        run.error_says(texts);
        run
    }

    fn describe(&self) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| format!("{:?}", a.to_string_lossy()))
            .collect();
        format!("dbchunk {}", args.join(" "))
    }
}

/// What a finished run left behind.
pub struct Run {
    /// The command line, for failure messages.
    pub args: String,
    /// `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// Neither stdout nor stderr shows `secret` (a password).
    #[track_caller]
    pub fn assert_hides(&self, secret: &str) {
        let stdout = String::from_utf8_lossy(&self.stdout);
        assert!(
            !self.stderr.contains(secret) && !stdout.contains(secret),
            "{}: password leaked: {}",
            self.args,
            self.stderr
        );
    }

    #[track_caller]
    pub fn assert_code(&self, expected: i32) {
        assert_eq!(
            self.code,
            Some(expected),
            "{}\nexpected exit code {expected}, got {:?}\n--- stderr ---\n{}\n--- stdout (first 2000 bytes) ---\n{}",
            self.args,
            self.code,
            self.stderr,
            String::from_utf8_lossy(&self.stdout[..self.stdout.len().min(2000)]),
        );
    }

    /// stdout as UTF-8 text (panics if it is not).
    #[track_caller]
    pub fn stdout_str(&self) -> &str {
        std::str::from_utf8(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not UTF-8: {e}", self.args))
    }

    /// The non-empty lines of stderr.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// Asserts the usual shape of a failure: nothing on stdout and exactly
    /// one `dbchunk: ...` line on stderr, which it returns.
    #[track_caller]
    pub fn one_error_line(&self) -> &str {
        assert!(
            self.stdout.is_empty(),
            "{}: a failure must write nothing to stdout, got {:?}",
            self.args,
            String::from_utf8_lossy(&self.stdout)
        );
        let lines = self.stderr_lines();
        assert_eq!(
            lines.len(),
            1,
            "{}: expected one stderr line, got:\n{}",
            self.args,
            self.stderr
        );
        assert!(
            lines[0].starts_with("dbchunk: "),
            "{}: the error line must start with `dbchunk: `: {:?}",
            self.args,
            lines[0]
        );
        lines[0]
    }
}

/// A fresh, empty directory for one test: `$TMP/dbchunk-it-NAME-PID`.
/// Removed when dropped, also when the test fails; `DBCHUNK_TEST_KEEP=1`
/// keeps a failing test's directory to look at.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("dbchunk-it-{name}-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)
                .unwrap_or_else(|e| panic!("cannot clear {}: {e}", path.display()));
        }
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The names of the files in the directory, hidden ones included, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.path)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", self.path.display()))
            .map(|e| {
                e.expect("directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let keep = std::env::var_os("DBCHUNK_TEST_KEEP").is_some_and(|v| v == "1");
        if keep && std::thread::panicking() {
            eprintln!("keeping {} (DBCHUNK_TEST_KEEP=1)", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// `sqlite://` URL of a file (absolute, so the working directory does not matter).
/// Starts dbchunk, kills it with SIGKILL after `after` (the kill -9 of
/// the resume tests), and returns what it wrote to stdout.
pub fn kill_after(args: &[&str], after: std::time::Duration) -> Vec<u8> {
    let mut child = dbchunk(args.to_vec()).spawn_with(Stdio::null(), Stdio::piped(), Stdio::null());
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut out).unwrap();
        out
    });
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap()
}

pub fn sqlite_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).expect("absolute path");
    format!("sqlite://{}", absolute.display())
}

/// Number of (possibly overlapping-free) occurrences of `needle` in `haystack`.
pub fn count_occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// One CSV field as dbchunk writes it: `None` for an unquoted empty field
/// (NULL under the default `--null`), else the unquoted text.
pub type Field = Option<String>;

/// Parses RFC 4180 CSV as dbchunk writes it (fields may hold quoted
/// newlines; every record ends with `\n`). Panics on malformed input.
pub fn parse_csv(text: &str) -> Vec<Vec<Field>> {
    let mut records = Vec::new();
    let mut record: Vec<Field> = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        // At the start of a field.
        let field = if chars.peek() == Some(&'"') {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        value.push('"');
                    }
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => panic!("unterminated quoted field in CSV:\n{text}"),
                }
            }
            Some(value)
        } else {
            let mut value = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' || c == '\n' {
                    break;
                }
                assert!(c != '"', "a quote inside an unquoted field in CSV:\n{text}");
                value.push(c);
                chars.next();
            }
            (!value.is_empty()).then_some(value)
        };
        record.push(field);
        match chars.next() {
            Some(',') => {}
            Some('\n') => {
                records.push(std::mem::take(&mut record));
                if chars.peek().is_none() {
                    return records;
                }
            }
            None if text.is_empty() => return records,
            None => panic!("CSV does not end with a newline:\n{text}"),
            Some(c) => panic!("unexpected {c:?} after a quoted field in CSV:\n{text}"),
        }
    }
}

/// A CSV export as a header and records of name → field.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Field>>,
}

impl Csv {
    pub fn parse(text: &str) -> Csv {
        let mut records = parse_csv(text).into_iter();
        let header = records
            .next()
            .expect("a header line")
            .into_iter()
            .map(|f| f.expect("header names are not empty"))
            .collect();
        Csv {
            header,
            rows: records.collect(),
        }
    }

    /// The field of `column` in data row `row` (0-based).
    #[track_caller]
    pub fn get(&self, row: usize, column: &str) -> Option<&str> {
        let i = self
            .header
            .iter()
            .position(|h| h == column)
            .unwrap_or_else(|| panic!("no column {column:?} in {:?}", self.header));
        self.rows[row][i].as_deref()
    }
}

/// Runs `command`, a tool scripts/test.sh installs, which must succeed:
/// its stdout.
#[track_caller]
pub fn tool_output(command: &mut Command) -> Vec<u8> {
    let what = format!("{command:?}");
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what} (scripts/test.sh installs it): {e}"));
    tool_stdout(&what, out)
}

/// What the tool `what` left, which must have succeeded: its stdout.
#[track_caller]
pub fn tool_stdout(what: &str, out: std::process::Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `tool -dc FILE` with the real gzip or zstd tool, which must succeed: the
/// decompressed bytes.
#[track_caller]
pub fn decompress_file(tool: &str, path: &Path) -> Vec<u8> {
    tool_output(Command::new(tool).arg("-dc").arg(path))
}

pub mod procs;
pub mod tables;
