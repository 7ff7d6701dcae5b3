//! How far an import is committed (`--state FILE` on `dbchunk import`).
//!
//! After every committed batch the state records the input offset up to
//! which every record is either in the table or in the reject file. Just
//! before a batch commits, the state also names that batch as pending
//! (with its PostgreSQL transaction id): a crash between COMMIT and the
//! next save leaves a batch whose fate `--resume` must find out rather
//! than guess (see docs/reliability.md).

use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};

use super::{number, text};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportState {
    /// `table t`, to refuse resuming into another table.
    pub table: String,
    pub format: String,
    /// Rows committed.
    pub rows: u64,
    /// Input bytes whose records are all committed or rejected; for
    /// Parquet, rows (from the file's first), written as `input_rows`.
    pub bytes: u64,
    /// Records in the reject file, and its length.
    pub rejected: u64,
    pub reject_bytes: u64,
    /// The batch being committed when this state was saved, if any.
    pub pending: Option<PendingBatch>,
    pub done: bool,
}

/// A batch sent to the database whose COMMIT had not been confirmed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PendingBatch {
    /// The input offset just after the batch's last record.
    pub bytes: u64,
    pub rows: u64,
    /// The reject file as it stands with this batch's rejects.
    pub rejected: u64,
    pub reject_bytes: u64,
    /// PostgreSQL's id of the batch's transaction (`txid_current()`), so
    /// `txid_status()` can say whether it committed.
    pub xid: Option<String>,
}

impl ImportState {
    pub fn to_json(&self) -> Json {
        let position = position_key(&self.format);
        let mut state = json!({
            "version": 1,
            "kind": "import",
            "table": self.table,
            "format": self.format,
            "rows": self.rows,
            "rejected": self.rejected,
            "reject_bytes": self.reject_bytes,
            "pending": self.pending.as_ref().map(|p| {
                let mut pending = json!({
                    "rows": p.rows,
                    "rejected": p.rejected,
                    "reject_bytes": p.reject_bytes,
                    "xid": p.xid,
                });
                pending[position] = json!(p.bytes);
                pending
            }),
            "done": self.done,
        });
        state[position] = json!(self.bytes);
        state
    }

    pub fn from_json(value: &Json) -> Result<ImportState> {
        if value["version"] != 1 || value["kind"] != "import" {
            bail!("this is not an import state written by this dbchunk (version 1)");
        }
        let format = text(value, "format")?;
        let position = position_key(&format);
        let pending = match &value["pending"] {
            Json::Null => None,
            p => Some(PendingBatch {
                bytes: number(p, position)?,
                rows: number(p, "rows")?,
                rejected: number(p, "rejected")?,
                reject_bytes: number(p, "reject_bytes")?,
                xid: p["xid"].as_str().map(str::to_string),
            }),
        };
        Ok(ImportState {
            table: text(value, "table")?,
            format,
            rows: number(value, "rows")?,
            bytes: number(value, position)?,
            rejected: number(value, "rejected")?,
            reject_bytes: number(value, "reject_bytes")?,
            pending,
            done: value["done"].as_bool().unwrap_or(false),
        })
    }

    pub fn load(path: &std::path::Path) -> Result<ImportState> {
        let json = super::read_json(path)?;
        ImportState::from_json(&json)
            .with_context(|| format!("reading the state file {}", path.display()))
    }

    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        super::save(path, &self.to_json().to_string())
            .with_context(|| format!("writing the state file {}", path.display()))
    }
}

/// A Parquet file is read by rows, and its rows are what the state
/// counts; text input is counted in bytes.
fn position_key(format: &str) -> &'static str {
    match format {
        "parquet" => "input_rows",
        _ => "bytes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_json() {
        let mut state = ImportState {
            table: "table t".into(),
            format: "csv".into(),
            rows: 10,
            bytes: 200,
            rejected: 1,
            reject_bytes: 40,
            pending: None,
            done: false,
        };
        assert_eq!(ImportState::from_json(&state.to_json()).unwrap(), state);
        state.pending = Some(PendingBatch {
            bytes: 300,
            rows: 5,
            rejected: 2,
            reject_bytes: 80,
            xid: Some("7731".into()),
        });
        assert_eq!(ImportState::from_json(&state.to_json()).unwrap(), state);
    }

    #[test]
    fn a_parquet_import_counts_input_rows() {
        let state = ImportState {
            table: "table t".into(),
            format: "parquet".into(),
            rows: 10,
            bytes: 12,
            pending: Some(PendingBatch {
                bytes: 20,
                rows: 8,
                ..PendingBatch::default()
            }),
            ..ImportState::default()
        };
        let json = state.to_json();
        assert_eq!(
            (&json["input_rows"], &json["bytes"]),
            (&json!(12), &Json::Null)
        );
        assert_eq!(json["pending"]["input_rows"], json!(20));
        assert_eq!(ImportState::from_json(&json).unwrap(), state);
    }

    #[test]
    fn an_export_state_is_not_an_import_state() {
        let export = json!({"version": 1, "source": "table t", "rows": 1});
        assert!(ImportState::from_json(&export).is_err());
    }
}
