//! The keyset predicate: "rows after the last key we wrote".
//!
//! PostgreSQL and SQLite compare row values (`(a, b) > ($1, $2)`) and use
//! the index for it. MySQL and MariaDB plan row-value comparisons poorly, so
//! they get the expanded form with a leading range condition on the first
//! column: `a >= ? AND (a > ? OR (a = ? AND b > ?))`.

use super::Statement;
use crate::db::dialect::Dialect;

/// How rows compare with a key value, in key order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `>`: the rows after a chunk's last key.
    After,
    /// `>=`: the first row of a `--parallel` range and those after it.
    AtOrAfter,
    /// `<`: the rows before a key.
    Before,
    /// `<=`: the rows of a range up to and with its last key (`--parallel`
    /// and `plan` ranges).
    AtOrBefore,
}

impl Comparison {
    /// The operator for the last key column, and the strict one for the
    /// columns before it.
    fn operators(self) -> (&'static str, &'static str) {
        match self {
            Comparison::After => (">", ">"),
            Comparison::AtOrAfter => (">=", ">"),
            Comparison::Before => ("<", "<"),
            Comparison::AtOrBefore => ("<=", "<"),
        }
    }
}

/// `key` holds quoted column references, `params` the placeholder
/// expression of each. The returned statement lists, for each placeholder
/// in the SQL, the index of the key value it takes.
pub fn after(dialect: Dialect, key: &[String], params: &[String]) -> Statement {
    compare(dialect, key, params, Comparison::After)
}

/// The rows after the key values written as SQL literals.
pub fn after_literals(dialect: Dialect, key: &[String], literals: &[String]) -> String {
    compare(dialect, key, literals, Comparison::After).sql
}

/// Rows compared with the key value in `params` (placeholders or
/// literals), in the form the engine plans best.
pub fn compare(
    dialect: Dialect,
    key: &[String],
    params: &[String],
    comparison: Comparison,
) -> Statement {
    assert_eq!(key.len(), params.len());
    let (last, _) = comparison.operators();
    if key.len() == 1 {
        return Statement {
            sql: format!("{} {last} {}", key[0], params[0]),
            params: vec![0],
        };
    }
    match dialect {
        Dialect::Postgres | Dialect::Sqlite => Statement {
            sql: format!("({}) {last} ({})", key.join(", "), params.join(", ")),
            params: (0..key.len()).collect(),
        },
        Dialect::Mysql => expanded(key, params, comparison),
    }
}

/// `a >= ? AND ((a > ?) OR (a = ? AND b > ?))`: a range on the first
/// column the index can use, then the exact condition.
fn expanded(key: &[String], params: &[String], comparison: Comparison) -> Statement {
    let (last, strict) = comparison.operators();
    let leading = match comparison {
        Comparison::Before | Comparison::AtOrBefore => "<=",
        Comparison::After | Comparison::AtOrAfter => ">=",
    };
    let mut order = vec![0];
    let mut sql = format!("{} {leading} {} AND (", key[0], params[0]);
    for i in 0..key.len() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        sql.push('(');
        for j in 0..i {
            sql.push_str(&format!("{} = {} AND ", key[j], params[j]));
            order.push(j);
        }
        let op = if i + 1 == key.len() { last } else { strict };
        sql.push_str(&format!("{} {op} {})", key[i], params[i]));
        order.push(i);
    }
    sql.push(')');
    Statement { sql, params: order }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn single_column_is_a_plain_comparison() {
        let s = after(Dialect::Mysql, &strings(&["`id`"]), &strings(&["?"]));
        assert_eq!(s.sql, "`id` > ?");
        assert_eq!(s.params, vec![0]);
    }

    #[test]
    fn postgres_and_sqlite_compare_row_values() {
        let s = after(
            Dialect::Sqlite,
            &strings(&["a", "b"]),
            &strings(&["?1", "?2"]),
        );
        assert_eq!(s.sql, "(a, b) > (?1, ?2)");
    }

    #[test]
    fn range_bounds_for_parallel_workers() {
        let key = strings(&["a", "b"]);
        let values = strings(&["1", "'x'"]);
        let cases = [
            (
                Dialect::Postgres,
                Comparison::AtOrAfter,
                "(a, b) >= (1, 'x')",
            ),
            (
                Dialect::Mysql,
                Comparison::Before,
                "a <= 1 AND ((a < 1) OR (a = 1 AND b < 'x'))",
            ),
            (
                Dialect::Mysql,
                Comparison::AtOrAfter,
                "a >= 1 AND ((a > 1) OR (a = 1 AND b >= 'x'))",
            ),
            (
                Dialect::Mysql,
                Comparison::AtOrBefore,
                "a <= 1 AND ((a < 1) OR (a = 1 AND b <= 'x'))",
            ),
            (
                Dialect::Sqlite,
                Comparison::AtOrBefore,
                "(a, b) <= (1, 'x')",
            ),
        ];
        for (dialect, comparison, want) in cases {
            assert_eq!(
                compare(dialect, &key, &values, comparison).sql,
                want,
                "{dialect:?} {comparison:?}"
            );
        }
    }

    #[test]
    fn mysql_expands_composite_keys() {
        let s = after(
            Dialect::Mysql,
            &strings(&["a", "b", "c"]),
            &strings(&["?", "?", "?"]),
        );
        assert_eq!(
            s.sql,
            "a >= ? AND ((a > ?) OR (a = ? AND b > ?) OR (a = ? AND b = ? AND c > ?))"
        );
        assert_eq!(s.params, vec![0, 0, 0, 1, 0, 1, 2]);
    }
}
