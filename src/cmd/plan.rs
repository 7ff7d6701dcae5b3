//! `dbchunk plan` and `export --plan FILE --partition K`: the key ranges
//! of `--parallel`, written down so that workers on other machines, run
//! by whatever scheduler is at hand, each export one of them.
//!
//! The plan is a small JSON file (docs/distributed.md has its fields):
//! the source, columns, key and format options every part shares, the
//! snapshot to read in, and N ranges of key values cut where the rows
//! are ([`crate::partition`]). It holds no URL and no password: each
//! worker gives its own `--url`.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value as Json};

use crate::cli::{ExportArgs, PlanArgs};
use crate::config::{parse_source, parse_url, ExportPlan};
use crate::db::{Db, Dialect, KeyCheck, Request};
use crate::engine::Engine;
use crate::error::{warn, UsageError};
use crate::format::Format;
use crate::ident::split_list;
use crate::partition::{self, Range};

/// The plan format's version: a worker refuses another.
const VERSION: u64 = 1;

/// A plan, as written by `dbchunk plan` and read by each worker.
#[derive(Clone, Debug)]
pub struct PartitionPlan {
    pub engine: Engine,
    /// `table` (as given on the command line) or `query` (raw SQL).
    pub table: Option<String>,
    pub query: Option<String>,
    pub columns: Option<Vec<String>>,
    /// The key the ranges are cut on: every part reads in its order.
    pub key: Vec<String>,
    pub filter: Option<String>,
    /// `None`: each worker's own `--format` or `--output` name decides.
    pub format: Option<Format>,
    pub null: Option<String>,
    pub header: bool,
    /// PostgreSQL: the exported snapshot every part reads in.
    pub snapshot: Option<String>,
    /// MySQL/MariaDB: where the binary log stood when the plan was made.
    pub binlog: Option<String>,
    /// Rows when the plan was made: counted, or the planner's estimate.
    pub rows: u64,
    pub counted: bool,
    pub parts: Vec<Part>,
}

/// One partition: its range and the rows it held when planned.
#[derive(Clone, Debug)]
pub struct Part {
    pub rows: u64,
    pub range: Range,
}

/// `dbchunk plan`: cuts the source into `--partitions` ranges and writes
/// the plan.
pub async fn run(args: PlanArgs) -> Result<()> {
    let url = parse_url(&args.connect)?;
    check_snapshot_engine(url.engine, args.snapshot.as_deref())?;
    let url = url.with_snapshot(args.snapshot.clone());
    let source = parse_source(&args.source, url.engine)?;
    if args.text.null.is_some() && args.text.format == Some(Format::Ndjson) {
        return Err(UsageError("--null applies to csv and tsv; NDJSON writes null".into()).into());
    }
    let names = |text: &str| split_list(text, url.engine);
    let request = Request {
        source: source.clone(),
        columns: args.select.columns.as_deref().map(names).transpose()?,
        key: args.select.key.as_deref().map(names).transpose()?,
        filter: args.select.filter.clone(),
        format: args.text.format.unwrap_or(Format::Csv),
    };
    let label = source.label();
    let mut db = Db::connect(&url)
        .await
        .with_context(|| format!("connecting to {}", url.shown))?;
    let relation = db
        .describe(&request)
        .await
        .with_context(|| format!("looking up {label}"))?;
    if relation.key_names.is_empty() {
        return Err(UsageError(format!(
            "dbchunk plan cuts the rows into key ranges, and {label} has no primary key or NOT \
             NULL unique index: name one with --key col[,col...]"
        ))
        .into());
    }
    if relation.key_check == KeyCheck::Unproven && db.key_has_duplicates(&relation.select).await? {
        return Err(UsageError(format!(
            "--key {} does not identify rows of {label}: some rows share a key value or have a \
             NULL in it (a NULL is in no range); use a unique NOT NULL key",
            crate::ident::display_list(&relation.key_names, ",")
        ))
        .into());
    }
    let binlog = match &mut db {
        Db::Mysql(my) => binlog_at_plan(my, args.quiet).await,
        _ => None,
    };
    let parts = args.partitions as usize;
    let table = matches!(source, crate::db::Source::Table(_));
    let sampled = match args.exact {
        true => None,
        false => partition::sampled_cuts(&mut db, &relation, table, parts)
            .await
            .with_context(|| format!("sampling {label} for the key ranges"))?,
    };
    let counted = sampled.is_none() && !args.estimate;
    let (rows, cuts, shares) = if let Some(sampled) = sampled {
        let rows = db.estimate(&relation.select).await?.unwrap_or(0);
        let shares = shares_of(rows, &sampled.shares);
        (rows, sampled.cuts, shares)
    } else if args.estimate {
        let rows = db.estimate(&relation.select).await?.unwrap_or(0);
        let cuts = partition::cuts(&mut db, &relation, rows, parts).await?;
        (rows, cuts, even_shares(rows, parts))
    } else {
        counted_cuts(&mut db, &relation, parts)
            .await
            .with_context(|| format!("counting the rows of {label}"))?
    };
    let parts = partition::ranges(&cuts)
        .into_iter()
        .zip(shares)
        .map(|(range, rows)| Part {
            rows: if range.empty { 0 } else { rows },
            range,
        })
        .collect();
    let plan = PartitionPlan {
        engine: url.engine,
        table: args.source.table.clone(),
        query: args.source.query.clone(),
        columns: request.columns.clone(),
        key: relation.key_names.clone(),
        filter: args.select.filter.clone(),
        format: args.text.format,
        null: args.text.null.clone(),
        header: !args.text.no_header,
        snapshot: args.snapshot.clone(),
        binlog,
        rows,
        counted,
        parts,
    };
    let text = serde_json::to_string_pretty(&plan.to_json())?;
    match args.output.as_deref() {
        None | Some("-") => println!("{text}"),
        Some(path) => crate::state::save(std::path::Path::new(path), &text)
            .with_context(|| format!("writing the plan to {path}"))?,
    }
    Ok(())
}

/// Cuts at counted row positions for about the price of one pass over
/// the key's index, where counting first and then cutting at `total·i/n`
/// costs 1.75 passes for 4 parts (measured on PostgreSQL, 5M rows: the
/// plan went from 0.45 s to 0.30 s). The planner's estimate places the
/// cuts, whose walks count exactly the rows before the last one; one
/// `COUNT(*)` past it gives the rest, so every part's rows are counted.
/// When the estimate was off by enough that the last part is more than
/// 5% away from the others, the total is known by then: cut again at its
/// positions, as exact as counting first. The rows, cuts and each part's
/// rows.
async fn counted_cuts(
    db: &mut Db,
    relation: &crate::db::Relation,
    parts: usize,
) -> Result<(u64, Vec<Option<crate::db::Key>>, Vec<u64>)> {
    let estimate = db.estimate(&relation.select).await?.unwrap_or(0);
    let total = if parts > 1 && estimate >= parts as u64 {
        let cuts = partition::cuts(db, relation, estimate, parts).await?;
        let ranges = partition::ranges(&cuts);
        match ranges[parts - 1].after.clone() {
            // The table holds fewer rows than the estimate placed cuts at.
            _ if ranges.iter().any(|r| r.empty) => db.count(&relation.select).await?,
            None => db.count(&relation.select).await?,
            Some(last) => {
                let mut past = relation.select.clone();
                let after = Range {
                    after: Some(last),
                    through: None,
                    empty: false,
                };
                past.filter = crate::plan::and_filter(
                    past.filter.as_deref(),
                    partition::conditions(past.dialect, &past.key, &after),
                );
                let tail = db.count(&past).await?;
                let share = row_at(estimate, 1, parts);
                let before = row_at(estimate, parts - 1, parts);
                if tail.abs_diff(share) <= share / 20 {
                    let mut shares = even_shares(estimate, parts);
                    shares[parts - 1] = tail;
                    return Ok((before + tail, cuts, shares));
                }
                before + tail
            }
        }
    } else {
        db.count(&relation.select).await?
    };
    let cuts = partition::cuts(db, relation, total, parts).await?;
    Ok((total, cuts, even_shares(total, parts)))
}

/// `total` rows dealt out by `shares` (fractions summing to 1), rounded
/// so that they add up to `total`.
fn shares_of(total: u64, shares: &[f64]) -> Vec<u64> {
    let mut sum = 0.0;
    let mut given = 0;
    let mut rows: Vec<u64> = shares
        .iter()
        .map(|share| {
            sum += share;
            let upto = ((total as f64 * sum).round() as u64).clamp(given, total);
            let rows = upto - given;
            given = upto;
            rows
        })
        .collect();
    if let Some(last) = rows.last_mut() {
        *last += total - given;
    }
    rows
}

/// The rows of each part when part `i` ends at row `total·i/n`.
fn even_shares(total: u64, n: usize) -> Vec<u64> {
    (0..n)
        .map(|i| row_at(total, i + 1, n) - row_at(total, i, n))
        .collect()
}

/// Row `total·i/n` (`total` for the last part), where part `i` ends.
fn row_at(total: u64, i: usize, n: usize) -> u64 {
    total * i as u64 / n as u64
}

/// The binary log position to record, or `None` with a warning saying
/// what the plan then cannot check.
async fn binlog_at_plan(my: &mut crate::db::mysql::Mysql, quiet: bool) -> Option<String> {
    match my.binlog_position().await {
        Ok(Some(position)) => Some(position),
        Ok(None) => {
            if !quiet {
                warn(
                    "binary logging is off, so the plan records no position and the parts cannot \
                     check that nothing was written meanwhile (MySQL/MariaDB parts do not share \
                     a snapshot: docs/distributed.md)",
                );
            }
            None
        }
        Err(err) => {
            if !quiet {
                warn(&format!(
                    "cannot read the binary log position ({}), so the parts cannot check that \
                     nothing was written meanwhile",
                    crate::error::one_line(&err)
                ));
            }
            None
        }
    }
}

/// `--snapshot` is PostgreSQL's: only there can connections share one.
fn check_snapshot_engine(engine: Engine, snapshot: Option<&str>) -> Result<(), UsageError> {
    match snapshot {
        Some(_) if engine != Engine::Postgres => Err(UsageError(format!(
            "--snapshot needs PostgreSQL: {} cannot share a snapshot between connections \
             (docs/distributed.md says what a plan offers there)",
            engine.name()
        ))),
        Some(id) if id.trim().is_empty() => Err(UsageError("--snapshot is empty".into())),
        _ => Ok(()),
    }
}

/// What a partition export checks once connected: the binary log
/// position the plan recorded (MySQL).
pub struct Expect {
    binlog: Option<String>,
    quiet: bool,
}

impl Expect {
    /// Warns when the binary log moved since the plan: the parts then may
    /// not all see the same data.
    pub async fn check(&self, url: &crate::url::DbUrl) -> Result<()> {
        let Some(planned) = &self.binlog else {
            return Ok(());
        };
        let mut db = Db::connect(url)
            .await
            .with_context(|| format!("connecting to {}", url.shown))?;
        let now = match &mut db {
            Db::Mysql(my) => my.binlog_position().await?,
            _ => return Ok(()),
        };
        if now.as_ref() != Some(planned) && !self.quiet {
            warn(&format!(
                "the binary log moved since the plan was made ({planned} → {}): something was \
                 written, so parts read at different times may disagree (a row inserted or \
                 deleted meanwhile may be missing, one whose key changed may be in two parts); \
                 docs/distributed.md",
                now.as_deref().unwrap_or("off")
            ));
        }
        Ok(())
    }
}

/// `export`'s arguments as a checked plan; with `--plan`, the partition's
/// source, key range and format options come from the plan file.
pub fn export_plan(mut args: ExportArgs) -> Result<(ExportPlan, Option<Expect>)> {
    let snapshot = args.snapshot.take();
    let Some(path) = args.plan.take() else {
        let plan = ExportPlan::from_args(args)?;
        check_snapshot_engine(plan.url.engine, snapshot.as_deref())?;
        if snapshot.is_some() && plan.parallel > 1 {
            return Err(UsageError("--snapshot does not go with --parallel".into()).into());
        }
        let url = plan.url.clone().with_snapshot(snapshot);
        return Ok((ExportPlan { url, ..plan }, None));
    };
    let file = PartitionPlan::load(std::path::Path::new(&path))?;
    let k = partition_number(
        args.partition,
        |name| std::env::var(name).ok(),
        file.parts.len(),
    )?;
    let width = file.parts.len().to_string().len();
    let number = format!("{k:0width$}");
    for path in [&mut args.output, &mut args.state].into_iter().flatten() {
        *path = path.replace("{partition}", &number);
    }
    args.source.table = file.table.clone();
    args.source.query = file.query.clone();
    args.text.format = agree("--format", args.text.format, file.format, |f| f.name())?;
    args.text.null = agree("--null", args.text.null.take(), file.null.clone(), |n| {
        n.as_str()
    })?;
    args.text.no_header |= !file.header;
    let quiet = args.quiet;
    let mut plan = ExportPlan::from_args(args)?;
    if plan.url.engine != file.engine {
        return Err(UsageError(format!(
            "the plan {path} is for {}, but --url is {}",
            file.engine.name(),
            plan.url.engine.name()
        ))
        .into());
    }
    let snapshot = snapshot.or(file.snapshot.clone());
    check_snapshot_engine(plan.url.engine, snapshot.as_deref())?;
    plan.url = plan.url.with_snapshot(snapshot);
    let dialect = Dialect::of(file.engine);
    let key: Vec<String> = file.key.iter().map(|k| dialect.quote(k)).collect();
    let range = &file.parts[k - 1].range;
    plan.request.columns = file.columns.clone();
    plan.request.key = Some(file.key.clone());
    plan.request.filter = crate::plan::and_filter(
        file.filter.as_deref(),
        partition::conditions(dialect, &key, range),
    );
    let expect = Expect {
        binlog: file.binlog.clone(),
        quiet,
    };
    Ok((plan, Some(expect)))
}

/// A format option the worker gives must be the plan's, since every part
/// must be written alike.
fn agree<T: PartialEq>(
    flag: &str,
    given: Option<T>,
    planned: Option<T>,
    shown: impl Fn(&T) -> &str,
) -> Result<Option<T>, UsageError> {
    match (given, planned) {
        (Some(g), Some(p)) if g != p => Err(UsageError(format!(
            "{flag} {} differs from the plan's {}: every part is written alike; drop {flag}",
            shown(&g),
            shown(&p)
        ))),
        (given, planned) => Ok(planned.or(given)),
    }
}

/// The partition to export (1-based): `--partition`, else the scheduler's
/// index: Kubernetes' `JOB_COMPLETION_INDEX` (from 0), Slurm's
/// `SLURM_ARRAY_TASK_ID` (from 1, as `--array=1-N` numbers them).
fn partition_number(
    given: Option<u32>,
    env: impl Fn(&str) -> Option<String>,
    parts: usize,
) -> Result<usize, UsageError> {
    let (k, from) = match given {
        Some(k) => (k as usize, "--partition".to_string()),
        None => {
            let index = |name: &str, base: usize| -> Result<Option<(usize, String)>, UsageError> {
                let Some(text) = env(name) else {
                    return Ok(None);
                };
                let n: usize = text.trim().parse().map_err(|_| {
                    UsageError(format!("{name}={text:?} is not a partition number"))
                })?;
                Ok(Some((n + 1 - base, format!("{name}={n}"))))
            };
            match index("JOB_COMPLETION_INDEX", 0)? {
                Some(found) => found,
                None => index("SLURM_ARRAY_TASK_ID", 1)?.ok_or_else(|| {
                    UsageError(format!(
                        "which partition? give --partition K (1..{parts}), or run under a \
                         scheduler that sets JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or \
                         SLURM_ARRAY_TASK_ID (Slurm array)"
                    ))
                })?,
            }
        }
    };
    if k == 0 || k > parts {
        return Err(UsageError(format!(
            "{from} names partition {k}, but the plan has partitions 1..{parts}{}",
            if from.starts_with("SLURM") {
                " (number the array --array=1-N)"
            } else {
                ""
            }
        )));
    }
    Ok(k)
}

impl PartitionPlan {
    pub fn to_json(&self) -> Json {
        let key = |k: &Option<crate::db::Key>| k.as_ref().map(crate::state::key_to_json);
        let parts: Vec<Json> = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let mut json = json!({
                    "partition": i + 1,
                    "rows": part.rows,
                    "after": key(&part.range.after),
                    "through": key(&part.range.through),
                });
                if part.range.empty {
                    json["empty"] = json!(true);
                }
                json
            })
            .collect();
        json!({
            "dbchunk_plan": VERSION,
            "dbchunk_version": env!("CARGO_PKG_VERSION"),
            "engine": self.engine.key(),
            "table": self.table,
            "query": self.query,
            "columns": self.columns,
            "key": self.key,
            "where": self.filter,
            "format": self.format.map(Format::name),
            "null": self.null,
            "header": self.header,
            "snapshot": self.snapshot,
            "binlog": self.binlog,
            "rows": self.rows,
            "counted": self.counted,
            "partitions": parts,
        })
    }

    pub fn from_json(value: &Json) -> Result<PartitionPlan> {
        if value["dbchunk_plan"] != VERSION {
            bail!("not a dbchunk plan of version {VERSION} (written by `dbchunk plan`)");
        }
        let text = |name: &str| -> Result<Option<String>> {
            match &value[name] {
                Json::Null => Ok(None),
                Json::String(s) => Ok(Some(s.clone())),
                _ => bail!("{name:?} is not a string"),
            }
        };
        let names = |name: &str| -> Result<Option<Vec<String>>> {
            match &value[name] {
                Json::Null => Ok(None),
                Json::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .map(Some)
                    .ok_or_else(|| anyhow!("{name:?} is not a list of names")),
                _ => bail!("{name:?} is not a list of names"),
            }
        };
        let engine = text("engine")?;
        let Some(engine) = engine.as_deref().and_then(Engine::from_key) else {
            bail!("unknown \"engine\" {engine:?}");
        };
        let format = match text("format")? {
            None => None,
            Some(name) => Some(
                <Format as clap::ValueEnum>::from_str(&name, false)
                    .map_err(|_| anyhow!("unknown \"format\" {name:?}"))?,
            ),
        };
        let bound = |part: &Json, name: &str| -> Result<Option<crate::db::Key>> {
            match &part[name] {
                Json::Null => Ok(None),
                key => crate::state::key_from_json(key).map(Some),
            }
        };
        let parts = value["partitions"]
            .as_array()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| anyhow!("\"partitions\" is not a list of partitions"))?
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let range = (|| {
                    Ok::<_, anyhow::Error>(Range {
                        after: bound(part, "after")?,
                        through: bound(part, "through")?,
                        empty: part["empty"] == true,
                    })
                })()
                .with_context(|| format!("partition {}", i + 1))?;
                Ok(Part {
                    rows: part["rows"].as_u64().unwrap_or(0),
                    range,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let plan = PartitionPlan {
            engine,
            table: text("table")?,
            query: text("query")?,
            columns: names("columns")?,
            key: names("key")?.unwrap_or_default(),
            filter: text("where")?,
            format,
            null: text("null")?,
            header: value["header"] != false,
            snapshot: text("snapshot")?,
            binlog: text("binlog")?,
            rows: value["rows"].as_u64().unwrap_or(0),
            counted: value["counted"] == true,
            parts,
        };
        if plan.table.is_some() == plan.query.is_some() {
            bail!("a plan names one \"table\" or one \"query\"");
        }
        if plan.key.is_empty() {
            bail!("\"key\" names no column");
        }
        Ok(plan)
    }

    /// Reads a plan; anything wrong with it is a usage error naming the
    /// file.
    pub fn load(path: &std::path::Path) -> Result<PartitionPlan> {
        let shown = path.display();
        let text = std::fs::read(path).map_err(|e| {
            let cause = crate::error::cause_line(&e);
            UsageError(format!("cannot read the plan {shown}: {cause}"))
        })?;
        let json: Json = serde_json::from_slice(&text).map_err(|e| {
            UsageError(format!(
                "the plan {shown} is not valid JSON ({e}): write it with dbchunk plan"
            ))
        })?;
        PartitionPlan::from_json(&json).map_err(|e| {
            UsageError(format!(
                "the plan {shown} is damaged: {}",
                crate::error::one_line(&e)
            ))
            .into()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_partition_comes_from_the_flag_or_the_scheduler() {
        assert_eq!(partition_number(Some(3), env(&[]), 4).unwrap(), 3);
        let k8s = [("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "4")];
        assert_eq!(partition_number(None, env(&k8s), 4).unwrap(), 1);
        assert_eq!(
            partition_number(None, env(&[("SLURM_ARRAY_TASK_ID", "4")]), 4).unwrap(),
            4
        );
        assert_eq!(
            partition_number(Some(2), env(&[("JOB_COMPLETION_INDEX", "3")]), 4).unwrap(),
            2
        );
    }

    #[test]
    fn a_missing_or_strange_partition_is_a_usage_error() {
        let err =
            |given, vars: &[(&str, &str)]| partition_number(given, env(vars), 4).unwrap_err().0;
        assert!(err(None, &[]).contains("which partition?"));
        assert!(err(Some(5), &[]).contains("partitions 1..4"));
        assert!(err(None, &[("JOB_COMPLETION_INDEX", "4")]).contains("partition 5"));
        assert!(err(None, &[("SLURM_ARRAY_TASK_ID", "0")]).contains("--array=1-N"));
        assert!(err(None, &[("JOB_COMPLETION_INDEX", "x")]).contains("not a partition number"));
    }

    #[test]
    fn sampled_shares_deal_out_every_row() {
        assert_eq!(shares_of(10, &[0.25, 0.25, 0.25, 0.25]), [3, 2, 3, 2]);
        assert_eq!(shares_of(100, &[0.5, 0.0, 0.4999]), [50, 0, 50]);
        assert_eq!(shares_of(0, &[0.5, 0.5]), [0, 0]);
    }

    #[test]
    fn plans_round_trip_through_json() {
        let key = |i: i64| {
            Some(crate::db::Key::Sqlite(vec![
                rusqlite::types::Value::Integer(i),
            ]))
        };
        let plan = PartitionPlan {
            engine: Engine::Sqlite,
            table: Some("t".into()),
            query: None,
            columns: Some(vec!["a,b".into(), "c".into()]),
            key: vec!["id".into()],
            filter: Some("x > 1".into()),
            format: Some(Format::Tsv),
            null: None,
            header: false,
            snapshot: None,
            binlog: None,
            rows: 10,
            counted: true,
            parts: partition::ranges(&[key(5), key(5)])
                .into_iter()
                .map(|range| Part { rows: 5, range })
                .collect(),
        };
        let back = PartitionPlan::from_json(&plan.to_json()).unwrap();
        assert_eq!(back.to_json(), plan.to_json());
        assert!(back.parts[1].range.empty);
        assert_eq!(back.columns.unwrap()[0], "a,b");
    }
}
