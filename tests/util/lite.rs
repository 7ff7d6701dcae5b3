//! SQLite files made for one test.

use std::path::Path;

use super::engine::Db;
use super::{Cmd, TempDir};

/// The SQLite file `name` in `dir`, after `sql` ran in it.
#[track_caller]
pub fn lite_file(dir: &TempDir, name: &str, sql: &str) -> Db {
    let db = Db::Lite(dir.join(name));
    db.exec(sql);
    db
}

/// Table `t` of an import that stops at bad rows: `n` may not be NULL.
pub const NOT_NULL_T: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER NOT NULL);";

/// `dbchunk import` into table `t` of `db`, `--quiet`, in batches of
/// `batch` with its `--state` in `state`; `--resume` when `resume`.
pub fn import_t(db: &Db, state: &Path, batch: &str, resume: bool) -> Cmd {
    let cmd = super::import(&db.url(), "t")
        .args(["--quiet", "--batch", batch, "--state"])
        .arg(state);
    match resume {
        true => cmd.arg("--resume"),
        false => cmd,
    }
}
