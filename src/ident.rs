//! Identifiers from the command line: `schema.table`, `"odd.name"`,
//! `` `odd.name` `` (MySQL), and comma-separated column lists.
//!
//! A name part is either bare (taken as written, blanks around it dropped)
//! or quoted the way SQL quotes it: in double quotes on every engine, and in
//! backticks too on MySQL, with a quote inside it doubled (`"a""b"` is
//! `a"b`). Quoting is how a name holds a dot, a comma, a quote or blanks at
//! its ends. The parts are then quoted again for the engine by
//! [`crate::db::Dialect::quote`], so a name can never inject SQL.

use crate::engine::Engine;
use crate::error::UsageError;

/// A possibly schema-qualified name, unquoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QualifiedName {
    /// `schema` on PostgreSQL, `database` on MySQL, attached db on SQLite.
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    /// `table` or `schema.table`, each part bare or quoted for `engine`.
    pub fn parse(text: &str, engine: Engine) -> Result<QualifiedName, UsageError> {
        let mut parts = split_names(text, '.', quotes(engine), "table name")?;
        let name = parts.pop().expect("at least one part");
        match parts.len() {
            0 => Ok(QualifiedName { schema: None, name }),
            1 => Ok(QualifiedName {
                schema: parts.pop(),
                name,
            }),
            _ => Err(UsageError(format!(
                "table name {text:?} has more than two dotted parts: use table or schema.table, \
                 and quote a part that contains a dot (\"my.table\")"
            ))),
        }
    }

    /// The name for messages, written so that it reads back as the same
    /// name: `schema.table`, with a part quoted when it needs it.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", display_name(s), display_name(&self.name)),
            None => display_name(&self.name),
        }
    }

    /// For a "not found" message: how to name a table whose own name holds
    /// the dot that was read as the schema separator.
    pub fn dot_hint(&self) -> String {
        match &self.schema {
            Some(schema) => format!(
                " (a table named {} is written {})",
                self.display(),
                display_name(&format!("{schema}.{}", self.name))
            ),
            None => String::new(),
        }
    }
}

/// Splits a comma-separated column list; each name is bare or quoted for
/// `engine`.
pub fn split_list(text: &str, engine: Engine) -> Result<Vec<String>, UsageError> {
    split_names(text, ',', quotes(engine), "column list")
}

/// A name for messages: as it is when it is a plain word (letters, digits,
/// `_`), else in double quotes with inner quotes doubled, as it would be
/// written on the command line. Control characters are escaped, so a
/// message stays on one line.
pub fn display_name(name: &str) -> String {
    let plain = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("\"\""),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Names for messages, each as [`display_name`] shows it, joined by
/// `separator`: `a,"b c"` as a `--key` list, `a, "b c"` in a sentence.
pub fn display_list(names: &[String], separator: &str) -> String {
    let shown: Vec<String> = names.iter().map(|n| display_name(n)).collect();
    shown.join(separator)
}

/// The characters that quote a name part: SQL's double quote everywhere,
/// and MySQL's own backtick there.
fn quotes(engine: Engine) -> &'static [char] {
    match engine {
        Engine::Mysql => &['"', '`'],
        Engine::Postgres | Engine::Sqlite => &['"'],
    }
}

/// Splits `text` at each `separator` outside quotes into names, unquoting
/// them. `what` names the text in errors.
fn split_names(
    text: &str,
    separator: char,
    quotes: &[char],
    what: &str,
) -> Result<Vec<String>, UsageError> {
    let misplaced = |q: char| {
        UsageError(format!(
            "misplaced {q} in {what} {text:?}: quote the whole name and double each {q} inside \
             it, as in {q}my{q}{q}name{q} for my{q}name"
        ))
    };
    let mut names = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut name = String::new();
        match chars.peek().copied() {
            Some(q) if quotes.contains(&q) => {
                chars.next();
                loop {
                    match chars.next() {
                        Some(c) if c == q => match chars.next_if_eq(&q) {
                            Some(_) => name.push(q),
                            None => break,
                        },
                        Some(c) => name.push(c),
                        None => {
                            return Err(UsageError(format!(
                                "unterminated {q} in {what} {text:?}: close the quoted name, \
                                 doubling each {q} inside it"
                            )))
                        }
                    }
                }
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                if chars.peek().is_some_and(|&c| c != separator) {
                    return Err(misplaced(q));
                }
            }
            _ => {
                while let Some(c) = chars.next_if(|&c| c != separator) {
                    if quotes.contains(&c) {
                        return Err(misplaced(c));
                    }
                    name.push(c);
                }
                name.truncate(name.trim_end().len());
            }
        }
        if name.is_empty() {
            return Err(UsageError(format!("empty name in {what} {text:?}")));
        }
        names.push(name);
        // The separator, or the end.
        if chars.next().is_none() {
            return Ok(names);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, engine: Engine) -> (Option<String>, String) {
        let t = QualifiedName::parse(text, engine).unwrap();
        (t.schema, t.name)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn plain_and_qualified_names() {
        let pg = Engine::Postgres;
        assert_eq!(parse("public.emp", pg), (some("public"), "emp".into()));
        assert_eq!(parse(" public . emp ", pg), (some("public"), "emp".into()));
        assert_eq!(parse("\"my.table\"", pg), (None, "my.table".into()));
        assert_eq!(
            parse("\"a\"\"b\".\"x; DROP TABLE y\"", pg),
            (some("a\"b"), "x; DROP TABLE y".into())
        );
        assert_eq!(parse("prénom", pg), (None, "prénom".into()));
        assert_eq!(parse("\" padded \"", pg), (None, " padded ".into()));
        // A backtick is an ordinary character outside MySQL.
        assert_eq!(parse("a`b", pg), (None, "a`b".into()));
        assert_eq!(parse("`a.b`", pg), (some("`a"), "b`".into()));
        for bad in [
            "a.b.c", "a.", ".a", "\"open", "\"\"", "a\"b", "\"a\"b", "\"a\".\"b\"c",
        ] {
            assert!(QualifiedName::parse(bad, pg).is_err(), "{bad}");
        }
    }

    #[test]
    fn mysql_also_quotes_with_backticks() {
        let my = Engine::Mysql;
        assert_eq!(parse("`my.table`", my), (None, "my.table".into()));
        assert_eq!(parse("`a``b`", my), (None, "a`b".into()));
        assert_eq!(parse("`d\"b`.`t`", my), (some("d\"b"), "t".into()));
        assert_eq!(parse("\"a`b\"", my), (None, "a`b".into()));
        assert!(QualifiedName::parse("a`b", my).is_err());
        assert!(QualifiedName::parse("`open", my).is_err());
    }

    #[test]
    fn column_lists() {
        let lite = Engine::Sqlite;
        assert_eq!(
            split_list("a, b,\"c,d\"", lite).unwrap(),
            vec!["a", "b", "c,d"]
        );
        assert_eq!(
            split_list("first name ,a.b,\"a\"\"b\",表", lite).unwrap(),
            vec!["first name", "a.b", "a\"b", "表"]
        );
        assert_eq!(
            split_list("`x; DROP TABLE y; --`", Engine::Mysql).unwrap(),
            vec!["x; DROP TABLE y; --"]
        );
        assert!(split_list("a,,b", lite).is_err());
        assert!(split_list("a,", lite).is_err());
        assert!(split_list("\"a\" b", lite).is_err());
    }

    #[test]
    fn displayed_names_read_back() {
        for engine in [Engine::Postgres, Engine::Mysql, Engine::Sqlite] {
            for (schema, name) in [
                (None, "emp"),
                (Some("s"), "my.table"),
                (Some("a\"b"), "x; DROP TABLE y; --"),
                (None, " a`b "),
            ] {
                let t = QualifiedName {
                    schema: schema.map(String::from),
                    name: name.into(),
                };
                assert_eq!(QualifiedName::parse(&t.display(), engine).unwrap(), t);
            }
        }
        assert_eq!(display_name("表_1"), "表_1");
        assert_eq!(display_name("first name"), "\"first name\"");
        assert_eq!(display_name("a\nb"), "\"a\\nb\"");
        assert_eq!(
            display_list(&["id".into(), "a,b".into()], ","),
            "id,\"a,b\""
        );
        let t = QualifiedName::parse("a.b", Engine::Sqlite).unwrap();
        assert_eq!(t.dot_hint(), " (a table named a.b is written \"a.b\")");
    }
}
