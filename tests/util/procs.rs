//! Runs that are more than start-and-wait: a failure's one line checked
//! for what it must say, a child process signalled, waited for and judged
//! as a [`Run`], and an export or import killed with -9 then resumed.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{dbchunk, kill_after, Cmd, Run};

impl Run {
    /// Asserts the usual shape of a failure ([`Run::one_error_line`]) and
    /// that its line says each of `needles`; the line.
    #[track_caller]
    pub fn error_says(&self, needles: &[&str]) -> &str {
        let line = self.one_error_line();
        for needle in needles {
            assert!(
                line.contains(needle),
                "{}: {needle:?} not in: {line}",
                self.args
            );
        }
        line
    }

    /// Asserts that stderr, anywhere in it, says each of `needles`.
    #[track_caller]
    pub fn stderr_says(&self, needles: &[&str]) {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "{}: {needle:?} not on stderr:\n{}",
                self.args,
                self.stderr
            );
        }
    }
}

impl Cmd {
    /// Starts the binary with the given stdin, stdout and stderr.
    pub fn spawn_with(&self, stdin: Stdio, stdout: Stdio, stderr: Stdio) -> Child {
        self.command()
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start dbchunk")
    }

    /// Starts the binary with stdout and stderr piped and the given stdin.
    pub fn spawn_reading(&self, stdin: Stdio) -> Child {
        self.spawn_with(stdin, Stdio::piped(), Stdio::piped())
    }

    /// As [`Cmd::spawn`], with stdin a pipe the test writes to (or holds
    /// open, or closes).
    pub fn spawn_with_stdin(&self) -> Child {
        self.spawn_reading(Stdio::piped())
    }
}

/// Waits for `child` (started with stderr piped) to end: its exit code and
/// output as a [`Run`] named `what`.
pub fn finish(child: Child, what: &str) -> Run {
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {what}: {e}"));
    Run::from_output(what, output)
}

impl Run {
    /// What a finished process (described as `what`) left behind.
    pub fn from_output(what: &str, output: std::process::Output) -> Run {
        Run {
            args: what.to_string(),
            code: output.status.code(),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Sends `signal` (`-INT`, `-TERM`) to `child` with kill(1).
pub fn signal(child: &Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill {signal} {} failed", child.id());
}

/// Polls `ready` every 20 ms until it holds; fails naming `what` after
/// `limit`.
#[track_caller]
pub fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed (and waited for) when dropped: a test that
/// fails while it runs leaves no process writing behind it.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Kills `child` with -9 once `ready` holds (polled every 5 ms); fails if
/// the child ends first, or `ready` takes over a minute.
#[track_caller]
pub fn kill_when(mut child: std::process::Child, what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what} ended before the kill"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} never got going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A JSON file (a state, a plan) parsed.
#[track_caller]
pub fn read_json(path: &Path) -> serde_json::Value {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A run killed with -9 and run again, with `--resume` when it left a state.
pub struct Resumed {
    /// What the killed run wrote to stdout.
    pub written: Vec<u8>,
    /// The state the killed run left, if it got as far as writing one.
    pub saved: Option<serde_json::Value>,
    /// The run after it, which succeeded.
    pub run: Run,
}

impl Resumed {
    /// stdout as a reader keeping what the state records of the killed
    /// run's (its `key`, a byte count) and appending the rerun's sees it.
    pub fn joined(&self, key: &str) -> Vec<u8> {
        let kept = self.saved.as_ref().map_or(0, |saved| {
            saved[key]
                .as_u64()
                .unwrap_or_else(|| panic!("no {key} in {saved}")) as usize
        });
        let mut joined = self.written[..kept].to_vec();
        joined.extend_from_slice(&self.run.stdout);
        joined
    }
}

/// Runs `args` (which name `--state STATE`), kills it with -9 after
/// `after`, calls `between` with the state it left (none when killed
/// before its first checkpoint), and runs it again, with `--resume` when
/// there is a state: that run must succeed.
pub fn kill_and_resume(
    args: &[&str],
    state: &Path,
    after: Duration,
    between: impl FnOnce(Option<&serde_json::Value>),
) -> Resumed {
    let written = kill_after(args, after);
    let saved = state.exists().then(|| read_json(state));
    between(saved.as_ref());
    let mut again = args.to_vec();
    if saved.is_some() {
        again.push("--resume");
    }
    let run = dbchunk(again).success();
    Resumed {
        written,
        saved,
        run,
    }
}
