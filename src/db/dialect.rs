//! How each engine's SQL quotes names: the one place that decides it, so a
//! name from the command line can never be read as SQL.

use crate::engine::Engine;
use crate::ident::QualifiedName;

/// Quoting and placeholder rules of one engine's SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

impl Dialect {
    pub fn of(engine: Engine) -> Dialect {
        match engine {
            Engine::Postgres => Dialect::Postgres,
            Engine::Mysql => Dialect::Mysql,
            Engine::Sqlite => Dialect::Sqlite,
        }
    }

    /// Quotes an identifier so that any name, even `x"; DROP TABLE y`, is
    /// taken as a name.
    pub fn quote(self, name: &str) -> String {
        match self {
            Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        }
    }

    pub fn quote_qualified(self, name: &QualifiedName) -> String {
        match &name.schema {
            Some(schema) => format!("{}.{}", self.quote(schema), self.quote(&name.name)),
            None => self.quote(&name.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_neutralises_hostile_names() {
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            Dialect::Mysql.quote("a`b; DROP TABLE t"),
            "`a``b; DROP TABLE t`"
        );
        let name = QualifiedName {
            schema: Some("s".into()),
            name: "t".into(),
        };
        assert_eq!(Dialect::Sqlite.quote_qualified(&name), "\"s\".\"t\"");
    }
}
