//! Where a keyset export stands (`--state FILE`, `--resume`,
//! `--resume-from TOKEN`).
//!
//! A checkpoint is taken after every chunk, and written by the output
//! thread only once that chunk's bytes are written (and, for a file,
//! synced): the state never claims more than the output holds. It records
//! the rows and bytes written so far and the last key, in a form each
//! engine binds back exactly. The password is never part of it.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value as Json};

use super::{number, text};
use crate::db::Key;

/// A point an export can resume from.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// `table employees`, to refuse resuming another export's state.
    pub source: String,
    pub format: String,
    pub rows: u64,
    pub bytes: u64,
    pub chunks: u64,
    /// `None` once the export has finished.
    pub last_key: Option<Key>,
    /// `gzip` or `zstd` for a compressed output, and its length in
    /// compressed bytes at this checkpoint (a member or frame ends there):
    /// where `--resume` cuts the file back to, and what a resumed export
    /// must compress with to stay one stream.
    pub compression: Option<String>,
    pub compressed_bytes: Option<u64>,
}

impl Checkpoint {
    pub fn to_json(&self) -> Json {
        let mut json = json!({
            "version": 1,
            "source": self.source,
            "format": self.format,
            "rows": self.rows,
            "bytes": self.bytes,
            "chunks": self.chunks,
            "done": self.last_key.is_none(),
            "last_key": self.last_key.as_ref().map(key_to_json),
        });
        // Only a compressed export's state has these, so a plain one's
        // reads as before.
        if let (Some(codec), Some(bytes)) = (&self.compression, self.compressed_bytes) {
            json["compression"] = json!(codec);
            json["compressed_bytes"] = json!(bytes);
        }
        json
    }

    pub fn from_json(value: &Json) -> Result<Checkpoint> {
        if value["version"] != 1 {
            bail!("unknown state version (this dbchunk writes version 1)");
        }
        Ok(Checkpoint {
            source: text(value, "source")?,
            format: text(value, "format")?,
            rows: number(value, "rows")?,
            bytes: number(value, "bytes")?,
            chunks: number(value, "chunks")?,
            last_key: match &value["last_key"] {
                Json::Null => None,
                key => Some(key_from_json(key)?),
            },
            compression: match &value["compression"] {
                Json::Null => None,
                _ => Some(text(value, "compression")?),
            },
            compressed_bytes: match &value["compressed_bytes"] {
                Json::Null => None,
                _ => Some(number(value, "compressed_bytes")?),
            },
        })
    }

    /// A one-word form for `--resume-from`: `v1.` and the state's JSON in
    /// hex, so no shell quoting can break it.
    pub fn token(&self) -> String {
        let json = self.to_json().to_string();
        let hex: String = json.bytes().map(|b| format!("{b:02x}")).collect();
        format!("v1.{hex}")
    }

    pub fn from_token(token: &str) -> Result<Checkpoint> {
        let hex = token
            .trim()
            .strip_prefix("v1.")
            .ok_or_else(|| anyhow!("not a dbchunk resume token (they start with v1.)"))?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| anyhow!("the resume token is damaged (not hex)"))?;
        let json: Json = serde_json::from_slice(&bytes).context("the resume token is damaged")?;
        Checkpoint::from_json(&json)
    }

    pub fn load(path: &std::path::Path) -> Result<Checkpoint> {
        let json = super::read_json(path)?;
        if json["kind"] == "import" {
            bail!(
                "{} is the state of an import, not of an export",
                path.display()
            );
        }
        Checkpoint::from_json(&json)
            .with_context(|| format!("reading the state file {}", path.display()))
    }
}

/// Each engine's key values, tagged so they come back with their type.
pub(crate) fn key_to_json(key: &Key) -> Json {
    use mysql_async::Value as My;
    use rusqlite::types::Value as Lite;
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    match key {
        Key::Text(values) => json!({ "text": values }),
        Key::Mysql(values) => json!({ "mysql": values.iter().map(|v| match v {
            My::NULL => Json::Null,
            My::Bytes(b) => json!({ "bytes": hex(b) }),
            My::Int(i) => json!({ "int": i }),
            My::UInt(u) => json!({ "uint": u }),
            My::Float(f) => json!({ "float": f.to_bits() }),
            My::Double(d) => json!({ "double": d.to_bits() }),
            My::Date(y, m, d, h, i, s, us) => json!({ "date": [y, m, d, h, i, s, us] }),
            My::Time(neg, d, h, i, s, us) => json!({ "time": [neg, d, h, i, s, us] }),
        }).collect::<Vec<_>>() }),
        Key::Sqlite(values) => json!({ "sqlite": values.iter().map(|v| match v {
            Lite::Null => Json::Null,
            Lite::Integer(i) => json!({ "int": i }),
            Lite::Real(f) => json!({ "real": f.to_bits() }),
            Lite::Text(t) => json!({ "text": t }),
            Lite::Blob(b) => json!({ "blob": hex(b) }),
        }).collect::<Vec<_>>() }),
    }
}

pub(crate) fn key_from_json(value: &Json) -> Result<Key> {
    use mysql_async::Value as My;
    use rusqlite::types::Value as Lite;
    let bad = || anyhow!("the state's last key is damaged");
    let unhex = |s: &Json| -> Result<Vec<u8>> {
        let s = s.as_str().ok_or_else(bad)?;
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("x"), 16).map_err(|_| bad()))
            .collect()
    };
    let list = |name: &str| value[name].as_array().ok_or_else(bad);
    if let Some(values) = value["text"].as_array() {
        let text = values
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect();
        return Ok(Key::Text(text));
    }
    if value.get("mysql").is_some() {
        let values = list("mysql")?
            .iter()
            .map(|v| {
                let n = |k: &str| v[k].as_u64().ok_or_else(bad);
                Ok(if v.is_null() {
                    My::NULL
                } else if let Some(b) = v.get("bytes") {
                    My::Bytes(unhex(b)?)
                } else if let Some(i) = v["int"].as_i64() {
                    My::Int(i)
                } else if let Some(u) = v["uint"].as_u64() {
                    My::UInt(u)
                } else if v.get("float").is_some() {
                    My::Float(f32::from_bits(n("float")? as u32))
                } else if v.get("double").is_some() {
                    My::Double(f64::from_bits(n("double")?))
                } else if let Some(d) = v["date"].as_array() {
                    let f = |i: usize| d.get(i).and_then(Json::as_u64).ok_or_else(bad);
                    My::Date(
                        f(0)? as u16,
                        f(1)? as u8,
                        f(2)? as u8,
                        f(3)? as u8,
                        f(4)? as u8,
                        f(5)? as u8,
                        f(6)? as u32,
                    )
                } else if let Some(t) = v["time"].as_array() {
                    let f = |i: usize| t.get(i).and_then(Json::as_u64).ok_or_else(bad);
                    let negative = t.first().and_then(Json::as_bool).ok_or_else(bad)?;
                    My::Time(
                        negative,
                        f(1)? as u32,
                        f(2)? as u8,
                        f(3)? as u8,
                        f(4)? as u8,
                        f(5)? as u32,
                    )
                } else {
                    return Err(bad());
                })
            })
            .collect::<Result<_>>()?;
        return Ok(Key::Mysql(values));
    }
    let values = list("sqlite")?
        .iter()
        .map(|v| {
            Ok(if v.is_null() {
                Lite::Null
            } else if let Some(i) = v["int"].as_i64() {
                Lite::Integer(i)
            } else if let Some(r) = v["real"].as_u64() {
                Lite::Real(f64::from_bits(r))
            } else if let Some(t) = v["text"].as_str() {
                Lite::Text(t.to_string())
            } else if let Some(b) = v.get("blob") {
                Lite::Blob(unhex(b)?)
            } else {
                return Err(bad());
            })
        })
        .collect::<Result<_>>()?;
    Ok(Key::Sqlite(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(key: Key) -> Checkpoint {
        Checkpoint {
            source: "table t".into(),
            format: "csv".into(),
            rows: 10,
            bytes: 99,
            chunks: 2,
            last_key: Some(key),
            compression: Some("zstd".into()),
            compressed_bytes: Some(42),
        }
    }

    #[test]
    fn keys_round_trip_through_json_and_tokens() {
        use mysql_async::Value as My;
        use rusqlite::types::Value as Lite;
        let keys = [
            Key::Text(vec![Some("a'b \"c\"".into()), Some("5".into())]),
            Key::Mysql(vec![
                My::Int(-5),
                My::UInt(u64::MAX),
                My::Bytes(vec![0, 255]),
                My::Double(0.1),
                My::Date(2024, 5, 26, 10, 0, 0, 500_000),
                My::Time(true, 34, 22, 59, 59, 0),
            ]),
            Key::Sqlite(vec![
                Lite::Integer(7),
                Lite::Text("é".into()),
                Lite::Blob(vec![1]),
                Lite::Real(1e300),
            ]),
        ];
        for key in keys {
            let original = checkpoint(key);
            let back = Checkpoint::from_json(&original.to_json()).unwrap();
            assert_eq!(format!("{back:?}"), format!("{original:?}"));
            let back = Checkpoint::from_token(&original.token()).unwrap();
            assert_eq!(format!("{back:?}"), format!("{original:?}"));
        }
    }

    #[test]
    fn damaged_tokens_are_errors() {
        assert!(Checkpoint::from_token("hello").is_err());
        assert!(Checkpoint::from_token("v1.zz").is_err());
        assert!(Checkpoint::from_token("v1.7b7d").is_err());
    }
}
