//! Where the next incremental run may start: the lowest value of the
//! column that a row not yet visible to this run can still get.
//!
//! Taken before this run reads anything. For a timestamp that the writing
//! transaction stamps, it is the start of the oldest transaction open
//! now (PostgreSQL `pg_stat_activity.xact_start`; InnoDB
//! `innodb_trx.trx_started` and running statements, less one second for
//! MySQL's statement-time `NOW()` and whole-second columns), or now when
//! none is open: any row this run cannot see is stamped at or after it.
//! For an ever-growing id it is the largest id now, once every
//! transaction open now has ended (waited for, up to [`SETTLE`]): any id
//! not yet visible is taken later, so it is larger. SQLite has one
//! writer at a time, so its largest value is exact.

use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::coltype::ColType;
use crate::db::{Db, Key};
use crate::error::UsageError;

/// How long an id-column run waits for the transactions open at its start
/// to end before it keeps the previous start instead.
const SETTLE: Duration = Duration::from_secs(5);

/// What kind of value the incremental column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Stamped by the writing transaction; `date`: a whole day.
    Time { date: bool },
    /// Taken from a sequence (auto-increment), so always growing.
    Id,
}

impl Kind {
    pub fn of(column: &str, type_name: &str, ty: &ColType, sqlite: bool) -> Result<Kind> {
        Ok(match ty {
            ColType::Timestamp { .. } => Kind::Time { date: false },
            ColType::Date => Kind::Time { date: true },
            ColType::Int { .. } | ColType::Decimal { scale: 0, .. } => Kind::Id,
            // SQLite keeps timestamps as text ('2024-05-26 10:00:00').
            ColType::Text if sqlite => Kind::Time { date: false },
            _ => {
                return Err(UsageError(format!(
                    "--incremental {column:?} is of type {type_name}: give a timestamp or date \
                     column stamped when a row changes, or an ever-growing integer id"
                ))
                .into())
            }
        })
    }
}

/// The next run's start, and why it is where it is.
pub struct Next {
    /// `None`: the next run starts where this one did.
    pub from: Option<(Key, bool)>,
    /// Said with `--stats` and as a warning: what holds the start back.
    pub held: Option<String>,
}

/// Where the next run may start, measured now. `table` and `column` are
/// quoted.
pub async fn next_start(db: &mut Db, kind: Kind, table: &str, column: &str) -> Result<Next> {
    match (db, kind) {
        (db @ Db::Postgres(_), Kind::Time { date }) => postgres_time(db, date).await,
        (db @ Db::Mysql(_), Kind::Time { date }) => mysql_time(db, date).await,
        (db @ Db::Sqlite(_), kind) => {
            let max = largest(db, table, column).await?;
            let inclusive = matches!(kind, Kind::Time { .. });
            Ok(Next {
                from: max.map(|m| (m, inclusive)),
                held: None,
            })
        }
        (db, Kind::Id) => settled_id(db, table, column).await,
    }
}

/// `column` of the row with the largest value now, `None` on an empty
/// table.
async fn largest(db: &mut Db, table: &str, column: &str) -> Result<Option<Key>> {
    let row = db
        .first_row(&format!("SELECT MAX({column}) FROM {table}"))
        .await
        .with_context(|| format!("reading the largest {column} of {table}"))?;
    Ok(row.filter(|key| !is_null(key, 0)))
}

/// Sessions of this database, other than ours, that may write.
const PG_OTHERS: &str = "FROM pg_stat_activity WHERE datname = current_database() \
                         AND pid <> pg_backend_pid() AND backend_type <> 'autovacuum worker'";

/// PostgreSQL hides other users' sessions from a role without
/// `pg_read_all_stats`; their transactions could then not be waited for.
async fn postgres_check_visible(db: &mut Db) -> Result<()> {
    let sql = format!("SELECT count(*) {PG_OTHERS} AND query = '<insufficient privilege>'");
    let hidden = db
        .first_row(&sql)
        .await?
        .map(|k| text(&k, 0))
        .unwrap_or_default();
    if hidden != "0" {
        bail!(
            "pg_stat_activity hides {hidden} other sessions from this role, so it cannot tell \
             which of their transactions are still open and would lose their rows: \
             GRANT pg_read_all_stats TO the role dbchunk connects as"
        );
    }
    Ok(())
}

async fn postgres_time(db: &mut Db, date: bool) -> Result<Next> {
    postgres_check_visible(db).await?;
    let sql = format!(
        "SELECT least((SELECT min(xact_start) {PG_OTHERS}), clock_timestamp()), \
         clock_timestamp() - least((SELECT min(xact_start) {PG_OTHERS}), clock_timestamp()) \
         > interval '1 minute'"
    );
    let row = db.first_row(&sql).await?.context("no row")?;
    let mut start = text(&row, 0);
    let held = (text(&row, 1) == "t")
        .then(|| format!("a transaction open since {start} holds the next run's start there"));
    if date {
        start.truncate(10);
    }
    Ok(Next {
        from: Some((Key::Text(vec![Some(start)]), true)),
        held,
    })
}

async fn mysql_time(db: &mut Db, date: bool) -> Result<Next> {
    let sql = "SELECT LEAST(NOW(6), \
        COALESCE((SELECT MIN(trx_started) FROM information_schema.innodb_trx \
                  WHERE trx_mysql_thread_id <> CONNECTION_ID()), NOW(6)), \
        COALESCE((SELECT MIN(NOW(6) - INTERVAL (TIME + 1) SECOND) FROM information_schema.processlist \
                  WHERE ID <> CONNECTION_ID() \
                  AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID')), NOW(6))) \
        - INTERVAL 1 SECOND, \
        (SELECT MIN(trx_started) FROM information_schema.innodb_trx \
         WHERE trx_mysql_thread_id <> CONNECTION_ID()) < NOW() - INTERVAL 1 MINUTE";
    let row = db
        .first_row(sql)
        .await
        .context("reading the open transactions from information_schema.innodb_trx (this needs the PROCESS privilege)")?
        .context("no row")?;
    let Key::Mysql(values) = row else {
        unreachable!("a MySQL row")
    };
    let mut start = values[0].clone();
    let held = matches!(
        values[1],
        mysql_async::Value::Int(1) | mysql_async::Value::UInt(1)
    )
    .then(|| {
        format!(
            "a transaction open since {} holds the next run's start there",
            start.as_sql(false)
        )
    });
    if date {
        start = match start {
            mysql_async::Value::Date(y, m, d, ..) => mysql_async::Value::Date(y, m, d, 0, 0, 0, 0),
            mysql_async::Value::Bytes(mut b) => {
                b.truncate(10);
                mysql_async::Value::Bytes(b)
            }
            other => other,
        };
    }
    Ok(Next {
        from: Some((Key::Mysql(vec![start]), true)),
        held,
    })
}

/// The largest id now, once the transactions open now have ended.
async fn settled_id(db: &mut Db, table: &str, column: &str) -> Result<Next> {
    let postgres = matches!(db, Db::Postgres(_));
    if postgres {
        postgres_check_visible(db).await?;
    }
    let max = largest(db, table, column).await?;
    let (now, open) = match postgres {
        true => (
            "SELECT clock_timestamp()",
            format!("SELECT count(*), min(xact_start) {PG_OTHERS} AND xact_start <="),
        ),
        false => (
            "SELECT NOW(6)",
            "SELECT COUNT(*), MIN(trx_started) FROM information_schema.innodb_trx \
             WHERE trx_mysql_thread_id <> CONNECTION_ID() AND trx_started <="
                .to_string(),
        ),
    };
    let now = db
        .first_row(now)
        .await?
        .context("no row")?
        .literals()
        .remove(0);
    let waiting = std::time::Instant::now();
    loop {
        let row = db
            .first_row(&format!("{open} {now}"))
            .await
            .context("reading the open transactions (on MySQL this needs the PROCESS privilege)")?
            .context("no row")?;
        if text(&row, 0) == "0" {
            return Ok(Next {
                from: max.map(|m| (m, false)),
                held: None,
            });
        }
        if waiting.elapsed() >= SETTLE {
            let since = row.literals().remove(1);
            return Ok(Next {
                from: None,
                held: Some(format!(
                    "a transaction open since {since} did not end within {}s, so the next run \
                     starts where this one did",
                    SETTLE.as_secs()
                )),
            });
        }
        crate::signals::check()?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Value `i` of a row as text ("" for NULL).
fn text(key: &Key, i: usize) -> String {
    match key {
        Key::Text(values) => values.get(i).cloned().flatten().unwrap_or_default(),
        Key::Mysql(values) => match values.get(i) {
            Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(mysql_async::Value::Int(n)) => n.to_string(),
            Some(mysql_async::Value::UInt(n)) => n.to_string(),
            _ => String::new(),
        },
        Key::Sqlite(values) => match values.get(i) {
            Some(rusqlite::types::Value::Integer(n)) => n.to_string(),
            Some(rusqlite::types::Value::Text(t)) => t.clone(),
            _ => String::new(),
        },
    }
}

fn is_null(key: &Key, i: usize) -> bool {
    match key {
        Key::Text(values) => values.get(i).is_none_or(Option::is_none),
        Key::Mysql(values) => matches!(values.get(i), None | Some(mysql_async::Value::NULL)),
        Key::Sqlite(values) => matches!(values.get(i), None | Some(rusqlite::types::Value::Null)),
    }
}
