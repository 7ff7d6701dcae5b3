//! `dbchunk restore`: dumps loaded back into the same engine (the exports
//! come out byte for byte the same) and into another one.

use std::path::{Path, PathBuf};

use crate::dump::{dump_to, family};
use crate::util::db::{MysqlDropOnExit, PgDropOnExit};
use crate::util::engine::{Db, DropOnExit};
use crate::util::procs::kill_when;
use crate::util::{dbchunk, export, sqlite_url, Cmd, TempDir};

/// A place to restore into, apart from the source tables: a schema of its
/// own (PostgreSQL), a database of its own (MariaDB) or another file
/// (SQLite), dropped when the test ends.
pub(crate) struct Elsewhere {
    pub(crate) db: Db,
    pub(crate) url: String,
    pub(crate) schema: Option<String>,
    _drop: DropOnExit,
}

impl Elsewhere {
    pub(crate) fn new(db: &Db, dir: &TempDir, name: &str) -> Elsewhere {
        if let Db::Lite(_) = db {
            let path: PathBuf = dir.join(&format!("{name}.db"));
            let target = Db::Lite(path.clone());
            target.exec("CREATE TABLE made_here (x INT); DROP TABLE made_here");
            return Elsewhere {
                db: target,
                url: sqlite_url(&path),
                schema: None,
                _drop: DropOnExit::Nothing,
            };
        }
        // A schema of its own on PostgreSQL, a database on MariaDB.
        let (kind, schema, cascade) = match db {
            Db::Pg => ("SCHEMA", name.to_string(), " CASCADE"),
            _ => {
                let run = db.text("SELECT DATABASE()").unwrap();
                ("DATABASE", format!("{run}_{name}"), "")
            }
        };
        let drop = format!("DROP {kind} IF EXISTS {schema}{cascade}");
        db.exec(&format!("{drop}; CREATE {kind} {schema}"));
        Elsewhere {
            db: db.clone(),
            url: db.url(),
            schema: Some(schema),
            _drop: match db {
                Db::Pg => DropOnExit::Pg(PgDropOnExit(drop)),
                _ => DropOnExit::My(MysqlDropOnExit(drop)),
            },
        }
    }

    /// `restore` into this place, with `extra` flags.
    /// Every table of `tables` here exports the bytes of its source in `db`.
    #[track_caller]
    pub(crate) fn assert_exports_as(&self, db: &Db, tables: &[String], what: &str) {
        for table in tables {
            assert!(
                export(&self.url, &self.name(table)).success().stdout
                    == export(&db.url(), table).success().stdout,
                "{} {table}: {what}",
                db.name()
            );
        }
    }

    pub(crate) fn restore(&self, dump: &Path, extra: &[&str]) -> crate::util::Cmd {
        let mut cmd = dbchunk(["restore", "--url", &self.url])
            .arg(dump)
            .args(extra.to_vec());
        if let Some(schema) = &self.schema {
            cmd = cmd.args(["--schema", schema]);
        }
        cmd
    }

    /// The next value of `sequence` here (drawing it).
    fn next_value(&self, sequence: &str) -> Option<String> {
        let name = self.name(sequence);
        self.db.text(&match self.db {
            Db::Pg => format!("SELECT nextval('{name}')::text"),
            _ => format!("SELECT NEXTVAL({name})"),
        })
    }

    /// `table` as named here, for the tests' own SQL and for `export -t`.
    pub(crate) fn name(&self, table: &str) -> String {
        match &self.schema {
            Some(schema) => format!("{schema}.{table}"),
            None => table.to_string(),
        }
    }

    /// How many foreign keys `table` has here.
    fn foreign_keys(&self, table: &str) -> String {
        self.constraints("FOREIGN KEY", table, "pragma_foreign_key_list('{table}')")
    }

    /// Every table of `tables` has its primary key here (the tests' keys
    /// are of one column, so a key counts once on SQLite too).
    #[track_caller]
    fn assert_primary_keys(&self, tables: &[String], what: &str) {
        for table in tables {
            let pragma = "pragma_table_info('{table}') WHERE pk > 0";
            let key = self.constraints("PRIMARY KEY", table, pragma);
            assert_eq!(key, "1", "{table}: the primary key, {what}");
        }
    }

    /// How many constraints of `kind` `table` has here, or on SQLite the
    /// rows of `pragma` (with `{table}` in it).
    fn constraints(&self, kind: &str, table: &str, pragma: &str) -> String {
        self.db
            .text(&match &self.schema {
                Some(schema) => format!(
                    "SELECT CAST(COUNT(*) AS CHAR(20)) FROM information_schema.table_constraints WHERE \
                     constraint_type = '{kind}' AND table_schema = '{schema}' AND \
                     table_name = '{table}'"
                ),
                None => format!("SELECT COUNT(*) FROM {}", pragma.replace("{table}", table)),
            })
            .unwrap()
            .trim()
            .to_string()
    }
}

/// Dumps the tables named `PREFIX_*` of `db` into `dir/dump-NAME`.
fn dump(db: &Db, prefix: &str, dir: &TempDir, name: &str) -> PathBuf {
    let out = dir.join(&format!("dump-{name}"));
    dump_to(db, prefix, &out).success();
    out
}

/// A parent and a child table (`family`), dumped, and a place of their
/// own to restore into.
struct Dumped {
    tables: [String; 2],
    dump: PathBuf,
    place: Elsewhere,
}

/// On every engine: a parent and a child table of `rows` rows named
/// after `test`, dumped, and a place to restore them into, on which
/// `check` runs; the tables are dropped after it (also when it fails).
fn for_each_family_dumped(test: &str, rows: u64, check: impl Fn(&Db, &Dumped)) {
    let dir = TempDir::new(test);
    for db in Db::all(&dir) {
        let prefix = format!("{test}_{}", db.tag());
        let (tables, _drop) = family(&db, &prefix, rows);
        let dumped = Dumped {
            tables,
            dump: dump(&db, &prefix, &dir, db.tag()),
            place: Elsewhere::new(&db, &dir, &format!("{prefix}_to")),
        };
        check(&db, &dumped);
    }
}

#[test]
fn restore_into_the_same_engine_gives_the_same_exports() {
    for_each_family_dumped("restsame", 3_000, |db, dumped| {
        let (place, tables) = (&dumped.place, &dumped.tables);
        place
            .restore(&dumped.dump, &["--create", "--jobs", "2"])
            .success();
        place.assert_exports_as(db, tables, "the restored table exports other bytes");
        assert_eq!(place.foreign_keys(&tables[1]), "1", "{}", db.name());
        place.assert_primary_keys(tables, db.name());
    });
}

/// A table whose key the engine numbers: after the restore, a new row
/// gets the next number, not one the dump already used.
#[test]
fn restored_counters_continue_past_the_loaded_rows() {
    let dir = TempDir::new("restore-counter");
    for db in Db::all(&dir) {
        let table = format!("restcount_{}_t", db.tag());
        let _drop = db.drop_on_exit(&table);
        let id = match db {
            Db::Pg => "id SERIAL PRIMARY KEY",
            Db::My => "id INT AUTO_INCREMENT PRIMARY KEY",
            Db::Lite(_) => "id INTEGER PRIMARY KEY",
        };
        db.create(&table, &format!("{id}, v VARCHAR(10)"));
        db.exec(&format!(
            "INSERT INTO {table} (v) VALUES ('a'), ('b'), ('c')"
        ));
        let dump = dump(&db, &format!("restcount_{}", db.tag()), &dir, db.tag());
        let place = Elsewhere::new(&db, &dir, &format!("restcount_{}_to", db.tag()));
        place.restore(&dump, &["--create"]).success();
        let here = place.name(&table);
        place
            .db
            .exec(&format!("INSERT INTO {here} (v) VALUES ('d')"));
        assert_eq!(
            place
                .db
                .text(&format!(
                    "SELECT CAST(id AS CHAR(20)) FROM {here} WHERE v = 'd'"
                ))
                .as_deref()
                .map(str::trim),
            Some("4"),
            "{}",
            db.name()
        );
    }
}

/// MariaDB to PostgreSQL and PostgreSQL to SQLite: the types of the
/// family table (integers, text, a timestamp) cross without a change in
/// their exported bytes.
#[test]
fn restore_moves_tables_between_engines() {
    let dir = TempDir::new("restore-across");
    let lite = Db::lite(&dir);
    for (from, to) in [(Db::My, Db::Pg), (Db::Pg, lite.clone()), (lite, Db::My)] {
        let prefix = format!("restx_{}_{}", from.tag(), to.tag());
        let (tables, _drop) = family(&from, &prefix, 1_000);
        let dump = dump(
            &from,
            &prefix,
            &dir,
            &format!("{}-{}", from.tag(), to.tag()),
        );
        let place = Elsewhere::new(&to, &dir, &format!("{prefix}_to"));
        place.restore(&dump, &["--create"]).success();
        for table in &tables {
            let [source, restored] = [
                (from.url(), table.clone()),
                (place.url.clone(), place.name(table)),
            ]
            .map(|(url, table)| String::from_utf8(export(&url, &table).success().stdout).unwrap());
            // SQLite keeps a timestamp as the text it was given
            // (`2024-01-01 00:00:01`); the servers write the canonical
            // `2024-01-01T00:00:01` (docs/types.md): the same value.
            let canonical = |text: &str| match from {
                Db::Lite(_) => text.replace(' ', "T"),
                _ => text.to_string(),
            };
            assert!(
                canonical(&source) == restored,
                "{} to {}, {table}: the values changed on the way",
                from.name(),
                to.name()
            );
        }
        assert_eq!(
            place.foreign_keys(&tables[1]),
            "1",
            "{} to {}",
            from.name(),
            to.name()
        );
    }
}

#[test]
fn restore_refuses_a_changed_file_and_a_count_that_differs() {
    let dir = TempDir::new("restore-refuses");
    let db = Db::lite(&dir);
    let (tables, _drop) = family(&db, "refuse", 100);
    let dump = dump(&db, "refuse", &dir, "lite");
    let place = Elsewhere::new(&db, &dir, "refused");
    let file = dump.join(format!("{}.csv.zst", tables[0]));
    let bytes = std::fs::read(&file).unwrap();
    let mut changed = bytes.clone();
    changed.push(0);
    std::fs::write(&file, &changed).unwrap();
    place.restore(&dump, &["--create"]).fails(1).error_says(&[
        &format!("{}.csv.zst", tables[0]),
        "changed or damaged",
        "nothing was restored",
    ]);
    assert_eq!(
        place
            .db
            .text("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
            .as_deref(),
        Some("0"),
        "nothing may be created from a damaged dump"
    );
    std::fs::write(&file, &bytes).unwrap();
    // A row that was there before: the count after the restore is off.
    place
        .restore(&dump, &["--create", "--tables", &tables[0]])
        .success();
    let parent = &tables[0];
    place.db.exec(&format!(
        "DELETE FROM {parent}; INSERT INTO {parent} VALUES (1000, 'extra')"
    ));
    place
        .restore(&dump, &["--tables", &tables[0]])
        .fails(1)
        .error_says(&[parent, "52 rows after the restore", "the dump has 51"]);
}

#[test]
fn a_type_without_counterpart_is_named_or_made_text() {
    let dir = TempDir::new("restore-unmapped");
    let db = Db::Pg;
    let table = "restunmapped_pg_t";
    let _drop = db.drop_on_exit(table);
    db.create(table, "id INT PRIMARY KEY, span INTERVAL");
    db.exec(&format!(
        "INSERT INTO {table} VALUES (1, '1 day 2 hours'), (2, NULL)"
    ));
    let dump = dump(&db, "restunmapped_pg", &dir, "pg");
    let place = Elsewhere::new(&Db::lite(&dir), &dir, "unmapped");
    place
        .restore(&dump, &["--create"])
        .fails(2)
        .error_says(&[table, "column span is interval", "--unmapped-as-text"]);
    place
        .restore(&dump, &["--create", "--unmapped-as-text"])
        .success();
    assert_eq!(
        place
            .db
            .text(&format!("SELECT span FROM {table} WHERE id = 1"))
            .as_deref(),
        Some("P1DT2H"),
        "the interval's text, as the dump wrote it"
    );
}

/// Kills a restore (`restore(extra)`) as soon as the family's big table
/// has rows (fewer than all), resumes it, and checks that every table
/// exports the source's bytes and the foreign key came back.
fn kill_then_resume(
    place: &Elsewhere,
    db: &Db,
    tables: &[String],
    restore: impl Fn(&[&str]) -> Cmd,
) {
    let big = place.name(&tables[1]);
    kill_when(restore(&[]).spawn(), "the restore", || {
        let exists = place.db.text(&format!(
            "SELECT CAST(to_regclass('{big}') IS NOT NULL AS TEXT)"
        ));
        exists.as_deref() == Some("true") && place.db.count(&big) > 0
    });
    let partial = place.db.count(&big);
    assert!(
        partial < 300_000,
        "the kill came after the load: {partial} rows"
    );
    restore(&["--resume", "--stats"]).success();
    place.assert_exports_as(db, tables, "the resumed restore lost or doubled rows");
    assert_eq!(place.foreign_keys(&tables[1]), "1");
    place.assert_primary_keys(tables, "after the resumed restore");
}

/// A restore killed with SIGKILL while it loads, then `--resume`: the
/// tables it finished are kept, the one it was loading is emptied and
/// loaded again, the indexes and foreign keys are added once, and every
/// table exports what the source does: nothing lost, nothing doubled.
#[test]
fn a_killed_restore_resumes_without_losing_or_doubling_rows() {
    let dir = TempDir::new("restore-kill");
    let db = Db::Pg;
    let prefix = "restkill_pg";
    let (tables, _drop) = family(&db, prefix, 300_000);
    let dump = dump(&db, prefix, &dir, "pg");
    let place = Elsewhere::new(&db, &dir, "restkill_pg_to");
    let restore = |extra: &[&str]| {
        // --check: batch by batch (a pass-through's COPY is one statement).
        let mut args = vec!["--create", "--jobs", "1", "--batch", "2000", "--check"];
        args.extend_from_slice(extra);
        place.restore(&dump, &args)
    };
    kill_then_resume(&place, &db, &tables, restore);
}

/// A name that needs quoting everywhere: blanks, a double quote, a dot.
const ODD: &str = "restall odd \"name\".x";

/// Every type each engine has (the export tests' tables), NULLs, and a
/// table and columns with odd names: dumped and restored into the same
/// engine, every table exports the same bytes.
#[test]
fn every_type_and_odd_names_survive_dump_and_restore() {
    let dir = TempDir::new("restore-all");
    for db in Db::all(&dir) {
        let prefix = format!("restall_{}", db.tag());
        let typed = format!("{prefix}_types");
        let odd = format!("{prefix}_{ODD}");
        // PostgreSQL: the every-type table without its bytea column too
        // (bytea is the one type the pass-through rewrites on the way).
        let unbinary = format!("{prefix}_nobytea");
        let mut guards = vec![db.drop_on_exit(&typed), db.drop_on_exit(&db.quote(&odd))];
        match db {
            Db::Pg => {
                guards.push(db.drop_on_exit(&unbinary));
                crate::util::fixtures::pg_every_type(&typed);
                guards.push(DropOnExit::Pg(PgDropOnExit(format!(
                    "DROP TYPE IF EXISTS {typed}_mood"
                ))));
                db.exec(&format!(
                    "CREATE TABLE {unbinary} AS SELECT * FROM {typed}; \
                     ALTER TABLE {unbinary} DROP COLUMN by, ADD PRIMARY KEY (id)"
                ));
            }
            Db::My => crate::export_mysql::create_types_table(&typed),
            Db::Lite(_) => {
                crate::util::fixtures::sqlite_awkward(&dir, &typed, 50);
                std::fs::copy(dir.join("source.db"), db_path(&db)).unwrap();
            }
        }
        let (id, value) = (db.quote("i d"), db.quote("v\"al"));
        db.create(
            &db.quote(&odd),
            &format!("{id} INT PRIMARY KEY, {value} VARCHAR(20)"),
        );
        db.exec(&format!(
            "INSERT INTO {} VALUES (1, 'a'), (2, NULL), (3, '')",
            db.quote(&odd)
        ));
        let dump = dump(&db, &prefix, &dir, &format!("all-{}", db.tag()));
        let place = Elsewhere::new(&db, &dir, &format!("restall_{}_to", db.tag()));
        let run = place.restore(&dump, &["--create", "--stats"]).success();
        let stats: serde_json::Value =
            serde_json::from_str(run.stderr_lines().last().expect("stats")).expect("JSON stats");
        let mut tables = vec![(&typed, typed.clone()), (&odd, quoted_for_cli(&odd))];
        if let Db::Pg = db {
            assert_eq!(stats["files_passed_through"], 3, "{stats}");
            assert_eq!(stats["files_checked"], 0, "{stats}");
            tables.push((&unbinary, unbinary.clone()));
        } else {
            assert_eq!(stats["files_passed_through"], 0, "{} {stats}", db.name());
        }
        for (table, cli_name) in tables {
            let here = match &place.schema {
                Some(schema) => format!("{schema}.{cli_name}"),
                None => cli_name.clone(),
            };
            // NDJSON too: it writes a JSON column's values as JSON, so a
            // column that lost its JSON type shows there.
            for format in ["csv", "ndjson"] {
                let exported = |url: &str, table: &str| {
                    export(url, table)
                        .args(["--format", format])
                        .success()
                        .stdout
                };
                let source = exported(&db.url(), &cli_name);
                assert!(
                    exported(&place.url, &here) == source,
                    "{} {table}: the restored table exports other bytes as {format}",
                    db.name()
                );
                assert!(source.len() > 20, "{table}: the source is empty");
            }
        }
    }
}

/// Every type of each engine restored into each other engine (with
/// `--unmapped-as-text` for the types no other engine has): the created
/// tables take every value, and the restore's own count check passes;
/// a value the target cannot hold stops it, naming table, line and column.
#[test]
fn every_type_crosses_into_every_other_engine() {
    let dir = TempDir::new("restore-every-across");
    let lite = Db::lite(&dir);
    let engines = [Db::Pg, Db::My, lite.clone()];
    let mut guards = Vec::new();
    let mut dumps = Vec::new();
    for db in &engines {
        let typed = format!("restevery_{}_types", db.tag());
        guards.push(db.drop_on_exit(&typed));
        match db {
            Db::Pg => {
                crate::util::fixtures::pg_every_type(&typed);
                let mood = format!("DROP TYPE IF EXISTS {typed}_mood");
                guards.push(DropOnExit::Pg(PgDropOnExit(mood)));
            }
            Db::My => crate::export_mysql::create_types_table(&typed),
            Db::Lite(_) => {
                crate::util::fixtures::sqlite_awkward(&dir, &typed, 50);
                std::fs::copy(dir.join("source.db"), db_path(db)).unwrap();
            }
        }
        let name = format!("every-{}", db.tag());
        dumps.push((
            db,
            dump(db, &format!("restevery_{}", db.tag()), &dir, &name),
        ));
    }
    for (from, dump) in &dumps {
        for to in engines.iter().filter(|to| to.tag() != from.tag()) {
            let place = Elsewhere::new(to, &dir, &format!("restevery_{}_{}", from.tag(), to.tag()));
            let restore = place.restore(dump, &["--create", "--unmapped-as-text"]);
            match (from, to) {
                // MySQL's DOUBLE has no NaN or infinities: refused, named.
                (Db::Pg, Db::My) => {
                    restore
                        .fails(1)
                        .error_says(&["restevery_pg_types", "line 2", "column 'r'"]);
                    // With --reject-dir those rows are set aside, the rest
                    // load, the counts add up, and the exit code says so.
                    let rejects = dir.join("rejects");
                    let flags = ["--truncate", "--reject-dir", rejects.to_str().unwrap()];
                    let run = place.restore(dump, &flags).fails(3);
                    assert!(run.stderr.contains("rows were refused"), "{}", run.stderr);
                    let refused = std::fs::read_to_string(
                        rejects.join("public.restevery_pg_types.rejects.csv"),
                    )
                    .expect("the table's reject file");
                    assert!(refused.contains("NaN"), "{refused}");
                    let kept = place.db.count(&place.name("restevery_pg_types"));
                    assert!(kept > 0 && kept < 5, "{kept} rows of 5 restored");
                }
                _ => {
                    restore.success();
                }
            }
        }
    }
}

/// `name` in double quotes for `--table`, inner quotes doubled.
fn quoted_for_cli(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn db_path(db: &Db) -> PathBuf {
    match db {
        Db::Lite(path) => path.clone(),
        _ => unreachable!("a SQLite database"),
    }
}

/// A table dumped in parts (`--part-rows`) restores on every engine, its
/// parts loaded side by side, into the same engine and, from PostgreSQL,
/// into SQLite, one part after another: every table exports the source's
/// bytes. `--truncate` empties a table in parts once, before its parts
/// load, so loading the dump again leaves the same rows.
#[test]
fn a_dump_in_parts_restores_on_every_engine() {
    let dir = TempDir::new("restore-parts");
    let mut pg_dump = None;
    for db in Db::all(&dir) {
        let prefix = format!("restparts_{}", db.tag());
        let (tables, _drop) = family(&db, &prefix, 6_000);
        crate::dump::analyze(&db, &tables[1]);
        let out = dir.join(&format!("dump-parts-{}", db.tag()));
        dump_to(&db, &prefix, &out)
            .args(["--jobs", "2", "--part-rows", "1000"])
            .success();
        let manifest = crate::dump::manifest(&out);
        let parts = manifest["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["files"].as_array().unwrap().len())
            .max();
        assert!(parts >= Some(3), "{}: {manifest:#}", db.name());
        let place = Elsewhere::new(&db, &dir, &format!("restparts_{}_to", db.tag()));
        place.restore(&out, &["--create", "--jobs", "2"]).success();
        // The child's parts again, into the table emptied once (the parent
        // stays: the child's foreign key points at it).
        let again = ["--truncate", "--jobs", "2", "--tables", &tables[1]];
        place.restore(&out, &again).success();
        place.assert_exports_as(
            &db,
            &tables,
            "the table restored from parts exports other bytes",
        );
        if let Db::Pg = db {
            pg_dump = Some((out, tables, _drop));
        }
    }
    let (out, tables, _drop) = pg_dump.expect("the PostgreSQL dump");
    let lite = Elsewhere::new(&Db::lite(&dir), &dir, "restparts_pg_to_lite");
    lite.restore(&out, &["--create"]).success();
    for table in &tables {
        assert_eq!(lite.db.count(table), Db::Pg.count(table), "{table}");
    }
}

/// `--on-conflict update` finds the rows already there by the primary
/// key, so a created table has its key from the start (PostgreSQL adds it
/// after the rows otherwise): the same dump restored twice leaves the
/// dump's rows once. On SQLite too, where the family's `id INT PRIMARY
/// KEY` may hold NULL and is still the conflict target.
#[test]
fn a_restore_on_conflict_has_its_key_from_the_start() {
    for_each_family_dumped("restconflict", 2_000, |db, dumped| {
        let update = ["--create", "--on-conflict", "update", "--jobs", "2"];
        let place = &dumped.place;
        place.restore(&dumped.dump, &update).success();
        place.restore(&dumped.dump, &update).success();
        let what = "restored twice with --on-conflict update";
        place.assert_exports_as(db, &dumped.tables, what);
        place.assert_primary_keys(&dumped.tables, db.name());
    });
}

/// A parent and a child table restored again into themselves with
/// `--truncate`, their foreign key in place: the child is emptied before
/// the parent, and the parent loaded before the child (one job or two), so
/// no row of the child ever lacks its parent, and both hold the dump's
/// rows.
#[test]
fn tables_joined_by_a_foreign_key_restore_again_parents_first() {
    for_each_family_dumped("restagainfk", 3_000, |db, dumped| {
        let place = &dumped.place;
        place.restore(&dumped.dump, &["--create"]).success();
        for jobs in ["1", "2"] {
            place
                .restore(&dumped.dump, &["--truncate", "--jobs", jobs])
                .success();
            let what = format!("restored again with --truncate --jobs {jobs}");
            place.assert_exports_as(db, &dumped.tables, &what);
        }
    });
}

/// A file whose pass-through `COPY` fails (here a CHECK constraint of the
/// table already there refuses a row) leaves nothing of it, and is loaded
/// by the checked import instead: with --reject-dir the refused row goes
/// to the table's reject file and the others load (exit 3); without, the
/// restore stops naming the table and the line, as without the
/// pass-through.
#[test]
fn a_failed_passthrough_falls_back_to_the_checked_import() {
    let dir = TempDir::new("restore-fallback");
    let db = Db::Pg;
    let prefix = "restfall_pg";
    let ([parent, _], _drop) = family(&db, prefix, 2_000);
    let out = dir.join("dump");
    dump_to(&db, prefix, &out).success();
    let place = Elsewhere::new(&db, &dir, "restfall_pg_to");
    let here = place.name(&parent);
    db.exec(&format!(
        "CREATE TABLE {here} (id INT PRIMARY KEY CHECK (id <> 7), v VARCHAR(20))"
    ));
    let checked = place
        .restore(&out, &["--tables", &parent, "--check"])
        .fails(1);
    let said = checked.one_error_line().to_string();
    assert!(
        said.contains(&parent) && said.contains("line 9"),
        "the checked import names the table and the line: {said}"
    );
    place.db.exec(&format!("DELETE FROM {here}"));
    let failed = place.restore(&out, &["--tables", &parent]).fails(1);
    assert_eq!(failed.one_error_line(), said, "the same error as --check");
    place.db.exec(&format!("DELETE FROM {here}"));
    let rejects = dir.join("rejects");
    let run = place
        .restore(
            &out,
            &[
                "--tables",
                &parent,
                "--reject-dir",
                rejects.to_str().unwrap(),
                "--stats",
            ],
        )
        .fails(3);
    let stats: serde_json::Value = serde_json::from_str(
        run.stderr_lines()
            .into_iter()
            .find(|line| line.starts_with('{'))
            .expect("stats"),
    )
    .expect("JSON stats");
    assert_eq!(stats["files_passed_through"], 0, "{stats}");
    assert_eq!(stats["files_checked"], 1, "{stats}");
    let refused =
        std::fs::read_to_string(rejects.join(format!("public.{parent}.rejects.csv"))).unwrap();
    assert!(refused.contains("7,v7"), "{refused}");
    assert_eq!(place.db.count(&here), 50, "every other row, once");
}

/// A restore of a dump in parts killed with SIGKILL once a part is in,
/// then `--resume`: the table is emptied and its parts loaded again, so
/// every table exports what the source does, nothing doubled.
#[test]
fn a_killed_restore_of_parts_resumes_without_doubling_rows() {
    let dir = TempDir::new("restore-kill-parts");
    let db = Db::Pg;
    let prefix = "restkillparts_pg";
    let (tables, _drop) = family(&db, prefix, 300_000);
    crate::dump::analyze(&db, &tables[1]);
    let out = dir.join("dump");
    dump_to(&db, prefix, &out)
        .args(["--part-rows", "30000"])
        .success();
    let place = Elsewhere::new(&db, &dir, "restkillparts_pg_to");
    let restore = |extra: &[&str]| {
        let mut args = vec!["--create", "--jobs", "1"];
        args.extend_from_slice(extra);
        place.restore(&out, &args)
    };
    kill_then_resume(&place, &db, &tables, restore);
}

/// A PostgreSQL sequence of its own (an invoice number the application
/// draws with nextval) comes back where the dump saw it: after a restore
/// the next number follows the last one handed out, and a second restore
/// does not move it back. A serial's own sequence is its table's counter,
/// not listed. Into SQLite the sequence is named in a warning.
#[test]
fn sequences_of_their_own_restore_where_they_stood() {
    let dir = TempDir::new("restore-sequences");
    let (db, prefix) = (Db::Pg, "restseq_pg");
    let (table, sequence) = (format!("{prefix}_t"), format!("{prefix}_invoice_no"));
    let _drop = db.drop_on_exit(&table);
    let _sequence = PgDropOnExit(format!("DROP SEQUENCE IF EXISTS {sequence}"));
    db.exec(&format!(
        "CREATE TABLE {table} (id serial PRIMARY KEY, v text); \
         INSERT INTO {table} (v) VALUES ('a'), ('b'); \
         CREATE SEQUENCE {sequence} START 1000; \
         SELECT nextval('{sequence}') FROM generate_series(1, 42)"
    ));
    let out = dir.join("dump");
    dump_sequences(&db, prefix, &out, &[(&sequence, 1041)]);

    let place = Elsewhere::new(&db, &dir, "restseq_pg_to");
    let next = || place.next_value(&sequence);
    place.restore(&out, &["--create"]).success();
    assert_eq!(next().as_deref(), Some("1042"));
    place.restore(&out, &["--truncate"]).success();
    assert_eq!(
        next().as_deref(),
        Some("1043"),
        "a second restore moved it back"
    );
    // Without --create a missing sequence is named, not made.
    let bare = Elsewhere::new(&db, &dir, "restseq_pg_bare");
    let excluded = ["--create", "--exclude", sequence.as_str()];
    bare.restore(&out, &excluded).success();
    let run = bare.restore(&out, &["--truncate"]).success();
    let said = run.stderr_lines().join("\n");
    assert!(
        said.contains("is not here: restore with --create"),
        "{said}"
    );

    // Into MariaDB it is made in MariaDB's words.
    let mariadb = Elsewhere::new(&Db::My, &dir, "restseq_pg_my");
    mariadb.restore(&out, &["--create"]).success();
    assert_eq!(mariadb.next_value(&sequence).as_deref(), Some("1042"));

    let lite = Elsewhere::new(&Db::lite(&dir), &dir, "restseq_lite");
    let run = lite.restore(&out, &["--create"]).success();
    let said = run.stderr_lines().join("\n");
    assert!(
        said.contains(&format!("{sequence} (at 1041) was left out")),
        "{said}"
    );
}

/// Dumps `db`'s `prefix` tables to `out`; the manifest's sequences must
/// be `expected`, each a name and the last value handed out.
#[track_caller]
fn dump_sequences(db: &Db, prefix: &str, out: &Path, expected: &[(&str, i64)]) {
    dump_to(db, prefix, out).success();
    let listed = &crate::dump::manifest(out)["sequences"];
    let got: Vec<(&str, i64)> = listed
        .as_array()
        .unwrap_or_else(|| panic!("no sequences in the manifest: {listed}"))
        .iter()
        .map(|q| {
            (
                q["name"].as_str().unwrap(),
                q["last_value"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{listed}");
}

/// MariaDB's sequences (`CREATE SEQUENCE`) come back where the dump saw
/// them, into MariaDB and into PostgreSQL, and a second restore does not
/// move them back. MariaDB keeps no last value: the dump takes the one
/// before the first value no session has cached (with the default cache,
/// the numbers a session had cached are skipped, never handed out twice).
#[test]
fn mariadb_sequences_restore_where_they_stood_in_either_engine() {
    let dir = TempDir::new("restore-sequences-my");
    let (db, prefix) = (Db::My, "restseq_my");
    let (table, exact, cached) = (
        format!("{prefix}_t"),
        format!("{prefix}_invoice_no"),
        format!("{prefix}_ticket_no"),
    );
    let _drop = db.drop_on_exit(&table);
    let _sequences = MysqlDropOnExit(format!("DROP SEQUENCE IF EXISTS {exact}, {cached}"));
    db.exec(&format!(
        "CREATE TABLE {table} (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT); \
         INSERT INTO {table} (v) VALUES ('a'), ('b'); \
         CREATE SEQUENCE {exact} START WITH 1000 NOCACHE; \
         CREATE SEQUENCE {cached} START WITH 1 INCREMENT BY 5; \
         SELECT NEXTVAL({exact}), NEXTVAL({cached}) FROM seq_1_to_42"
    ));
    let out = dir.join("dump");
    // 42 values of 5 handed out from 1 (the last 206), 1000 cached at once.
    dump_sequences(&db, prefix, &out, &[(&exact, 1041), (&cached, 1 + 5 * 999)]);

    for target in [Db::My, Db::Pg] {
        let place = Elsewhere::new(&target, &dir, &format!("restseq_my_to_{}", target.tag()));
        place.restore(&out, &["--create"]).success();
        assert_eq!(
            place.next_value(&exact).as_deref(),
            Some("1042"),
            "{target:?}"
        );
        assert_eq!(
            place.next_value(&cached).as_deref(),
            Some("5001"),
            "{target:?}"
        );
        place.restore(&out, &["--truncate"]).success();
        assert_eq!(
            place.next_value(&exact).as_deref(),
            Some("1043"),
            "{target:?}: a second restore moved it back"
        );
    }
}
