//! Connecting: TLS (`ssl-mode`), `--connect-timeout` over the handshake,
//! TCP keepalives, the session settings that pin text forms and time
//! zones; a failure as one line that says what to check.

use super::*;

/// TCP keepalives after this much silence, so that a peer that vanished
/// is noticed (the system's default waits two hours); the URL's own
/// `tcp_keepalive` wins.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);

impl Mysql {
    pub async fn connect(url: &DbUrl) -> Result<Mysql> {
        // mysql_async knows only the mysql:// scheme.
        let raw = url.raw();
        let raw = match raw.split_once("://") {
            Some((_, rest)) => format!("mysql://{rest}"),
            None => raw.to_string(),
        };
        let opts = Opts::from_url(&raw).map_err(|e| anyhow!("the MySQL URL is not valid: {e}"))?;
        let (user, host, port) = (
            opts.user().unwrap_or("").to_string(),
            opts.ip_or_hostname().to_string(),
            opts.tcp_port(),
        );
        let tls = &url.tls;
        let resolved = tls.resolve()?;
        let over_socket = opts.socket().is_some();
        // mysql_async moves a TCP connection to the server's Unix socket
        // (@@socket) when it can open it, as the mysql client uses the socket
        // for localhost. Encryption has no place there: on a loopback address
        // PREFERRED asks for no TLS (as before TLS), and elsewhere a TLS
        // session stays on TCP.
        let loopback = is_loopback(opts.ip_or_hostname());
        let to_socket = over_socket || (opts.prefer_socket() && loopback);
        // mysql_async's own require_ssl=true, when ssl-mode is not given, stays as it is.
        let own_ssl = opts.ssl_opts().is_some() && !tls.explicit;
        let keepalive = opts.tcp_keepalive().unwrap_or(KEEPALIVE_IDLE);
        let reader = reader(url, &opts, &resolved, to_socket, own_ssl, keepalive)?;
        let mut builder = OptsBuilder::from_opts(opts)
            .init(SESSION_SETTINGS.to_vec())
            .tcp_keepalive(Some(keepalive));
        if let Some(password) = url.password() {
            builder = builder.pass(Some(password));
        }
        let mut fallback = None;
        if !own_ssl {
            builder = match resolved.mode {
                TlsMode::Disable => builder.ssl_opts(None),
                // A Unix socket is never encrypted; asking would break the handshake.
                TlsMode::Prefer if to_socket => builder.ssl_opts(None),
                TlsMode::Prefer => {
                    fallback = Some(builder.clone().ssl_opts(None));
                    builder.ssl_opts(ssl_opts(&resolved)).prefer_socket(false)
                }
                _ if over_socket => {
                    return Err(UsageError(format!(
                        "{} asks for TLS, but a Unix socket (socket= in the URL) is never \
                         encrypted: connect over TCP, or leave ssl-mode out",
                        tls.setting()
                    ))
                    .into())
                }
                _ => builder.ssl_opts(ssl_opts(&resolved)).prefer_socket(false),
            };
        }
        let connect = async move {
            match (Conn::new(builder).await, fallback) {
                // PREFERRED: the server offers no TLS, so connect without.
                (
                    Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)),
                    Some(plain),
                ) => Conn::new(plain).await,
                (result, _) => result,
            }
        };
        // mysql_async parses no connect timeout of its own: the flag's, or
        // the default, covers TCP, TLS, login and the session setup.
        let timeout = url.connect_timeout(None);
        let conn = match tokio::time::timeout(timeout, connect).await {
            Err(_) => {
                let at = format!("{host}:{port}");
                return Err(no_answer(crate::engine::Engine::Mysql, &at, timeout));
            }
            Ok(Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer))) => {
                bail!("{}", tls.no_tls_message())
            }
            Ok(Err(e)) => match tls.explain(&e, &resolved) {
                Some(line) => bail!("{line}"),
                None => return Err(connect_error(e, &user, &host, port)),
            },
            Ok(Ok(conn)) => conn,
        };
        Ok(Mysql {
            conn,
            reader,
            in_snapshot: false,
            json_columns: HashSet::new(),
            table: None,
        })
    }
}

/// Run first on every connection. NO_AUTO_VALUE_ON_ZERO: a 0 written
/// into an AUTO_INCREMENT column is stored as 0 (as mysqldump's files ask
/// too), not replaced by the next number, which would change the data and
/// break its references.
const SESSION_SETTINGS: [&str; 3] = [
    "SET NAMES utf8mb4",
    "SET time_zone = '+00:00'",
    "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), \
     'NO_AUTO_VALUE_ON_ZERO')",
];

/// Where dbchunk's own reading session logs in: the driver connection's
/// host or socket, user, database and TLS. `None` when the URL asks for
/// what only mysql_async does (compression, its own `require_ssl`).
fn reader(
    url: &DbUrl,
    opts: &Opts,
    resolved: &Resolved,
    to_socket: bool,
    own_ssl: bool,
    keepalive: Duration,
) -> Result<Option<Reader>> {
    if opts.compression().is_some() || own_ssl {
        return Ok(None);
    }
    let host = opts.ip_or_hostname().to_string();
    let address = match opts.socket() {
        Some(path) => wire::Address::Socket(path.to_string()),
        None => wire::Address::Tcp(host.clone(), opts.tcp_port()),
    };
    let tls = match resolved.mode {
        TlsMode::Disable => wire::Tls::Off,
        TlsMode::Prefer if to_socket => wire::Tls::Off,
        mode => wire::Tls::On {
            config: crate::tls::client_config(resolved)?,
            name: rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']))
                .map_err(|e| anyhow!("{host} is not a host name TLS can check: {e}"))?
                .to_owned(),
            required: mode != TlsMode::Prefer,
        },
    };
    let password = url.password().map(str::to_string);
    let target = wire::Target {
        address,
        user: opts.user().unwrap_or("").to_string(),
        password: password.or_else(|| opts.pass().map(str::to_string)),
        database: opts.db_name().map(str::to_string),
        tls,
        keepalive,
        init: SESSION_SETTINGS.iter().map(|s| s.to_string()).collect(),
    };
    Ok(Some(Reader {
        // TLS stays on TCP, as the driver's connection does.
        find_socket: to_socket && opts.socket().is_none() && matches!(target.tls, wire::Tls::Off),
        target,
        connect_timeout: url.connect_timeout(None),
        session: None,
    }))
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// mysql_async's TLS options for a resolved ssl-mode. It builds its own
/// rustls configuration (with the ring provider, as dbchunk's own).
fn ssl_opts(resolved: &Resolved) -> SslOpts {
    let mut opts = SslOpts::default();
    if let Roots::File(_, certs) = &resolved.roots {
        opts = opts
            .with_root_certs(certs.iter().map(|c| c.to_vec().into()).collect())
            .with_disable_built_in_roots(true);
    }
    match resolved.verify {
        Verify::Nothing => opts.with_danger_accept_invalid_certs(true),
        Verify::Chain => opts.with_danger_skip_domain_validation(true),
        Verify::ChainAndName => opts,
    }
}

fn connect_error(err: mysql_async::Error, user: &str, host: &str, port: u16) -> anyhow::Error {
    use mysql_async::{Error, IoError};
    let io = match &err {
        Error::Io(IoError::Io(io)) => Some(io),
        _ => None,
    };
    match (&err, io) {
        (Error::Server(e), _) if e.code == 1045 => anyhow!(
            "{e}; check the user ({user}) and the password (in --url, --password-file or MYSQL_PWD)"
        ),
        (Error::Server(e), _) if e.code == 1049 => {
            anyhow!("{e}; check the database name in --url")
        }
        (Error::Server(e), _) => anyhow!("{e}; check --url"),
        (_, Some(io)) if io.kind() == std::io::ErrorKind::ConnectionRefused => anyhow!(
            "{host}:{port} refused the connection: check that MySQL/MariaDB is running on that \
             host and port (in --url)"
        ),
        (_, Some(io)) if io.to_string().contains("lookup address") => anyhow!(
            "cannot find the host of {host}:{port} ({}): check the host name in --url",
            crate::error::cause_line(io)
        ),
        _ => anyhow!(
            "{}; check the host and port in --url, and that the server is running",
            crate::error::cause_line(&err)
        ),
    }
}
