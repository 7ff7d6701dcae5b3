//! `dbchunk count`: one integer on stdout, so `$(dbchunk count ...)` works.

use anyhow::{Context, Result};

use crate::config::CountPlan;
use crate::db::Db;

pub async fn run(plan: CountPlan) -> Result<()> {
    count(&plan)
        .await
        .map_err(|err| crate::db::hint_raw_sql(err, &plan.request))
}

async fn count(plan: &CountPlan) -> Result<()> {
    let label = plan.request.source.label();
    let mut db = step("while connecting", async {
        Db::connect(&plan.url)
            .await
            .with_context(|| format!("connecting to {}", plan.url.shown))
    })
    .await?;
    let counting = format!("while counting the rows of {label}");
    let rows = step(&counting, async {
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

/// A step that a signal may cut short: no count is printed then.
async fn step<T>(stage: &str, work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    crate::signals::until_stopped(work)
        .await
        .map_err(|stop| stop.left(stage, "no count was printed"))?
}
