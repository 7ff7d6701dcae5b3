//! `dbchunk dump`'s flags, checked before anything connects.

use std::path::PathBuf;

use crate::cli::{DumpArgs, TableChoiceOpts};
use crate::compress::Compression;
use crate::error::UsageError;
use crate::format::Format;
use crate::ident::QualifiedName;
use crate::progress::ProgressMode;
use crate::url::DbUrl;

/// What `dbchunk dump` was asked to do.
#[derive(Clone, Debug)]
pub struct DumpPlan {
    pub url: DbUrl,
    pub dir: PathBuf,
    pub choice: TableChoice,
    pub schema: Option<String>,
    pub format: Format,
    pub compression: Option<Compression>,
    pub jobs: usize,
    /// `--part-rows`: `None` chooses from the rows and `--jobs`; 0 never
    /// cuts a table.
    pub part_rows: Option<u64>,
    pub resume: bool,
    pub no_lock: bool,
    pub chunk: u64,
    pub progress: ProgressMode,
    pub quiet: bool,
    pub stats: bool,
}

impl DumpPlan {
    pub fn from_args(args: DumpArgs) -> Result<DumpPlan, UsageError> {
        let url = super::parse_url(&args.connect)?;
        let compression = match args.compress.to_ascii_lowercase().as_str() {
            "none" => None,
            _ if args.format == Format::Parquet => {
                return Err(UsageError(
                    "--format parquet compresses inside each file (zstd): give --compress none"
                        .into(),
                ))
            }
            text => Some(Compression::parse(text).map_err(UsageError)?),
        };
        Ok(DumpPlan {
            choice: TableChoice::parse(&args.choice)?,
            // One connection reads a SQLite file: its transaction is the
            // snapshot, and it cannot be shared.
            jobs: match url.engine {
                crate::engine::Engine::Sqlite => 1,
                _ => args.jobs as usize,
            },
            url,
            dir: args.output,
            schema: args.schema,
            format: args.format,
            compression,
            part_rows: args.part_rows,
            resume: args.resume,
            no_lock: args.no_lock,
            chunk: args.chunk,
            progress: args.report.progress,
            quiet: args.report.quiet,
            stats: args.report.stats,
        })
    }
}

/// `--tables` and `--exclude`: which tables of a database (dump) or of a
/// dump (restore) a command takes.
#[derive(Clone, Debug, Default)]
pub struct TableChoice {
    /// Names or `*` patterns; `None` is every table.
    pub tables: Option<Vec<String>>,
    pub exclude: Vec<String>,
}

impl TableChoice {
    pub fn parse(opts: &TableChoiceOpts) -> Result<TableChoice, UsageError> {
        let list = |text: &str, flag: &str| -> Result<Vec<String>, UsageError> {
            let list: Vec<String> = text
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect();
            match list.is_empty() {
                true => Err(UsageError(format!(
                    "{flag} is empty: name tables, or leave it out"
                ))),
                false => Ok(list),
            }
        };
        Ok(TableChoice {
            tables: opts
                .tables
                .as_deref()
                .map(|t| list(t, "--tables"))
                .transpose()?,
            exclude: opts
                .exclude
                .as_deref()
                .map(|t| list(t, "--exclude"))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// Whether `--tables` (all without it) and `--exclude` choose `name`.
    pub fn chooses(&self, name: &QualifiedName) -> bool {
        let hit = |pattern: &String| matches(pattern, name.schema.as_deref(), &name.name);
        self.tables.as_ref().is_none_or(|w| w.iter().any(hit)) && !self.exclude.iter().any(hit)
    }

    /// The tables of `from` chosen, in order. A name in `--tables` without
    /// a `*` that is none of them is a mistake worth stopping for, and so
    /// is a choice of nothing; `place` names where the tables were looked
    /// for, for those messages.
    pub fn pick<'a, T>(
        &self,
        from: &'a [T],
        name: impl Fn(&T) -> &QualifiedName,
        place: &str,
    ) -> Result<Vec<&'a T>, UsageError> {
        let shown = || {
            let mut names: Vec<String> = from.iter().take(10).map(|t| name(t).display()).collect();
            if from.len() > 10 {
                names.push(format!("and {} more", from.len() - 10));
            }
            names.join(", ")
        };
        let hit = |pattern: &String, t: &T| {
            let table = name(t);
            matches(pattern, table.schema.as_deref(), &table.name)
        };
        for pattern in self.tables.iter().flatten().filter(|p| !p.contains('*')) {
            if !from.iter().any(|t| hit(pattern, t)) {
                return Err(UsageError(format!(
                    "--tables names {pattern:?}, which is not a table of {place} (tables there: {})",
                    shown()
                )));
            }
        }
        let picked: Vec<&T> = from.iter().filter(|t| self.chooses(name(t))).collect();
        match (picked.is_empty(), from.is_empty()) {
            (false, _) => Ok(picked),
            (true, true) => Err(UsageError(format!("{place} holds no tables"))),
            (true, false) => Err(UsageError(format!(
                "--tables/--exclude leave none of the tables of {place}: {}",
                shown()
            ))),
        }
    }
}

/// Whether a table's name matches a `--tables`/`--exclude` pattern: `*`
/// stands for any run of characters; a pattern with a dot matches
/// `schema.table`, one without matches the table's own name.
pub fn matches(pattern: &str, schema: Option<&str>, table: &str) -> bool {
    match (pattern.split_once('.'), schema) {
        (Some((schema_pattern, table_pattern)), Some(schema)) => {
            glob(schema_pattern, schema) && glob(table_pattern, table)
        }
        (Some(_), None) => glob(pattern, table),
        (None, _) => glob(pattern, table),
    }
}

/// `*` as any run of characters, everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_names_and_schemas() {
        assert!(matches("orders", Some("public"), "orders"));
        assert!(!matches("orders", Some("public"), "orders_old"));
        assert!(matches("orders*", None, "orders_old"));
        assert!(matches("sales.*", Some("sales"), "anything"));
        assert!(!matches("sales.*", Some("public"), "anything"));
        assert!(matches("*_log", Some("public"), "audit_log"));
        assert!(matches("a*b*c", None, "axxbyyc"));
        assert!(!matches("a*b*c", None, "axxbyy"));
        assert!(!matches("ab*ba", None, "aba"));
        assert!(matches("*", None, ""));
    }
}
