//! The base tables of a PostgreSQL database and their definitions, from
//! `pg_catalog` (one query each for columns, indexes and foreign keys).

use anyhow::{bail, Result};

use super::Postgres;
use crate::coltype::ColType;
use crate::db::catalog::{
    referential_action, Check, ColumnSchema, ForeignKey, IndexKind, IndexSchema, Listed, Sequence,
    TableParts,
};
use crate::db::dialect::Dialect;
use crate::ident::QualifiedName;

impl Postgres {
    /// The base tables of `schema`, or of the schemas in the search path:
    /// plain and partitioned tables, not their partitions (a partitioned
    /// table's rows are read through it), views or foreign tables. Or its
    /// views and materialized views.
    pub async fn list_relations(
        &mut self,
        schema: Option<&str>,
        listed: Listed,
    ) -> Result<Vec<QualifiedName>> {
        let kinds = listed.postgres_kinds();
        let rows = self
            .client
            .query(
                "SELECT n.nspname::text, c.relname::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind::text = ANY ($2::text[]) AND NOT c.relispartition \
                   AND CASE WHEN $1::text IS NULL THEN n.nspname = ANY (current_schemas(false)) \
                            ELSE n.nspname = $1::text END \
                 ORDER BY 1, 2",
                &[&schema, &&kinds[..]],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| QualifiedName {
                schema: Some(r.get(0)),
                name: r.get(1),
            })
            .collect())
    }

    /// The sequences of `schema` (else of the search path's schemas) that
    /// no column owns: a serial's or identity's counter is the table's,
    /// set again from its rows by a restore.
    pub async fn list_sequences(&mut self, schema: Option<&str>) -> Result<Vec<Sequence>> {
        let rows = self
            .client
            .query(
                // pg_sequences would read every sequence of the database
                // where it stands, and fail on one another session drops
                // meanwhile: the OFFSET 0 fence keeps the reading to the
                // sequences chosen.
                "SELECT schema, name, data_type, seqstart, seqincrement, seqmin, seqmax, seqcycle, \
                        CASE WHEN has_sequence_privilege(oid, 'SELECT') \
                             THEN pg_sequence_last_value(oid) END, \
                        has_sequence_privilege(oid, 'SELECT') \
                 FROM (SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, \
                              format_type(s.seqtypid, NULL) AS data_type, s.seqstart, \
                              s.seqincrement, s.seqmin, s.seqmax, s.seqcycle \
                       FROM pg_sequence s \
                       JOIN pg_class c ON c.oid = s.seqrelid \
                       JOIN pg_namespace n ON n.oid = c.relnamespace \
                       WHERE CASE WHEN $1::text IS NULL \
                                  THEN n.nspname = ANY (current_schemas(false)) \
                                  ELSE n.nspname = $1::text END \
                         AND NOT EXISTS (SELECT 1 FROM pg_depend d \
                                         WHERE d.classid = 'pg_class'::regclass \
                                           AND d.objid = c.oid AND d.deptype IN ('a', 'i')) \
                       OFFSET 0) chosen \
                 ORDER BY 1, 2",
                &[&schema],
            )
            .await?;
        // The privilege of a sequence dropped while the list was read is
        // NULL: it is gone, and left out.
        let sequence = |r: &tokio_postgres::Row| {
            Some(Sequence {
                name: QualifiedName {
                    schema: Some(r.get(0)),
                    name: r.get(1),
                },
                data_type: r.get(2),
                start: r.get(3),
                increment: r.get(4),
                min: r.get(5),
                max: r.get(6),
                cycle: r.get(7),
                last_value: r.get(8),
                readable: r.get::<_, Option<bool>>(9)?,
            })
        };
        Ok(rows.iter().filter_map(sequence).collect())
    }

    pub async fn table_parts(&mut self, table: &QualifiedName) -> Result<TableParts> {
        let quoted = Dialect::Postgres.quote_qualified(table);
        let Some(oid) = self.oid_of(&quoted).await? else {
            bail!("table {} does not exist", table.display());
        };
        let columns = self
            .client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), t.typname::text, \
                        t.typcategory = 'A', t.typtype = 'e', NOT a.attnotnull, \
                        pg_get_expr(d.adbin, d.adrelid), \
                        a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid) \
                            LIKE 'nextval(%', false) \
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
                   AND a.attgenerated = '' \
                 ORDER BY a.attnum",
                &[&oid],
            )
            .await?
            .iter()
            .map(|r| {
                let auto_increment: bool = r.get(7);
                ColumnSchema {
                    name: r.get(0),
                    engine_type: r.get(1),
                    portable: ColType::postgres(r.get(2), r.get(1), r.get(3), r.get(4)),
                    nullable: r.get(5),
                    default: if auto_increment { None } else { r.get(6) },
                    auto_increment,
                }
            })
            .collect();
        // Index columns by position; 0 is an expression.
        let mut primary_key = Vec::new();
        let mut indexes = Vec::new();
        let rows = self
            .client
            .query(
                "SELECT i.relname::text, x.indisunique, x.indisprimary, \
                        x.indexprs IS NULL AND x.indpred IS NULL AND am.amname = 'btree', \
                        ARRAY(SELECT coalesce(a.attname::text, '') \
                              FROM unnest(x.indkey) WITH ORDINALITY k(n, o) \
                              LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n \
                              ORDER BY k.o), \
                        pg_get_indexdef(x.indexrelid) \
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_am am ON am.oid = i.relam \
                 WHERE x.indrelid = $1 \
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                                   WHERE c.conindid = x.indexrelid AND c.contype = 'x') \
                 ORDER BY i.relname",
                &[&oid],
            )
            .await?;
        for r in rows {
            let columns: Vec<String> = r.get(4);
            let plain: bool = r.get(3);
            if r.get::<_, bool>(2) {
                primary_key = columns;
                continue;
            }
            indexes.push(IndexSchema {
                name: r.get(0),
                columns: if plain { columns } else { Vec::new() },
                unique: r.get(1),
                definition: (!plain).then(|| after_table(r.get(5))),
                kind: IndexKind::Plain,
            });
        }
        let foreign_keys = self
            .client
            .query(
                "SELECT c.conname::text, \
                        ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) \
                              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n \
                              ORDER BY k.o), \
                        n.nspname::text, r.relname::text, \
                        ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o) \
                              JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n \
                              ORDER BY k.o), \
                        c.confdeltype::text, c.confupdtype::text \
                 FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid \
                 JOIN pg_namespace n ON n.oid = r.relnamespace \
                 WHERE c.conrelid = $1 AND c.contype = 'f' ORDER BY c.conname",
                &[&oid],
            )
            .await?
            .iter()
            .map(|r| ForeignKey {
                name: r.get(0),
                columns: r.get(1),
                references: QualifiedName {
                    schema: Some(r.get(2)),
                    name: r.get(3),
                },
                referenced_columns: r.get(4),
                on_delete: referential_action(r.get(5)),
                on_update: referential_action(r.get(6)),
            })
            .collect();
        let sql = "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
                   WHERE conrelid = $1 AND contype = 'c' ORDER BY conname";
        let rows = self.client.query(sql, &[&oid]).await?;
        let check = |r: &tokio_postgres::Row| Check {
            name: r.get(0),
            definition: r.get(1),
        };
        let checks = rows.iter().map(check).collect();
        Ok((columns, primary_key, indexes, foreign_keys, checks))
    }

    /// The server's version, for a dump's manifest: `PostgreSQL 15.19`.
    pub async fn server_version(&mut self) -> Result<String> {
        let version: String = self
            .client
            .query_one("SELECT current_setting('server_version')", &[])
            .await?
            .get(0);
        Ok(format!("PostgreSQL {version}"))
    }

    /// Where the write-ahead log stands in this transaction's snapshot
    /// (`pg_current_wal_lsn()`; on a standby, the last replayed), for a
    /// dump's manifest.
    pub async fn wal_position(&mut self) -> Result<Option<String>> {
        let row = self
            .client
            .query_one(
                "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text \
                        ELSE pg_current_wal_lsn()::text END",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }
}

/// What `pg_get_indexdef` writes after the table's name: from its
/// ` USING ` on (the method, the keys, `INCLUDE`, `WITH`, `WHERE`).
fn after_table(definition: String) -> String {
    match definition.find(" USING ") {
        Some(at) => definition[at + 1..].to_string(),
        None => definition,
    }
}
