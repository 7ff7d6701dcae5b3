//! Connecting: the URL's settings, TLS, `--connect-timeout` over the
//! whole handshake, TCP keepalives, and the session settings that make the
//! server's text forms canonical; a failure as one line that says what to
//! check.

use super::*;

/// TCP keepalives: a peer that vanished (a dead host, a dropped NAT
/// entry) is noticed after about a minute and a half of silence rather
/// than the system's default two hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEPALIVE_RETRIES: u32 = 3;

/// Settings that make the server's text forms canonical and stable.
const SESSION_SETUP: &str = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; \
    SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 1; \
    SET standard_conforming_strings = on; SET client_encoding = 'UTF8'";

impl Postgres {
    pub async fn connect(url: &DbUrl) -> Result<Postgres> {
        let mut config: tokio_postgres::Config = url
            .raw()
            .parse()
            .map_err(|e| anyhow!("the PostgreSQL URL is not valid: {e}"))?;
        if let Some(password) = url.password() {
            config.password(password);
        }
        // tokio-postgres's own timeout covers each TCP connect only; the
        // one around `connecting` below covers TLS and login too.
        let timeout = url.connect_timeout(config.get_connect_timeout().copied());
        config.connect_timeout(timeout);
        if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
            config
                .keepalives_idle(KEEPALIVE_IDLE)
                .keepalives_interval(KEEPALIVE_INTERVAL)
                .keepalives_retries(KEEPALIVE_RETRIES);
        }
        let resolved = url.tls.resolve()?;
        config.ssl_mode(match resolved.mode {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        });
        let connector = tls::MakeRustls(crate::tls::client_config(&resolved)?);
        let connecting = async {
            let (client, connection) = config.connect(connector).await.map_err(|e| {
                if error_chain(&e).contains("server does not support TLS") {
                    return anyhow!("{}", url.tls.no_tls_message());
                }
                match url.tls.explain(&e, &resolved) {
                    Some(line) => anyhow!("{line}"),
                    None => connect_error(e, &config),
                }
            })?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            client
                .batch_execute(SESSION_SETUP)
                .await
                .context("setting up the session")?;
            if let Some(snapshot) = url.snapshot() {
                join_snapshot(&client, snapshot).await?;
            }
            Ok::<_, anyhow::Error>(client)
        };
        let client = tokio::time::timeout(timeout, connecting)
            .await
            .map_err(|_| {
                no_answer(
                    crate::engine::Engine::Postgres,
                    &host_port(&config),
                    timeout,
                )
            })??;
        Ok(Postgres {
            client,
            prepared: None,
            kinds: Vec::new(),
            row_fixups: Vec::new(),
            copy_list: Vec::new(),
            copy_key_positions: Vec::new(),
            copy_fixups: Vec::new(),
        })
    }
}

/// Opens the transaction that reads in an exported snapshot. A snapshot
/// the server does not know is gone: its holder ended, and with it the
/// view every part must share.
pub(super) async fn join_snapshot(client: &Client, snapshot: &str) -> Result<()> {
    let sql = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}",
        literal(snapshot)
    );
    client.batch_execute(&sql).await.map_err(|e| {
        let message = e
            .as_db_error()
            .map_or(e.to_string(), |d| d.message().to_string());
        anyhow!(
            "cannot read in snapshot {snapshot:?}: {message}; the snapshot lives only while the \
             `dbchunk snapshot` that printed it runs (on this same server): start it again, and \
             plan and export every part again with its new id"
        )
    })
}

/// One line with the hint a user needs, for the usual ways connecting fails.
fn connect_error(err: tokio_postgres::Error, config: &tokio_postgres::Config) -> anyhow::Error {
    use tokio_postgres::error::SqlState;
    let user = config.get_user().unwrap_or("(default)");
    let db = config.get_dbname().unwrap_or("(default)");
    if let Some(db_error) = err.as_db_error() {
        let hint = match *db_error.code() {
            SqlState::INVALID_PASSWORD | SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                format!(
                    "check the user ({user}) and the password (in --url, --password-file or \
                     PGPASSWORD)"
                )
            }
            SqlState::INVALID_CATALOG_NAME => format!("check the database name ({db}) in --url"),
            _ => "check --url".to_string(),
        };
        return anyhow!("{}; {hint}", db_error.message());
    }
    let at = host_port(config);
    let io = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<std::io::Error>());
    match io {
        Some(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => anyhow!(
            "{at} refused the connection: check that PostgreSQL is running on that host and port \
             (in --url)"
        ),
        Some(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            let timeout = config.get_connect_timeout().copied().unwrap_or_default();
            no_answer(crate::engine::Engine::Postgres, &at, timeout)
        }
        Some(io) if io.to_string().contains("lookup address") => anyhow!(
            "cannot find the host of {at} ({}): check the host name in --url",
            crate::error::cause_line(io)
        ),
        _ => anyhow!(
            "{}; check the host and port in --url, and that the server is running",
            crate::error::cause_line(&err)
        ),
    }
}

/// `host:port` of the first server the config names, for messages.
pub(super) fn host_port(config: &tokio_postgres::Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => format!("{host}:{port}"),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(dir)) => {
            format!("{}/.s.PGSQL.{port}", dir.display())
        }
        None => format!("localhost:{port}"),
    }
}

/// An error and its sources, joined by `: `.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
