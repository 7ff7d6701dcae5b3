//! Where a scheduled `--incremental COL --state FILE` export stands
//! between runs: the value of `COL` the next run starts at, and the last
//! `(COL, key)` row the previous runs sent (to count the overlap).
//!
//! Written only after a run's output is complete, so a failed or killed
//! run leaves the file as it was and the next run sends the same rows
//! again, plus whatever changed since.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};

use super::export::{key_from_json, key_to_json};
use super::{number, text};
use crate::db::Key;

#[derive(Clone, Debug)]
pub struct IncrementalState {
    /// `table orders`: a state is never applied to another table.
    pub source: String,
    pub column: String,
    /// The key columns after `column` that order rows sharing a value.
    pub key: Vec<String>,
    /// The next run reads the rows whose `column` is at least this
    /// (one value); `None`: every row (the first run).
    pub from: Option<Key>,
    /// Whether rows whose `column` equals `from` are read (a timestamp,
    /// which later rows may share) or not (an id, all of whose rows up to
    /// `from` are known to be read).
    pub from_inclusive: bool,
    /// The last `(column, key...)` row sent so far; rows at or before it
    /// that a later run reads again are counted as overlap.
    pub last: Option<Key>,
    /// Successful runs so far.
    pub runs: u64,
}

impl IncrementalState {
    /// The state of a run that has sent nothing yet.
    pub fn first(source: String, column: String, key: Vec<String>) -> IncrementalState {
        IncrementalState {
            source,
            column,
            key,
            from: None,
            from_inclusive: true,
            last: None,
            runs: 0,
        }
    }

    pub fn to_json(&self) -> Json {
        json!({
            "version": 1,
            "kind": "incremental",
            "source": self.source,
            "column": self.column,
            "key": self.key,
            "from": self.from.as_ref().map(key_to_json),
            "from_inclusive": self.from_inclusive,
            "last": self.last.as_ref().map(key_to_json),
            "runs": self.runs,
        })
    }

    pub fn from_json(value: &Json) -> Result<IncrementalState> {
        if value["version"] != 1 {
            bail!("unknown state version (this dbchunk writes version 1)");
        }
        if value["kind"] != "incremental" {
            bail!("it is the state of a resumable export or import, not of an --incremental one: give another --state file");
        }
        let key = value["key"]
            .as_array()
            .and_then(|k| k.iter().map(|c| c.as_str().map(str::to_string)).collect())
            .context("the state has no \"key\"")?;
        let optional_key = |name: &str| match &value[name] {
            Json::Null => Ok(None),
            key => key_from_json(key).map(Some),
        };
        Ok(IncrementalState {
            source: text(value, "source")?,
            column: text(value, "column")?,
            key,
            from: optional_key("from")?,
            from_inclusive: value["from_inclusive"].as_bool().unwrap_or(true),
            last: optional_key("last")?,
            runs: number(value, "runs")?,
        })
    }

    /// The state in `path`; `None` when there is no file yet (the first
    /// run).
    pub fn load(path: &std::path::Path) -> Result<Option<IncrementalState>> {
        if !path.exists() {
            return Ok(None);
        }
        let json = super::read_json(path)?;
        IncrementalState::from_json(&json)
            .map(Some)
            .with_context(|| format!("reading the state file {}", path.display()))
    }

    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        super::save(path, &self.to_json().to_string())
            .with_context(|| format!("writing the state file {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let state = IncrementalState {
            source: "table orders".into(),
            column: "updated_at".into(),
            key: vec!["id".into()],
            from: Some(Key::Text(vec![Some("2024-05-26 10:00:00+00".into())])),
            from_inclusive: false,
            last: Some(Key::Sqlite(vec![
                rusqlite::types::Value::Text("2024-05-26".into()),
                rusqlite::types::Value::Integer(7),
            ])),
            runs: 3,
        };
        let back = IncrementalState::from_json(&state.to_json()).unwrap();
        assert_eq!(format!("{back:?}"), format!("{state:?}"));
        let first = IncrementalState::first("table t".into(), "id".into(), vec![]);
        let back = IncrementalState::from_json(&first.to_json()).unwrap();
        assert!(back.from.is_none() && back.last.is_none());
    }

    #[test]
    fn another_kind_of_state_is_refused() {
        let json = json!({"version": 1, "kind": "import"});
        assert!(IncrementalState::from_json(&json).is_err());
    }
}
