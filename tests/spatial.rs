//! MySQL's spatial columns, and its spatial and full-text indexes, through
//! a dump and a restore into every engine (and PostgreSQL with PostGIS).

use crate::dump::dump_to;
use crate::restore::Elsewhere;
use crate::util::db::{pg_exec_at, pg_gis_url, pg_query_text_at, DropOnExitAt};
use crate::util::engine::{Db, DropOnExit};
use crate::util::{dbchunk, TempDir};

/// A MariaDB table `PREFIX_g` with spatial columns, a spatial index and
/// a full-text one, dumped into a directory of the test's own: the
/// directory, the dump, and the guard that drops the table.
fn spatial_dump(prefix: &str) -> (TempDir, std::path::PathBuf, DropOnExit) {
    let (dir, db, table) = (TempDir::new(prefix), Db::My, format!("{prefix}_g"));
    let drop = db.drop_on_exit(&table);
    db.create(
        &table,
        "id INT PRIMARY KEY, p POINT, g GEOMETRY NOT NULL, note VARCHAR(100), \
         SPATIAL KEY sp (g), FULLTEXT KEY ft (note)",
    );
    db.exec(&format!(
        "INSERT INTO {table} VALUES \
         (1, ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('LINESTRING(0 0,1 1)'), 'one'), \
         (2, NULL, ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 0))', 4326), NULL)"
    ));
    let out = dir.join("dump");
    dump_to(&db, prefix, &out).success();
    (dir, out, drop)
}

/// Drops `schema` of the PostGIS database at `url` when the test ends,
/// also when it fails.
fn dropped_at_exit(url: &str, schema: &str) -> DropOnExitAt {
    DropOnExitAt {
        url: url.to_string(),
        sql: format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
    }
}

/// MySQL's spatial columns restore into MySQL as they were: an export
/// writes the stored bytes (the SRID, then the WKB) in hex, and they load
/// back as bytes (they used to go in as text, which MySQL refused), with
/// their spatial and full-text indexes (they were made plain indexes,
/// which failed). Into PostgreSQL and SQLite they become a binary column
/// holding the WKB, as MariaDB's own `ST_AsWKB` writes it, and the two
/// indexes are left out with a warning.
#[test]
fn spatial_columns_restore_into_mysql_and_as_wkb_elsewhere() {
    let (db, table) = (Db::My, "restspatial_my_g");
    let (dir, out, _drop) = spatial_dump("restspatial_my");
    let place = Elsewhere::new(&db, &dir, "restspatial_my_to");
    place.restore(&out, &["--create"]).success();
    place.assert_exports_as(&db, &[table.to_string()], "a spatial table");
    let shape = place.db.text(&format!(
        "SELECT ST_AsText(g) FROM {} WHERE id = 2",
        place.name(table)
    ));
    assert_eq!(shape.as_deref(), Some("POLYGON((0 0,1 0,1 1,0 0))"));
    let kinds = |database: &str| {
        db.text(&format!(
            "SELECT GROUP_CONCAT(CONCAT(INDEX_NAME, ' ', INDEX_TYPE) ORDER BY INDEX_NAME) FROM \
             information_schema.STATISTICS WHERE TABLE_SCHEMA = {database} AND TABLE_NAME = \
             '{table}'"
        ))
    };
    let there = format!("'{}'", place.schema.as_deref().unwrap());
    assert_eq!(kinds(&there), kinds("DATABASE()"), "the indexes' kinds");
    assert_eq!(
        kinds(&there).as_deref(),
        Some("ft FULLTEXT,PRIMARY BTREE,sp SPATIAL")
    );

    let wkb = |column: &str| db.rows(table, &["id", &format!("LOWER(HEX(ST_AsWKB({column})))")]);
    for (there, hex) in [
        (Db::Pg, "encode({}, 'hex')"),
        (Db::lite(&dir), "NULLIF(LOWER(HEX({})), '')"),
    ] {
        let place = Elsewhere::new(&there, &dir, "restspatial_my_wkb");
        let run = place.restore(&out, &["--create"]).success();
        let said = run.stderr_lines().join("\n");
        for index in ["spatial index sp", "fulltext index ft"] {
            assert!(said.contains(index), "{}: {said}", there.name());
        }
        let name = place.name(table);
        for column in ["p", "g"] {
            let bytes = hex.replace("{}", column);
            let what = format!("{}: column {column} holds the WKB", there.name());
            assert_eq!(place.db.rows(&name, &["id", &bytes]), wkb(column), "{what}");
        }
    }
}

/// Into PostgreSQL with PostGIS: geometry columns with MySQL's shapes and
/// SRIDs, and the spatial index as a GiST one.
#[test]
fn spatial_columns_restore_into_postgis_with_their_srids() {
    let (db, table) = (Db::My, "restgis_my_g");
    let (_dir, out, _drop) = spatial_dump("restgis_my");
    let gis = pg_gis_url();
    let schema = "restspatial_gis";
    let _schema = dropped_at_exit(&gis, schema);
    pg_exec_at(
        &gis,
        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
    );
    dbchunk(["restore", "--url", &gis, "--create", "--schema", schema])
        .arg(&out)
        .success();
    let there = |sql: &str| pg_query_text_at(&gis, &format!("{sql} FROM {schema}.{table}"));
    let here = |sql: &str| db.text(&format!("{sql} FROM {table}"));
    for column in ["p", "g"] {
        let shapes = format!(
            "SELECT GROUP_CONCAT(CONCAT_WS(' ', id, ST_SRID({column}), ST_AsText({column})) \
             ORDER BY id SEPARATOR ';')"
        );
        assert_eq!(
            there(&format!(
                "SELECT string_agg(concat_ws(' ', id, ST_SRID({column}), ST_AsText({column})), \
                 ';' ORDER BY id)"
            )),
            here(&shapes),
            "PostGIS: column {column}"
        );
        let ty = pg_query_text_at(
            &gis,
            &format!(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = \
                 '{schema}.{table}'::regclass AND attname = '{column}'"
            ),
        );
        assert_eq!(
            ty.as_deref(),
            Some("geometry"),
            "PostGIS: column {column}'s type"
        );
    }
    let index = pg_query_text_at(
        &gis,
        &format!(
            "SELECT string_agg(indexdef, ';') FROM pg_indexes WHERE schemaname = '{schema}' \
             AND indexdef LIKE '%USING gist%'"
        ),
    );
    assert!(
        index
            .as_deref()
            .is_some_and(|i| i.ends_with("USING gist (g)")),
        "{index:?}"
    );
}

/// PostGIS's geometry columns restore into MySQL as geometry, with the
/// same shapes and SRIDs, and into SQLite as the WKB, as PostGIS's own
/// `ST_AsBinary` writes it.
#[test]
fn postgis_columns_restore_into_mysql_and_as_wkb_into_sqlite() {
    let dir = TempDir::new("restore-from-postgis");
    let gis = pg_gis_url();
    let (schema, table) = ("restfromgis", "shapes");
    let _schema = dropped_at_exit(&gis, schema);
    pg_exec_at(
        &gis,
        &format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; \
             CREATE TABLE {schema}.{table} (id int PRIMARY KEY, p geometry(Point, 4326), \
             g geometry); \
             INSERT INTO {schema}.{table} VALUES \
             (1, 'SRID=4326;POINT(1 2)', 'LINESTRING(0 0,1 1)'), \
             (2, NULL, 'SRID=3857;POLYGON((0 0,1 0,1 1,0 0))'); \
             CREATE INDEX ON {schema}.{table} USING gist (g)"
        ),
    );
    let out = dir.join("dump");
    dbchunk(["dump", "--url", &gis, "--schema", schema, "-o"])
        .arg(&out)
        .success();
    let in_postgis = |sql: &str| pg_query_text_at(&gis, &format!("{sql} FROM {schema}.{table}"));

    let my = Elsewhere::new(&Db::My, &dir, "restfromgis_my");
    my.restore(&out, &["--create"]).success();
    let lite = Elsewhere::new(&Db::lite(&dir), &dir, "restfromgis_lite");
    lite.restore(&out, &["--create"]).success();
    for column in ["p", "g"] {
        let shapes = format!(
            "SELECT GROUP_CONCAT(CONCAT_WS(' ', id, ST_SRID({column}), ST_AsText({column})) \
             ORDER BY id SEPARATOR ';') FROM {}",
            my.name(table)
        );
        assert_eq!(
            my.db.text(&shapes),
            in_postgis(&format!(
                "SELECT string_agg(concat_ws(' ', id, ST_SRID({column}), ST_AsText({column})), \
                 ';' ORDER BY id)"
            )),
            "MariaDB: column {column}"
        );
        let wkb = format!("NULLIF(LOWER(HEX({column})), '')");
        assert_eq!(
            Some(lite.db.rows(table, &["id", &wkb])),
            in_postgis(&format!(
                "SELECT string_agg(concat_ws('|', id, coalesce(encode(ST_AsBinary({column}), \
                 'hex'), '<NULL>')), ';' ORDER BY id)"
            )),
            "SQLite: column {column}"
        );
    }
}
