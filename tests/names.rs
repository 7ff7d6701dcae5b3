//! Hostile names on every engine: table, schema and column names given on
//! the command line or read from a CSV header are always quoted for their
//! engine ("No injection").
//!
//! The names hold quotes of both kinds, `x; DROP TABLE y; --`, blanks, dots,
//! non-ASCII letters and reserved words. Every test checks real outcomes
//! (the exported bytes, the rows in the table) and that the sentinel table
//! `y` still holds its row. Each test has its own tables, named
//! `it_names_<test>...`, and its own SQLite file.

use std::sync::Once;

use crate::util::db::MysqlDropOnExit;
use crate::util::engine::Db;
use crate::util::{dbchunk, Run, TempDir};

/// The one row of the sentinel table `y`.
const SENTINEL: &str = "sentinel row";

/// The key column of the tables with hostile column names.
const KEY: &str = "x; DROP TABLE y; --";

/// The other hostile column names, in table order: the last one holds what
/// drivers and parsers treat specially outside quoted names (string quotes,
/// named and numbered placeholders, backslash, comments).
const COLUMNS: [&str; 11] = [
    "a\"b", "a`b", "first name", "a.b", "prénom", "表", "select", "order", "from", "table",
    "q'x :p ?1 $1 \\ #/*",
];

/// What these tests do with an engine beyond the harness's [`Db`]: the
/// hostile table layout, the ways a user writes a name, the sentinel.
trait Names {
    fn with_sentinel(dir: &TempDir) -> Vec<Db>;
    fn cli_forms(&self, name: &str, dots: bool) -> Vec<String>;
    fn cli_column(&self, name: &str) -> String;
    fn cli_list(&self, names: &[&str]) -> String;
    fn hostile_columns(&self) -> String;
    fn insert(&self, table: &str, rows: &[Row]);
    fn dump(&self, table: &str, columns: &[&str]) -> String;
    fn create_sentinel(&self);
    fn assert_sentinel(&self, after: &str);
}

impl Names for Db {
    /// The three engines, each with the sentinel `y` in place.
    fn with_sentinel(dir: &TempDir) -> Vec<Db> {
        let dbs = Db::all(dir);
        for db in &dbs {
            db.create_sentinel();
        }
        dbs
    }

    /// The ways a user writes `name` in `--table` (`dots: true`) or in
    /// `--columns` and `--key`: bare when nothing in it needs quoting, and
    /// quoted, in double quotes and (MySQL) in backticks.
    fn cli_forms(&self, name: &str, dots: bool) -> Vec<String> {
        let quotes: &[char] = match self {
            Db::My => &['"', '`'],
            _ => &['"'],
        };
        let needs_quotes = name.contains(quotes)
            || name.contains(',')
            || (dots && name.contains('.'))
            || name.trim() != name;
        let mut forms = Vec::new();
        if !needs_quotes {
            forms.push(name.to_string());
        }
        forms.push(double_quoted(name));
        if let Db::My = self {
            forms.push(self.quote(name));
        }
        forms
    }

    /// How a user most naturally writes `name` in `--columns` or `--key`:
    /// bare if possible, else in the engine's own quotes.
    fn cli_column(&self, name: &str) -> String {
        let forms = self.cli_forms(name, false);
        match forms.first() {
            Some(bare) if bare == name => bare.clone(),
            _ => forms.last().expect("a quoted form").clone(),
        }
    }

    fn cli_list(&self, names: &[&str]) -> String {
        let names: Vec<String> = names.iter().map(|n| self.cli_column(n)).collect();
        names.join(",")
    }

    /// `CREATE TABLE` columns: the hostile key as an integer primary key,
    /// then [`COLUMNS`] (`order` an integer, the rest text).
    fn hostile_columns(&self) -> String {
        let mut columns = vec![format!("{} INT NOT NULL PRIMARY KEY", self.quote(KEY))];
        for name in COLUMNS {
            let ty = if name == "order" {
                "INT"
            } else {
                "VARCHAR(40)"
            };
            columns.push(format!("{} {ty}", self.quote(name)));
        }
        columns.join(", ")
    }

    /// Inserts `rows` (values in [`KEY`] then [`COLUMNS`] order).
    #[track_caller]
    fn insert(&self, table: &str, rows: &[Row]) {
        let values: Vec<String> = rows
            .iter()
            .map(|row| {
                let fields: Vec<String> = row.iter().map(|f| literal(f.as_deref())).collect();
                format!("({})", fields.join(", "))
            })
            .collect();
        self.exec(&format!("INSERT INTO {table} VALUES {}", values.join(", ")));
    }

    /// Every row of `table` ordered by [`KEY`], the given columns as
    /// `a|b;a|b`, NULL shown as `<NULL>`.
    #[track_caller]
    fn dump(&self, table: &str, columns: &[&str]) -> String {
        let quoted: Vec<String> = columns.iter().map(|c| self.quote(c)).collect();
        let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
        self.rows_by(table, &quoted, &self.quote(KEY))
    }

    /// Creates `y` with its one row: once per server, and in each SQLite
    /// file. Never dropped, so tests running side by side share it.
    fn create_sentinel(&self) {
        static PG: Once = Once::new();
        static MY: Once = Once::new();
        let create = || {
            self.exec("CREATE TABLE IF NOT EXISTS y (v VARCHAR(20))");
            let present = self.text(&format!("SELECT max(v) FROM y WHERE v = '{SENTINEL}'"));
            if present.is_none() {
                self.exec(&format!("INSERT INTO y VALUES ('{SENTINEL}')"));
            }
        };
        match self {
            Db::Pg => PG.call_once(create),
            Db::My => MY.call_once(create),
            Db::Lite(_) => create(),
        }
    }

    /// The sentinel `y` still exists with its row.
    #[track_caller]
    fn assert_sentinel(&self, after: &str) {
        let row = self.text(&format!("SELECT max(v) FROM y WHERE v = '{SENTINEL}'"));
        assert_eq!(
            row.as_deref(),
            Some(SENTINEL),
            "{self:?}: the sentinel row of y is gone after {after}"
        );
    }
}

/// A row as fields, `None` for NULL.
type Row = Vec<Option<String>>;

fn double_quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A SQL literal the three engines read alike (no backslashes in the data).
fn literal(value: Option<&str>) -> String {
    match value {
        None => "NULL".to_string(),
        Some(v) => format!("'{}'", v.replace('\'', "''")),
    }
}

/// One CSV field as dbchunk writes it: NULL unquoted and empty, the empty
/// string and text with a comma, quote or newline quoted.
fn csv_field(value: Option<&str>) -> String {
    match value {
        None => String::new(),
        Some(v) if v.is_empty() || v.contains([',', '"', '\n', '\r']) => double_quoted(v),
        Some(v) => v.to_string(),
    }
}

/// CSV text: a header line, then the rows.
fn csv(header: &[&str], rows: &[Row]) -> String {
    let mut out = String::new();
    let names: Vec<String> = header.iter().map(|n| csv_field(Some(n))).collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for row in rows {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f.as_deref())).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// Row `i` of the hostile-column tables, in [`KEY`], [`COLUMNS`] order:
/// quotes and commas in the values, and NULLs and an empty string in row 2.
/// `order` repeats (7) in rows 1 and 2; `a"b` and `表` are unique.
fn hostile_row(i: u32) -> Row {
    let text = |s: String| Some(s);
    let null_in_2 = |s: String| (i != 2).then_some(s);
    vec![
        text(i.to_string()),
        text(format!("a{i}\"")),
        text(if i == 2 {
            String::new()
        } else {
            format!("b{i}`")
        }),
        null_in_2(format!("f n{i}")),
        null_in_2(format!("d.{i}, x")),
        text(format!("é{i}")),
        text(format!("表{i}")),
        text(format!("s{i}")),
        text(if i <= 2 {
            "7".into()
        } else {
            (i * 10).to_string()
        }),
        null_in_2(format!("fr{i}")),
        text(format!("tb{i}")),
        text(format!("q{i}'")),
    ]
}

/// `rows` cut down to the columns `names` (among [`KEY`] and [`COLUMNS`]).
fn project(rows: &[Row], names: &[&str]) -> Vec<Row> {
    let all: Vec<&str> = std::iter::once(KEY).chain(COLUMNS).collect();
    let positions: Vec<usize> = names
        .iter()
        .map(|n| all.iter().position(|a| a == n).expect("a known column"))
        .collect();
    rows.iter()
        .map(|row| positions.iter().map(|&p| row[p].clone()).collect())
        .collect()
}

/// `rows` as [`Db::dump`] shows them.
fn dumped(rows: &[Row]) -> String {
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let fields: Vec<&str> = row
                .iter()
                .map(|f| f.as_deref().unwrap_or("<NULL>"))
                .collect();
            fields.join("|")
        })
        .collect();
    lines.join(";")
}

#[track_caller]
fn export(db: &Db, args: &[&str]) -> Run {
    let url = db.url();
    dbchunk(["export", "--url", url.as_str(), "--quiet"])
        .args(args)
        .success()
}

#[track_caller]
fn count(db: &Db, args: &[&str]) -> String {
    let url = db.url();
    let run = dbchunk(["count", "--url", url.as_str()])
        .args(args)
        .success();
    run.stdout_str().to_string()
}

#[track_caller]
fn import(db: &Db, input: &str, args: &[&str]) -> Run {
    let url = db.url();
    dbchunk(["import", "--url", url.as_str(), "--quiet"])
        .args(args)
        .stdin(input)
        .success()
}

#[test]
fn export_and_count_hostile_table_names() {
    let dir = TempDir::new("names-tables");
    let suffixes = [
        " a\"b", " a`b", "x; DROP TABLE y; --", " q'x :p ?1 $1 \\ #/*", " my table", ".dot",
        "_prénom_表",
    ];
    for db in Db::with_sentinel(&dir) {
        for suffix in suffixes {
            let name = format!("it_names_tab{suffix}");
            let table = db.quote(&name);
            db.create(&table, "id INT NOT NULL PRIMARY KEY, v VARCHAR(20)");
            db.exec(&format!(
                "INSERT INTO {table} VALUES (1, 'one'), (2, 'two'), (3, 'three')"
            ));
            let expected = "id,v\n1,one\n2,two\n3,three\n";
            for form in db.cli_forms(&name, true) {
                let run = export(&db, &["--table", &form, "--chunk", "2"]);
                assert_eq!(run.stdout_str(), expected, "{db:?} --table {form}");
                assert_eq!(count(&db, &["--table", &form]), "3\n", "{db:?} {form}");
            }
            let form = db.cli_forms(&name, true).pop().expect("a form");
            for strategy in db.export_strategies() {
                let args = ["--table", &form, "--chunk", "2", "--strategy", strategy];
                let run = export(&db, &args);
                assert_eq!(run.stdout_str(), expected, "{db:?} {form} {strategy}");
            }
            let filtered = count(&db, &["--table", &form, "--where", "id > 1"]);
            assert_eq!(filtered, "2\n", "{db:?} {form} --where");
            let estimate = count(&db, &["--table", &form, "--estimate"]);
            assert!(estimate.trim().parse::<u64>().is_ok(), "{db:?}: {estimate}");
            export(&db, &["--table", &form, "--chunk", "2", "--explain"]);
            db.assert_sentinel(&format!("exporting {name:?}"));
        }
    }
}

#[test]
fn export_schema_qualified_reserved_words() {
    let dir = TempDir::new("names-schema");
    // A MySQL database is not inside the run's database: drop it here.
    let _drop_database = MysqlDropOnExit("DROP DATABASE IF EXISTS `it_names_sch d\"b.x`".into());
    for db in Db::with_sentinel(&dir) {
        // PostgreSQL: a schema; MySQL: a database; SQLite: `main`.
        let schema = match db {
            Db::Pg => "it_names_sch s\"x.y",
            Db::My => "it_names_sch d\"b.x",
            Db::Lite(_) => "main",
        };
        match db {
            Db::Pg => db.exec(&format!("CREATE SCHEMA IF NOT EXISTS {}", db.quote(schema))),
            Db::My => db.exec(&format!(
                "CREATE DATABASE IF NOT EXISTS {} DEFAULT CHARSET=utf8mb4",
                db.quote(schema)
            )),
            Db::Lite(_) => {}
        }
        for (i, name) in ["select", "order", "from", "table"].iter().enumerate() {
            let table = format!("{}.{}", db.quote(schema), db.quote(name));
            db.create(
                &table,
                &format!(
                    "{} INT NOT NULL PRIMARY KEY, {} VARCHAR(20)",
                    db.quote("from"),
                    db.quote("select")
                ),
            );
            db.exec(&format!(
                "INSERT INTO {table} VALUES (1, '{name}'), (2, NULL), ({}, 'x')",
                i + 3
            ));
            let expected = format!("from,select\n1,{name}\n2,\n{},x\n", i + 3);
            let mut forms: Vec<String> = db
                .cli_forms(schema, true)
                .iter()
                .flat_map(|s| {
                    db.cli_forms(name, true)
                        .into_iter()
                        .map(move |n| format!("{s}.{n}"))
                })
                .collect();
            if let Db::Lite(_) = db {
                forms.push(name.to_string());
            }
            for form in &forms {
                for strategy in db.export_strategies() {
                    let args = ["--table", form, "--chunk", "2", "--strategy", strategy];
                    let run = export(&db, &args);
                    assert_eq!(run.stdout_str(), expected, "{db:?} {form} {strategy}");
                }
                assert_eq!(count(&db, &["--table", form]), "3\n", "{db:?} {form}");
            }
            let input = format!("select,from\nimported,{}\n", i + 10);
            import(&db, &input, &["--table", &forms[0]]);
            assert_eq!(
                db.text(&format!(
                    "SELECT {} FROM {table} WHERE {} = {}",
                    db.quote("select"),
                    db.quote("from"),
                    i + 10
                ))
                .as_deref(),
                Some("imported"),
                "{db:?} {table}"
            );
            db.assert_sentinel(&format!("exporting {table}"));
        }
    }
}

#[test]
fn export_hostile_columns_and_keys() {
    let dir = TempDir::new("names-columns");
    let rows: Vec<Row> = (1..=5).map(hostile_row).collect();
    // Another order than the table's, the key left out.
    let output = [
        "table", "表", "a\"b", "a`b", "first name", "a.b", "prénom", "select", "order", "from",
        "q'x :p ?1 $1 \\ #/*",
    ];
    for db in Db::with_sentinel(&dir) {
        let name = "it_names_cols x; DROP TABLE y; --";
        let table = db.quote(name);
        db.create(&table, &db.hostile_columns());
        db.insert(&table, &rows);
        let columns = db.cli_list(&output);
        let expected = csv(&output, &project(&rows, &output));
        // The key of the table, named with --key, over three chunks.
        let key = db.cli_column(KEY);
        for strategy in db.export_strategies() {
            let args = [
                "--table", name, "--columns", &columns, "--key", &key, "--chunk", "2",
                "--strategy", strategy,
            ];
            let run = export(&db, &args);
            assert_eq!(run.stdout_str(), expected, "{db:?} {strategy}");
        }
        if !matches!(db, Db::Lite(_)) {
            let mut args = vec![
                "--table", name, "--columns", &columns, "--key", &key, "--chunk", "1",
                "--parallel", "2",
            ];
            if let Db::My = db {
                args.push("--no-lock"); // no global read lock on a shared server
            }
            assert_eq!(
                export(&db, &args).stdout_str(),
                expected,
                "{db:?} --parallel"
            );
        }
        // Every column, and the key among them.
        let all: Vec<&str> = std::iter::once(KEY).chain(COLUMNS).collect();
        let run = export(
            &db,
            &["--table", name, "--chunk", "2", "--strategy", "keyset"],
        );
        assert_eq!(run.stdout_str(), csv(&all, &rows), "{db:?} all columns");
        // Each hostile column alone, in every way a user can write it.
        for column in all.iter().filter(|c| **c != "order") {
            for form in db.cli_forms(column, false) {
                let args = ["--table", name, "--columns", &form, "--chunk", "2"];
                let run = export(&db, &args);
                let want = csv(&[column], &project(&rows, &[column]));
                assert_eq!(run.stdout_str(), want, "{db:?} --columns {form}");
            }
        }
        // A composite key of hostile columns that no index proves unique:
        // checked against the data, then read in key order.
        let composite = db.cli_list(&["a\"b", "表"]);
        let args = [
            "--table", name, "--columns", &columns, "--key", &composite, "--chunk", "2",
            "--strategy", "keyset",
        ];
        assert_eq!(
            export(&db, &args).stdout_str(),
            expected,
            "{db:?} composite"
        );
        // NDJSON keys are the names as they are.
        let run = export(
            &db,
            &["--table", name, "--format", "ndjson", "--limit", "1"],
        );
        let object: serde_json::Value =
            serde_json::from_str(run.stdout_str().trim()).expect("one JSON object");
        assert_eq!(object[KEY], 1, "{db:?}: {object}");
        assert_eq!(object["a\"b"], "a1\"", "{db:?}: {object}");
        assert_eq!(object["表"], "表1", "{db:?}: {object}");
        // A key that is not unique is refused, and named as it is written.
        for (key, shown) in [
            ("order", "--key order "),
            ("first name", "--key \"first name\" "),
        ] {
            let url = db.url();
            let run = crate::util::export(&url, name)
                .args(["--strategy", "keyset"])
                .args(["--key", &db.cli_column(key)])
                .fails(2);
            let line = run.one_error_line();
            assert!(
                line.contains(shown) && line.contains("it_names_cols x; DROP TABLE y; --"),
                "{db:?}: {line}"
            );
        }
        db.assert_sentinel("exporting hostile columns");
    }
}

#[test]
fn import_hostile_header() {
    let dir = TempDir::new("names-import");
    // The input's fields in another order than the table's columns.
    let header = [
        "a\"b", "表", KEY, "first name", "a.b", "prénom", "select", "order", "from",
        "q'x :p ?1 $1 \\ #/*", "table", "a`b",
    ];
    let all: Vec<&str> = std::iter::once(KEY).chain(COLUMNS).collect();
    for db in Db::with_sentinel(&dir) {
        let table = db.quote("it_names_imp \"x.表; DROP TABLE y; --");
        let name = &db
            .cli_forms("it_names_imp \"x.表; DROP TABLE y; --", true)
            .pop()
            .expect("a quoted form");
        db.create(&table, &db.hostile_columns());
        let first: Vec<Row> = (1..=3).map(hostile_row).collect();
        let input = csv(&header, &project(&first, &header));
        for strategy in db.import_strategies() {
            let args = [
                "--table", name, "--truncate", "--strategy", strategy, "--batch", "2",
            ];
            import(&db, &input, &args);
            assert_eq!(db.dump(&table, &all), dumped(&first), "{db:?} {strategy}");
            db.assert_sentinel(&format!("import --strategy {strategy}"));
        }
        // --on-conflict update on the hostile key: row 2 changes, row 4 is new.
        let mut changed = hostile_row(2);
        changed[1] = Some("changed\"".into());
        changed[6] = None;
        let update = vec![changed.clone(), hostile_row(4)];
        let input = csv(&header, &project(&update, &header));
        for strategy in ["auto", "insert"] {
            let args = [
                "--table", name, "--on-conflict", "update", "--strategy", strategy,
            ];
            import(&db, &input, &args);
            let want = [
                first[0].clone(),
                changed.clone(),
                first[2].clone(),
                hostile_row(4),
            ];
            assert_eq!(
                db.dump(&table, &all),
                dumped(&want),
                "{db:?} update {strategy}"
            );
        }
        // --on-conflict skip: row 1 stays as it was, row 5 is new.
        let mut ignored = hostile_row(1);
        ignored[10] = Some("ignored".into());
        let skip = vec![ignored, hostile_row(5)];
        let input = csv(&header, &project(&skip, &header));
        import(&db, &input, &["--table", name, "--on-conflict", "skip"]);
        let want = [
            first[0].clone(),
            changed.clone(),
            first[2].clone(),
            hostile_row(4),
            hostile_row(5),
        ];
        assert_eq!(db.dump(&table, &all), dumped(&want), "{db:?} skip");
        // No header: --columns names the fields, quoted as a user would.
        let six = vec![hostile_row(6)];
        let input = csv(&header, &project(&six, &header));
        let body = input.split_once('\n').expect("a header line").1;
        let columns = db.cli_list(&header);
        for strategy in db.import_strategies() {
            db.exec(&format!("DELETE FROM {table} WHERE {} = 6", db.quote(KEY)));
            let args = [
                "--table", name, "--no-header", "--columns", &columns, "--strategy", strategy,
            ];
            import(&db, body, &args);
            let got = db.dump(&table, &all);
            assert!(
                got.ends_with(&dumped(&six)),
                "{db:?} --no-header {strategy}: {got}"
            );
        }
        // An input that names the hostile columns under other names.
        let renamed: Vec<String> = (0..header.len()).map(|i| format!("c{i}")).collect();
        let renamed: Vec<&str> = renamed.iter().map(String::as_str).collect();
        let seven = vec![hostile_row(7)];
        let input = csv(&renamed, &project(&seven, &header));
        import(&db, &input, &["--table", name, "--columns", &columns]);
        let got = db.dump(&table, &all);
        assert!(got.ends_with(&dumped(&seven)), "{db:?} renamed: {got}");
        db.assert_sentinel("importing hostile columns");
    }
}

#[test]
fn hostile_names_in_errors() {
    let dir = TempDir::new("names-errors");
    for db in Db::with_sentinel(&dir) {
        let url = db.url();
        let table = db.quote("it_names_err.dot");
        db.create(&table, "id INT NOT NULL PRIMARY KEY, v VARCHAR(20)");
        // A table that does not exist is named as it is written.
        let run = dbchunk([
            "export", "--url", &url, "--table", "\"it_names_err no\"\"such\"",
        ])
        .fails(1);
        let line = run.one_error_line();
        assert!(
            line.contains("table \"it_names_err no\"\"such\""),
            "{db:?}: {line}"
        );
        // A dot read as the schema separator: the message says how to
        // name a table whose name holds it.
        let run = dbchunk(["count", "--url", &url, "--table", "it_names_err.dot"]).fails(1);
        let line = run.one_error_line();
        assert!(
            line.contains("table it_names_err.dot")
                && line.contains("is written \"it_names_err.dot\""),
            "{db:?}: {line}"
        );
        // A column that does not exist.
        let run = dbchunk(["export", "--url", &url, "--table", "\"it_names_err.dot\""])
            .args(["--columns", "id,\"no\"\"pe; DROP TABLE y; --\""])
            .fails(1);
        let line = run.one_error_line();
        assert!(
            line.contains("column \"no\\\"pe; DROP TABLE y; --\" is not in"),
            "{db:?}: {line}"
        );
        // An input field that is not a column.
        let run = dbchunk(["import", "--url", &url, "--table", "\"it_names_err.dot\""])
            .stdin("id,\"v; DROP TABLE y; --\"\n1,x\n")
            .fails(2);
        let line = run.one_error_line();
        assert!(
            line.contains(
                "field \"v; DROP TABLE y; --\", which is not a column of table \
                           \"it_names_err.dot\""
            ),
            "{db:?}: {line}"
        );
        // Names that are not quoted as a whole are usage errors.
        for bad in ["it_names\"err", "\"it_names_err", "\"a\"b", "a.b.c"] {
            let run = crate::util::export(&url, bad).fails(2);
            let line = run.one_error_line();
            assert!(line.contains("table name"), "{db:?} {bad}: {line}");
        }
        let run = dbchunk(["export", "--url", &url, "--table", "\"it_names_err.dot\""])
            .args(["--columns", "id,\"v"])
            .fails(2);
        assert!(run.one_error_line().contains("unterminated"), "{db:?}");
        db.assert_sentinel("errors");
    }
}

#[test]
fn postgres_type_names_with_braces() {
    // Import casts each value to its column's type by name: a type whose
    // name holds `{}` (the placeholder's spelling in the value expression)
    // must not get a placeholder of its own.
    let dir = TempDir::new("names-types");
    let dbs = Db::with_sentinel(&dir);
    let db = &dbs[0];
    let ty = db.quote("it_names_mood{}; DROP TABLE y; --");
    let table = db.quote("it_names_types");
    db.exec(&format!(
        "DROP TABLE IF EXISTS {table}; DROP TYPE IF EXISTS {ty}; \
         CREATE TYPE {ty} AS ENUM ('happy', 'sad'); \
         CREATE TABLE {table} (id INT PRIMARY KEY, {} {ty})",
        db.quote("mood{}")
    ));
    for strategy in ["insert", "copy"] {
        db.exec(&format!("DELETE FROM {table}"));
        let input = "id,mood{}\n1,happy\n2,sad\n";
        import(
            db,
            input,
            &["--table", "it_names_types", "--strategy", strategy],
        );
        let run = export(db, &["--table", "it_names_types"]);
        assert_eq!(run.stdout_str(), input, "--strategy {strategy}");
    }
    db.assert_sentinel("importing into an enum with braces in its name");
}
