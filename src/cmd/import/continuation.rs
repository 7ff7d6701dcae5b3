//! What a failed import's error adds, so that a rerun neither loses nor
//! doubles a row: how many rows were committed, where the input that is
//! not committed starts (line and byte; Parquet: row), and how to go on:
//! `--resume` with a state file, or else a shell command that feeds the
//! rest of the input to the same import (`tail -c`, the header put back
//! in front, each word quoted for the shell).

use anyhow::anyhow;

use super::open::input_label;
use crate::config::ImportPlan;
use crate::format::Format;
use crate::writer::{BatchWriter, Committed};

/// A signal cut the last batch (or `--atomic`'s COMMIT) off while the
/// server had it: the server rolls it back, unless its COMMIT had already
/// reached it (which the `--state` journal finds out on `--resume`).
pub(super) fn stopped_at_end(
    stop: crate::signals::Interrupted,
    committed: u64,
    plan: &ImportPlan,
) -> anyhow::Error {
    let stage = format!(
        "while finishing the import into table {}",
        plan.table.display()
    );
    let note = match (&plan.state_file, plan.atomic) {
        (_, true) => "the import is rolled back unless its COMMIT had reached the server: \
                      check the table before running it again"
            .to_string(),
        (Some(state), false) => format!(
            "{committed} rows were committed before that batch, and {} records whether it was: \
             go on with --resume",
            state.display()
        ),
        (None, false) => format!(
            "{committed} rows were committed before that batch, which is rolled back unless its \
             COMMIT had reached the server: check the table's last rows, then rerun with the \
             input that follows them"
        ),
    };
    anyhow!(stop.left(stage, note))
}

/// Adds to an import error what the table now holds, and how to go on:
/// `--resume` with a state file, else the place in the input where the
/// uncommitted records start and a command that imports just those.
pub(super) fn committed(
    err: anyhow::Error,
    writer: &BatchWriter<'_>,
    plan: &ImportPlan,
    header_bytes: u64,
) -> anyhow::Error {
    let note = match plan.atomic {
        true => "nothing was committed (--atomic rolled the import back)".to_string(),
        false => go_on(writer.committed(), writer.committed_at, plan, header_bytes),
    };
    let message = format!("{}; {note}", crate::error::one_line(&err));
    // A Ctrl-C or SIGTERM stays in the chain for its exit code; the
    // message, which already holds its text, is all that is printed.
    if err.downcast_ref::<crate::signals::Interrupted>().is_some() {
        return err.context(message);
    }
    anyhow!(message)
}

/// How many rows are in, where the rest of the input starts, and how to
/// import the rest.
fn go_on(rows: u64, at: Option<Committed>, plan: &ImportPlan, header_bytes: u64) -> String {
    let done = format!("{rows} rows were committed before this error");
    if let Some(advice) = &plan.advice {
        return format!("{done}: {advice}");
    }
    let Some(at) = at else {
        return format!("{done}: fix the cause and run the same command again");
    };
    let place = match (at.line, plan.format) {
        (_, Format::Parquet) => format!("row {} (counting from 1)", at.bytes + 1),
        (Some(line), _) => format!("line {line}, byte offset {}", at.bytes),
        (None, _) => format!("byte offset {}", at.bytes),
    };
    if let Some(state) = &plan.state_file {
        return format!(
            "{done}; the rest of the input starts at {place}, as {} records: fix the cause and \
             rerun with --resume to go on from there",
            state.display()
        );
    }
    if plan.format == Format::Parquet {
        // A Parquet file cannot be cut at a row with head or tail.
        return format!(
            "{done}; the rest of the input starts at {place} of {}: rerun with --on-conflict \
             skip to pass over the rows already in (the table needs a key), or import into an \
             empty table again; with --state FILE a failed import goes on with --resume",
            input_label(plan)
        );
    }
    let Some(input) = &plan.input else {
        return format!(
            "{done}; the rest of the input starts at {place} of stdin: feed the input from there \
             (with the header line in front), or give --state FILE so that --resume finds it"
        );
    };
    let rejects = match &plan.reject_file {
        Some(path) => format!(
            "; {} holds the {} rows rejected before it",
            path.display(),
            at.rejects.0
        ),
        None => String::new(),
    };
    format!(
        "{done}; the rest of the input starts at {place} of {}{rejects}; continue with: {}",
        input.display(),
        continuation(input, plan, header_bytes, at.bytes)
    )
}

/// The shell command that imports the input from byte `offset` on: the
/// same `dbchunk import` fed by `tail -c` (with `head -c` for the header),
/// without `--truncate`, which would empty the table of the rows already
/// in, and with a reject file of its own.
fn continuation(
    input: &std::path::Path,
    plan: &ImportPlan,
    header_bytes: u64,
    offset: u64,
) -> String {
    let file = shell_quote(&input.to_string_lossy());
    let gzipped = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let (head, tail) = match gzipped {
        true => (
            format!("zcat {file} | head -c {header_bytes}"),
            format!("zcat {file} | tail -c +{}", offset + 1),
        ),
        false => (
            format!("head -c {header_bytes} {file}"),
            format!("tail -c +{} {file}", offset + 1),
        ),
    };
    let feed = match header_bytes {
        0 => tail,
        _ => format!("({head}; {tail})"),
    };
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut command = vec!["dbchunk".to_string()];
    command.extend(
        continuation_args(&args, plan)
            .iter()
            .map(|a| shell_quote(a)),
    );
    format!("{feed} | {}", command.join(" "))
}

/// The command line of the import, for reading the rest of the input from
/// stdin: without `--input` and `--truncate`, with `--format` (the input's
/// name said it), and `--reject-file F` made `F.rest`.
fn continuation_args(args: &[String], plan: &ImportPlan) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut args = args.iter();
    let mut has_format = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg.as_str(), None),
        };
        match flag {
            "--input" | "-i" => {
                if inline.is_none() {
                    args.next();
                }
            }
            _ if flag.starts_with("-i") && !flag.starts_with("--") => {} // -iFILE
            "--truncate" => {}
            "--reject-file" => {
                if inline.is_none() {
                    args.next();
                }
                if let Some(path) = &plan.reject_file {
                    out.push("--reject-file".to_string());
                    out.push(format!("{}.rest", path.display()));
                }
            }
            _ => {
                has_format |= flag == "--format";
                out.push(arg.clone());
            }
        }
    }
    if !has_format {
        out.push("--format".to_string());
        out.push(plan.format.name().to_string());
    }
    out
}

/// `text` as one shell word.
fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn plan(args: &[&str]) -> ImportPlan {
        let mut all = vec!["dbchunk", "import"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Import(args) => ImportPlan::from_args(args).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_continuation_reads_stdin_keeps_the_table_and_its_own_rejects() {
        let args = [
            "import", "--url", "sqlite://a.db", "-t", "t", "--truncate", "-i", "in.tsv",
            "--reject-file=bad.txt", "--batch", "5",
        ];
        let plan = plan(&args[1..]);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            continuation_args(&args, &plan).join(" "),
            "import --url sqlite://a.db -t t --reject-file bad.txt.rest --batch 5 --format tsv"
        );
        let args: Vec<String> = ["import", "--input=x.csv", "--format", "csv", "-ix.csv"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            continuation_args(&args, &plan).join(" "),
            "import --format csv"
        );
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        let cases = [
            ("postgres://u@h:5432/db", "postgres://u@h:5432/db"),
            ("my file.csv", "'my file.csv'"),
            ("it's", "'it'\\''s'"),
            ("", "''"),
            ("id % 2 = 0", "'id % 2 = 0'"),
        ];
        for (word, quoted) in cases {
            assert_eq!(shell_quote(word), quoted);
        }
    }
}
