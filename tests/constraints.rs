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
