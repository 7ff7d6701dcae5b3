//! A SQLite table's CHECK constraints, read out of its `CREATE TABLE`
//! text: SQLite keeps no catalog of them (no pragma lists them), only the
//! statement as it was written.
//!
//! The text is walked token by token (quoted strings and names, comments,
//! words, single characters), so a `)` or the word CHECK inside a string,
//! a quoted name or a comment is not taken for SQL. A `CHECK` keyword at
//! the first level of the column list, whether after a column (`n INT
//! CHECK (n > 0)`) or as a table constraint, is followed by its
//! parenthesised expression, kept as written. SQLite checks a column's
//! constraint as it does a table's, so both come back as table
//! constraints.

use crate::db::catalog::Check;

/// The checks of `create`, a `CREATE TABLE` statement of `table`; one
/// without a `CONSTRAINT` name is named `{table}_check{n}` (from 1, in
/// order), for messages.
pub fn checks(table: &str, create: &str) -> Vec<Check> {
    let tokens = tokens(create);
    let mut checks = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i];
        match token {
            "(" => depth += 1,
            ")" => depth -= 1,
            _ if depth == 1 && token.eq_ignore_ascii_case("CHECK") => {
                if let Some(end) = closing(&tokens, i + 1) {
                    let start = offset(create, tokens[i + 1]);
                    let stop = offset(create, tokens[end]) + 1;
                    let named = (i >= 2 && tokens[i - 2].eq_ignore_ascii_case("CONSTRAINT"))
                        .then(|| unquote(tokens[i - 1]));
                    checks.push(Check {
                        name: named.unwrap_or_else(|| format!("{table}_check{}", checks.len() + 1)),
                        definition: format!("CHECK {}", &create[start..stop]),
                    });
                    i = end + 1;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    checks
}

/// The index of the `)` that closes the `(` at `open`, when it is one.
fn closing(tokens: &[&str], open: usize) -> Option<usize> {
    if tokens.get(open) != Some(&"(") {
        return None;
    }
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match *token {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where `token`, a slice of `text`, starts in it.
fn offset(text: &str, token: &str) -> usize {
    token.as_ptr() as usize - text.as_ptr() as usize
}

/// A name as SQLite reads it: `"a""b"`, `` `a` `` and `[a]` lose their
/// quotes (and a doubled quote inside becomes one).
fn unquote(name: &str) -> String {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(b'"'), Some(b'"')) if name.len() >= 2 => {
            name[1..name.len() - 1].replace("\"\"", "\"")
        }
        (Some(b'`'), Some(b'`')) if name.len() >= 2 => name[1..name.len() - 1].replace("``", "`"),
        (Some(b'['), Some(b']')) => name[1..name.len() - 1].to_string(),
        _ => name.to_string(),
    }
}

/// The SQL tokens of `text`, each a slice of it, without white space and
/// comments: a quoted string or name whole (an unclosed one runs to the
/// end), a word, or one other character.
fn tokens(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let end = match bytes[i] {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find(bytes, i, b"\n").map_or(bytes.len(), |at| at + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |at| at + 2);
                continue;
            }
            quote @ (b'\'' | b'"' | b'`') => quoted(bytes, i, quote),
            b'[' => find(bytes, i, b"]").map_or(bytes.len(), |at| at + 1),
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80 => {
                let mut at = i + 1;
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric()
                        || bytes[at] == b'_'
                        || bytes[at] == b'$'
                        || bytes[at] >= 0x80)
                {
                    at += 1;
                }
                at
            }
            _ => text[i..].chars().next().map_or(i + 1, |c| i + c.len_utf8()),
        };
        tokens.push(&text[start..end]);
        i = end;
    }
    tokens
}

/// The end of the quoted token starting at `start`: past its closing
/// quote, a doubled quote being one inside it.
fn quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    bytes[from..]
        .windows(what.len())
        .position(|w| w == what)
        .map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(create: &str) -> Vec<(String, String)> {
        checks("t", create)
            .into_iter()
            .map(|c| (c.name, c.definition))
            .collect()
    }

    #[test]
    fn column_and_table_checks_as_written() {
        let create = "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT check(n > 0), \
                      m INT, CONSTRAINT \"m \"\"small\"\"\" CHECK (m < (100)))";
        assert_eq!(
            found(create),
            [
                ("t_check1".into(), "CHECK (n > 0)".into()),
                ("m \"small\"".into(), "CHECK (m < (100))".into()),
            ]
        );
    }

    #[test]
    fn strings_names_and_comments_hide_what_they_hold() {
        let create = "CREATE TABLE \"a (CHECK\" (\n  s TEXT CHECK (s <> ')' AND s <> 'CHECK ('), \
                      -- CHECK (x)\n  [check] INT /* CHECK (y) */ CHECK ([check] IN (1, 2)),\n  \
                      `c` TEXT DEFAULT ('(') )";
        assert_eq!(
            found(create),
            [
                (
                    "t_check1".into(),
                    "CHECK (s <> ')' AND s <> 'CHECK (')".into()
                ),
                ("t_check2".into(), "CHECK ([check] IN (1, 2))".into()),
            ]
        );
    }

    #[test]
    fn no_checks_and_broken_text_give_none() {
        assert!(found("CREATE TABLE t (a INT, b TEXT)").is_empty());
        assert!(found("CREATE TABLE t (a INT CHECK (a > 0").is_empty());
        assert!(found("CREATE TABLE t (a TEXT DEFAULT 'x").is_empty());
    }
}
