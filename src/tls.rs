//! TLS: the `sslmode` / `sslrootcert` (PostgreSQL) and `ssl-mode` / `ssl-ca`
//! (MySQL) URL parameters, the rustls client configuration behind them, and
//! the one-line messages for the ways a TLS connection fails.
//!
//! The modes mean what libpq and the mysql client say they mean:
//!
//! | PostgreSQL | MySQL | TLS | certificate check |
//! |---|---|---|---|
//! | `disable` | `DISABLED` | never | |
//! | `prefer` (default) | `PREFERRED` (default) | if the server offers it | none |
//! | `require` | `REQUIRED` | always | none, or the chain when a CA file is given |
//! | `verify-ca` | `VERIFY_CA` | always | the chain, up to the CA file (or Mozilla's roots) |
//! | `verify-full` | `VERIFY_IDENTITY` | always | the chain and the host name |

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};

use crate::engine::Engine;
use crate::error::UsageError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// What is checked of the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verify {
    Nothing,
    /// Signed by a trusted CA, whatever name it is for.
    Chain,
    /// Signed by a trusted CA and issued for the host connected to.
    ChainAndName,
}

/// Where the trusted CA certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaSource {
    /// Not given: PostgreSQL looks for `~/.postgresql/root.crt` (as libpq
    /// does), then uses the built-in roots; MySQL uses the built-in roots.
    Default,
    /// `sslrootcert=system`: the built-in roots (Mozilla's, from webpki-roots).
    BuiltIn,
    File(PathBuf),
}

/// The TLS settings of one URL.
#[derive(Clone, Debug)]
pub struct TlsOptions {
    engine: Engine,
    pub mode: TlsMode,
    /// The mode was given in the URL (else it is the engine's default).
    pub explicit: bool,
    pub ca: CaSource,
}

/// The CA certificates to trust.
pub enum Roots {
    BuiltIn,
    /// The file and the DER certificates read from it.
    File(PathBuf, Vec<CertificateDer<'static>>),
}

/// Settings resolved for one connection: what TLS must do, and against what.
pub struct Resolved {
    pub mode: TlsMode,
    pub verify: Verify,
    pub roots: Roots,
}

impl TlsOptions {
    /// No TLS parameters: the engine's default (`prefer` / `PREFERRED`;
    /// SQLite has no connection to encrypt).
    pub fn default_for(engine: Engine) -> TlsOptions {
        let mode = match engine {
            Engine::Sqlite => TlsMode::Disable,
            _ => TlsMode::Prefer,
        };
        TlsOptions {
            engine,
            mode,
            explicit: false,
            ca: CaSource::Default,
        }
    }

    /// Takes this engine's TLS parameters out of a URL's query pairs
    /// (percent-decoded), leaving the others for the driver. Names and
    /// values are case-insensitive; an unknown value is a usage error.
    pub fn take_from(
        engine: Engine,
        pairs: &mut Vec<(String, String)>,
    ) -> Result<TlsOptions, UsageError> {
        let mut options = TlsOptions::default_for(engine);
        if engine == Engine::Sqlite {
            return Ok(options);
        }
        let mut mode = None;
        let mut ca = None;
        let mut kept = Vec::with_capacity(pairs.len());
        for (key, value) in pairs.drain(..) {
            let name = key.to_ascii_lowercase().replace('_', "-");
            match (engine, name.as_str()) {
                (Engine::Postgres, "sslmode") | (Engine::Mysql, "ssl-mode") => mode = Some(value),
                (Engine::Postgres, "sslrootcert") | (Engine::Mysql, "ssl-ca") => ca = Some(value),
                _ => kept.push((key, value)),
            }
        }
        *pairs = kept;
        if let Some(value) = ca {
            options.ca = match value.as_str() {
                "" => {
                    return Err(UsageError(format!(
                        "{} in the URL is empty: give the path of a PEM file of CA certificates",
                        options.ca_param()
                    )))
                }
                "system" if engine == Engine::Postgres => CaSource::BuiltIn,
                path => CaSource::File(PathBuf::from(path)),
            };
            // The mysql client: --ssl-ca without --ssl-mode means VERIFY_CA.
            if engine == Engine::Mysql && mode.is_none() {
                options.mode = TlsMode::VerifyCa;
            }
        }
        if let Some(value) = mode {
            options.mode = parse_mode(engine, &value).ok_or_else(|| {
                UsageError(format!(
                    "unknown {} {value:?} in the URL: use {}",
                    options.mode_param(),
                    mode_names(engine).join(", ")
                ))
            })?;
            options.explicit = true;
        }
        Ok(options)
    }

    /// `sslmode` or `ssl-mode`.
    pub fn mode_param(&self) -> &'static str {
        match self.engine {
            Engine::Mysql => "ssl-mode",
            _ => "sslmode",
        }
    }

    /// `sslrootcert` or `ssl-ca`.
    pub fn ca_param(&self) -> &'static str {
        match self.engine {
            Engine::Mysql => "ssl-ca",
            _ => "sslrootcert",
        }
    }

    /// The mode as the URL spells it, for messages: `sslmode=verify-full`.
    pub fn setting(&self) -> String {
        self.setting_of(self.mode)
    }

    fn setting_of(&self, mode: TlsMode) -> String {
        let names = mode_names(self.engine);
        let name = names[mode as usize];
        let default = if self.explicit { "" } else { ", the default" };
        format!("{}={name}{default}", self.mode_param())
    }

    /// What to check, and the CA certificates, read now so that a missing
    /// or empty CA file is reported before connecting.
    pub fn resolve(&self) -> Result<Resolved> {
        let file = match &self.ca {
            CaSource::File(path) => Some(path.clone()),
            CaSource::BuiltIn => None,
            CaSource::Default if self.engine == Engine::Postgres => libpq_root_cert(),
            CaSource::Default => None,
        };
        let verify = match self.mode {
            TlsMode::Disable | TlsMode::Prefer => Verify::Nothing,
            // libpq and, here, MySQL too: a CA file makes `require` check the chain.
            TlsMode::Require if file.is_some() => Verify::Chain,
            TlsMode::Require => Verify::Nothing,
            TlsMode::VerifyCa => Verify::Chain,
            TlsMode::VerifyFull => Verify::ChainAndName,
        };
        let roots = match file {
            Some(path) if verify != Verify::Nothing => {
                let certs = read_ca_file(&path).with_context(|| {
                    format!(
                        "{} {} ({})",
                        self.ca_param(),
                        path.display(),
                        self.setting()
                    )
                })?;
                Roots::File(path, certs)
            }
            _ => Roots::BuiltIn,
        };
        Ok(Resolved {
            mode: self.mode,
            verify,
            roots,
        })
    }

    /// The line to show when the server answered that it has no TLS.
    pub fn no_tls_message(&self) -> String {
        format!(
            "the server does not support TLS but {}; enable TLS on the server, or use {} \
             (TLS only if the server offers it) or {}",
            self.setting(),
            self.setting_of(TlsMode::Prefer)
                .replace(", the default", ""),
            self.setting_of(TlsMode::Disable)
                .replace(", the default", ""),
        )
    }

    /// One line (with a hint) for a failure caused by TLS, if `err` or one
    /// of its sources is a rustls error.
    pub fn explain(
        &self,
        err: &(dyn std::error::Error + 'static),
        resolved: &Resolved,
    ) -> Option<String> {
        let tls_error = find_rustls_error(err)?;
        let setting = self.setting();
        let trusted = match &resolved.roots {
            Roots::File(path, _) => format!("the CA in {}", path.display()),
            Roots::BuiltIn => "a CA among the built-in (Mozilla) roots".to_string(),
        };
        let Some(cert_error) = (match tls_error {
            rustls::Error::InvalidCertificate(e) => Some(e),
            _ => None,
        }) else {
            return Some(format!(
                "TLS handshake failed: {tls_error} ({setting}); check the server's TLS \
                 configuration, or use {}",
                self.setting_of(TlsMode::Disable)
                    .replace(", the default", "")
            ));
        };
        let hint = match cert_error {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
                if self.engine == Engine::Mysql && resolved.verify == Verify::Chain =>
            {
                "mysql_async 0.37 checks the host name even with VERIFY_CA \
                 (blackbeam/mysql_async#404): connect with a host name the certificate holds"
                    .to_string()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "connect with a host name the certificate holds, or use {} to check the CA only",
                    self.setting_of(TlsMode::VerifyCa).replace(", the default", "")
                )
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => {
                "check the dates of the server's certificate and this machine's clock".to_string()
            }
            _ => match &resolved.roots {
                Roots::File(..) => format!(
                    "the server's certificate is not signed by {trusted} ({})",
                    self.ca_param()
                ),
                Roots::BuiltIn => format!(
                    "the server's certificate is not signed by {trusted}; give its CA with {}=PATH",
                    self.ca_param()
                ),
            },
        };
        let what = match cert_error {
            CertificateError::UnknownIssuer => "unknown issuer".to_string(),
            CertificateError::BadSignature => "bad signature".to_string(),
            e => e.to_string(),
        };
        Some(format!(
            "certificate verify failed: {what} ({setting}); {hint}"
        ))
    }
}

fn mode_names(engine: Engine) -> [&'static str; 5] {
    match engine {
        Engine::Mysql => [
            "DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY",
        ],
        _ => ["disable", "prefer", "require", "verify-ca", "verify-full"],
    }
}

fn parse_mode(engine: Engine, value: &str) -> Option<TlsMode> {
    let modes = [
        TlsMode::Disable,
        TlsMode::Prefer,
        TlsMode::Require,
        TlsMode::VerifyCa,
        TlsMode::VerifyFull,
    ];
    mode_names(engine)
        .iter()
        .position(|name| name.eq_ignore_ascii_case(value))
        .map(|i| modes[i])
}

/// libpq's default CA file, `~/.postgresql/root.crt`, if it exists.
fn libpq_root_cert() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = Path::new(&home).join(".postgresql").join("root.crt");
    path.is_file().then_some(path)
}

/// The certificates in a PEM file (or a single DER certificate).
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = std::fs::read(path).map_err(|e| anyhow!("cannot read the CA file: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("the CA file is not valid PEM: {e:?}"))?;
    if !certs.is_empty() {
        return Ok(certs);
    }
    if bytes.first() == Some(&0x30) {
        return Ok(vec![CertificateDer::from(bytes)]);
    }
    Err(anyhow!(
        "the CA file holds no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)"
    ))
}

/// The rustls client configuration for a resolved setting, with the ring
/// provider.
pub fn client_config(resolved: &Resolved) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match resolved.verify {
        Verify::Nothing => Arc::new(Lenient {
            chain: None,
            provider: provider.clone(),
        }),
        verify => {
            let mut store = RootCertStore::empty();
            match &resolved.roots {
                Roots::BuiltIn => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
                Roots::File(path, certs) => {
                    for cert in certs {
                        store.add(cert.clone()).map_err(|e| {
                            anyhow!(
                                "a certificate in {} is not usable as a CA: {e}",
                                path.display()
                            )
                        })?;
                    }
                }
            }
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                    .build()
                    .context("setting up the certificate checks")?;
            if verify == Verify::Chain {
                Arc::new(Lenient {
                    chain: Some(webpki),
                    provider: provider.clone(),
                })
            } else {
                webpki
            }
        }
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The two checks webpki alone does not make: `require` takes any
/// certificate (`chain: None`), though the handshake's signatures must
/// still be made with its key; `verify-ca` checks the chain and forgives
/// a name mismatch (rustls checks the chain before the name, so a name
/// error means the chain passed). The signatures are checked with the
/// provider's algorithms, the ones webpki is built with.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls error somewhere in `err`'s chain. An `io::Error` made with
/// `io::Error::new` hides its inner error from `source()`, so look inside.
fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(inner);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::assert_contains;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn postgres_modes_case_insensitive_and_taken_out() {
        let mut query = pairs(&[
            ("sslmode", "Verify-Full"),
            ("application_name", "x"),
            ("SSLROOTCERT", "/ca.pem"),
        ]);
        let tls = TlsOptions::take_from(Engine::Postgres, &mut query).unwrap();
        assert_eq!(tls.mode, TlsMode::VerifyFull);
        assert!(tls.explicit);
        assert_eq!(tls.ca, CaSource::File("/ca.pem".into()));
        assert_eq!(query, pairs(&[("application_name", "x")]));
        assert_eq!(tls.setting(), "sslmode=verify-full");
    }

    #[test]
    fn mysql_modes_and_spellings() {
        let mut query = pairs(&[("ssl-mode", "required")]);
        let tls = TlsOptions::take_from(Engine::Mysql, &mut query).unwrap();
        assert_eq!(tls.mode, TlsMode::Require);
        assert_eq!(tls.setting(), "ssl-mode=REQUIRED");
        assert!(query.is_empty());

        let mut query = pairs(&[("ssl_mode", "VERIFY_IDENTITY"), ("ssl_ca", "ca.pem")]);
        let tls = TlsOptions::take_from(Engine::Mysql, &mut query).unwrap();
        assert_eq!(tls.mode, TlsMode::VerifyFull);
        assert_eq!(tls.ca, CaSource::File("ca.pem".into()));

        // --ssl-ca alone means VERIFY_CA, as in the mysql client.
        let mut query = pairs(&[("ssl-ca", "ca.pem")]);
        let tls = TlsOptions::take_from(Engine::Mysql, &mut query).unwrap();
        assert_eq!(tls.mode, TlsMode::VerifyCa);
    }

    #[test]
    fn defaults_are_prefer() {
        let tls = TlsOptions::take_from(Engine::Postgres, &mut Vec::new()).unwrap();
        assert_eq!((tls.mode, tls.explicit), (TlsMode::Prefer, false));
        assert_eq!(tls.setting(), "sslmode=prefer, the default");
        let tls = TlsOptions::take_from(Engine::Mysql, &mut Vec::new()).unwrap();
        assert_eq!(tls.mode, TlsMode::Prefer);
        // The other engine's names are not taken.
        let mut query = pairs(&[("ssl-mode", "REQUIRED")]);
        TlsOptions::take_from(Engine::Postgres, &mut query).unwrap();
        assert_eq!(query.len(), 1);
    }

    #[test]
    fn unknown_values_are_usage_errors() {
        let err = TlsOptions::take_from(Engine::Postgres, &mut pairs(&[("sslmode", "allow")]))
            .unwrap_err();
        assert_eq!(
            err.0,
            "unknown sslmode \"allow\" in the URL: use disable, prefer, require, verify-ca, verify-full"
        );
        let err = TlsOptions::take_from(Engine::Mysql, &mut pairs(&[("ssl-mode", "verify-full")]))
            .unwrap_err();
        assert_contains(&err.0, "VERIFY_IDENTITY");
        assert!(TlsOptions::take_from(Engine::Mysql, &mut pairs(&[("ssl-ca", "")])).is_err());
    }

    #[test]
    fn what_is_verified() {
        let verify = |mode, ca| {
            let tls = TlsOptions {
                engine: Engine::Postgres,
                mode,
                explicit: true,
                ca,
            };
            tls.resolve()
                .map(|r| r.verify)
                .map_err(|e| format!("{e:#}"))
        };
        assert_eq!(
            verify(TlsMode::Prefer, CaSource::BuiltIn),
            Ok(Verify::Nothing)
        );
        assert_eq!(
            verify(TlsMode::Require, CaSource::BuiltIn),
            Ok(Verify::Nothing)
        );
        assert_eq!(
            verify(TlsMode::VerifyCa, CaSource::BuiltIn),
            Ok(Verify::Chain)
        );
        assert_eq!(
            verify(TlsMode::VerifyFull, CaSource::BuiltIn),
            Ok(Verify::ChainAndName)
        );
        let missing = CaSource::File("/nonexistent/ca.pem".into());
        let err = verify(TlsMode::VerifyFull, missing.clone()).unwrap_err();
        assert!(
            err.starts_with("sslrootcert /nonexistent/ca.pem (sslmode=verify-full): cannot read"),
            "{err}"
        );
        // A CA file is only read when something is checked against it.
        assert_eq!(verify(TlsMode::Prefer, missing), Ok(Verify::Nothing));
    }

    #[test]
    fn built_in_roots_make_a_config() {
        for verify in [Verify::Nothing, Verify::Chain, Verify::ChainAndName] {
            let resolved = Resolved {
                mode: TlsMode::Require,
                verify,
                roots: Roots::BuiltIn,
            };
            client_config(&resolved).unwrap();
        }
    }
}
