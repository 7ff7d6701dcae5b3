//! `--max-rate`: keeps an export under a rate of rows or bytes a second,
//! to spare a production server. The reader is simply paused: the server
//! then waits on TCP backpressure, holding nothing but the open statement.

use std::time::{Duration, Instant};

/// A rate limit, in rows or in bytes of output per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    Rows(f64),
    Bytes(f64),
}

impl Rate {
    /// `5000`, `5000/s`, `5000rows/s`, `20MB/s`, `512KiB/s`, `1GB/s`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_suffix("/s").unwrap_or(&t);
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let value: f64 = number.parse().map_err(|_| bad(text))?;
        let scale = match unit.trim() {
            "" | "rows" | "row" => return positive(value, text).map(Rate::Rows),
            "b" => 1.0,
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "kib" => 1024.0,
            "mib" => 1024.0 * 1024.0,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            _ => return Err(bad(text)),
        };
        positive(value * scale, text).map(Rate::Bytes)
    }
}

fn positive(value: f64, text: &str) -> Result<f64, String> {
    if value > 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(bad(text))
    }
}

fn bad(text: &str) -> String {
    format!(
        "--max-rate {text:?} is not a rate: use rows a second (5000/s) or bytes (20MB/s, 512KiB/s)"
    )
}

/// Sleeps whenever the work done so far is ahead of the rate.
pub struct Throttle {
    rate: Rate,
    started: Instant,
}

impl Throttle {
    pub fn new(rate: Rate) -> Throttle {
        Throttle {
            rate,
            started: Instant::now(),
        }
    }

    /// How long to wait after `rows` rows and `bytes` bytes.
    pub fn delay(&self, rows: u64, bytes: u64) -> Duration {
        let due = match self.rate {
            Rate::Rows(per_second) => rows as f64 / per_second,
            Rate::Bytes(per_second) => bytes as f64 / per_second,
        };
        Duration::from_secs_f64(due).saturating_sub(self.started.elapsed())
    }

    /// Waits until `rows` and `bytes` are within the rate. A slow rate
    /// can mean a long wait, so it is cut short by a signal, which the
    /// export then sees at its next check.
    pub fn pace(&self, rows: u64, bytes: u64) {
        let step = Duration::from_millis(100);
        loop {
            let delay = self.delay(rows, bytes);
            if delay.is_zero() || crate::signals::check().is_err() {
                return;
            }
            std::thread::sleep(delay.min(step));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_in_rows_and_bytes() {
        assert_eq!(Rate::parse("5000"), Ok(Rate::Rows(5000.0)));
        assert_eq!(Rate::parse("5000/s"), Ok(Rate::Rows(5000.0)));
        assert_eq!(Rate::parse("20MB/s"), Ok(Rate::Bytes(20e6)));
        assert_eq!(Rate::parse("512KiB/s"), Ok(Rate::Bytes(512.0 * 1024.0)));
        assert_eq!(Rate::parse("1.5gb"), Ok(Rate::Bytes(1.5e9)));
        assert!(Rate::parse("0").is_err());
        assert!(Rate::parse("fast").is_err());
        assert!(Rate::parse("10furlongs/s").is_err());
    }

    #[test]
    fn delay_is_what_keeps_the_rate() {
        let throttle = Throttle::new(Rate::Rows(1000.0));
        // 500 rows at 1000 rows/s are due at 0.5 s: nearly all of it is left.
        let delay = throttle.delay(500, 0);
        assert!(
            delay > Duration::from_millis(400) && delay <= Duration::from_millis(500),
            "{delay:?}"
        );
        let bytes = Throttle::new(Rate::Bytes(1e6));
        assert!(bytes.delay(0, 2_000_000) > Duration::from_millis(1900));
        assert_eq!(bytes.delay(1_000_000, 0), Duration::ZERO);
    }
}
