//! The keyset predicate: "rows after the last key we wrote".
//!
//! PostgreSQL and SQLite compare row values (`(a, b) > ($1, $2)`) and use
//! the index for it. MySQL and MariaDB plan row-value comparisons poorly, so
//! they get the expanded form with a leading range condition on the first
//! column: `a >= ? AND (a > ? OR (a = ? AND b > ?))`.

use super::Statement;
use crate::db::Dialect;

/// `key` holds quoted column references, `params` the placeholder
/// expression of each. The returned statement lists, for each placeholder
/// in the SQL, the index of the key value it takes (its `limit` is unused).
pub fn after(dialect: Dialect, key: &[String], params: &[String]) -> Statement {
    assert_eq!(key.len(), params.len());
    if key.len() == 1 {
        return Statement {
            sql: format!("{} > {}", key[0], params[0]),
            params: vec![0],
            limit: 0,
        };
    }
    match dialect {
        Dialect::Postgres | Dialect::Sqlite => Statement {
            sql: format!("({}) > ({})", key.join(", "), params.join(", ")),
            params: (0..key.len()).collect(),
            limit: 0,
        },
        Dialect::Mysql => expanded(key, params),
    }
}

fn expanded(key: &[String], params: &[String]) -> Statement {
    let mut order = vec![0];
    let mut sql = format!("{} >= {} AND (", key[0], params[0]);
    for i in 0..key.len() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        sql.push('(');
        for j in 0..i {
            sql.push_str(&format!("{} = {} AND ", key[j], params[j]));
            order.push(j);
        }
        sql.push_str(&format!("{} > {})", key[i], params[i]));
        order.push(i);
    }
    sql.push(')');
    Statement {
        sql,
        params: order,
        limit: 0,
    }
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
