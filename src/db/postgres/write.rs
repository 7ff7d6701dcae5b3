//! Writing rows into PostgreSQL: multi-row `INSERT`s whose values are all
//! bound as text and cast on the server, so one code path serves every
//! type. Values were already checked against the column types
//! ([`crate::values`]); the casts only convert.

use anyhow::{Context, Result};

use super::Postgres;
use crate::db::relation::{TargetColumn, TargetTable};
use crate::ident::QualifiedName;
use crate::plan::insert::Insert;
use crate::values::{SpatialForm, TargetType, Value};

impl Postgres {
    pub async fn describe_target(&mut self, table: &QualifiedName) -> Result<TargetTable> {
        let (columns, keys, quoted) = self.table_columns(table).await?;
        let generated: Vec<String> = self
            .client
            .query(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1::text) \
                 AND attnum > 0 AND attgenerated <> ''",
                &[&quoted],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let columns = columns
            .iter()
            .filter(|c| !generated.contains(&c.name))
            .map(|c| TargetColumn {
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
                cast_type: c.cast_type.clone(),
                target: target_type(&c.type_name, c.is_array, c.is_enum),
            })
            .collect();
        Ok(TargetTable {
            quoted,
            columns,
            key: keys.and_then(|k| k.into_iter().next()).unwrap_or_default(),
        })
    }

    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        Ok(self.client.batch_execute(sql).await?)
    }

    /// `BEGIN`, and the new transaction's id, in one round trip: each
    /// batch of an import starts so, and the id is recorded before its
    /// COMMIT so that a resumed import can ask whether that commit
    /// happened.
    pub async fn begin_with_id(&mut self) -> Result<String> {
        self.first_value("BEGIN; SELECT txid_current()::text").await
    }

    /// The first value `sql` returns, through the simple protocol
    /// ([`Postgres::first_row`]): one round trip, where a statement
    /// through the extended protocol takes two (prepare, then run).
    async fn first_value(&mut self, sql: &str) -> Result<String> {
        let row = self.first_row(sql).await?;
        row.and_then(crate::key::Key::first_text)
            .ok_or_else(|| anyhow::anyhow!("{sql} returned no value"))
    }

    /// Whether transaction `xid` committed: `None` when the server no
    /// longer knows. A transaction still running (its client was killed
    /// and the server has not noticed yet) is waited for.
    pub async fn transaction_committed(&mut self, xid: &str) -> Result<Option<bool>> {
        let xid: i64 = xid
            .parse()
            .context("the state's transaction id is damaged")?;
        for _ in 0..300 {
            let row = self
                .client
                .query_one("SELECT txid_status($1)", &[&xid])
                .await?;
            match row.try_get::<_, Option<&str>>(0)? {
                Some("committed") => return Ok(Some(true)),
                Some("aborted") => return Ok(Some(false)),
                Some(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                None => return Ok(None),
            }
        }
        anyhow::bail!("transaction {xid} is still running after 30 s")
    }

    /// Any number of rows, the replay's single rows included, as arrays
    /// ([`Insert::unnest_sql`]): one statement, prepared once.
    pub async fn insert(&mut self, insert: &Insert, rows: &[Vec<Value>]) -> Result<u64> {
        let statement = self.prepare(&insert.unnest_sql()).await?;
        let texts: Vec<Vec<Option<String>>> = (0..insert.columns.len())
            .map(|i| rows.iter().map(|row| row[i].to_text()).collect())
            .collect();
        let arrays: Vec<Vec<Option<&str>>> = texts
            .iter()
            .map(|column| column.iter().map(|t| t.as_deref()).collect())
            .collect();
        Ok(self.client.execute_raw(&statement, arrays).await?)
    }
}

/// The placeholder expression for a column: every value is bound as text
/// and cast to the column's type; binary arrives as hex.
pub fn value_expression(column: &TargetColumn) -> String {
    match column.target {
        TargetType::Bytes
        | TargetType::Spatial {
            to: SpatialForm::Wkb,
            ..
        } => "decode({}::text, 'hex')".to_string(),
        _ => format!("{{}}::text::{}", column.cast_type),
    }
}

fn target_type(type_name: &str, is_array: bool, is_enum: bool) -> TargetType {
    if is_array {
        return TargetType::Array;
    }
    if is_enum {
        return TargetType::Other;
    }
    let int = |min: i128, max: i128| TargetType::Int { min, max };
    match type_name {
        "bool" => TargetType::Bool,
        "int2" => int(i16::MIN.into(), i16::MAX.into()),
        "int4" => int(i32::MIN.into(), i32::MAX.into()),
        "int8" => int(i64::MIN.into(), i64::MAX.into()),
        "oid" => int(0, u32::MAX.into()),
        "numeric" => TargetType::Decimal { special: true },
        "float4" | "float8" => TargetType::Float,
        "bytea" => TargetType::Bytes,
        // PostGIS's, where the extension is installed.
        "geometry" => TargetType::Geometry,
        "date" => TargetType::Date,
        "timestamp" => TargetType::Timestamp { zoned: false },
        "timestamptz" => TargetType::Timestamp { zoned: true },
        "json" | "jsonb" => TargetType::Json,
        "uuid" => TargetType::Uuid,
        "text" | "varchar" | "bpchar" | "name" => TargetType::Text,
        _ => TargetType::Other,
    }
}

impl Postgres {
    /// `copy`: the batch as one `COPY ... FROM STDIN` in PostgreSQL's text
    /// format ([`crate::bulk`]); the server parses each value with the
    /// column's own input function, as the casts of `insert` do. The
    /// statement is prepared once per connection, not once per batch.
    pub async fn copy_in(&mut self, insert: &Insert, data: bytes::Bytes) -> Result<u64> {
        use futures_util::SinkExt;
        let columns: Vec<String> = insert
            .columns
            .iter()
            .map(|c| insert.dialect.quote(c))
            .collect();
        let sql = format!("COPY {} ({}) FROM STDIN", insert.table, columns.join(", "));
        let statement = self.prepare(&sql).await?;
        let sink = self.client.copy_in::<_, bytes::Bytes>(&statement).await?;
        futures_util::pin_mut!(sink);
        for piece in crate::bulk::pieces(data) {
            sink.feed(piece).await?;
        }
        Ok(sink.as_mut().finish().await?)
    }

    /// `COPY table (columns) FROM STDIN` (text format), fed bytes as
    /// they arrive, unparsed: restore's pass-through of a dump's own
    /// files, rewritten from CSV ([`crate::cmd::restore`]). One
    /// statement, so all of it is in the table or none. An error from
    /// `chunks` aborts the `COPY` (the sink is dropped unfinished, which
    /// sends `CopyFail`).
    pub async fn copy_text_in(
        &mut self,
        table: &str,
        columns: &[String],
        mut chunks: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    ) -> Result<u64> {
        use futures_util::SinkExt;
        let columns: Vec<String> = columns
            .iter()
            .map(|c| crate::db::Dialect::Postgres.quote(c))
            .collect();
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let sink = self.client.copy_in::<_, bytes::Bytes>(&sql).await?;
        futures_util::pin_mut!(sink);
        while let Some(chunk) = chunks.recv().await {
            sink.send(chunk?).await?;
        }
        Ok(sink.as_mut().finish().await?)
    }
}
