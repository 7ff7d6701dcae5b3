//! Database URLs: which engine, and how to show one without its password.

use crate::engine::Engine;
use crate::error::UsageError;
use crate::secrets::register_secret;
use crate::tls::TlsOptions;

/// A server that has not let dbchunk in by then is taken for gone: long
/// enough for a slow network and TLS, short enough for a cron job.
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A parsed `--url`. `Debug` is not derived: it would print the password.
#[derive(Clone)]
pub struct DbUrl {
    pub engine: Engine,
    /// The URL for the driver: as given, less the TLS parameters, which
    /// dbchunk handles itself. Never printed.
    raw: String,
    /// The URL with its password replaced by `***`, for messages.
    pub shown: String,
    /// SQLite only: the file path, or `:memory:`.
    pub sqlite_path: Option<String>,
    /// A password from `--password-file`, `PGPASSWORD` or `MYSQL_PWD`, for
    /// a URL that has none. Never printed.
    password: Option<String>,
    /// `sslmode`/`sslrootcert` (PostgreSQL), `ssl-mode`/`ssl-ca` (MySQL).
    pub tls: TlsOptions,
    /// `--connect-timeout`, when given: it wins over the URL's own.
    connect_timeout: Option<std::time::Duration>,
    /// PostgreSQL: an exported snapshot (`dbchunk snapshot`, `--snapshot`)
    /// that every connection joins as it opens, a reconnection too, so
    /// every read of the run sees the same data.
    snapshot: Option<String>,
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl, UsageError> {
        let url = url.trim();
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        let engine = match scheme.as_str() {
            "postgres" | "postgresql" => Engine::Postgres,
            "mysql" | "mariadb" => Engine::Mysql,
            "sqlite" | "sqlite3" => Engine::Sqlite,
            _ => {
                return Err(UsageError(format!(
                    "unsupported database URL {:?}: use postgres://user@host:5432/db, \
                     mysql://user@host:3306/db, sqlite://path/to/file.db or sqlite::memory:",
                    redact(url)
                )))
            }
        };
        let sqlite_path = (engine == Engine::Sqlite).then(|| sqlite_path(url));
        if let Some(path) = &sqlite_path {
            if path.is_empty() {
                return Err(UsageError(
                    "the SQLite URL names no file: use sqlite://path/to/file.db".into(),
                ));
            }
        }
        if let Some(password) = password(url) {
            register_secret(&password);
        }
        let (raw, tls) = match engine {
            Engine::Sqlite => (url.to_string(), TlsOptions::default_for(engine)),
            _ => take_tls_options(engine, url)?,
        };
        Ok(DbUrl {
            engine,
            raw,
            shown: redact(url),
            sqlite_path,
            password: None,
            tls,
            connect_timeout: None,
            snapshot: None,
        })
    }

    /// The URL for the driver. Keep it out of every message.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// How long connecting may take: `--connect-timeout`, or for
    /// PostgreSQL the URL's `connect_timeout`, or
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(&self, from_url: Option<std::time::Duration>) -> std::time::Duration {
        self.connect_timeout
            .or(from_url)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }

    pub fn with_connect_timeout(mut self, timeout: Option<std::time::Duration>) -> DbUrl {
        self.connect_timeout = timeout;
        self
    }

    /// Every connection opened from this URL reads in `snapshot`.
    pub fn with_snapshot(mut self, snapshot: Option<String>) -> DbUrl {
        self.snapshot = snapshot;
        self
    }

    /// The snapshot every connection joins (see [`DbUrl::with_snapshot`]).
    pub fn snapshot(&self) -> Option<&str> {
        self.snapshot.as_deref()
    }

    /// The password to send when the URL has none.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Takes the password from `--password-file`, or else from the
    /// engine's usual variable (`PGPASSWORD`, `MYSQL_PWD`), so that it need
    /// not be in the URL (where `ps` shows it). A password in the URL and
    /// a password file together are refused: one of them would be ignored.
    pub fn with_password_from(
        mut self,
        file: Option<&std::path::Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<DbUrl, UsageError> {
        let in_url = password(&self.raw).is_some();
        let password = match file {
            Some(_) if in_url => {
                return Err(UsageError(
                    "the --url has a password and --password-file gives another: keep one".into(),
                ))
            }
            Some(path) => Some(read_password_file(path)?),
            None if in_url => None,
            None => match self.engine {
                Engine::Postgres => env("PGPASSWORD"),
                Engine::Mysql => env("MYSQL_PWD"),
                Engine::Sqlite => None,
            },
        };
        if let Some(password) = &password {
            register_secret(password);
        }
        self.password = password.filter(|p| !p.is_empty());
        Ok(self)
    }
}

/// The first line of a password file, without its line break.
fn read_password_file(path: &std::path::Path) -> Result<String, UsageError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        UsageError(format!(
            "cannot read the --password-file {}: {e}",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(UsageError(format!(
            "the --password-file {} is empty: its first line is the password",
            path.display()
        )));
    }
    Ok(line.to_string())
}

/// The URL without its TLS parameters, and those parameters.
fn take_tls_options(engine: Engine, url: &str) -> Result<(String, TlsOptions), UsageError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), TlsOptions::default_for(engine)));
    };
    let raw_pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let mut pairs: Vec<(String, String)> = raw_pairs
        .iter()
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let tls = TlsOptions::take_from(engine, &mut pairs)?;
    // Keep the other pairs exactly as written.
    let kept: Vec<&str> = raw_pairs
        .iter()
        .filter(|pair| {
            let key = percent_decode(pair.split_once('=').map_or(**pair, |(k, _)| k));
            pairs.iter().any(|(k, _)| *k == key)
        })
        .copied()
        .collect();
    let raw = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((raw, tls))
}

/// `sqlite://rel/path.db`, `sqlite:///abs/path.db`, `sqlite:path.db`,
/// `sqlite::memory:`; a `?query` part is ignored.
fn sqlite_path(url: &str) -> String {
    let rest = &url[url.find(':').map_or(0, |i| i + 1)..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let rest = rest.split('?').next().unwrap_or("");
    if rest == ":memory:" || rest.is_empty() && url.ends_with(":memory:") {
        return ":memory:".into();
    }
    rest.to_string()
}

/// The `user:password@` part's password, percent-decoded, if any.
fn password(url: &str) -> Option<String> {
    let (start, end) = password_span(url)?;
    let raw = &url[start..end];
    Some(percent_decode(raw))
}

fn password_span(url: &str) -> Option<(usize, usize)> {
    let after_scheme = url.find("://")? + 3;
    let authority_end = url[after_scheme..]
        .find(['/', '?'])
        .map_or(url.len(), |i| after_scheme + i);
    let at = url[after_scheme..authority_end].rfind('@')? + after_scheme;
    let colon = url[after_scheme..at].find(':')? + after_scheme;
    Some((colon + 1, at))
}

/// The URL with the password (in the user part, or a `password=` query
/// parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut shown = match password_span(url) {
        Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
        None => url.to_string(),
    };
    if let Some(q) = shown.find('?') {
        let query: Vec<String> = shown[q + 1..]
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        shown = format!("{}?{}", &shown[..q], query.join("&"));
    }
    shown
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_from_schemes() {
        let engine = |u: &str| DbUrl::parse(u).unwrap().engine;
        assert_eq!(engine("postgres://u@h/db"), Engine::Postgres);
        assert_eq!(engine("postgresql://u@h/db"), Engine::Postgres);
        assert_eq!(engine("mysql://u@h/db"), Engine::Mysql);
        assert_eq!(engine("mariadb://u@h/db"), Engine::Mysql);
        assert_eq!(engine("sqlite::memory:"), Engine::Sqlite);
        assert!(DbUrl::parse("oracle://x").is_err());
        assert!(DbUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn sqlite_paths() {
        let path = |u: &str| DbUrl::parse(u).unwrap().sqlite_path.unwrap();
        assert_eq!(path("sqlite://data/x.db"), "data/x.db");
        assert_eq!(path("sqlite:///tmp/x.db"), "/tmp/x.db");
        assert_eq!(path("sqlite:x.db"), "x.db");
        assert_eq!(path("sqlite::memory:"), ":memory:");
        assert_eq!(path("sqlite://:memory:"), ":memory:");
    }

    #[test]
    fn tls_parameters_are_kept_from_the_driver() {
        use crate::tls::TlsMode;
        let url = DbUrl::parse(
            "postgres://u@h/db?application_name=x&sslmode=require&sslrootcert=%2Ftmp%2Fca.pem",
        )
        .unwrap();
        assert_eq!(url.raw(), "postgres://u@h/db?application_name=x");
        assert_eq!(url.tls.mode, TlsMode::Require);
        assert_eq!(
            url.shown,
            "postgres://u@h/db?application_name=x&sslmode=require&sslrootcert=%2Ftmp%2Fca.pem"
        );
        let url = DbUrl::parse("mysql://root@127.0.0.1/test?ssl-mode=verify_identity").unwrap();
        assert_eq!(url.raw(), "mysql://root@127.0.0.1/test");
        assert_eq!(url.tls.mode, TlsMode::VerifyFull);
        let url = DbUrl::parse("mysql://root@h/test?prefer_socket=false").unwrap();
        assert_eq!(url.raw(), "mysql://root@h/test?prefer_socket=false");
        assert_eq!(url.tls.mode, TlsMode::Prefer);
        assert!(DbUrl::parse("postgres://u@h/db?sslmode=bogus").is_err());
    }

    #[test]
    fn passwords_never_shown() {
        let url = DbUrl::parse("postgres://bob:s3cr%40t@db:5432/app?sslmode=disable").unwrap();
        assert_eq!(url.shown, "postgres://bob:***@db:5432/app?sslmode=disable");
        assert!(!format!("{url:?}").contains("s3cr"));
        assert_eq!(
            redact("postgres://h/db?user=a&password=xyz"),
            "postgres://h/db?user=a&password=***"
        );
        assert_eq!(password("mysql://a:b%40c@h/d").as_deref(), Some("b@c"));
    }

    #[test]
    fn passwords_from_files_and_the_environment() {
        let env = |name: &str| (name == "PGPASSWORD").then(|| "from-env".to_string());
        let pg = || DbUrl::parse("postgres://bob@db/app").unwrap();
        assert_eq!(
            pg().with_password_from(None, env).unwrap().password(),
            Some("from-env")
        );
        let my = DbUrl::parse("mysql://bob@db/app").unwrap();
        assert_eq!(my.with_password_from(None, env).unwrap().password(), None);
        let in_url = DbUrl::parse("postgres://bob:pw@db/app").unwrap();
        assert_eq!(
            in_url
                .clone()
                .with_password_from(None, env)
                .unwrap()
                .password(),
            None
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        let url = pg().with_password_from(Some(&file), env).unwrap();
        assert_eq!(url.password(), Some("from-file"));
        assert!(!url.shown.contains("from-file"));
        assert!(in_url.with_password_from(Some(&file), env).is_err());
        std::fs::write(&file, "\n").unwrap();
        assert!(pg().with_password_from(Some(&file), env).is_err());
        let missing = dir.path().join("missing");
        assert!(pg().with_password_from(Some(&missing), env).is_err());
    }
}
