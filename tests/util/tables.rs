//! Tables made for one test, and what a test asks of the rows it loaded.

use std::path::Path;

use super::engine::{Db, DropOnExit, Table};
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

/// [`Db::lite`] holding the common table [`Table::id_v`] `name`, filled
/// with `rows` numbered rows ([`Table::numbered`]).
#[track_caller]
pub fn lite_id_v(dir: &TempDir, name: &str, rows: u64) -> Db {
    let db = Db::lite(dir);
    Table::id_v(name).create(&db).numbered(&db, rows);
    db
}

/// `N|D|S` for the rows of `table` that `matching` (SQL) accepts: how
/// many, how many distinct `id`s, and their sum; [`ids_once`] when they
/// are ids 1..=n once each.
#[track_caller]
pub fn id_counts(db: &Db, table: &str, matching: &str) -> String {
    let counts = format!(
        "(SELECT count(*) AS n, count(DISTINCT id) AS d, sum(id) AS s FROM {table} \
         WHERE {matching}) c"
    );
    db.rows_by(&counts, &["n", "d", "s"], "n")
}

/// [`id_counts`] of ids 1..=`n`, each once.
pub fn ids_once(n: u64) -> String {
    format!("{n}|{n}|{}", n * (n + 1) / 2)
}

/// A test's table on `db`: `PREFIX_TAG` (`it_x_pg`, `it_x_my`,
/// `it_x_lite`), and the guard that drops it when the test ends, also when
/// it fails ([`Db::drop_on_exit`]).
pub fn test_table(db: &Db, prefix: &str) -> (String, DropOnExit) {
    let name = format!("{prefix}_{}", db.tag());
    let guard = db.drop_on_exit(&name);
    (name, guard)
}

/// [`test_table`] made as the common [`Table::id_v`] and filled with
/// `rows` numbered rows ([`Table::numbered`]): the server side of
/// [`lite_id_v`].
#[track_caller]
pub fn numbered_test_table(db: &Db, prefix: &str, rows: u64) -> (String, DropOnExit) {
    let (name, guard) = test_table(db, prefix);
    Table::id_v(&name).create(db).numbered(db, rows);
    (name, guard)
}
