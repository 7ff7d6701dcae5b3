//! The progress bar: rows, rows/s, bytes and ETA, on stderr only.
//!
//! Shown when stderr is a terminal (or with `--progress always`), never in
//! pipes and cron jobs unless asked. Updated once per chunk, not per row.

use std::io::Write;
use std::time::Duration;

use indicatif::{
    HumanBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// When stderr is a terminal.
    Auto,
    Always,
    Never,
}

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Import counts progress in input bytes (the file size is known up
    /// front), export in rows (against a row estimate).
    by_input_bytes: bool,
    /// Drawing plain lines (stderr is not a terminal): the throttled
    /// lines may skip the end, so `finish` writes a last one itself.
    log_lines: bool,
    /// Set for the handles of parallel workers (see [`Progress::share`]):
    /// each adds what it did since its last update to the shared totals.
    shared: Option<Shared>,
    /// An export's look without a total, for when more rows come than the
    /// estimate said: a total the run has already passed is a wrong one,
    /// so it is dropped rather than stretched to the count so far.
    without_total: Option<ProgressStyle>,
}

struct Shared {
    totals: std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>,
    last: std::cell::Cell<(u64, u64)>,
}

impl Progress {
    /// An export's bar. `total` is the planner's estimate of the rows the
    /// export's own query returns, if there is one: it gives the ETA.
    pub fn new(mode: ProgressMode, quiet: bool, total: Option<u64>) -> Progress {
        const WITHOUT_TOTAL: &str = "{elapsed_precise} {human_pos} rows, {rate}, {msg}";
        let template = match total {
            Some(_) => "{elapsed_precise} {human_pos}/~{human_len} rows, {rate}, {msg}, ETA {eta}",
            None => WITHOUT_TOTAL,
        };
        let mut progress = Progress::build(mode, quiet, total, template, false);
        if progress.bar.is_some() && total.is_some() {
            progress.without_total = Some(style(WITHOUT_TOTAL, progress.log_lines));
        }
        progress
    }

    /// A dump's bar: tables done of `tables`, and rows against the
    /// planner's estimate for the tables still to dump.
    pub fn for_tables(mode: ProgressMode, quiet: bool, rows: u64, tables: usize) -> Progress {
        const WITHOUT_TOTAL: &str =
            "{elapsed_precise} {prefix} tables, {human_pos} rows, {rate}, {msg}";
        let template = "{elapsed_precise} {prefix} tables, {human_pos}/~{human_len} rows, {rate}, \
                        {msg}, ETA {eta}";
        let mut progress = Progress::build(mode, quiet, Some(rows), template, false);
        if let Some(bar) = &progress.bar {
            progress.without_total = Some(style(WITHOUT_TOTAL, progress.log_lines));
            bar.set_prefix(format!("0/{tables}"));
            bar.set_length(rows);
        }
        progress
    }

    /// How many of a dump's tables are complete.
    pub fn tables_done(&self, done: usize, tables: usize) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("{done}/{tables}"));
        }
    }

    /// An import's bar: input bytes read against the input's size (when
    /// it is a file), and rows.
    pub fn for_input(mode: ProgressMode, quiet: bool, size: Option<u64>) -> Progress {
        let template = match size {
            Some(_) => "{elapsed_precise} {msg} rows, {binary_bytes}/{binary_total_bytes} read, {binary_bytes_per_sec}, ETA {eta}",
            None => "{elapsed_precise} {msg} rows, {binary_bytes} read, {binary_bytes_per_sec}",
        };
        Progress::build(mode, quiet, size, template, true)
    }

    fn build(
        mode: ProgressMode,
        quiet: bool,
        total: Option<u64>,
        template: &str,
        by_input_bytes: bool,
    ) -> Progress {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        // With --log-format json a log collector reads stderr: progress
        // goes there by default, as a line every JSON_PROGRESS_EVERY.
        let json_lines = crate::log::is_json() && mode == ProgressMode::Auto && !quiet && !terminal;
        let log_lines = (mode == ProgressMode::Always && !terminal) || json_lines;
        let target = match (mode, quiet) {
            _ if json_lines => Some(ProgressDrawTarget::term_like_with_hz(
                Box::new(LogLines::every(JSON_PROGRESS_EVERY)),
                1,
            )),
            (ProgressMode::Never, _) | (ProgressMode::Auto, true) => None,
            (ProgressMode::Auto, false) => terminal.then(ProgressDrawTarget::stderr),
            (ProgressMode::Always, _) if terminal => Some(ProgressDrawTarget::stderr()),
            (ProgressMode::Always, _) => Some(ProgressDrawTarget::term_like_with_hz(
                Box::new(LogLines::default()),
                1,
            )),
        };
        let Some(target) = target else {
            return Progress {
                bar: None,
                by_input_bytes,
                log_lines: false,
                shared: None,
                without_total: None,
            };
        };
        let bar =
            ProgressBar::with_draw_target(total, target).with_style(style(template, log_lines));
        bar.set_message(if by_input_bytes {
            "0".to_string()
        } else {
            HumanBytes(0).to_string()
        });
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar: Some(bar),
            by_input_bytes,
            log_lines,
            shared: None,
            without_total: None,
        }
    }

    /// A handle for one of several parallel workers: the rows and bytes of
    /// all handles made from `totals` add up on this bar.
    pub fn share(&self, totals: &std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>) -> Progress {
        Progress {
            bar: self.bar.clone(),
            by_input_bytes: self.by_input_bytes,
            log_lines: false,
            shared: Some(Shared {
                totals: totals.clone(),
                last: std::cell::Cell::new((0, 0)),
            }),
            without_total: self.without_total.clone(),
        }
    }

    /// `bytes` are bytes written (export) or read (import).
    pub fn update(&self, rows: u64, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        let (rows, bytes) = match &self.shared {
            None => (rows, bytes),
            Some(shared) => {
                use std::sync::atomic::Ordering::Relaxed;
                let (last_rows, last_bytes) = shared.last.replace((rows, bytes));
                let rows = shared.totals[0].fetch_add(rows - last_rows, Relaxed) + rows - last_rows;
                let bytes =
                    shared.totals[1].fetch_add(bytes - last_bytes, Relaxed) + bytes - last_bytes;
                (rows, bytes)
            }
        };
        let (position, message) = if self.by_input_bytes {
            (bytes, rows.to_string())
        } else {
            (rows, HumanBytes(bytes).to_string())
        };
        if bar.length().is_some_and(|len| position > len) {
            match &self.without_total {
                Some(style) => {
                    bar.unset_length();
                    bar.set_style(style.clone());
                }
                None => bar.set_length(position),
            }
        }
        bar.set_position(position);
        bar.set_message(message);
    }

    pub fn finish(&self) {
        if self.shared.is_some() {
            return; // the bar is finished by its owner
        }
        if let Some(bar) = &self.bar {
            // indicatif's `finish` moves the position to the total, which
            // for an export is only an estimate: the last line must count
            // what was written.
            if bar.length().is_some() {
                bar.set_length(bar.position());
            }
            bar.finish();
            if self.log_lines {
                let seconds = bar.elapsed().as_secs_f64();
                let (rows, bytes) = if self.by_input_bytes {
                    (
                        bar.message().to_string(),
                        HumanBytes(bar.position()).to_string(),
                    )
                } else {
                    (bar.position().to_string(), bar.message().to_string())
                };
                let mut fields = serde_json::Map::new();
                fields.insert("event".into(), "done".into());
                if let Ok(count) = rows.parse::<u64>() {
                    fields.insert("rows".into(), count.into());
                }
                fields.insert("seconds".into(), ((seconds * 10.0).round() / 10.0).into());
                let message = format!("done: {rows} rows, {bytes} in {seconds:.1}s");
                crate::log::emit(crate::log::Level::Info, &message, fields);
            }
        }
    }
}

/// The bar's look; a spinner only means something on a terminal that
/// redraws it.
fn style(template: &str, log_lines: bool) -> ProgressStyle {
    let template = if log_lines {
        template.to_string()
    } else {
        format!("{{spinner}} {template}")
    };
    ProgressStyle::with_template(&template)
        .expect("valid progress template")
        .with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} rows/s", state.per_sec());
            },
        )
}

/// How often `--log-format json` writes a progress line when no
/// `--progress` flag asks otherwise: often enough to see a run move, rarely
/// enough not to flood a collector.
const JSON_PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// A "terminal" for `--progress always` when stderr is a file or pipe:
/// at most one plain line a second (or every `every`), with no cursor
/// movement, so a log file stays readable.
#[derive(Debug)]
struct LogLines {
    last: std::sync::Mutex<Option<std::time::Instant>>,
    every: Duration,
}

impl Default for LogLines {
    fn default() -> LogLines {
        LogLines::every(Duration::from_secs(1))
    }
}

impl LogLines {
    fn every(every: Duration) -> LogLines {
        LogLines {
            last: std::sync::Mutex::new(None),
            every,
        }
    }

    fn line(&self, text: &str) -> std::io::Result<()> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if text.trim().is_empty() || last.is_some_and(|t| t.elapsed() < self.every) {
            return Ok(());
        }
        *last = Some(std::time::Instant::now());
        if crate::log::is_json() {
            let mut fields = serde_json::Map::new();
            fields.insert("event".into(), "progress".into());
            crate::log::emit(crate::log::Level::Info, text.trim(), fields);
            return Ok(());
        }
        writeln!(std::io::stderr(), "dbchunk: {}", text.trim())
    }
}

impl TermLike for LogLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, line: &str) -> std::io::Result<()> {
        self.line(line)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.line(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
