//! Where an ordered read stands: the key of the last row written, in the
//! form each engine binds back most faithfully. It lives at the floor of
//! the crate because both the engines (which read it off a row) and the
//! pipeline (which checkpoints it after the row's bytes are written) hold
//! it.

/// The last key written, to continue after it. Each engine keeps the
/// values in the form it binds back most faithfully.
#[derive(Clone, Debug)]
pub enum Key {
    /// PostgreSQL: each key column's own text form, cast back on the server.
    Text(Vec<Option<String>>),
    Mysql(Vec<mysql_async::Value>),
    Sqlite(Vec<rusqlite::types::Value>),
}

impl Key {
    /// A PostgreSQL row's first value, where it is not NULL: the answer
    /// of a query for one value ([`crate::db::Db::first_row`]).
    pub fn first_text(self) -> Option<String> {
        match self {
            Key::Text(values) => values.into_iter().next().flatten(),
            Key::Mysql(_) | Key::Sqlite(_) => None,
        }
    }

    /// Each key value as an SQL literal, for messages and for the range
    /// conditions of `--parallel` workers. PostgreSQL's values are its own
    /// text forms, which an untyped literal turns back into the column's
    /// type; MySQL's literals come escaped from the driver.
    pub fn literals(&self) -> Vec<String> {
        use rusqlite::types::Value as Lite;
        let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
        match self {
            Key::Text(values) => values
                .iter()
                .map(|v| v.as_deref().map_or("NULL".into(), quoted))
                .collect(),
            Key::Mysql(values) => values.iter().map(|v| v.as_sql(false)).collect(),
            Key::Sqlite(values) => values
                .iter()
                .map(|v| match v {
                    Lite::Null => "NULL".to_string(),
                    Lite::Integer(i) => i.to_string(),
                    Lite::Real(f) => format!("{f:e}"),
                    Lite::Text(t) => quoted(t),
                    Lite::Blob(b) => {
                        let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
                        format!("x'{hex}'")
                    }
                })
                .collect(),
        }
    }
}
