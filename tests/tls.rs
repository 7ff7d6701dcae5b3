//! TLS (`sslmode` / `ssl-mode` in the URL) against throwaway servers that
//! scripts/test.sh starts for this run on their own ports and data
//! directories (`DBCHUNK_TEST_TLS_PG_URL`, `DBCHUNK_TEST_TLS_MYSQL_URL`),
//! with a throwaway CA (`DBCHUNK_TEST_TLS_CA`) and a server certificate for
//! `localhost` and `127.0.0.1`: the machine's own servers are never
//! reconfigured. A missing or plain server fails these tests with a message
//! saying so: never a skip.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use crate::util::db::{mysql_exec_at, pg_exec_at, with_params};
use crate::util::{dbchunk, export, import, tool_output, Cmd, TempDir};

const PG_SSL: &str = "SELECT ssl::text AS ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
const MY_CIPHER: &str = "SELECT VARIABLE_VALUE AS cipher FROM information_schema.SESSION_STATUS \
                         WHERE VARIABLE_NAME = 'Ssl_cipher'";

/// A setting scripts/test.sh exports for the TLS tests.
fn tls_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run scripts/test.sh, which starts throwaway PostgreSQL and MariaDB \
             servers with TLS and a test CA for these tests (or set DBCHUNK_TEST_TLS_PG_URL, \
             DBCHUNK_TEST_TLS_MYSQL_URL and DBCHUNK_TEST_TLS_CA to servers of your own)"
        )
    })
}

/// The PostgreSQL server with TLS on.
fn pg_url() -> String {
    tls_env("DBCHUNK_TEST_TLS_PG_URL")
}

/// The MySQL/MariaDB server with TLS on.
fn mysql_url() -> String {
    tls_env("DBCHUNK_TEST_TLS_MYSQL_URL")
}

#[track_caller]
fn pg_exec(sql: &str) {
    pg_exec_at(&pg_url(), sql)
}

#[track_caller]
fn mysql_exec(sql: &str) {
    mysql_exec_at(&mysql_url(), sql)
}

/// The CA that signed the TLS servers' certificates.
fn test_ca() -> String {
    let path = tls_env("DBCHUNK_TEST_TLS_CA");
    assert!(
        Path::new(&path).is_file(),
        "no test CA at {path} (DBCHUNK_TEST_TLS_CA): run scripts/test.sh, which makes one"
    );
    path
}

/// The URL, and the same with `127.0.0.1` and `localhost` swapped when it
/// uses either: the test certificate names both.
fn host_variants(url: &str) -> Vec<String> {
    let mut urls = vec![url.to_string()];
    for (from, to) in [
        ("@127.0.0.1:", "@localhost:"),
        ("@localhost:", "@127.0.0.1:"),
    ] {
        if url.contains(from) {
            urls.push(url.replacen(from, to, 1));
        }
    }
    urls
}

/// `dbchunk export --query SQL` printing the one value, no header.
fn query(url: &str, sql: &str) -> Cmd {
    dbchunk(["export", "--url", url, "--query", sql, "--no-header"])
}

/// What a TLS command printed; a failure that looks like a server without
/// (the test) TLS says to run scripts/test.sh.
#[track_caller]
fn tls_value(cmd: Cmd) -> String {
    let run = cmd.run();
    if run.code != Some(0) {
        panic!(
            "{}\nfailed with exit code {:?}: {}\nIs TLS on in the test server, with the test \
             certificate? Run scripts/test.sh, which sets it up.",
            run.args,
            run.code,
            run.stderr.trim()
        );
    }
    run.stdout_str().trim_end().to_string()
}

/// Fails with the scripts/test.sh hint unless the test servers speak TLS.
#[track_caller]
fn assert_pg_tls() {
    assert_eq!(
        tls_value(query(&with_params(&pg_url(), "sslmode=require"), PG_SSL)),
        "true"
    );
}

#[track_caller]
fn assert_mysql_tls() {
    let url = with_params(&mysql_url(), "ssl-mode=REQUIRED");
    assert_ne!(tls_value(query(&url, MY_CIPHER)), "\"\"");
}

/// A throwaway CA that signed nothing the servers use.
fn wrong_ca(dir: &TempDir) -> String {
    let (key, cert) = (dir.join("wrong-ca.key"), dir.join("wrong-ca.crt"));
    tool_output(
        Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            ])
            .args([
                "-nodes", "-days", "1", "-subj", "/CN=dbchunk throwaway CA", "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    cert.display().to_string()
}

/// `mode` and a CA (`ca_param`) that signed nothing the server uses, in
/// `url`: one line that says so, naming the mode and the CA file, which it
/// returns.
#[track_caller]
fn assert_wrong_ca_fails(
    dir: &TempDir,
    url: &str,
    sql: &str,
    mode: &str,
    ca_param: &str,
) -> String {
    let wrong = wrong_ca(dir);
    let url = with_params(url, &format!("{mode}&{ca_param}={wrong}"));
    query(&url, sql).fails_saying(
        1,
        &[
            &format!("certificate verify failed: unknown issuer ({mode})"),
            &format!("not signed by the CA in {wrong}"),
        ],
    );
    wrong
}

/// Imports two rows into `tls_import_check` over `url` with `args`, and
/// counts them there.
#[track_caller]
/// The test table `tls_import_check` made afresh with `exec`, and `base`
/// with `params` (`{ca}` for the test CA's path): where the import and
/// count checks run.
fn verified_check_table(base: &str, params: &str, exec: fn(&str)) -> String {
    exec("DROP TABLE IF EXISTS tls_import_check; CREATE TABLE tls_import_check (id int PRIMARY KEY, name text)");
    with_params(base, &params.replace("{ca}", &test_ca()))
}

fn import_and_count(url: &str, args: &[&str]) {
    let table = "tls_import_check";
    tls_value(import(url, table).args(args).stdin("id,name\n1,a\n2,b\n"));
    let count = dbchunk(["count", "--url", url, "--table", table]);
    assert_eq!(tls_value(count), "2", "{args:?}");
}

// ---------------------------------------------------------------------------
// PostgreSQL

#[test]
fn tls_pg_require_encrypts_the_session() {
    assert_pg_tls();
    // The mode is case-insensitive.
    let url = with_params(&pg_url(), "sslmode=REQUIRE");
    assert_eq!(tls_value(query(&url, PG_SSL)), "true");
}

#[test]
fn tls_pg_default_prefers_tls_and_disable_is_plain() {
    assert_eq!(tls_value(query(&pg_url(), PG_SSL)), "true");
    let url = with_params(&pg_url(), "sslmode=disable");
    assert_eq!(tls_value(query(&url, PG_SSL)), "false");
}

/// Each way of naming the test CA (`params`, with `{ca}` for its path)
/// gives an encrypted session, by every host name the server answers to;
/// `encrypted` reads the probe's value.
fn assert_verified_with_the_test_ca(
    base: &str,
    params: &[&str],
    probe: &str,
    encrypted: impl Fn(&str) -> bool,
) {
    let ca = test_ca();
    for url in host_variants(base) {
        for param in params {
            let url = with_params(&url, &param.replace("{ca}", &ca));
            let value = tls_value(query(&url, probe));
            assert!(encrypted(&value), "{url}: {value}");
        }
    }
}

#[test]
fn tls_pg_verify_full_with_the_test_ca() {
    let modes = [
        "sslmode=verify-full&sslrootcert={ca}", "sslmode=verify-ca&sslrootcert={ca}",
    ];
    assert_verified_with_the_test_ca(&pg_url(), &modes, PG_SSL, |v| v == "true");
}

#[test]
fn tls_pg_verify_full_checks_the_host_name() {
    assert_pg_tls();
    let ca = test_ca();
    let url = pg_url();
    let Some(rest) = url.split_once("@127.0.0.1:").map(|(_, rest)| rest) else {
        panic!("this test needs the test PostgreSQL on 127.0.0.1, not {url}");
    };
    // Connect to 127.0.0.1 but check the certificate against another name.
    let user = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split('@').next())
        .unwrap();
    let renamed = format!("postgres://{user}@not-in-the-certificate.invalid:{rest}");
    let renamed = with_params(&renamed, &format!("hostaddr=127.0.0.1&sslrootcert={ca}"));

    query(&with_params(&renamed, "sslmode=verify-full"), PG_SSL).fails_saying(
        1,
        &[
            "certificate verify failed: certificate not valid for name \"not-in-the-certificate.invalid\"",
            "(sslmode=verify-full)",
            "use sslmode=verify-ca",
        ],
    );
    // verify-ca checks the chain only.
    assert_eq!(
        tls_value(query(&with_params(&renamed, "sslmode=verify-ca"), PG_SSL)),
        "true"
    );
}

#[test]
fn tls_pg_wrong_ca_fails_in_one_line() {
    assert_pg_tls();
    let dir = TempDir::new("tls-pg-wrong-ca");
    let wrong = assert_wrong_ca_fails(
        &dir,
        &pg_url(),
        PG_SSL,
        "sslmode=verify-full",
        "sslrootcert",
    );
    // require with a CA file checks the chain too, as libpq does.
    let url = with_params(&pg_url(), &format!("sslmode=require&sslrootcert={wrong}"));
    query(&url, PG_SSL).fails_saying(1, &["unknown issuer (sslmode=require)"]);
}

#[test]
fn tls_pg_missing_ca_file_is_named() {
    let url = with_params(
        &pg_url(),
        "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
    );
    query(&url, PG_SSL).fails_saying(
        1,
        &["sslrootcert /nonexistent/ca.pem (sslmode=verify-ca): cannot read the CA file"],
    );
}

/// A TLS mode the engine does not know is a usage error (exit 2) that
/// lists the ones it does.
fn assert_unknown_mode(base: &str, params: &str, probe: &str, message: &str) {
    let run = query(&with_params(base, params), probe).fails(2);
    assert_eq!(run.one_error_line(), message);
}

#[test]
fn tls_pg_unknown_sslmode_is_a_usage_error() {
    let message = "dbchunk: unknown sslmode \"sometimes\" in the URL: use disable, prefer, \
                   require, verify-ca, verify-full";
    assert_unknown_mode(&pg_url(), "sslmode=sometimes", PG_SSL, message);
}

#[test]
fn tls_pg_count_and_import_over_verified_tls() {
    let params = "sslmode=verify-full&sslrootcert={ca}";
    let url = verified_check_table(&pg_url(), params, pg_exec);
    import_and_count(&url, &[]);
    assert_eq!(
        tls_value(export(&url, "tls_import_check").args(["--strategy", "copy"])),
        "id,name\n1,a\n2,b"
    );
    pg_exec("DROP TABLE tls_import_check");
}

/// A "server" that answers PostgreSQL's SSLRequest with `N` (no TLS).
#[test]
fn tls_pg_require_against_a_server_without_tls() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = [0u8; 8];
        socket.read_exact(&mut request).unwrap();
        assert_eq!(
            request,
            [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f],
            "an SSLRequest"
        );
        socket.write_all(b"N").unwrap();
        let _ = socket.read_to_end(&mut Vec::new());
    });
    let url = format!("postgres://postgres@127.0.0.1:{port}/test?sslmode=require");
    let run = query(&url, "SELECT 1").fails(1);
    assert_eq!(
        run.one_error_line(),
        format!(
            "dbchunk: connecting to {url}: the server does not support TLS but sslmode=require; \
             enable TLS on the server, or use sslmode=prefer (TLS only if the server offers it) \
             or sslmode=disable"
        )
    );
    server.join().unwrap();
}

// ---------------------------------------------------------------------------
// MySQL / MariaDB

#[test]
fn tls_mysql_required_encrypts_the_session() {
    let url = with_params(&mysql_url(), "ssl-mode=REQUIRED");
    let cipher = tls_value(query(&url, MY_CIPHER));
    assert!(
        !cipher.is_empty() && cipher != "\"\"",
        "no cipher: {cipher:?}"
    );
    let url = with_params(&mysql_url(), "ssl-mode=required");
    assert_ne!(tls_value(query(&url, MY_CIPHER)), "\"\"");
}

#[test]
fn tls_mysql_disabled_is_plain() {
    let url = with_params(&mysql_url(), "ssl-mode=DISABLED");
    assert_eq!(tls_value(query(&url, MY_CIPHER)), "\"\"");
}

#[test]
fn tls_mysql_verify_identity_with_the_test_ca() {
    let params = [
        "ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}", "ssl-mode=VERIFY_CA&ssl-ca={ca}",
        // ssl-ca alone means VERIFY_CA, as in the mysql client.
        "ssl-ca={ca}",
    ];
    assert_verified_with_the_test_ca(&mysql_url(), &params, MY_CIPHER, |v| v != "\"\"");
}

#[test]
fn tls_mysql_wrong_ca_fails_in_one_line() {
    assert_mysql_tls();
    let dir = TempDir::new("tls-mysql-wrong-ca");
    let url = mysql_url();
    assert_wrong_ca_fails(&dir, &url, MY_CIPHER, "ssl-mode=VERIFY_IDENTITY", "ssl-ca");
}

#[test]
fn tls_mysql_unknown_ssl_mode_is_a_usage_error() {
    let message = "dbchunk: unknown ssl-mode \"verify-full\" in the URL: use DISABLED, \
                   PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY";
    assert_unknown_mode(&mysql_url(), "ssl-mode=verify-full", MY_CIPHER, message);
}

#[test]
fn tls_mysql_count_and_import_over_verified_tls() {
    let params = "ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}";
    let url = verified_check_table(&mysql_url(), params, mysql_exec);
    for strategy in ["insert", "load-data"] {
        import_and_count(&url, &["--strategy", strategy, "--truncate"]);
    }
    mysql_exec("DROP TABLE tls_import_check");
}

/// A "server" whose handshake does not offer TLS (no CLIENT_SSL flag), for
/// `connections` clients in turn. Returns the port, and a thread that
/// yields the capability flags of each client's first answer (0 if none).
fn mysql_server_without_tls(connections: usize) -> (u16, std::thread::JoinHandle<Vec<u32>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let capabilities: u32 =
            0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x1_0000 | 0x2_0000 | 0x4_0000 | 0x8_0000;
        let mut payload = vec![10u8];
        payload.extend_from_slice(b"5.5.5-10.11.0-no-tls\0");
        payload.extend_from_slice(&1u32.to_le_bytes());
        payload.extend_from_slice(b"abcdefgh\0");
        payload.extend_from_slice(&(capabilities as u16).to_le_bytes());
        payload.push(45);
        payload.extend_from_slice(&2u16.to_le_bytes());
        payload.extend_from_slice(&((capabilities >> 16) as u16).to_le_bytes());
        payload.push(21);
        payload.extend_from_slice(&[0; 10]);
        payload.extend_from_slice(b"ijklmnopqrst\0");
        payload.extend_from_slice(b"mysql_native_password\0");
        let mut packet = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        packet.push(0);
        packet.extend_from_slice(&payload);
        let mut answers = Vec::new();
        // Never wait forever for a client that does not come.
        listener.set_nonblocking(true).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        for _ in 0..connections {
            let mut socket = loop {
                match listener.accept() {
                    Ok((socket, _)) => break socket,
                    Err(_) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_millis(20))
                    }
                    Err(e) => panic!("no client came: {e}"),
                }
            };
            socket.set_nonblocking(false).unwrap();
            socket
                .set_read_timeout(Some(std::time::Duration::from_secs(20)))
                .unwrap();
            socket.write_all(&packet).unwrap();
            // The client's answer: a 4-byte header, then its capability flags.
            let mut answer = [0u8; 8];
            answers.push(match socket.read_exact(&mut answer) {
                Ok(()) => u32::from_le_bytes(answer[4..8].try_into().unwrap()),
                Err(_) => 0,
            });
        }
        answers
    });
    (port, server)
}

#[test]
fn tls_mysql_required_against_a_server_without_tls() {
    let (port, server) = mysql_server_without_tls(1);
    let url = format!("mysql://root@127.0.0.1:{port}/test?ssl-mode=REQUIRED");
    let run = query(&url, "SELECT 1").fails(1);
    assert_eq!(
        run.one_error_line(),
        format!(
            "dbchunk: connecting to {url}: the server does not support TLS but ssl-mode=REQUIRED; \
             enable TLS on the server, or use ssl-mode=PREFERRED (TLS only if the server offers \
             it) or ssl-mode=DISABLED"
        )
    );
    server.join().unwrap();
}

/// PREFERRED over TCP asks for TLS, and when the server offers none,
/// connects again without asking (the fake server then fails the login).
#[test]
fn tls_mysql_preferred_falls_back_to_plain() {
    const CLIENT_SSL: u32 = 0x800;
    let (port, server) = mysql_server_without_tls(2);
    let url = format!("mysql://root@127.0.0.1:{port}/test?prefer_socket=false");
    let run = query(&url, "SELECT 1").fails(1);
    assert!(
        !run.stderr.contains("does not support TLS"),
        "{}",
        run.stderr
    );
    let answers = server.join().unwrap();
    // The first client closed without answering (it wanted TLS); the second
    // sent its login without the TLS flag.
    assert_eq!(answers.len(), 2);
    assert_ne!(answers[1], 0, "no login on the second connection");
    assert_eq!(
        answers[1] & CLIENT_SSL,
        0,
        "the second connection asked for TLS"
    );
}
