//! Getting a connection back after losing one (`--retries`), shared by
//! export and import: a growing pause (0.5 s, 1 s, 2 s, ... up to 16 s),
//! a warning per attempt, and every failed attempt counted.

use std::future::Future;
use std::time::Duration;

use anyhow::Result;

use crate::db::Db;

#[derive(Clone, Copy, Debug)]
pub struct Retries {
    /// Reconnections allowed (`--retries`).
    pub max: u32,
    pub quiet: bool,
}

impl Retries {
    /// Reconnects with `connect` after `lost`; `used` counts the attempts
    /// made so far for the same chunk or batch. Fails with the last error
    /// once `max` attempts are used up.
    pub async fn reconnect<F, Fut>(
        &self,
        lost: anyhow::Error,
        used: &mut u32,
        connect: F,
    ) -> Result<Db>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Db>>,
    {
        let mut lost = lost;
        loop {
            if *used >= self.max {
                return Err(lost.context(format!(
                    "the connection was lost, and {} reconnections (--retries) did not bring it back",
                    self.max
                )));
            }
            *used += 1;
            let pause = Duration::from_millis(500 << (*used - 1).min(5));
            if !self.quiet {
                crate::error::warn(&format!(
                    "the connection was lost ({}); reconnecting in {:.1}s (retry {} of {})",
                    crate::error::one_line(&lost),
                    pause.as_secs_f64(),
                    used,
                    self.max
                ));
            }
            tokio::time::sleep(pause).await;
            match connect().await {
                Ok(db) => return Ok(db),
                Err(err) => lost = err,
            }
        }
    }
}
