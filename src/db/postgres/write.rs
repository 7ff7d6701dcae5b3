//! Writing rows into PostgreSQL: multi-row `INSERT`s whose values are all
//! bound as text and cast on the server, so one code path serves every
//! type. Values were already checked against the column types
//! ([`crate::values`]); the casts only convert.

use anyhow::{Context, Result};

use super::Postgres;
use crate::db::{TargetColumn, TargetTable};
use crate::ident::QualifiedName;
use crate::plan::insert::Insert;
use crate::values::{TargetType, Value};

/// PostgreSQL's limit on parameters in one statement.
const MAX_PARAMS: usize = 65_535;

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

    /// The id of the open transaction, recorded before COMMIT so that a
    /// resumed import can ask whether that commit happened.
    pub async fn transaction_id(&mut self) -> Result<String> {
        let row = self
            .client
            .query_one("SELECT txid_current()::text", &[])
            .await?;
        Ok(row.try_get(0)?)
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

    pub async fn insert(&mut self, insert: &Insert, rows: &[Vec<Value>]) -> Result<u64> {
        let per_statement = (MAX_PARAMS / insert.columns.len().max(1)).max(1);
        let mut written = 0;
        for part in rows.chunks(per_statement) {
            let statement = self.prepare(&insert.sql(part.len())).await?;
            let params: Vec<Option<String>> = part.iter().flatten().map(Value::to_text).collect();
            written += self
                .client
                .execute_raw(&statement, params.iter().map(|p| p.as_deref()))
                .await?;
        }
        Ok(written)
    }
}

/// The placeholder expression for a column: every value is bound as text
/// and cast to the column's type; binary arrives as hex.
pub fn value_expression(column: &TargetColumn) -> String {
    match column.target {
        TargetType::Bytes => "decode({}::text, 'hex')".to_string(),
        _ => format!("{{}}::text::{}", column.sql_type),
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
    /// format; the server parses each value with the column's own input
    /// function, as the casts of `insert` do.
    pub async fn copy_in(&mut self, insert: &Insert, rows: &[Vec<Value>]) -> Result<u64> {
        use futures_util::SinkExt;
        let columns: Vec<String> = insert
            .columns
            .iter()
            .map(|c| insert.dialect.quote(c))
            .collect();
        let sql = format!("COPY {} ({}) FROM STDIN", insert.table, columns.join(", "));
        let mut data = bytes::BytesMut::with_capacity(rows.len() * 64);
        for row in rows {
            for (i, value) in row.iter().enumerate() {
                if i > 0 {
                    data.extend_from_slice(b"\t");
                }
                write_copy_text(&mut data, value);
            }
            data.extend_from_slice(b"\n");
        }
        let sink = self.client.copy_in::<_, bytes::Bytes>(&sql).await?;
        futures_util::pin_mut!(sink);
        sink.send(data.freeze()).await?;
        Ok(sink.as_mut().finish().await?)
    }
}

/// One value in `COPY` text format: `\N` for NULL, backslash escapes for
/// the separators, and bytea in its `\x` hex form.
fn write_copy_text(out: &mut bytes::BytesMut, value: &Value) {
    let Some(text) = value.to_text() else {
        out.extend_from_slice(b"\\N");
        return;
    };
    if matches!(value, Value::Bytes(_)) {
        out.extend_from_slice(b"\\\\x");
    }
    for &b in text.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.extend_from_slice(&[b]),
        }
    }
}
