//! The table-driven harness: a table described once (columns with a
//! portable type, rows as a numbered series), made on any of the three
//! engines, and the ways each engine reads and writes it, as data.
//!
//! ```ignore
//! let table = Table::new("it_x").key("id", Ty::Int).col("v", Ty::Text);
//! for db in Db::all(&dir) {
//!     table.create(&db).fill(&db, 1..=20_000, &[Fill::Id, Fill::Prefixed("v")]);
//!     for strategy in db.export_strategies() { ... }
//! }
//! ```

use std::ops::RangeInclusive;
use std::path::PathBuf;

use super::db::{
    mysql_exec, mysql_query_text, mysql_url, pg_exec, pg_query_text, pg_url, sqlite_exec,
    sqlite_query_text, MysqlDropOnExit, PgDropOnExit,
};
use super::{dbchunk, sqlite_url, Run, TempDir};

/// One of the three engines, and how the tests talk to it directly.
#[derive(Clone, Debug)]
pub enum Db {
    Pg,
    My,
    Lite(PathBuf),
}

impl Db {
    /// The three engines; SQLite in a fresh file in `dir`.
    pub fn all(dir: &TempDir) -> Vec<Db> {
        vec![Db::Pg, Db::My, Db::lite(dir)]
    }

    /// [`Db::all`], each engine with the name of its own table,
    /// `{prefix}_{tag}`, and a guard that drops that table when the loop
    /// turn ends, also when the test fails.
    pub fn all_tables(dir: &TempDir, prefix: &str) -> Vec<(Db, String, DropOnExit)> {
        Db::all(dir)
            .into_iter()
            .map(|db| {
                let table = format!("{prefix}_{}", db.tag());
                let guard = db.drop_on_exit(&table);
                (db, table, guard)
            })
            .collect()
    }

    /// A SQLite file in `dir` (made on first use).
    pub fn lite(dir: &TempDir) -> Db {
        Db::Lite(dir.join("test.db"))
    }

    /// The engine's name in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Db::Pg => "PostgreSQL",
            Db::My => "MariaDB",
            Db::Lite(_) => "SQLite",
        }
    }

    /// A short tag for the names of a test's tables: `t_pg`, `t_my`, `t_lite`.
    pub fn tag(&self) -> &'static str {
        match self {
            Db::Pg => "pg",
            Db::My => "my",
            Db::Lite(_) => "lite",
        }
    }

    /// The two servers.
    pub fn servers() -> Vec<Db> {
        vec![Db::Pg, Db::My]
    }

    pub fn url(&self) -> String {
        match self {
            Db::Pg => pg_url(),
            Db::My => mysql_url(),
            Db::Lite(path) => sqlite_url(path),
        }
    }

    #[track_caller]
    pub fn exec(&self, sql: &str) {
        match self {
            Db::Pg => pg_exec(sql),
            Db::My => mysql_exec(sql),
            Db::Lite(path) => sqlite_exec(path, sql),
        }
    }

    /// The first column of the first row of `sql`, as text.
    #[track_caller]
    pub fn text(&self, sql: &str) -> Option<String> {
        match self {
            Db::Pg => pg_query_text(sql),
            Db::My => mysql_query_text(sql),
            Db::Lite(path) => sqlite_query_text(path, sql),
        }
    }

    /// `SELECT count(*)` of `table`.
    #[track_caller]
    pub fn count(&self, table: &str) -> u64 {
        let cast = if let Db::Pg = self { "::text" } else { "" };
        let n = self.text(&format!("SELECT count(*){cast} FROM {table}"));
        n.and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count for {table} on {}", self.name()))
    }

    /// `name` quoted for the engine's SQL, for the tests' own statements.
    pub fn quote(&self, name: &str) -> String {
        match self {
            Db::My => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// What goes after `CREATE TABLE t (...)`.
    pub fn table_options(&self) -> &'static str {
        match self {
            Db::My => " DEFAULT CHARSET=utf8mb4",
            _ => "",
        }
    }

    /// `DROP TABLE IF EXISTS table; CREATE TABLE table (columns)`; `table`
    /// is SQL (quoted or qualified as the test needs).
    #[track_caller]
    pub fn create(&self, table: &str, columns: &str) {
        self.exec(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({columns}){}",
            self.table_options()
        ));
    }

    /// Drops `table` when the returned guard goes, also when the test
    /// fails. A SQLite table goes with its file, in the test's directory.
    pub fn drop_on_exit(&self, table: &str) -> DropOnExit {
        let sql = format!("DROP TABLE IF EXISTS {table}");
        match self {
            Db::Pg => DropOnExit::Pg(PgDropOnExit(sql)),
            Db::My => DropOnExit::My(MysqlDropOnExit(sql)),
            Db::Lite(_) => DropOnExit::Nothing,
        }
    }

    /// `dbchunk export --url URL ARGS...`, with `changes` (SQL) made once
    /// its first line is out: its stdout, and it must succeed.
    #[track_caller]
    pub fn export_while(&self, args: &[&str], changes: &str) -> Vec<u8> {
        use std::io::{BufRead, Read};
        let mut child = dbchunk(["export", "--url", &self.url()]).args(args).spawn();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut written = Vec::new();
        stdout.read_until(b'\n', &mut written).unwrap();
        self.exec(changes);
        stdout.read_to_end(&mut written).unwrap();
        let output = child.wait_with_output().unwrap();
        let run = Run {
            args: format!("{self:?}: export {args:?}"),
            code: output.status.code(),
            stdout: written,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        run.assert_code(0);
        run.stdout
    }

    /// Every export `--strategy` the engine has, auto first.
    pub fn export_strategies(&self) -> &'static [&'static str] {
        match self {
            Db::Pg => &["auto", "keyset", "offset", "cursor", "copy"],
            _ => &["auto", "keyset", "offset", "cursor"],
        }
    }

    /// Every import `--strategy` of the engine but auto.
    pub fn import_strategies(&self) -> &'static [&'static str] {
        match self {
            Db::Pg => &["copy", "insert"],
            Db::My => &["load-data", "insert"],
            Db::Lite(_) => &["insert"],
        }
    }

    /// The given columns of every row, ordered by `order`, as `a|b;a|b`,
    /// with NULL shown as `<NULL>`: for exact expectations.
    #[track_caller]
    pub fn rows_by(&self, table: &str, columns: &[&str], order: &str) -> String {
        let cols: Vec<String> = columns
            .iter()
            .map(|c| match self {
                Db::Pg => format!("coalesce({c}::text, '<NULL>')"),
                Db::My => format!("IFNULL({c}, '<NULL>')"),
                Db::Lite(_) => format!("coalesce(CAST({c} AS TEXT), '<NULL>')"),
            })
            .collect();
        let sql = match self {
            Db::Pg => format!(
                "SELECT coalesce(string_agg(concat_ws('|', {}), ';' ORDER BY {order}), '') \
                 FROM {table}",
                cols.join(", ")
            ),
            Db::My => format!(
                "SET SESSION group_concat_max_len = 1073741824; \
                 SELECT IFNULL(GROUP_CONCAT(CONCAT_WS('|', {}) ORDER BY {order} SEPARATOR ';'), \
                 '') FROM {table}",
                cols.join(", ")
            ),
            Db::Lite(_) => format!(
                "SELECT coalesce(group_concat(r, ';'), '') FROM \
                 (SELECT {} AS r FROM {table} ORDER BY {order})",
                cols.join(" || '|' || ")
            ),
        };
        self.text(&sql).unwrap_or_default()
    }

    /// As [`Db::rows_by`], ordered by `id`.
    #[track_caller]
    pub fn rows(&self, table: &str, columns: &[&str]) -> String {
        self.rows_by(table, columns, "id")
    }

    /// The ids of the rows, in order: `1,2,3`.
    #[track_caller]
    pub fn ids(&self, table: &str) -> String {
        self.rows(table, &["id"]).replace(';', ",")
    }

    /// Every column of every row, ordered by `id`, with the row count in
    /// front; NULL is told apart from '' (and, in SQLite, each value's
    /// storage class is part of it). `hashed`: MD5 of it (PostgreSQL and
    /// MariaDB), for the comparison; unhashed, for the failure message.
    #[track_caller]
    pub fn digest_text(&self, table: &str, hashed: bool) -> String {
        let (open, close) = if hashed { ("md5(", ")") } else { ("", "") };
        let sql = match self {
            Db::Pg => format!(
                "SELECT count(*)::text || ':' || \
                 coalesce({open}string_agg(t::text, '|' ORDER BY id){close}, '') FROM {table} t"
            ),
            Db::My => {
                let cols = self
                    .text(&format!(
                        "SET SESSION group_concat_max_len = 1073741824; \
                         SELECT GROUP_CONCAT(CONCAT('QUOTE(`', COLUMN_NAME, '`)') \
                         ORDER BY ORDINAL_POSITION SEPARATOR ', ') FROM information_schema.COLUMNS \
                         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'"
                    ))
                    .unwrap_or_else(|| panic!("no columns for {table}"));
                format!(
                    "SET SESSION group_concat_max_len = 1073741824; \
                     SELECT CONCAT(COUNT(*), ':', IFNULL({open}GROUP_CONCAT(CONCAT_WS('#', {cols}) \
                     ORDER BY id SEPARATOR '|'){close}, '')) FROM {table}"
                )
            }
            Db::Lite(_) => {
                let cols = self
                    .text(&format!(
                        "SELECT group_concat('typeof(\"' || name || '\") || '':'' || quote(\"' || name || '\")', \
                         ' || ''#'' || ') FROM pragma_table_info('{table}')"
                    ))
                    .unwrap_or_else(|| panic!("no columns for {table}"));
                format!(
                    "SELECT count(*) || ':' || coalesce(group_concat({cols}, '|' ORDER BY id), '') \
                     FROM {table}"
                )
            }
        };
        self.text(&sql).unwrap_or_default()
    }

    /// [`Db::digest_text`], hashed: equal for tables with the same rows.
    #[track_caller]
    pub fn digest(&self, table: &str) -> String {
        self.digest_text(table, true)
    }

    /// Asserts that two tables hold the same rows (by digest).
    #[track_caller]
    pub fn assert_same_table(&self, expected: &str, actual: &str, context: &str) {
        if self.digest_text(expected, true) != self.digest_text(actual, true) {
            panic!(
                "{context}: {actual} differs from {expected} ({self:?})\n--- {expected} ---\n{}\n--- {actual} ---\n{}",
                self.digest_text(expected, false),
                self.digest_text(actual, false)
            );
        }
    }
}

/// A parallel keyset export slow enough for [`Db::export_while`] to make
/// its changes while it runs: 2 workers, chunks of 500 rows, 8,000 rows a
/// second.
pub const PARALLEL_PACED: &[&str] = &[
    "--parallel", "2", "--strategy", "keyset", "--chunk", "500", "--max-rate", "8000/s",
];

/// `dbchunk export --url URL ARGS...` with each of `strategies` gives the
/// same bytes, in each of `formats`; returns the CSV (empty unless csv is
/// among the formats).
#[track_caller]
pub fn assert_strategies_agree_at(
    url: &str,
    formats: &[&str],
    strategies: &[&str],
    args: &[&str],
) -> String {
    let mut csv = String::new();
    for &format in formats {
        let mut first: Option<(&str, Vec<u8>)> = None;
        for &strategy in strategies {
            let out = dbchunk(["export", "--url", url])
                .args(["--format", format, "--strategy", strategy, "--quiet"])
                .args(args)
                .success()
                .stdout;
            match &first {
                None => first = Some((strategy, out)),
                Some((name, expected)) => assert!(
                    *expected == out,
                    "{format}: --strategy {strategy} differs from --strategy {name} (args {args:?})\n\
                     --- {name} ---\n{}\n--- {strategy} ---\n{}",
                    String::from_utf8_lossy(expected),
                    String::from_utf8_lossy(&out)
                ),
            }
        }
        if format == "csv" {
            csv = String::from_utf8(first.expect("a strategy").1).expect("UTF-8 CSV");
        }
    }
    csv
}

/// What [`Db::drop_on_exit`] drops when it goes out of scope.
pub enum DropOnExit {
    Pg(PgDropOnExit),
    My(MysqlDropOnExit),
    Nothing,
}

/// A column type, written the right way for each engine.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    Int,
    BigInt,
    Text,
    Varchar(u32),
    /// A point in time: `timestamptz` (PostgreSQL), `DATETIME(6)` (MySQL),
    /// ISO text (SQLite).
    Timestamp,
}

impl Ty {
    fn sql(self, db: &Db) -> String {
        match (self, db) {
            // A single INTEGER key is the rowid, as most SQLite tables have it.
            (Ty::Int, Db::Lite(_)) => "INTEGER".into(),
            (Ty::Int, _) => "INT".into(),
            (Ty::BigInt, _) => "BIGINT".into(),
            (Ty::Text, _) => "TEXT".into(),
            (Ty::Varchar(n), _) => format!("VARCHAR({n})"),
            (Ty::Timestamp, Db::Pg) => "timestamptz".into(),
            (Ty::Timestamp, Db::My) => "DATETIME(6)".into(),
            (Ty::Timestamp, Db::Lite(_)) => "TEXT".into(),
        }
    }
}

/// How a column is filled from the row number `x` of a series.
#[derive(Clone, Copy, Debug)]
pub enum Fill {
    /// `x` itself.
    Id,
    /// The text `PREFIX` followed by `x`: `v1`, `v2`...
    Prefixed(&'static str),
    /// `x % N`.
    Modulo(u32),
    /// The same SQL literal in every row (`'new'`, `NULL`).
    Literal(&'static str),
    /// `x` seconds after 2024-01-01 00:00:00 (UTC).
    Seconds,
}

impl Fill {
    fn sql(self, db: &Db) -> String {
        match (self, db) {
            (Fill::Id, _) => "x".into(),
            (Fill::Prefixed(p), Db::My) => format!("CONCAT('{p}', x)"),
            (Fill::Prefixed(p), _) => format!("'{p}' || x"),
            (Fill::Modulo(n), _) => format!("x % {n}"),
            (Fill::Literal(sql), _) => sql.into(),
            (Fill::Seconds, Db::Pg) => "'2024-01-01'::timestamptz + x * interval '1 second'".into(),
            (Fill::Seconds, Db::My) => "'2024-01-01' + INTERVAL x SECOND".into(),
            (Fill::Seconds, Db::Lite(_)) => "datetime('2024-01-01', '+' || x || ' seconds')".into(),
        }
    }
}

/// A table described once: a name, columns with portable types, and which
/// of them form the primary key.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    columns: Vec<(String, Ty, bool)>,
}

impl Table {
    pub fn new(name: &str) -> Table {
        Table {
            name: name.to_string(),
            columns: Vec::new(),
        }
    }

    /// The common shape: `id INT PRIMARY KEY, v VARCHAR(40)`.
    pub fn id_v(name: &str) -> Table {
        Table::new(name)
            .key("id", Ty::Int)
            .col("v", Ty::Varchar(40))
    }

    /// A primary key column (several make a composite key).
    pub fn key(mut self, name: &str, ty: Ty) -> Table {
        self.columns.push((name.to_string(), ty, true));
        self
    }

    pub fn col(mut self, name: &str, ty: Ty) -> Table {
        self.columns.push((name.to_string(), ty, false));
        self
    }

    /// Drops and creates the table on `db`.
    #[track_caller]
    pub fn create(&self, db: &Db) -> &Table {
        let mut defs: Vec<String> = self
            .columns
            .iter()
            .map(|(name, ty, _)| format!("{name} {}", ty.sql(db)))
            .collect();
        let keys: Vec<&str> = self
            .columns
            .iter()
            .filter(|(_, _, key)| *key)
            .map(|(name, _, _)| name.as_str())
            .collect();
        if !keys.is_empty() {
            defs.push(format!("PRIMARY KEY ({})", keys.join(", ")));
        }
        db.create(&self.name, &defs.join(", "));
        self
    }

    /// Inserts one row per number in `series`, each column filled as
    /// `fills` says (one per column, in order).
    #[track_caller]
    pub fn fill(&self, db: &Db, series: RangeInclusive<u64>, fills: &[Fill]) -> &Table {
        assert_eq!(fills.len(), self.columns.len(), "one Fill per column");
        let (from, to) = (series.start(), series.end());
        let values: Vec<String> = fills.iter().map(|f| f.sql(db)).collect();
        let values = values.join(", ");
        let name = &self.name;
        db.exec(&match db {
            Db::Pg => format!(
                "INSERT INTO {name} SELECT {values} FROM generate_series({from}, {to}) AS s(x)"
            ),
            Db::My => format!(
                "SET SESSION max_recursive_iterations = {}; \
                 INSERT INTO {name} WITH RECURSIVE s(x) AS \
                 (SELECT {from} UNION ALL SELECT x + 1 FROM s WHERE x < {to}) SELECT {values} FROM s",
                to - from + 1
            ),
            Db::Lite(_) => format!(
                "WITH RECURSIVE s(x) AS (SELECT {from} UNION ALL SELECT x + 1 FROM s WHERE x < {to}) \
                 INSERT INTO {name} SELECT {values} FROM s"
            ),
        });
        self
    }

    /// The common fill of [`Table::id_v`]: `(x, 'vX')` for each `x`.
    #[track_caller]
    pub fn numbered(&self, db: &Db, rows: u64) -> &Table {
        self.fill(db, 1..=rows, &[Fill::Id, Fill::Prefixed("v")])
    }
}
