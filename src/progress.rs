//! The progress bar: rows, rows/s, bytes and ETA, on stderr only.
//!
//! Shown when stderr is a terminal (or with `--progress always`), never in
//! pipes and cron jobs unless asked. Updated once per chunk, not per row.

use std::io::Write;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// When stderr is a terminal.
    Auto,
    Always,
    Never,
}

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `total` is a fast row estimate, if there is one: it gives the ETA.
    pub fn new(mode: ProgressMode, quiet: bool, total: Option<u64>) -> Progress {
        let target = match (mode, quiet) {
            (ProgressMode::Never, _) | (ProgressMode::Auto, true) => return Progress { bar: None },
            (ProgressMode::Auto, false) => {
                if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    return Progress { bar: None };
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
            Some(_) => "{spinner} {elapsed_precise} {human_pos}/~{human_len} rows, {per_sec}, {msg}, ETA {eta}",
            None => "{spinner} {elapsed_precise} {human_pos} rows, {per_sec}, {msg}",
        };
        let bar = ProgressBar::with_draw_target(total, target).with_style(
            ProgressStyle::with_template(template).expect("valid progress template"),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress { bar: Some(bar) }
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
        }
    }
}

/// A "terminal" for `--progress always` when stderr is a file or pipe:
/// each redraw becomes one plain line, with no cursor movement.
#[derive(Debug, Default)]
struct LogLines;

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
        writeln!(std::io::stderr(), "dbchunk: {line}")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        if s.trim().is_empty() {
            return Ok(());
        }
        writeln!(std::io::stderr(), "dbchunk: {s}")
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
