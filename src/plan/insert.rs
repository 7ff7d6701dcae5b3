//! The SQL of one multi-row `INSERT`, per engine, with the `--on-conflict`
//! behaviour each engine spells differently.

use crate::db::dialect::Dialect;

/// How an import writes rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportStrategy {
    /// The fastest the engine has: copy on PostgreSQL, load-data on MySQL,
    /// insert on SQLite (insert wherever --on-conflict is skip or update).
    Auto,
    /// Multi-row INSERT with bound parameters.
    Insert,
    /// PostgreSQL COPY ... FROM STDIN.
    Copy,
    /// MySQL LOAD DATA LOCAL INFILE, fed from the stream (no temp file).
    LoadData,
}

/// What happens to a row whose key is already in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnConflict {
    /// Stop with an error naming the input line.
    Error,
    /// Keep the existing row.
    Skip,
    /// Replace the existing row's other columns with the input's.
    Update,
}

/// Everything an `INSERT` needs except the number of rows.
#[derive(Clone, Debug)]
pub struct Insert {
    pub dialect: Dialect,
    /// The quoted table name.
    pub table: String,
    /// Unquoted column names, in input order.
    pub columns: Vec<String>,
    /// The placeholder expression of each column, with `{}` standing for
    /// the placeholder (`{}::text::integer`, `decode({}, 'hex')`, `{}`).
    pub values: Vec<String>,
    pub on_conflict: OnConflict,
    /// Unquoted key columns, the conflict target of `--on-conflict update`.
    pub key: Vec<String>,
    /// Each column's type, for bulk paths that convert per column (MySQL
    /// `LOAD DATA` needs `BIT` columns cast).
    pub types: Vec<crate::values::TargetType>,
}

impl Insert {
    /// Whether every row carries its key, so a duplicate can be told.
    pub fn key_is_in_input(&self) -> bool {
        !self.key.is_empty() && self.key.iter().all(|k| self.columns.contains(k))
    }

    /// The same insert, leaving rows whose key is already in the table as
    /// they are (`--on-conflict update` already tolerates them).
    pub fn skipping_duplicates(&self) -> Insert {
        let on_conflict = match self.on_conflict {
            OnConflict::Error => OnConflict::Skip,
            other => other,
        };
        Insert {
            on_conflict,
            ..self.clone()
        }
    }

    /// `INSERT ... VALUES (...), (...)` for `rows` rows.
    pub fn sql(&self, rows: usize) -> String {
        let d = self.dialect;
        let columns: Vec<String> = self.columns.iter().map(|c| d.quote(c)).collect();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            columns.join(", ")
        );
        let mut n = 0;
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (i, value) in self.values.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                let placeholder = match d {
                    Dialect::Postgres => format!("${n}"),
                    Dialect::Mysql | Dialect::Sqlite => "?".to_string(),
                };
                // Only the first `{}`: a type name may hold the same two
                // characters (`"mood{}"`).
                sql.push_str(&value.replacen("{}", &placeholder, 1));
            }
            sql.push(')');
        }
        sql.push_str(&self.conflict_clause());
        sql
    }

    /// PostgreSQL's many-row `INSERT`: one text array per column, unnested
    /// side by side (`$1` holds every row's first value, and so on). The
    /// statement is the same whatever the number of rows, so it is
    /// prepared once, and the server plans a few casts instead of a
    /// `VALUES` list with a placeholder per value.
    pub fn unnest_sql(&self) -> String {
        let d = self.dialect;
        let columns: Vec<String> = self.columns.iter().map(|c| d.quote(c)).collect();
        let arrays: Vec<String> = (1..=self.columns.len())
            .map(|n| format!("${n}::text[]"))
            .collect();
        let names: Vec<String> = (1..=self.columns.len()).map(|n| format!("c{n}")).collect();
        let selected: Vec<String> = self
            .values
            .iter()
            .zip(&names)
            .map(|(value, name)| value.replacen("{}", &format!("u.{name}"), 1))
            .collect();
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS u({}){}",
            self.table,
            columns.join(", "),
            selected.join(", "),
            arrays.join(", "),
            names.join(", "),
            self.conflict_clause()
        )
    }

    fn conflict_clause(&self) -> String {
        let d = self.dialect;
        let updated: Vec<&String> = self
            .columns
            .iter()
            .filter(|c| !self.key.contains(c))
            .collect();
        // Skipping never uses MySQL's `INSERT IGNORE` or SQLite's `OR
        // IGNORE`: they also drop rows that break NOT NULL or CHECK, which
        // must stay errors. Only a duplicate key is skipped.
        match (self.on_conflict, d) {
            (OnConflict::Error, _) => String::new(),
            (OnConflict::Skip, Dialect::Postgres | Dialect::Sqlite) => {
                " ON CONFLICT DO NOTHING".into()
            }
            (OnConflict::Skip, Dialect::Mysql) => {
                format!(
                    " ON DUPLICATE KEY UPDATE {0} = {0}",
                    d.quote(&self.columns[0])
                )
            }
            (OnConflict::Update, Dialect::Mysql) => {
                // A no-op assignment keeps the statement valid when every
                // column is part of the key.
                let sets: Vec<String> = match updated.is_empty() {
                    true => vec![format!("{0} = {0}", d.quote(&self.columns[0]))],
                    false => updated
                        .iter()
                        .map(|c| format!("{0} = VALUES({0})", d.quote(c)))
                        .collect(),
                };
                format!(" ON DUPLICATE KEY UPDATE {}", sets.join(", "))
            }
            (OnConflict::Update, Dialect::Postgres | Dialect::Sqlite) => {
                let target: Vec<String> = self.key.iter().map(|k| d.quote(k)).collect();
                if updated.is_empty() {
                    return format!(" ON CONFLICT ({}) DO NOTHING", target.join(", "));
                }
                let sets: Vec<String> = updated
                    .iter()
                    .map(|c| format!("{0} = excluded.{0}", d.quote(c)))
                    .collect();
                format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    target.join(", "),
                    sets.join(", ")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(dialect: Dialect, on_conflict: OnConflict) -> Insert {
        let values = match dialect {
            Dialect::Postgres => vec!["{}::text::integer".into(), "{}::text::text".into()],
            _ => vec!["{}".into(), "{}".into()],
        };
        Insert {
            dialect,
            table: dialect.quote("t"),
            columns: vec!["id".into(), "name".into()],
            values,
            on_conflict,
            key: vec!["id".into()],
            types: vec![crate::values::TargetType::Other; 2],
        }
    }

    #[test]
    fn postgres_numbers_its_placeholders_across_rows() {
        let sql = insert(Dialect::Postgres, OnConflict::Error).sql(2);
        assert_eq!(
            sql,
            "INSERT INTO \"t\" (\"id\", \"name\") VALUES ($1::text::integer, $2::text::text), \
             ($3::text::integer, $4::text::text)"
        );
    }

    #[test]
    fn hostile_names_stay_quoted() {
        let mut insert = insert(Dialect::Postgres, OnConflict::Update);
        insert.table = Dialect::Postgres.quote("x; DROP TABLE y; --");
        insert.columns = vec!["a\"b".into(), "order".into()];
        insert.key = vec!["a\"b".into()];
        // A type whose name holds `{}` keeps it: only the placeholder is replaced.
        insert.values[1] = "{}::text::\"mood{}\"".into();
        assert_eq!(
            insert.sql(1),
            "INSERT INTO \"x; DROP TABLE y; --\" (\"a\"\"b\", \"order\") VALUES \
             ($1::text::integer, $2::text::\"mood{}\") ON CONFLICT (\"a\"\"b\") \
             DO UPDATE SET \"order\" = excluded.\"order\""
        );
    }

    #[test]
    fn postgres_unnests_one_array_per_column() {
        let mut insert = insert(Dialect::Postgres, OnConflict::Update);
        insert.table = Dialect::Postgres.quote("x; DROP TABLE y; --");
        insert.values[1] = "{}::text::\"mood{}\"".into();
        assert_eq!(
            insert.unnest_sql(),
            "INSERT INTO \"x; DROP TABLE y; --\" (\"id\", \"name\") SELECT u.c1::text::integer, \
             u.c2::text::\"mood{}\" FROM unnest($1::text[], $2::text[]) AS u(c1, c2) \
             ON CONFLICT (\"id\") DO UPDATE SET \"name\" = excluded.\"name\""
        );
    }

    #[test]
    fn conflicts_per_engine() {
        let cases = [
            (
                Dialect::Postgres,
                OnConflict::Skip,
                " ON CONFLICT DO NOTHING",
            ),
            (
                Dialect::Postgres,
                OnConflict::Update,
                " ON CONFLICT (\"id\") DO UPDATE SET \"name\" = excluded.\"name\"",
            ),
            (
                Dialect::Mysql,
                OnConflict::Skip,
                " ON DUPLICATE KEY UPDATE `id` = `id`",
            ),
            (
                Dialect::Mysql,
                OnConflict::Update,
                " ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)",
            ),
            (Dialect::Sqlite, OnConflict::Skip, " ON CONFLICT DO NOTHING"),
        ];
        for (dialect, on_conflict, end) in cases {
            let sql = insert(dialect, on_conflict).sql(1);
            assert!(sql.ends_with(end), "{dialect:?} {on_conflict:?}: {sql}");
        }
        assert_eq!(
            insert(Dialect::Sqlite, OnConflict::Error).sql(2),
            "INSERT INTO \"t\" (\"id\", \"name\") VALUES (?, ?), (?, ?)"
        );
    }
}
