//! `dbchunk dump`: a directory of table files and a manifest, on every
//! engine, judged by tools nobody here wrote (zstd, sha256sum) and by the
//! databases' own counts.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::util::db::{MysqlDropOnExit, PgDropOnExit};
use crate::util::engine::{Db, DropOnExit, Fill, Table, Ty};
use crate::util::procs::kill_when;
use crate::util::{dbchunk, decompress_file, export, tool_output, Cmd, TempDir};

/// `manifest.json` of a dump directory.
pub fn manifest(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("a manifest");
    serde_json::from_str(&text).expect("the manifest is JSON")
}

/// The manifest's entry for `table`.
fn entry<'a>(manifest: &'a serde_json::Value, table: &str) -> &'a serde_json::Value {
    manifest["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["name"] == table)
        .unwrap_or_else(|| panic!("no {table} in the manifest: {manifest:#}"))
}

/// SHA-256 of a file by coreutils' `sha256sum`.
fn sha256sum(path: &Path) -> String {
    let out = tool_output(Command::new("sha256sum").arg(path));
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .next()
        .expect("a checksum")
        .to_string()
}

/// Checks every table of the manifest against its files and the
/// database: the bytes and checksum recorded are each file's, the rows
/// are the table's (and the files' rows add up to them), and the files
/// decompressed, in order, the header of each part after the first left
/// out, are what `export` writes.
#[track_caller]
fn assert_dump_matches(db: &Db, dir: &Path, tables: &[&str]) {
    let manifest = manifest(dir);
    for &table in tables {
        let entry = entry(&manifest, table);
        let mut dumped = Vec::new();
        let mut rows = 0;
        for (i, file) in entry["files"].as_array().expect("files").iter().enumerate() {
            let path = dir.join(file["path"].as_str().expect("a path"));
            assert_eq!(
                file["bytes"],
                std::fs::metadata(&path).unwrap().len(),
                "{table}"
            );
            assert_eq!(file["sha256"], sha256sum(&path), "{table}: checksum");
            rows += file["rows"].as_u64().expect("the file's rows");
            let bytes = decompress_file("zstd", &path);
            let body = match i {
                0 => &bytes[..],
                _ => {
                    let header = bytes.iter().position(|&b| b == b'\n').expect("a header");
                    &bytes[header + 1..]
                }
            };
            dumped.extend_from_slice(body);
        }
        assert_eq!(entry["rows"], db.count(table), "{table}: rows");
        assert_eq!(entry["rows"], rows, "{table}: the files' rows");
        let exported = export(&db.url(), table).success().stdout;
        assert!(
            dumped == exported,
            "{} {table}: the dumped files are not the export's bytes",
            db.name()
        );
    }
}

/// `dump` of the tables named `PREFIX_*` into `out`.
pub fn dump_to(db: &Db, prefix: &str, out: &Path) -> Cmd {
    dbchunk([
        "dump",
        "--url",
        &db.url(),
        "--tables",
        &format!("{prefix}_*"),
    ])
    .arg("-o")
    .arg(out)
}

/// A parent (51 rows) and a child table with a foreign key, `rows`
/// children, and the guards that drop them when the test ends.
pub fn family(db: &Db, prefix: &str, rows: u64) -> ([String; 2], [DropOnExit; 2]) {
    let parent = format!("{prefix}_parent");
    let child = format!("{prefix}_child");
    // The child goes first: it points at the parent. Made before the
    // tables, so a failure while filling them drops them too.
    let guards = [db.drop_on_exit(&child), db.drop_on_exit(&parent)];
    db.exec(&format!("DROP TABLE IF EXISTS {child}"));
    Table::id_v(&parent)
        .create(db)
        .fill(db, 0..=50, &[Fill::Id, Fill::Prefixed("v")]);
    db.create(
        &child,
        &format!(
            "id INT PRIMARY KEY, parent_id INT REFERENCES {parent}(id), note VARCHAR(40), \
             at TIMESTAMP NULL"
        ),
    );
    let note = Fill::Prefixed("n");
    Table::new(&child)
        .key("id", Ty::Int)
        .col("parent_id", Ty::Int)
        .col("note", Ty::Varchar(40))
        .col("at", Ty::Timestamp)
        .fill(
            db,
            1..=rows,
            &[Fill::Id, Fill::Modulo(50), note, Fill::Seconds],
        );
    ([parent, child], guards)
}

#[test]
fn dump_writes_every_table_a_checksum_and_the_manifest_last() {
    let dir = TempDir::new("dump-basic");
    for db in Db::all(&dir) {
        let prefix = format!("dumpbasic_{}", db.tag());
        let ([parent, child], _drop) = family(&db, &prefix, 2_000);
        let out = dir.join(&format!("out-{}", db.tag()));
        let run = dump_to(&db, &prefix, &out)
            .args(["--jobs", "2", "--stats"])
            .success();
        let stats: serde_json::Value =
            serde_json::from_str(run.stderr_lines().last().expect("stats")).expect("JSON stats");
        assert_eq!(stats["tables"], 2, "{}", db.name());
        assert_eq!(stats["rows"], 2_051, "{}", db.name());
        let mut files: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let schema = if let Db::Pg = db { "public." } else { "" };
        let mut expected = vec![
            format!("{schema}{child}.csv.zst"),
            format!("{schema}{parent}.csv.zst"),
            "manifest.json".to_string(),
        ];
        expected.sort();
        assert_eq!(
            files,
            expected,
            "{}: table files and the manifest, no journal or temporary file",
            db.name()
        );
        assert_dump_matches(&db, &out, &[&parent, &child]);
        let manifest = manifest(&out);
        assert_eq!(manifest["point"]["consistent"], true);
        let child_entry = entry(&manifest, &child);
        assert_eq!(child_entry["primary_key"], serde_json::json!(["id"]));
        let fk = &child_entry["foreign_keys"][0];
        assert_eq!(fk["references"]["name"], parent.as_str(), "{}", db.name());
        assert_eq!(fk["columns"], serde_json::json!(["parent_id"]));
        let columns = child_entry["columns"].as_array().unwrap();
        assert_eq!(columns.len(), 4);
        assert_eq!(columns[2]["portable"], "text", "{}", db.name());
        // SQLite lets a primary key that is not INTEGER hold NULL, unless
        // declared NOT NULL: the manifest says what the engine allows.
        let nullable = matches!(db, Db::Lite(_));
        assert_eq!(columns[0]["nullable"], nullable, "{}", db.name());
    }
}

#[test]
fn dump_never_writes_over_a_complete_or_unfinished_dump() {
    let dir = TempDir::new("dump-refuses");
    let db = Db::lite(&dir);
    Table::id_v("refused").create(&db).numbered(&db, 10);
    let out = dir.join("out");
    let dump = || dbchunk(["dump", "--url", &db.url()]).arg("-o").arg(&out);
    dump().success();
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    let line = dump().fails(2).one_error_line().to_string();
    assert!(line.contains("holds a complete dump"), "{line}");
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);

    std::fs::remove_file(out.join("manifest.json")).unwrap();
    std::fs::write(out.join("dump.journal"), "").unwrap();
    let line = dump().fails(2).one_error_line().to_string();
    assert!(
        line.contains("unfinished dump") && line.contains("--resume"),
        "{line}"
    );

    let other = dir.join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "mine").unwrap();
    let run = dbchunk(["dump", "--url", &db.url()])
        .arg("-o")
        .arg(&other)
        .fails(2);
    assert!(run.one_error_line().contains("not empty"));
    assert_eq!(
        std::fs::read_to_string(other.join("keep.txt")).unwrap(),
        "mine"
    );

    let run = dbchunk(["dump", "--url", &db.url(), "--tables", "missing"])
        .arg("-o")
        .arg(dir.join("third"))
        .fails(2);
    assert!(
        run.one_error_line().contains("\"missing\""),
        "{}",
        run.one_error_line()
    );
}

/// Two tables whose sum stays the same in every committed state: a
/// writer moves amounts from one to the other while the dump runs. Read
/// in one snapshot, the two files add up; read at two moments, they
/// would not.
#[test]
fn dump_reads_every_table_in_one_snapshot_while_others_write() {
    for db in Db::servers() {
        let prefix = format!("dumpsnap_{}", db.tag());
        let [left, right] = [format!("{prefix}_left"), format!("{prefix}_right")];
        let _drop = [db.drop_on_exit(&left), db.drop_on_exit(&right)];
        for table in [&left, &right] {
            Table::new(table)
                .key("id", Ty::Int)
                .col("amount", Ty::BigInt)
                .create(&db)
                .fill(&db, 1..=100_000, &[Fill::Id, Fill::Literal("1000")]);
        }
        let writing = Arc::new(AtomicBool::new(true));
        let writer = {
            let (db, writing) = (db.clone(), writing.clone());
            let (left, right) = (left.clone(), right.clone());
            std::thread::spawn(move || {
                let mut moves = 0u64;
                while writing.load(Ordering::Relaxed) {
                    let id = moves % 100_000 + 1;
                    db.exec(&format!(
                        "BEGIN; UPDATE {left} SET amount = amount - 7 WHERE id = {id}; \
                         UPDATE {right} SET amount = amount + 7 WHERE id = {id}; COMMIT"
                    ));
                    moves += 1;
                }
                moves
            })
        };
        std::thread::sleep(Duration::from_millis(200));
        let out = TempDir::new(&format!("dump-snapshot-{}", db.tag()));
        let target = out.join("dump");
        dump_to(&db, &prefix, &target)
            .args(["--jobs", "2"])
            .success();
        writing.store(false, Ordering::Relaxed);
        let moves = writer.join().unwrap();
        assert!(moves > 0, "the writer moved nothing");
        let manifest = manifest(&target);
        let sum: i64 = [&left, &right]
            .iter()
            .map(|table| {
                let path = target.join(
                    entry(&manifest, table)["files"][0]["path"]
                        .as_str()
                        .unwrap(),
                );
                let text = String::from_utf8(decompress_file("zstd", &path)).unwrap();
                text.lines()
                    .skip(1)
                    .map(|line| line.split(',').nth(1).unwrap().parse::<i64>().unwrap())
                    .sum::<i64>()
            })
            .sum();
        assert_eq!(
            sum,
            2 * 100_000 * 1000,
            "{}: the tables were read at different points",
            db.name()
        );
    }
}

/// A dump killed with SIGKILL leaves no manifest; `--resume` keeps the
/// tables whose files check out, dumps the others again (a file changed
/// since is one of them), and ends with the same files a fresh dump writes.
#[test]
fn a_killed_dump_resumes_keeping_the_finished_tables() {
    let db = Db::Pg;
    let prefix = "dumpkill_pg";
    let big = format!("{prefix}_big");
    let small: Vec<String> = (1..=3).map(|i| format!("{prefix}_small{i}")).collect();
    let mut guards = vec![db.drop_on_exit(&big)];
    Table::id_v(&big).create(&db).numbered(&db, 400_000);
    for table in &small {
        guards.push(db.drop_on_exit(table));
        Table::id_v(table).create(&db).numbered(&db, 1_000);
    }
    let dir = TempDir::new("dump-kill");
    let out = dir.join("dump");
    let args = |extra: &[&str]| {
        dump_to(&db, prefix, &out)
            .args(["--jobs", "1"])
            .args(extra.to_vec())
    };
    // The small tables go last (largest first): kill once one is done.
    let journal = out.join("dump.journal");
    kill_when(args(&[]).spawn(), "the dump", || {
        std::fs::read_to_string(&journal).is_ok_and(|j| j.lines().count() >= 2)
    });
    assert!(
        !out.join("manifest.json").exists(),
        "a killed dump must not look complete"
    );
    // A kept file changed since: its checksum no longer matches.
    let kept: Vec<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            entry["files"][0]["path"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(kept.len() >= 2, "{kept:?}");
    std::fs::write(out.join(&kept[1]), b"changed").unwrap();
    let run = args(&["--resume"]).success();
    let said = run.stderr_lines().join("\n");
    assert!(
        said.contains(&format!("{} tables already complete", kept.len() - 1)),
        "{said}"
    );
    let mut tables: Vec<&str> = small.iter().map(String::as_str).collect();
    tables.push(&big);
    assert_dump_matches(&db, &out, &tables);
    assert!(
        !journal.exists(),
        "the journal goes once the manifest is written"
    );
    assert_eq!(
        manifest(&out)["point"]["consistent"],
        false,
        "resumed across two snapshots"
    );
}

/// The paths of a table's files, in the manifest's order.
fn file_paths(manifest: &serde_json::Value, table: &str) -> Vec<String> {
    entry(manifest, table)["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("a path").to_string())
        .collect()
}

/// With `--part-rows`, a table of more rows is cut into key ranges, each
/// a file (`NAME.00001.csv.zst`, ...) read by a job of its own, listed in
/// key order in the manifest; their rows in order are the export's. A
/// table of fewer rows stays one file.
#[test]
fn dump_cuts_a_big_table_into_parts_on_every_engine() {
    let dir = TempDir::new("dump-parts");
    for db in Db::all(&dir) {
        let prefix = format!("dumpparts_{}", db.tag());
        let ([parent, child], _drop) = family(&db, &prefix, 5_000);
        analyze(&db, &child);
        let out = dir.join(&format!("out-{}", db.tag()));
        dump_to(&db, &prefix, &out)
            .args(["--jobs", "2", "--part-rows", "1000"])
            .success();
        let manifest = manifest(&out);
        let schema = if let Db::Pg = db { "public." } else { "" };
        let parts = file_paths(&manifest, &child);
        assert!(
            (3..=8).contains(&parts.len()),
            "{}: about 5 parts of 1,000 rows: {parts:?}",
            db.name()
        );
        for (i, path) in parts.iter().enumerate() {
            assert_eq!(path, &format!("{schema}{child}.{:05}.csv.zst", i + 1));
        }
        assert_eq!(
            file_paths(&manifest, &parent),
            [format!("{schema}{parent}.csv.zst")]
        );
        assert_dump_matches(&db, &out, &[&parent, &child]);
        assert_eq!(manifest["point"]["consistent"], true);
    }
}

/// A dump of a table in parts killed with SIGKILL: `--resume` keeps the
/// parts whose files check out (one changed since is dumped again), reads
/// the same key ranges for the others, and ends with the files a fresh
/// dump writes.
#[test]
fn a_killed_dump_resumes_keeping_the_finished_parts() {
    let db = Db::My;
    let prefix = "dumpkillparts_my";
    let big = format!("{prefix}_big");
    let _guard = db.drop_on_exit(&big);
    Table::id_v(&big).create(&db).numbered(&db, 400_000);
    analyze(&db, &big);
    let dir = TempDir::new("dump-kill-parts");
    let out = dir.join("dump");
    let args = |extra: &[&str]| {
        dump_to(&db, prefix, &out)
            .args(["--jobs", "1", "--part-rows", "40000"])
            .args(extra.to_vec())
    };
    let child = args(&[]).spawn();
    let journal = out.join("dump.journal");
    let parts_done = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&journal)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|line| line.get("part_of").is_some())
            .collect()
    };
    kill_when(child, "the dump", || parts_done().len() >= 2);
    assert!(!out.join("manifest.json").exists());
    let cuts: Vec<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter(|line| line.contains("\"cuts_of\""))
        .map(str::to_string)
        .collect();
    assert_eq!(
        cuts.len(),
        1,
        "the cuts are in the journal before the parts"
    );
    let kept = parts_done();
    let changed = kept[1]["file"]["path"].as_str().unwrap();
    std::fs::write(out.join(changed), b"changed").unwrap();
    let run = args(&["--resume"]).success();
    let said = run.stderr_lines().join("\n");
    assert!(
        said.contains(&format!(
            "0 tables and {} parts of tables already complete",
            kept.len() - 1
        )),
        "{said}"
    );
    assert_dump_matches(&db, &out, &[&big]);
    let manifest = manifest(&out);
    let parts = file_paths(&manifest, &big);
    assert!(parts.len() >= 5, "{parts:?}");
    for line in &kept {
        let number = line["part"].as_u64().unwrap() as usize;
        assert_eq!(parts[number], line["file"]["path"].as_str().unwrap());
    }
    assert!(!journal.exists());
    assert_eq!(manifest["point"]["consistent"], false);
}

/// A PostgreSQL table without a key is cut by its pages: each part a
/// range of them, the parts' rows in order the export's (storage order,
/// after an update has moved rows). Killed half-way, `--resume` keeps
/// none of its parts (a row may have moved between pages since) and
/// dumps them all again: every row once.
#[test]
fn dump_cuts_a_table_without_a_key_by_its_pages() {
    let (db, prefix) = (Db::Pg, "dumppages_pg");
    let table = format!("{prefix}_log");
    let _drop = db.drop_on_exit(&table);
    db.exec(&format!(
        "CREATE TABLE {table} (at int, what text); \
         INSERT INTO {table} SELECT g, repeat('z', g % 40) FROM generate_series(1, 300000) g; \
         UPDATE {table} SET what = 'moved' WHERE at % 9 = 0"
    ));
    analyze(&db, &table);
    let dir = TempDir::new("dump-pages");
    let whole = dir.join("whole");
    dump_to(&db, prefix, &whole)
        .args(["--jobs", "2", "--part-rows", "60000"])
        .success();
    let parts = file_paths(&manifest(&whole), &table);
    assert!((4..=6).contains(&parts.len()), "about 5 parts: {parts:?}");
    assert_dump_matches(&db, &whole, &[&table]);

    let out = dir.join("killed");
    let one_job = || dump_to(&db, prefix, &out).args(["--jobs", "1", "--part-rows", "20000"]);
    let journal = out.join("dump.journal");
    let part_done = || std::fs::read_to_string(&journal).is_ok_and(|j| j.contains("\"part_of\""));
    kill_when(one_job().spawn(), "the dump", part_done);
    assert!(!out.join("manifest.json").exists());
    let said = one_job()
        .arg("--resume")
        .success()
        .stderr_lines()
        .join("\n");
    assert!(!said.contains("already complete"), "{said}");
    assert_dump_matches(&db, &out, &[&table]);
}

/// Fresh statistics, so the planner's estimate (which sets the parts) is
/// the table's rows.
pub fn analyze(db: &Db, table: &str) {
    match db {
        Db::My => db.exec(&format!("ANALYZE TABLE {table}")),
        _ => db.exec(&format!("ANALYZE {table}")),
    }
}

/// A sequence the dumping user may not read is named in a warning and
/// left out of the manifest: where it stands cannot be told, and restored
/// from its start it would hand out numbers again. The sequences the
/// user may read are in it.
#[test]
fn a_sequence_the_user_may_not_read_is_named_not_dumped() {
    let (db, prefix) = (Db::Pg, "dumpseqgrant_pg");
    let (table, hidden, shown) = table_hidden_shown(prefix);
    let role = format!("{prefix}_reader");
    // The role goes last, once nothing is granted to it.
    let _role = PgDropOnExit(format!(
        "DROP SEQUENCE IF EXISTS {hidden}, {shown}; DROP TABLE IF EXISTS {table}; \
         DROP ROLE IF EXISTS {role}"
    ));
    db.exec(&format!(
        "CREATE TABLE {table} (id int PRIMARY KEY); \
         CREATE SEQUENCE {hidden}; CREATE SEQUENCE {shown}; \
         SELECT nextval('{hidden}'), nextval('{shown}'); \
         DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN; \
         GRANT SELECT ON {table} TO {role}; GRANT SELECT ON SEQUENCE {shown} TO {role}"
    ));
    let url = db.url().replacen("postgres@", &format!("{role}@"), 1);
    assert_unread_sequence_left_out(&url, prefix, &format!("public.{hidden}"), &shown, &[]);
}

/// As [`a_sequence_the_user_may_not_read_is_named_not_dumped`], with
/// MariaDB's sequences: a user without SELECT on one gets a warning for
/// it, where any other failure to read it would fail the dump. (One the
/// user has no privilege on at all is not in its `information_schema`,
/// as such a table is not.)
#[test]
fn a_mariadb_sequence_the_user_may_not_read_is_named_not_dumped() {
    let (db, prefix) = (Db::My, "dumpseqgrant_my");
    let (table, hidden, shown) = table_hidden_shown(prefix);
    let user = format!("'{prefix}_reader'@'%'");
    let _user = MysqlDropOnExit(format!(
        "DROP SEQUENCE IF EXISTS {hidden}, {shown}; DROP TABLE IF EXISTS {table}; \
         DROP USER IF EXISTS {user}"
    ));
    let database = db.text("SELECT DATABASE()").unwrap();
    db.exec(&format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY); \
         CREATE SEQUENCE {hidden}; CREATE SEQUENCE {shown}; \
         SELECT NEXTVAL({hidden}), NEXTVAL({shown}); \
         DROP USER IF EXISTS {user}; CREATE USER {user}; \
         GRANT SELECT ON {database}.{table} TO {user}; \
         GRANT SELECT ON {database}.{shown} TO {user}; \
         GRANT INSERT ON {database}.{hidden} TO {user}"
    ));
    let url = db.url().replacen("root@", &format!("{prefix}_reader@"), 1);
    // Without RELOAD, no global read lock: --no-lock.
    assert_unread_sequence_left_out(&url, prefix, &hidden, &shown, &["--no-lock"]);
}

/// The names of a grant test's table and of its two sequences: the one
/// its user may not read, and the one it may.
fn table_hidden_shown(prefix: &str) -> (String, String, String) {
    let name = |what: &str| format!("{prefix}_{what}");
    (name("t"), name("hidden"), name("shown"))
}

/// Dumps the `prefix` tables at `url` as a user who may read `shown` but
/// not `hidden` (named as the warning names it): only `shown` is dumped.
#[track_caller]
fn assert_unread_sequence_left_out(
    url: &str,
    prefix: &str,
    hidden: &str,
    shown: &str,
    extra: &[&str],
) {
    let dir = TempDir::new("dump-sequence-grant");
    let out = dir.join("dump");
    let run = dbchunk(["dump", "--url", url, "--tables", &format!("{prefix}_*")])
        .args(extra.to_vec())
        .arg("-o")
        .arg(&out)
        .success();
    let said = run.stderr_lines().join("\n");
    assert!(
        said.contains(&format!("sequence {hidden} is not dumped")),
        "{said}"
    );
    let names: Vec<String> = manifest(&out)["sequences"]
        .as_array()
        .expect("sequences")
        .iter()
        .map(|s| s["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, [shown]);
}

/// A view is not dumped, and the dump says so, naming it (a materialized
/// view too, on PostgreSQL), unless `--exclude` leaves it out.
#[test]
fn views_are_named_not_dumped() {
    let dir = TempDir::new("dump-views");
    for (db, table, _drop) in Db::all_tables(&dir, "dumpview") {
        let view = format!("{table}_v");
        db.exec(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id INT PRIMARY KEY); \
             INSERT INTO {table} VALUES (1), (2); \
             CREATE VIEW {view} AS SELECT id FROM {table} WHERE id > 1"
        ));
        let mut views = vec![view.clone()];
        if let Db::Pg = db {
            db.exec(&format!(
                "CREATE MATERIALIZED VIEW {table}_mv AS SELECT id FROM {table}"
            ));
            views.push(format!("{table}_mv"));
        }
        // Dropped before the table, which they read.
        let drop = match db {
            Db::Pg => format!("DROP MATERIALIZED VIEW {table}_mv; DROP VIEW {view}"),
            _ => format!("DROP VIEW {view}"),
        };
        let _views = match db {
            Db::Pg => DropOnExit::Pg(PgDropOnExit(drop)),
            Db::My => DropOnExit::My(MysqlDropOnExit(drop)),
            Db::Lite(_) => DropOnExit::Nothing,
        };
        let out = dir.join(&format!("{}-all", db.tag()));
        let run = dump_to(&db, "dumpview", &out).success();
        let said = run.stderr_lines().join("\n");
        for view in &views {
            assert!(
                said.contains(view.as_str()),
                "{db:?}: {view} not named: {said}"
            );
        }
        assert!(said.contains("views are not dumped"), "{db:?}: {said}");
        let listed = manifest(&out)["tables"].as_array().unwrap().len();
        assert_eq!(listed, 1, "{db:?}: only the table is dumped");

        let out = dir.join(&format!("{}-excluded", db.tag()));
        let run = dump_to(&db, "dumpview", &out)
            .args(["--exclude", &format!("{table}_*")])
            .success();
        let said = run.stderr_lines().join("\n");
        assert!(!said.contains("views are not dumped"), "{db:?}: {said}");
    }
}
