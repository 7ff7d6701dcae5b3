//! What a driver's error means for the run: a connection lost (read the
//! chunk again), SQL the server refused (point at --where or --query), a
//! server that never answered.

use super::relation::{Request, Source};
use crate::engine::Engine;

/// The one line for a server that took the connection and never let
/// dbchunk in (or that no packet reached) within `--connect-timeout`.
pub fn no_answer(engine: Engine, host_port: &str, timeout: std::time::Duration) -> anyhow::Error {
    anyhow::anyhow!(
        "{host_port} did not answer within {} s: check that {} is up and listening there (the \
         host and port in --url) and that no firewall drops the connection, or wait longer with \
         --connect-timeout",
        timeout.as_secs(),
        match engine {
            Engine::Mysql => "MySQL/MariaDB",
            other => other.name(),
        }
    )
}

/// An error where the server refused SQL text that the user wrote
/// (`--where`, `--query`) ends with a pointer to it: the SQL runs as
/// written, so that is where to look. Only the final message needs it, so
/// the chain is flattened into that line.
pub fn hint_raw_sql(err: anyhow::Error, request: &Request) -> anyhow::Error {
    let query = matches!(request.source, Source::Query(_));
    let flags = match (request.filter.is_some(), query) {
        (true, true) => "--where and --query",
        (true, false) => "--where",
        (false, true) => "--query",
        (false, false) => return err,
    };
    let typed = err
        .chain()
        .any(|c| c.is::<crate::error::UsageError>() || c.is::<crate::signals::Interrupted>());
    if typed || !is_sql_refused(&err) {
        return err;
    }
    anyhow::anyhow!(
        "{}; check the SQL of {flags} (it runs as written)",
        crate::error::one_line(&err)
    )
}

/// Whether the server refused a statement's text: its syntax, or a name
/// in it (column, function, operator) it does not know.
fn is_sql_refused(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(pg) = cause.downcast_ref::<tokio_postgres::Error>() {
            // Class 42: syntax error or access rule violation, less the
            // missing privilege (42501), which is not about the text.
            return pg
                .code()
                .is_some_and(|c| c.code().starts_with("42") && c.code() != "42501");
        }
        if let Some(mysql_async::Error::Server(e)) = cause.downcast_ref::<mysql_async::Error>() {
            // Syntax; unknown column, table, function; ambiguous column;
            // wrong argument count; mixed collations.
            return matches!(
                e.code,
                1064 | 1054 | 1146 | 1305 | 1052 | 1582 | 1267 | 1630
            );
        }
        let message = match cause.downcast_ref::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(_, Some(message))) => message,
            Some(rusqlite::Error::SqlInputError { msg, .. }) => msg,
            _ => return false,
        };
        [
            "syntax error", "no such column", "no such function", "unrecognized token",
        ]
        .iter()
        .any(|m| message.contains(m))
    })
}

/// Whether `err` means the connection is gone (closed, reset, or the
/// session killed by an administrator), as opposed to a statement the
/// server refused: only then can reconnecting and reading the chunk again
/// help.
pub fn is_connection_lost(err: &anyhow::Error) -> bool {
    // Only the drivers' own errors count: an I/O error from a file (the
    // reject file, the output) is no reason to reconnect.
    err.chain().any(|cause| {
        if let Some(pg) = cause.downcast_ref::<tokio_postgres::Error>() {
            // 57P01-57P03: terminated by an administrator, crash shutdown,
            // cannot connect now.
            let killed = pg.code().is_some_and(|c| c.code().starts_with("57P"));
            let io = std::error::Error::source(pg).is_some_and(|s| s.is::<std::io::Error>());
            return pg.is_closed() || killed || io;
        }
        if let Some(my) = cause.downcast_ref::<mysql_async::Error>() {
            use mysql_async::{DriverError, Error};
            return match my {
                Error::Io(_) => true,
                Error::Driver(DriverError::ConnectionClosed) => true,
                // Connection was killed, server shutdown in progress, gone
                // away, lost during query.
                Error::Server(e) => matches!(e.code, 1927 | 1053 | 2006 | 2013),
                _ => false,
            };
        }
        false
    })
}
