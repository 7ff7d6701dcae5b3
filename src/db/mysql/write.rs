//! Writing rows into MySQL/MariaDB: multi-row `INSERT`s through prepared
//! statements, with each value bound in its binary form (integers as
//! integers, dates as date fields), so nothing is reinterpreted by the
//! server's string conversions. The session time zone is `+00:00`, and
//! timestamps with an offset were converted to UTC by [`crate::values`].

use anyhow::{anyhow, Result};
use mysql_async::prelude::Queryable;
use mysql_async::{Params, Value as MyValue};

use super::Mysql;
use crate::coltype::is_mysql_spatial;
use crate::db::relation::{TargetColumn, TargetTable};
use crate::ident::QualifiedName;
use crate::plan::insert::Insert;
use crate::values::{TargetType, Value};

/// The protocol's limit on placeholders in one prepared statement.
const MAX_PARAMS: usize = 65_535;
/// Bytes of values per statement, well inside the default
/// `max_allowed_packet` (16 MiB on MariaDB, 64 MiB on MySQL 8).
const MAX_STATEMENT_BYTES: usize = 4 << 20;

impl Mysql {
    pub async fn describe_target(&mut self, table: &QualifiedName) -> Result<TargetTable> {
        let (_, keys, quoted) = self.describe_table(table).await?;
        let database = self
            .table
            .as_ref()
            .map(|(db, _)| db.clone())
            .unwrap_or_default();
        let rows: Vec<(String, String, String, String)> = self
            .conn
            .exec(
                "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, EXTRA FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                (&database, &table.name),
            )
            .await?;
        // MariaDB's JSON is LONGTEXT with a json_valid check (found by
        // describe_table): it takes JSON, not plain text.
        let columns = rows
            .into_iter()
            .filter(|(_, _, _, extra)| !extra.to_ascii_uppercase().contains("GENERATED"))
            .map(|(name, data_type, column_type, _)| TargetColumn {
                target: match self.json_columns.contains(&name) {
                    true => TargetType::Json,
                    false => target_type(
                        &data_type.to_ascii_lowercase(),
                        &column_type.to_ascii_lowercase(),
                    ),
                },
                name,
                cast_type: column_type.clone(),
                sql_type: column_type,
            })
            .collect();
        Ok(TargetTable {
            quoted,
            columns,
            key: keys.into_iter().next().unwrap_or_default(),
        })
    }

    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        Ok(self.conn.query_drop(sql).await?)
    }

    pub async fn insert(&mut self, insert: &Insert, rows: &[Vec<Value>]) -> Result<u64> {
        let width = insert.columns.len().max(1);
        let mut written = 0;
        let mut start = 0;
        while start < rows.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < rows.len() && (end - start + 1) * width <= MAX_PARAMS {
                bytes += rows[end].iter().map(value_size).sum::<usize>();
                if end > start && bytes > MAX_STATEMENT_BYTES {
                    break;
                }
                end += 1;
            }
            let part = &rows[start..end];
            let params: Vec<MyValue> = part.iter().flatten().map(bind).collect::<Result<_>>()?;
            self.conn
                .exec_drop(insert.sql(part.len()), Params::Positional(params))
                .await?;
            written += self.conn.affected_rows();
            start = end;
        }
        Ok(written)
    }
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Text(t) => t.len(),
        Value::Bytes(b) => b.len(),
        _ => 8,
    }
}

/// A checked value in the binary form its column takes.
fn bind(value: &Value) -> Result<MyValue> {
    Ok(match value {
        Value::Null => MyValue::NULL,
        Value::Bool(b) => MyValue::Int(i64::from(*b)),
        Value::Int(i) => match i64::try_from(*i) {
            Ok(v) => MyValue::Int(v),
            Err(_) => {
                MyValue::UInt(u64::try_from(*i).map_err(|_| anyhow!("{i} does not fit 64 bits"))?)
            }
        },
        Value::Float(f) => MyValue::Double(*f),
        Value::Text(t) => MyValue::Bytes(t.clone().into_bytes()),
        Value::Bytes(b) => MyValue::Bytes(b.clone()),
        Value::Bits(bits) => MyValue::UInt(*bits),
        Value::Date(d) => {
            let year = u16::try_from(d.year)
                .map_err(|_| anyhow!("year {} is out of MySQL's range", d.year))?;
            MyValue::Date(year, d.month, d.day, 0, 0, 0, 0)
        }
        Value::Timestamp(d, c) => {
            let year = u16::try_from(d.year)
                .map_err(|_| anyhow!("year {} is out of MySQL's range", d.year))?;
            MyValue::Date(year, d.month, d.day, c.hour, c.minute, c.second, c.micros)
        }
        Value::Time(t) => MyValue::Time(
            t.negative,
            t.hours / 24,
            (t.hours % 24) as u8,
            t.minutes,
            t.seconds,
            t.micros,
        ),
    })
}

fn target_type(data_type: &str, column_type: &str) -> TargetType {
    let unsigned = column_type.contains("unsigned");
    let int = |bits: u32| {
        if unsigned {
            TargetType::Int {
                min: 0,
                max: (1i128 << bits) - 1,
            }
        } else {
            TargetType::Int {
                min: -(1i128 << (bits - 1)),
                max: (1i128 << (bits - 1)) - 1,
            }
        }
    };
    match data_type {
        "tinyint" if column_type.starts_with("tinyint(1)") => match int(8) {
            TargetType::Int { min, max } => TargetType::IntOrBool { min, max },
            other => other,
        },
        "tinyint" => int(8),
        "smallint" => int(16),
        "mediumint" => int(24),
        "int" | "integer" => int(32),
        "bigint" => int(64),
        "year" => TargetType::Int { min: 0, max: 2155 },
        "decimal" | "numeric" => TargetType::Decimal { special: false },
        "float" | "double" | "real" => TargetType::Float,
        "bit" => TargetType::Bit {
            width: bit_width(column_type),
        },
        "date" => TargetType::Date,
        "datetime" => TargetType::Timestamp { zoned: false },
        "timestamp" => TargetType::Timestamp { zoned: true },
        "time" => TargetType::Time,
        "json" => TargetType::Json,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            TargetType::Bytes
        }
        // A spatial value goes in as the bytes MySQL stores (its SRID,
        // then the WKB), which is what an export writes in hex.
        spatial if is_mysql_spatial(spatial) => TargetType::Bytes,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set" => {
            TargetType::Text
        }
        _ => TargetType::Other,
    }
}

/// `bit(10)` → 10.
fn bit_width(column_type: &str) -> u32 {
    column_type
        .trim_start_matches("bit(")
        .trim_end_matches(')')
        .parse()
        .unwrap_or(64)
}

impl Mysql {
    /// `load-data`: the batch as one `LOAD DATA LOCAL INFILE`, fed from
    /// memory by the driver's local-infile handler (no temporary file).
    ///
    /// The server cannot stop a client's file transfer, so it turns data
    /// errors (bad values, truncation, duplicate keys) into warnings and
    /// carries on. Any warning is therefore an error here: the caller rolls
    /// the batch back and replays it with `INSERT`s to find the line.
    pub async fn load_data(&mut self, insert: &Insert, data: bytes::Bytes) -> Result<u64> {
        use futures_util::StreamExt;
        let pieces = crate::bulk::pieces(data).map(Ok);
        self.conn
            .set_infile_handler(async move { Ok(futures_util::stream::iter(pieces).boxed()) });
        // Fields load straight into their columns, which spares the server
        // an assignment per value; only BIT goes through a variable, since
        // it is sent in decimal.
        let mut fields = Vec::with_capacity(insert.columns.len());
        let mut sets = Vec::new();
        for (i, (column, target)) in insert.columns.iter().zip(&insert.types).enumerate() {
            let column = insert.dialect.quote(column);
            match target {
                TargetType::Bit { .. } => {
                    fields.push(format!("@v{}", i + 1));
                    sets.push(format!("{column} = CAST(@v{} AS UNSIGNED)", i + 1));
                }
                _ => fields.push(column),
            }
        }
        let set = match sets.is_empty() {
            true => String::new(),
            false => format!(" SET {}", sets.join(", ")),
        };
        let sql = format!(
            "LOAD DATA LOCAL INFILE 'dbchunk-batch' INTO TABLE {} CHARACTER SET utf8mb4 \
             FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({}){set}",
            insert.table,
            fields.join(", "),
        );
        self.conn.query_drop(sql).await?;
        let loaded = self.conn.affected_rows();
        let warnings = self.conn.get_warnings();
        if warnings > 0 {
            let shown: Vec<(String, u32, String)> =
                self.conn.query("SHOW WARNINGS LIMIT 3").await?;
            let first: Vec<String> = shown
                .into_iter()
                .map(|(_, code, text)| format!("{code}: {text}"))
                .collect();
            return Err(anyhow!(
                "LOAD DATA reported {warnings} warnings, which would change or lose data: {}",
                first.join("; ")
            ));
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_ranges_follow_signedness() {
        assert_eq!(
            target_type("tinyint", "tinyint(4)"),
            TargetType::Int {
                min: -128,
                max: 127
            }
        );
        assert_eq!(
            target_type("tinyint", "tinyint(3) unsigned"),
            TargetType::Int { min: 0, max: 255 }
        );
        assert_eq!(
            target_type("bigint", "bigint(20) unsigned"),
            TargetType::Int {
                min: 0,
                max: u64::MAX as i128
            }
        );
        assert_eq!(target_type("bit", "bit(10)"), TargetType::Bit { width: 10 });
        assert_eq!(target_type("point", "point"), TargetType::Bytes);
    }
}
