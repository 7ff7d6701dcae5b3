//! The SQL that makes a dumped sequence again and moves it to where the
//! dump saw it, in PostgreSQL's words or MariaDB's (MySQL and SQLite have
//! no sequences).

use crate::db::catalog::Sequence;

/// The engines with sequences of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceSql {
    Postgres,
    Mariadb,
}

/// MariaDB's bounds, one inside a 64-bit integer's at each end (its
/// `CREATE SEQUENCE` refuses PostgreSQL's `bigint` extremes).
const MARIADB_MIN: i64 = i64::MIN + 1;
const MARIADB_MAX: i64 = i64::MAX - 1;

impl SequenceSql {
    /// The engine's SQL for a MySQL-family server, from its version as
    /// [`crate::db::Db::server_version`] names it (`MariaDB 10.11.19`):
    /// MariaDB has sequences since 10.3; MySQL has none.
    pub fn for_mysql(version: &str) -> Option<SequenceSql> {
        let number = version.strip_prefix("MariaDB ")?;
        let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next()?, parts.next().unwrap_or(0));
        ((major, minor) >= (10, 3)).then_some(SequenceSql::Mariadb)
    }

    /// `CREATE SEQUENCE IF NOT EXISTS` with the sequence's type (where the
    /// engine has one), step, bounds, start and cycling.
    pub fn create(self, quoted: &str, sequence: &Sequence) -> String {
        let cycle = match (self, sequence.cycle) {
            (_, true) => "CYCLE",
            (SequenceSql::Postgres, false) => "NO CYCLE",
            (SequenceSql::Mariadb, false) => "NOCYCLE",
        };
        match self {
            SequenceSql::Postgres => format!(
                "CREATE SEQUENCE IF NOT EXISTS {quoted} AS {} INCREMENT BY {} MINVALUE {} \
                 MAXVALUE {} START WITH {} {cycle}",
                sequence.data_type, sequence.increment, sequence.min, sequence.max, sequence.start
            ),
            SequenceSql::Mariadb => {
                let (min, max) = (sequence.min.max(MARIADB_MIN), sequence.max.min(MARIADB_MAX));
                format!(
                    "CREATE SEQUENCE IF NOT EXISTS {quoted} INCREMENT BY {} MINVALUE {min} \
                     MAXVALUE {max} START WITH {} {cycle}",
                    sequence.increment,
                    sequence.start.clamp(min, max)
                )
            }
        }
    }

    /// Moves the sequence on to `last`, the last value the dump saw handed
    /// out, and never back: one already further on keeps its place, so a
    /// second restore hands out no number twice. PostgreSQL's `setval`
    /// would go back, so it is given the further of the two; MariaDB's
    /// `SETVAL` ignores a value behind the sequence's own.
    pub fn move_on(self, quoted: &str, sequence: &Sequence, last: i64) -> String {
        match self {
            SequenceSql::Postgres => {
                let further = if sequence.increment > 0 {
                    "greatest"
                } else {
                    "least"
                };
                format!(
                    "SELECT setval({}, {further}({last}, last_value)) FROM {quoted}",
                    crate::db::postgres::literal(quoted)
                )
            }
            SequenceSql::Mariadb => format!("SELECT SETVAL({quoted}, {last})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::QualifiedName;

    fn sequence(min: i64, max: i64, start: i64, cycle: bool) -> Sequence {
        Sequence {
            name: QualifiedName {
                schema: None,
                name: "s".into(),
            },
            data_type: "bigint".into(),
            start,
            increment: 1,
            min,
            max,
            cycle,
            last_value: None,
            readable: true,
        }
    }

    #[test]
    fn mariadb_has_sequences_since_10_3_and_mysql_none() {
        assert_eq!(
            SequenceSql::for_mysql("MariaDB 10.11.19"),
            Some(SequenceSql::Mariadb)
        );
        assert_eq!(
            SequenceSql::for_mysql("MariaDB 11.4.2"),
            Some(SequenceSql::Mariadb)
        );
        assert_eq!(
            SequenceSql::for_mysql("MariaDB 10.3.0"),
            Some(SequenceSql::Mariadb)
        );
        assert_eq!(SequenceSql::for_mysql("MariaDB 10.2.44"), None);
        assert_eq!(SequenceSql::for_mysql("MySQL 8.4.0"), None);
    }

    #[test]
    fn postgres_keeps_the_type_and_bounds() {
        assert_eq!(
            SequenceSql::Postgres.create("\"s\"", &sequence(1, i64::MAX, 1000, false)),
            "CREATE SEQUENCE IF NOT EXISTS \"s\" AS bigint INCREMENT BY 1 MINVALUE 1 \
             MAXVALUE 9223372036854775807 START WITH 1000 NO CYCLE"
        );
    }

    #[test]
    fn mariadb_bounds_stay_inside_its_own() {
        assert_eq!(
            SequenceSql::Mariadb.create("`s`", &sequence(i64::MIN, i64::MAX, i64::MIN, true)),
            "CREATE SEQUENCE IF NOT EXISTS `s` INCREMENT BY 1 MINVALUE -9223372036854775807 \
             MAXVALUE 9223372036854775806 START WITH -9223372036854775807 CYCLE"
        );
    }

    #[test]
    fn postgres_never_moves_a_sequence_back() {
        let mut down = sequence(-100, -1, -1, false);
        down.increment = -1;
        assert_eq!(
            SequenceSql::Postgres.move_on("\"s\"", &down, -7),
            "SELECT setval('\"s\"', least(-7, last_value)) FROM \"s\""
        );
        assert_eq!(
            SequenceSql::Mariadb.move_on("`s`", &down, -7),
            "SELECT SETVAL(`s`, -7)"
        );
    }
}
