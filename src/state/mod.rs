//! What an interrupted run needs to go on: the `--state FILE` of an
//! export ([`Checkpoint`]) or of an import ([`ImportState`]).
//!
//! Both are small JSON files replaced atomically, so a crash at any moment
//! leaves either the previous state or the new one, never half of either.
//! Neither ever holds the password.

mod export;
mod import;
mod incremental;
pub mod lock;

pub use export::Checkpoint;
pub(crate) use export::{key_from_json, key_to_json};
pub use import::{ImportState, PendingBatch};
pub use incremental::IncrementalState;

/// Writes `json` to `path` atomically: a synced temporary file beside
/// the file (beside a symlink's final target, so the link stays), renamed
/// over it. A device or FIFO is refused: `--resume` must read the state
/// back (config refuses it before anything starts).
pub fn save(path: &std::path::Path, json: &str) -> std::io::Result<()> {
    let to = match crate::place::Place::of(path)? {
        crate::place::Place::File(to) => to,
        crate::place::Place::Stream(_) => {
            return Err(std::io::Error::other(format!(
                "the state file {} is not a regular file",
                path.display()
            )))
        }
    };
    crate::place::write_atomically(&to, format!("{json}\n").as_bytes())
}

/// A state field that must be a number.
fn number(value: &serde_json::Value, name: &str) -> anyhow::Result<u64> {
    value[name]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("the state has no {name:?}"))
}

/// A state field that must be a string.
fn text(value: &serde_json::Value, name: &str) -> anyhow::Result<String> {
    value[name]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("the state has no {name:?}"))
}

fn read_json(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    use anyhow::Context;
    let text = std::fs::read(path)
        .with_context(|| format!("reading the state file {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("the state file {} is not valid JSON", path.display()))
}
