//! The test databases. A database that cannot be reached fails the test
//! with a clear message: never a skip.

use std::future::Future;

/// PostgreSQL for the tests: `DBCHUNK_TEST_PG_URL`, default
/// `postgres://postgres@127.0.0.1:5432/test` (trust auth).
pub fn pg_url() -> String {
    std::env::var("DBCHUNK_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// MySQL/MariaDB for the tests: `DBCHUNK_TEST_MYSQL_URL`, default
/// `mysql://root@127.0.0.1:3306/test`.
pub fn mysql_url() -> String {
    std::env::var("DBCHUNK_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
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

async fn pg_connect() -> tokio_postgres::Client {
    let url = pg_url();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
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
    let caller = std::panic::Location::caller();
    block_on(async {
        let client = pg_connect().await;
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
    let caller = std::panic::Location::caller();
    block_on(async {
        let client = pg_connect().await;
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
    use mysql_async::prelude::Queryable;
    let caller = std::panic::Location::caller();
    let url = mysql_url();
    block_on(async {
        let opts = mysql_async::Opts::from_url(&url).unwrap_or_else(|e| {
            panic!("DBCHUNK_TEST_MYSQL_URL {url:?} is not a valid MySQL URL: {e}")
        });
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
