//! `dbchunk count`: one integer on stdout, so `$(dbchunk count ...)` works.

use anyhow::{Context, Result};

use super::step::{connect, step};
use crate::config::CountPlan;

/// What a count stopped by a signal leaves.
const NOTHING: &str = "no count was printed";

pub async fn run(plan: CountPlan) -> Result<()> {
    count(&plan)
        .await
        .map_err(|err| crate::db::hint_raw_sql(err, &plan.request))
}

async fn count(plan: &CountPlan) -> Result<()> {
    let label = plan.request.source.label();
    let mut db = connect(&plan.url, false, NOTHING).await?;
    let counting = format!("while counting the rows of {label}");
    let rows = step(&counting, NOTHING, async {
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
        match estimate {
            Some(rows) => Ok(rows),
            None => db
                .count(&relation.select)
                .await
                .with_context(|| format!("counting the rows of {label}")),
        }
    })
    .await?;
    use std::io::Write;
    writeln!(std::io::stdout(), "{rows}").context("writing to stdout")?;
    Ok(())
}
