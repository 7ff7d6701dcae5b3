//! CHECK constraints through a dump and a restore: made again into the
//! same engine, named and left out elsewhere.

use crate::dump::dump_to;
use crate::restore::Elsewhere;
use crate::util::engine::Db;
use crate::util::{import, TempDir};

/// The table's CHECK constraints, `name definition;...`, as the engine
/// shows them (`database` a quoted SQL string on MySQL; `relation` the
/// table as PostgreSQL names it).
fn checks(db: &Db, database: &str, relation: &str, table: &str) -> Option<String> {
    match db {
        Db::Pg => db.text(&format!(
            "SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ';' ORDER BY conname) \
             FROM pg_constraint WHERE conrelid = '{relation}'::regclass AND contype = 'c'"
        )),
        _ => db.text(&format!(
            "SELECT GROUP_CONCAT(CONCAT(CONSTRAINT_NAME, ' ', CHECK_CLAUSE) ORDER BY \
             CONSTRAINT_NAME SEPARATOR ';') FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = {database} AND TABLE_NAME = '{table}'"
        )),
    }
}

/// A table with a column check, a named table check and (on MariaDB) a
/// JSON column, whose json_valid check comes back with the `json` type:
/// restored into the same engine, the checks are the source's, and a row
/// that breaks one is refused there as in the source. Into SQLite they
/// are left out, each named in a warning.
#[test]
fn checks_restore_into_the_same_engine_and_are_named_elsewhere() {
    let dir = TempDir::new("restore-checks");
    for db in Db::servers() {
        let prefix = format!("restchecks_{}", db.tag());
        let table = format!("{prefix}_t");
        let _drop = db.drop_on_exit(&table);
        db.create(
            &table,
            "id INT PRIMARY KEY, n INT CHECK (n > 0), m INT, j JSON, \
             CONSTRAINT m_small CHECK (m < 100)",
        );
        db.exec(&format!(
            "INSERT INTO {table} VALUES (1, 5, 7, '{{\"a\": 1}}')"
        ));
        let out = dir.join(&format!("dump-{}", db.tag()));
        dump_to(&db, &prefix, &out).success();
        let place = Elsewhere::new(&db, &dir, &format!("restchecks_{}_to", db.tag()));
        place.restore(&out, &["--create"]).success();
        let there = place.name(&table);
        let schema = format!("'{}'", place.schema.as_deref().unwrap());
        let source = checks(&db, "DATABASE()", &table, &table);
        assert!(
            source.as_deref().is_some_and(|c| c.contains("m_small")),
            "{source:?}"
        );
        assert_eq!(
            checks(&db, &schema, &there, &table),
            source,
            "{}",
            db.name()
        );
        for bad in ["2,-1,7,", "3,5,500,"] {
            import(&place.url, &there)
                .stdin(format!("id,n,m,j\n{bad}\n"))
                .fails(1);
        }
        import(&place.url, &there)
            .stdin("id,n,m,j\n4,5,7,\n")
            .success();

        let lite = Elsewhere::new(
            &Db::lite(&dir),
            &dir,
            &format!("restchecks_{}_lite", db.tag()),
        );
        let run = lite.restore(&out, &["--create"]).success();
        let said = run.stderr_lines().join("\n");
        assert!(said.contains("check constraint m_small"), "{said}");
    }
}

/// SQLite keeps its checks only in the `CREATE TABLE` text: a column's
/// check, a named table check and one whose expression holds a `)` in a
/// string (beside a comment that mentions CHECK) are made again into
/// another SQLite file, where a row that breaks each is refused, and are
/// named in a warning going into PostgreSQL.
#[test]
fn sqlite_checks_restore_into_sqlite_from_the_create_table_text() {
    let dir = TempDir::new("restore-checks-lite");
    let db = Db::lite(&dir);
    let table = "restchecks_lite_t";
    db.exec(&format!(
        "CREATE TABLE {table} (id INTEGER PRIMARY KEY, n INT CHECK (n > 0), \
         s TEXT CHECK (s <> ')') /* not CHECK (s = 'x') */, m INT, \
         CONSTRAINT \"m small\" CHECK (m < 100)); \
         INSERT INTO {table} VALUES (1, 5, 'a', 7)"
    ));
    let out = dir.join("dump");
    dump_to(&db, "restchecks_lite", &out).success();
    let place = Elsewhere::new(&db, &dir, "restchecks_lite_to");
    place.restore(&out, &["--create"]).success();
    let made = place
        .db
        .text(&format!(
            "SELECT sql FROM sqlite_schema WHERE name = '{table}'"
        ))
        .unwrap_or_default();
    for check in [
        "CHECK (n > 0)", "CHECK (s <> ')')", "\"m small\" CHECK (m < 100)",
    ] {
        assert!(made.contains(check), "{check} is not in {made}");
    }
    assert!(!made.contains("s = 'x'"), "{made}");
    for bad in ["2,-1,a,7", "3,5,),7", "4,5,a,500"] {
        import(&place.url, table)
            .stdin(format!("id,n,s,m\n{bad}\n"))
            .fails(1);
    }
    import(&place.url, table)
        .stdin("id,n,s,m\n5,5,b,7\n")
        .success();

    let pg = Elsewhere::new(&Db::Pg, &dir, "restchecks_lite_pg");
    let run = pg.restore(&out, &["--create"]).success();
    let said = run.stderr_lines().join("\n");
    assert!(said.contains("check constraint m small"), "{said}");
}
