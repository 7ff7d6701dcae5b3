//! The test databases. A database that cannot be reached fails the test
//! with a clear message: never a skip.

use std::future::Future;

/// PostgreSQL for the tests: `DBCHUNK_TEST_PG_URL`, default
/// `postgres://postgres@127.0.0.1:5432/test` (trust auth).
pub fn pg_url() -> String {
    std::env::var("DBCHUNK_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A PostgreSQL database with PostGIS: `DBCHUNK_TEST_PG_GIS_URL`, which
/// scripts/test.sh sets (a second run database, the extension created).
pub fn pg_gis_url() -> String {
    std::env::var("DBCHUNK_TEST_PG_GIS_URL").unwrap_or_else(|_| {
        panic!(
            "DBCHUNK_TEST_PG_GIS_URL is not set: run scripts/test.sh, which installs PostGIS and \
             makes a database with it for these tests (or set it to a database of yours where \
             CREATE EXTENSION postgis has run)"
        )
    })
}

/// MySQL/MariaDB for the tests: `DBCHUNK_TEST_MYSQL_URL`, default
/// `mysql://root@127.0.0.1:3306/test`.
pub fn mysql_url() -> String {
    std::env::var("DBCHUNK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// `url` with `params` (`a=1&b=2`) added to its query string.
pub fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// Runs `future` to completion on a fresh current-thread runtime.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building a tokio runtime")
        .block_on(future)
}

/// A tokio-postgres error with the server's message, which `Display` leaves out.
fn pg_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{e}: {} ({:?})", db.message(), db.code()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

async fn pg_connect_to(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test PostgreSQL at {url}: {}\n\
                 start it (scripts/test.sh does) or point DBCHUNK_TEST_PG_URL at one",
                pg_error(&e)
            )
        });
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("test PostgreSQL connection ended: {e}");
        }
    });
    client
}

/// Runs a batch of SQL statements (separated by `;`) on the test PostgreSQL.
#[track_caller]
pub fn pg_exec(sql: &str) {
    pg_exec_at(&pg_url(), sql)
}

/// As [`pg_exec`], on the PostgreSQL server at `url` (the TLS tests' own).
#[track_caller]
pub fn pg_exec_at(url: &str, sql: &str) {
    let caller = std::panic::Location::caller();
    block_on(async {
        let client = pg_connect_to(url).await;
        if let Err(e) = client.batch_execute(sql).await {
            panic!(
                "{caller}: PostgreSQL setup SQL failed: {}\n--- SQL ---\n{sql}",
                pg_error(&e)
            );
        }
    });
}

/// The first column of the first row of `sql`, cast to text by the query
/// itself (`SELECT x::text ...`).
#[track_caller]
pub fn pg_query_text(sql: &str) -> Option<String> {
    pg_query_text_at(&pg_url(), sql)
}

/// As [`pg_query_text`], on the PostgreSQL database at `url`.
#[track_caller]
pub fn pg_query_text_at(url: &str, sql: &str) -> Option<String> {
    let caller = std::panic::Location::caller();
    block_on(async {
        let client = pg_connect_to(url).await;
        match client.query_one(sql, &[]).await {
            Ok(row) => row.get(0),
            Err(e) => panic!(
                "{caller}: PostgreSQL query failed: {}\n--- SQL ---\n{sql}",
                pg_error(&e)
            ),
        }
    })
}

/// Runs SQL statements (several may be given, separated by `;`) on the
/// test MySQL/MariaDB.
#[track_caller]
pub fn mysql_exec(sql: &str) {
    mysql_exec_at(&mysql_url(), sql)
}

/// As [`mysql_exec`], on the MySQL server at `url` (the TLS tests' own).
#[track_caller]
pub fn mysql_exec_at(url: &str, sql: &str) {
    use mysql_async::prelude::Queryable;
    let caller = std::panic::Location::caller();
    block_on(async {
        let opts = mysql_async::Opts::from_url(url)
            .unwrap_or_else(|e| panic!("{url:?} is not a valid MySQL URL: {e}"));
        let mut conn = mysql_async::Conn::new(opts).await.unwrap_or_else(|e| {
            panic!(
                "cannot connect to the test MySQL/MariaDB at {url}: {e}\n\
                 start it (scripts/test.sh does) or point DBCHUNK_TEST_MYSQL_URL at one"
            )
        });
        if let Err(e) = conn.query_drop(sql).await {
            panic!("{caller}: MySQL setup SQL failed: {e}\n--- SQL ---\n{sql}");
        }
        let _ = conn.disconnect().await;
    });
}

/// A connection to the test MySQL/MariaDB, for the helpers below.
async fn mysql_connect() -> mysql_async::Conn {
    let url = mysql_url();
    let opts = mysql_async::Opts::from_url(&url)
        .unwrap_or_else(|e| panic!("DBCHUNK_TEST_MYSQL_URL {url:?} is not a valid MySQL URL: {e}"));
    mysql_async::Conn::new(opts).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to the test MySQL/MariaDB at {url}: {e}\n\
             start it (scripts/test.sh does) or point DBCHUNK_TEST_MYSQL_URL at one"
        )
    })
}

/// A MySQL value from the text protocol as text (`None` for NULL).
fn mysql_text(value: &mysql_async::Value) -> Option<String> {
    use mysql_async::Value;
    match value {
        Value::NULL => None,
        Value::Bytes(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// Runs `sql` (several statements may be given, separated by `;`, all in
/// one session, e.g. `SET SESSION group_concat_max_len = ...; SELECT ...`)
/// on the test MySQL/MariaDB and returns the first column of the first row
/// of the last statement that returns rows (`None` for NULL or no row).
#[track_caller]
pub fn mysql_query_text(sql: &str) -> Option<String> {
    use mysql_async::prelude::Queryable;
    let caller = std::panic::Location::caller();
    block_on(async {
        let mut conn = mysql_connect().await;
        let fail = |e: mysql_async::Error| -> ! {
            panic!("{caller}: MySQL query failed: {e}\n--- SQL ---\n{sql}")
        };
        let mut result = conn.query_iter(sql).await.unwrap_or_else(|e| fail(e));
        let mut last = None;
        loop {
            let has_columns = result.columns().is_some_and(|c| !c.is_empty());
            let rows: Vec<mysql_async::Row> = result.collect().await.unwrap_or_else(|e| fail(e));
            if has_columns {
                last = rows
                    .first()
                    .and_then(|row| row.as_ref(0))
                    .and_then(mysql_text);
            }
            if result.is_empty() {
                break;
            }
        }
        drop(result);
        let _ = conn.disconnect().await;
        last
    })
}

/// Runs SQL statements (separated by `;`) on the SQLite file at `path`,
/// creating it if needed.
#[track_caller]
pub fn sqlite_exec(path: &std::path::Path, sql: &str) {
    let conn = rusqlite::Connection::open(path)
        .unwrap_or_else(|e| panic!("cannot open SQLite file {}: {e}", path.display()));
    if let Err(e) = conn.execute_batch(sql) {
        panic!("SQLite setup SQL failed: {e}\n--- SQL ---\n{sql}");
    }
}

/// The first column of the first row of `sql` on the SQLite file at
/// `path`, as text (integers and reals in SQLite's own text form, blobs as
/// lowercase hex); `None` for NULL or no row.
#[track_caller]
pub fn sqlite_query_text(path: &std::path::Path, sql: &str) -> Option<String> {
    use rusqlite::types::ValueRef;
    let conn = rusqlite::Connection::open(path)
        .unwrap_or_else(|e| panic!("cannot open SQLite file {}: {e}", path.display()));
    let mut statement = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("SQLite query failed: {e}\n--- SQL ---\n{sql}"));
    let mut rows = statement
        .query([])
        .unwrap_or_else(|e| panic!("SQLite query failed: {e}\n--- SQL ---\n{sql}"));
    let row = rows
        .next()
        .unwrap_or_else(|e| panic!("SQLite query failed: {e}\n--- SQL ---\n{sql}"))?;
    match row.get_ref(0).expect("a first column") {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(b.iter().map(|x| format!("{x:02x}")).collect()),
    }
}

/// Runs its SQL on the test MySQL/MariaDB when dropped, also when the test
/// fails: for what lives outside the run's database (users, other
/// databases), which scripts/test.sh does not drop with it and counts as a
/// leftover.
pub struct MysqlDropOnExit(pub String);

impl Drop for MysqlDropOnExit {
    fn drop(&mut self) {
        cleanup(mysql_try_exec(&mysql_url(), &self.0), &self.0);
    }
}

/// As [`MysqlDropOnExit`] and [`PgDropOnExit`], on the server at `url`,
/// MySQL or PostgreSQL by its scheme: the throwaway servers
/// scripts/test.sh starts, or the PostGIS run database.
pub struct DropOnExitAt {
    pub url: String,
    pub sql: String,
}

impl Drop for DropOnExitAt {
    fn drop(&mut self) {
        let done = match self.url.starts_with("mysql:") {
            true => mysql_try_exec(&self.url, &self.sql),
            false => pg_try_exec(&self.url, &self.sql),
        };
        cleanup(done, &self.sql);
    }
}

/// Runs `sql` on the MySQL server at `url`, saying what failed instead of
/// panicking: a cleanup may run while a failing test unwinds.
fn mysql_try_exec(url: &str, sql: &str) -> Result<(), String> {
    use mysql_async::prelude::Queryable;
    block_on(async {
        let opts = mysql_async::Opts::from_url(url).map_err(|e| e.to_string())?;
        let mut conn = mysql_async::Conn::new(opts)
            .await
            .map_err(|e| e.to_string())?;
        conn.query_drop(sql).await.map_err(|e| e.to_string())?;
        let _ = conn.disconnect().await;
        Ok(())
    })
}

fn cleanup(done: Result<(), String>, sql: &str) {
    if let Err(e) = done {
        eprintln!("cleanup failed: {e}\n--- SQL ---\n{sql}");
    }
}

/// Runs its SQL on the test PostgreSQL when dropped, also when the test
/// fails: a test's tables and types go with it, not only with the run's
/// database.
pub struct PgDropOnExit(pub String);

impl Drop for PgDropOnExit {
    fn drop(&mut self) {
        cleanup(pg_try_exec(&pg_url(), &self.0), &self.0);
    }
}

/// Runs `sql` on the PostgreSQL database at `url`, saying what failed
/// instead of panicking: a cleanup may run while a failing test unwinds.
fn pg_try_exec(url: &str, sql: &str) -> Result<(), String> {
    block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| pg_error(&e))?;
        tokio::spawn(connection);
        client.batch_execute(sql).await.map_err(|e| pg_error(&e))
    })
}
