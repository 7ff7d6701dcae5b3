//! `dbchunk count`: one integer on stdout, so `$(dbchunk count ...)` works.

use anyhow::{Context, Result};

use crate::config::CountPlan;
use crate::db::Db;

pub async fn run(plan: CountPlan) -> Result<()> {
    let label = plan.request.source.label();
    let mut db = Db::connect(&plan.url)
        .await
        .with_context(|| format!("connecting to {}", plan.url.shown))?;
    let relation = db
        .describe(&plan.request)
        .await
        .with_context(|| format!("looking up {label}"))?;
    let estimate = if plan.estimate {
        let estimate = db
            .estimate_returned(&relation.select)
            .await
            .with_context(|| format!("estimating the rows of {label}"))?;
        if estimate.is_none() {
            crate::error::warn(&format!(
                "{} has no estimate of the rows of {label}{}; counting them exactly",
                db.engine().name(),
                if plan.request.filter.is_some() {
                    " with this --where"
                } else {
                    ""
                }
            ));
        }
        estimate
    } else {
        None
    };
    let rows = match estimate {
        Some(rows) => rows,
        None => db
            .count(&relation.select)
            .await
            .with_context(|| format!("counting the rows of {label}"))?,
    };
    use std::io::Write;
    writeln!(std::io::stdout(), "{rows}").context("writing to stdout")?;
    Ok(())
}
