//! How failures reach the user: exit codes, the `dbchunk:` prefix, broken
//! pipes treated as success, and passwords scrubbed from every message.

use crate::secrets::scrub;

/// An error type that is its message, told apart from other errors by
/// its type (each maps to its own exit code).
macro_rules! message_error {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub String);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::error::Error for $name {}
    };
}

message_error!(
    /// A mistake in how dbchunk was called, found before any work: exit 2.
    UsageError
);

message_error!(
    /// Another run holds what this one needs (the lock of its `--state`
    /// file): exit 75 (`EX_TEMPFAIL`), which says "try again later".
    Busy
);

/// clap's own errors (an unknown flag, a bad value) in dbchunk's form:
/// `dbchunk: ` and clap's first line, then its usage and tip lines, exit
/// 2. `--help` and `--version` still go to stdout with exit 0.
pub fn usage_from_clap(err: clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = err.print();
        return std::process::ExitCode::from(err.exit_code() as u8);
    }
    let text = err.render().to_string();
    let text = scrub(text.strip_prefix("error: ").unwrap_or(&text));
    if crate::log::is_json() {
        // clap's usage and tip lines go in a field: one object, one line.
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let mut fields = serde_json::Map::new();
        if !rest.trim().is_empty() {
            fields.insert("detail".into(), rest.trim().into());
        }
        crate::log::emit(crate::log::Level::Error, first, fields);
    } else {
        eprint!("dbchunk: {text}");
    }
    std::process::ExitCode::from(ExitCode::Usage as u8)
}

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
    /// Another run with the same `--state` holds its lock (`EX_TEMPFAIL`).
    Busy = 75,
    /// Stopped by Ctrl-C (SIGINT).
    Interrupted = 130,
    /// Stopped by SIGTERM.
    Terminated = 143,
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
    let interrupted = err
        .chain()
        .find_map(|c| c.downcast_ref::<crate::signals::Interrupted>());
    match interrupted {
        // The stop says what the run left; the context around it would
        // only repeat where it was.
        Some(stop) if stop.is_explained() => crate::log::error(&scrub(&stop.to_string())),
        _ => crate::log::error(&scrub(&one_line(err))),
    }
    if let Some(stop) = interrupted {
        return match stop.exit_code() {
            143 => ExitCode::Terminated,
            _ => ExitCode::Interrupted,
        };
    }
    if err.chain().any(|c| c.downcast_ref::<Busy>().is_some()) {
        ExitCode::Busy
    } else if err
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
/// not said again, and a driver's wrapper around it is left out.
pub fn one_line(err: &anyhow::Error) -> String {
    join_causes(err.chain())
}

/// [`one_line`] for an error that is not (yet) an `anyhow::Error`.
pub fn cause_line(err: &(dyn std::error::Error + 'static)) -> String {
    join_causes(std::iter::successors(Some(err), |e| e.source()))
}

fn join_causes<'a>(causes: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let mut message = String::new();
    for cause in causes {
        let Some(text) = cause_text(cause) else {
            continue;
        };
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// What one cause adds to a message: `None` for a driver's wrapper whose
/// source (next in the chain) says the same without the quoting, such as
/// mysql_async's ``Server error: `ERROR 1045 ...'`` or tokio-postgres's
/// `db error`.
fn cause_text(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    if let Some(error) = cause.downcast_ref::<mysql_async::Error>() {
        return match error {
            mysql_async::Error::Driver(driver) => Some(driver.to_string()),
            _ => None,
        };
    }
    if let Some(error) = cause.downcast_ref::<mysql_async::IoError>() {
        return match error {
            mysql_async::IoError::Io(_) => None,
            _ => Some("TLS error".into()),
        };
    }
    // `Error code 1: SQL error or missing database` after rusqlite's own
    // message, which says the same and more.
    if cause.is::<rusqlite::ffi::Error>() {
        return None;
    }
    if let Some(error) = cause.downcast_ref::<tokio_postgres::Error>() {
        if error.as_db_error().is_some() {
            return None;
        }
    }
    let text = cause.to_string();
    if cause.is::<std::io::Error>() {
        // `Connection refused (os error 111)`: the number helps no one.
        if let Some(at) = text.find(" (os error ") {
            return Some(text[..at].to_string());
        }
    }
    Some(text)
}

/// A warning on stderr, scrubbed like errors.
pub fn warn(message: &str) {
    crate::log::emit(crate::log::Level::Warn, &scrub(message), Default::default());
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
    fn driver_wrappers_are_left_out() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let refused_text = std::io::Error::from_raw_os_error(111).to_string();
        let my = mysql_async::Error::Io(mysql_async::IoError::Io(
            std::io::Error::from_raw_os_error(111),
        ));
        let line = one_line(&anyhow::Error::new(my).context("connecting"));
        assert!(!line.contains("Input/output error"), "{line}");
        assert!(!line.contains("os error"), "{line}");
        assert!(
            refused_text.starts_with(&line["connecting: ".len()..]),
            "{line}"
        );
        let server = mysql_async::Error::Server(mysql_async::ServerError {
            code: 1045,
            message: "Access denied".into(),
            state: "28000".into(),
        });
        assert_eq!(
            one_line(&anyhow::Error::new(server)),
            "ERROR 1045 (28000): Access denied"
        );
        assert_eq!(one_line(&anyhow::Error::new(refused)), "connection refused");
    }
}
