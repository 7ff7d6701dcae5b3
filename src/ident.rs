//! Identifiers from the command line: `schema.table`, `"odd.name"`.
//!
//! Names are split on dots outside double quotes, then quoted for the
//! engine by [`crate::db::Dialect::quote`], so a table name can never
//! inject SQL.

use crate::error::UsageError;

/// A possibly schema-qualified name, unquoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QualifiedName {
    /// `schema` on PostgreSQL, `database` on MySQL, attached db on SQLite.
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    pub fn parse(text: &str) -> Result<QualifiedName, UsageError> {
        let parts = split_dotted(text)?;
        match parts.as_slice() {
            [name] => Ok(QualifiedName {
                schema: None,
                name: name.clone(),
            }),
            [schema, name] => Ok(QualifiedName {
                schema: Some(schema.clone()),
                name: name.clone(),
            }),
            _ => Err(UsageError(format!(
                "table name {text:?} has more than two dotted parts: use table or schema.table, \
                 and double-quote a part that contains a dot (\"my.table\")"
            ))),
        }
    }

    /// `schema.name` as the user wrote it, for messages.
    pub fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Splits a comma-separated column list, honouring double quotes.
pub fn split_list(text: &str) -> Result<Vec<String>, UsageError> {
    let mut items = Vec::new();
    for part in split_outside_quotes(text, ',')? {
        let part = part.trim();
        let unquoted = unquote(part)?;
        if unquoted.is_empty() {
            return Err(UsageError(format!("empty column name in {text:?}")));
        }
        items.push(unquoted);
    }
    Ok(items)
}

fn split_dotted(text: &str) -> Result<Vec<String>, UsageError> {
    let parts = split_outside_quotes(text, '.')?;
    let mut names = Vec::new();
    for part in parts {
        let name = unquote(part.trim())?;
        if name.is_empty() {
            return Err(UsageError(format!("empty name part in {text:?}")));
        }
        names.push(name);
    }
    Ok(names)
}

fn split_outside_quotes(text: &str, separator: char) -> Result<Vec<&str>, UsageError> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            c if c == separator && !in_quotes => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_quotes {
        return Err(UsageError(format!("unterminated double quote in {text:?}")));
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// `"a""b"` → `a"b`; a bare name is taken as it is.
fn unquote(part: &str) -> Result<String, UsageError> {
    match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        Some(inner) => Ok(inner.replace("\"\"", "\"")),
        None if part.contains('"') => Err(UsageError(format!(
            "misplaced double quote in name {part:?}: quote the whole part, doubling inner quotes"
        ))),
        None => Ok(part.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_qualified_names() {
        let t = QualifiedName::parse("public.emp").unwrap();
        assert_eq!(
            (t.schema.as_deref(), t.name.as_str()),
            (Some("public"), "emp")
        );
        let t = QualifiedName::parse("\"my.table\"").unwrap();
        assert_eq!((t.schema, t.name.as_str()), (None, "my.table"));
        let t = QualifiedName::parse("\"a\"\"b\".\"x; DROP TABLE y\"").unwrap();
        assert_eq!(
            (t.schema.as_deref(), t.name.as_str()),
            (Some("a\"b"), "x; DROP TABLE y")
        );
        assert!(QualifiedName::parse("a.b.c").is_err());
        assert!(QualifiedName::parse("a.").is_err());
        assert!(QualifiedName::parse("\"open").is_err());
    }

    #[test]
    fn column_lists() {
        assert_eq!(split_list("a, b,\"c,d\"").unwrap(), vec!["a", "b", "c,d"]);
        assert!(split_list("a,,b").is_err());
    }
}
