//! What scheduled runs need from the command line: durations
//! (`--wait-lock 5m`) and output names with the run's UTC date and time
//! (`-o 'orders-{date}.csv.zst'`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::UsageError;

/// `30s`, `5m`, `1h`, `250ms`, or a bare number of seconds.
pub fn parse_duration(flag: &str, text: &str) -> Result<Duration, UsageError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => f64::NAN,
    };
    match number.parse::<f64>() {
        Ok(n) if scale.is_finite() && n >= 0.0 && n * scale < 1e9 => {
            Ok(Duration::from_secs_f64(n * scale))
        }
        _ => Err(UsageError(format!(
            "{flag} {text:?} is not a duration: give a number with s, m or h (30s, 5m, 1h)"
        ))),
    }
}

/// `name` with `{date}` (2024-05-26), `{time}` (101500) and `{timestamp}`
/// (20240526T101500Z) replaced by `now` in UTC. Any other `{...}` is
/// refused: a typo would otherwise become a literal file name that every
/// run overwrites.
pub fn expand_name(name: &str, now: SystemTime) -> Result<String, UsageError> {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_date((seconds / 86_400) as i64);
    let of_day = seconds % 86_400;
    let (h, m, s) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    let date = format!("{year:04}-{month:02}-{day:02}");
    let time = format!("{h:02}{m:02}{s:02}");
    let timestamp = format!("{year:04}{month:02}{day:02}T{time}Z");
    let expanded = name
        .replace("{date}", &date)
        .replace("{time}", &time)
        .replace("{timestamp}", &timestamp);
    if let Some(start) = expanded.find('{') {
        let rest = &expanded[start..];
        let end = rest.find('}').map_or(rest.len(), |e| e + 1);
        return Err(UsageError(format!(
            "--output {name:?}: unknown placeholder {}: the placeholders are {{date}}, {{time}} \
             and {{timestamp}} (UTC)",
            &rest[..end]
        )));
    }
    Ok(expanded)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |t| parse_duration("--wait-lock", t);
        assert_eq!(d("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(d("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(d("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(d("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(d("2").unwrap(), Duration::from_secs(2));
        assert!(d("soon").is_err());
        assert!(d("5 days").is_err());
        assert!(d("-1s").is_err());
    }

    #[test]
    fn names_get_the_utc_date_and_time() {
        // 2024-02-29 23:59:58 UTC
        let now = UNIX_EPOCH + Duration::from_secs(1_709_251_198);
        assert_eq!(
            expand_name("o-{date}-{time}.csv", now).unwrap(),
            "o-2024-02-29-235958.csv"
        );
        assert_eq!(
            expand_name("o-{timestamp}.csv.zst", now).unwrap(),
            "o-20240229T235958Z.csv.zst"
        );
        assert_eq!(expand_name("plain.csv", now).unwrap(), "plain.csv");
        assert!(expand_name("o-{day}.csv", now).is_err());
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(-1), (1969, 12, 31));
    }
}
