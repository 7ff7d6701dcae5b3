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
    /// Drawing plain lines (stderr is not a terminal): the throttled
    /// lines may skip the end, so `finish` writes a last one itself.
    log_lines: bool,
}

impl Progress {
    /// `total` is a fast row estimate, if there is one: it gives the ETA.
    pub fn new(mode: ProgressMode, quiet: bool, total: Option<u64>) -> Progress {
        let log_lines =
            mode == ProgressMode::Always && !std::io::IsTerminal::is_terminal(&std::io::stderr());
        let target = match (mode, quiet) {
            (ProgressMode::Never, _) | (ProgressMode::Auto, true) => {
                return Progress {
                    bar: None,
                    log_lines: false,
                }
            }
            (ProgressMode::Auto, false) => {
                if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    return Progress {
                        bar: None,
                        log_lines: false,
                    };
                }
                ProgressDrawTarget::stderr()
            }
            (ProgressMode::Always, _) => {
                if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    ProgressDrawTarget::stderr()
                } else {
                    ProgressDrawTarget::term_like_with_hz(Box::new(LogLines::default()), 1)
                }
            }
        };
        let template = match total {
            Some(_) => "{elapsed_precise} {human_pos}/~{human_len} rows, {rate}, {msg}, ETA {eta}",
            None => "{elapsed_precise} {human_pos} rows, {rate}, {msg}",
        };
        // A spinner only means something on a terminal that redraws it.
        let template = if log_lines {
            template.to_string()
        } else {
            format!("{{spinner}} {template}")
        };
        let style = ProgressStyle::with_template(&template)
            .expect("valid progress template")
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} rows/s", state.per_sec());
                },
            );
        let bar = ProgressBar::with_draw_target(total, target).with_style(style);
        bar.set_message(HumanBytes(0).to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress {
            bar: Some(bar),
            log_lines,
        }
    }

    pub fn update(&self, rows: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            if bar.length().is_some_and(|len| rows > len) {
                bar.set_length(rows);
            }
            bar.set_position(rows);
            bar.set_message(HumanBytes(bytes).to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
            if self.log_lines {
                let seconds = bar.elapsed().as_secs_f64();
                eprintln!(
                    "dbchunk: done: {} rows, {} in {seconds:.1}s",
                    bar.position(),
                    bar.message()
                );
            }
        }
    }
}

/// A "terminal" for `--progress always` when stderr is a file or pipe:
/// at most one plain line a second, with no cursor movement, so a log
/// file stays readable.
#[derive(Debug, Default)]
struct LogLines {
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl LogLines {
    fn line(&self, text: &str) -> std::io::Result<()> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if text.trim().is_empty() || last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return Ok(());
        }
        *last = Some(std::time::Instant::now());
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
