//! How failures reach the user: exit codes, the `dbchunk:` prefix, broken
//! pipes treated as success, and passwords scrubbed from every message.

use std::sync::Mutex;

/// A mistake in how dbchunk was called, found before any work: exit 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The process exit codes dbchunk promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    Failure = 1,
    Usage = 2,
    /// An import with `--reject-file` completed, and some rows are in the
    /// reject file instead of the table: not plain success, which a cron
    /// job must be able to tell, and not a failure either.
    Rejected = 3,
    /// Stopped by Ctrl-C (SIGINT).
    Interrupted = 130,
    /// Stopped by SIGTERM.
    Terminated = 143,
}

/// Secrets that must never be printed (passwords from URLs). A std
/// `Mutex` is enough: it is touched once at start-up and once per error.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn register_secret(secret: &str) {
    if !secret.is_empty() {
        SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(secret.to_string());
    }
}

/// `message` with every registered secret replaced by `***`.
pub fn scrub(message: &str) -> String {
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut message = message.to_string();
    for secret in secrets.iter() {
        message = message.replace(secret.as_str(), "***");
    }
    message
}

/// Whether the failure is only that the reader of our stdout went away
/// (`dbchunk export | head`), which is success.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints the error on stderr (one `dbchunk:` line, causes joined by `: `)
/// and returns the exit code it deserves.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::Success;
    }
    eprintln!("dbchunk: {}", scrub(&one_line(err)));
    let interrupted = err
        .chain()
        .find_map(|c| c.downcast_ref::<crate::signals::Interrupted>());
    if let Some(stop) = interrupted {
        return match stop.exit_code() {
            143 => ExitCode::Terminated,
            _ => ExitCode::Interrupted,
        };
    }
    if err
        .chain()
        .any(|c| c.downcast_ref::<UsageError>().is_some())
    {
        ExitCode::Usage
    } else {
        ExitCode::Failure
    }
}

/// The error and its causes joined by `: ` on one line. Drivers often
/// repeat their cause inside their own message; a cause already said is
/// not said again.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// A warning on stderr, scrubbed like errors.
pub fn warn(message: &str) {
    eprintln!("dbchunk: warning: {}", scrub(message));
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn broken_pipe_anywhere_in_the_chain_is_success() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let err = anyhow::Error::new(io).context("writing to stdout");
        assert!(is_broken_pipe(&err));
        assert_eq!(report(&err), ExitCode::Success);
    }

    #[test]
    fn usage_errors_exit_2() {
        let err: anyhow::Result<()> = Err(UsageError("bad".into())).context("checking flags");
        assert_eq!(report(&err.unwrap_err()), ExitCode::Usage);
    }

    #[test]
    fn messages_are_one_line_without_repeats() {
        let err = anyhow::anyhow!("ERROR 1054: Unknown column\nHINT: x")
            .context("Server error: `ERROR 1054: Unknown column HINT: x'")
            .context("exporting table t");
        assert_eq!(
            one_line(&err),
            "exporting table t: Server error: `ERROR 1054: Unknown column HINT: x'"
        );
    }

    #[test]
    fn secrets_are_scrubbed() {
        register_secret("hunter2-unit");
        assert_eq!(scrub("auth failed for hunter2-unit"), "auth failed for ***");
    }
}
