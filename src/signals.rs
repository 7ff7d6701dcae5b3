//! Ctrl-C (SIGINT) and SIGTERM: the first one stops the run at whatever
//! it is doing (connecting, waiting for a query, reading, writing to a
//! blocked pipe) with exit 130 (143 for SIGTERM) and one line saying what
//! the output and any state file hold; a second one ends the process at
//! once.
//!
//! Three ways to hear the first signal, for three kinds of waiting:
//! - a flag set in the signal handler itself, read at chunk and batch
//!   boundaries and by loops that wait with a timeout (a full output
//!   queue, an empty input queue);
//! - [`until_stopped`], for an `await` (connect, a query's first row, a
//!   read), woken by a watcher thread through a tokio `Notify`;
//! - hooks run by that thread ([`on_stop`]): SQLite's statements are
//!   synchronous, so the hook interrupts the running one.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use signal_hook::consts::{SIGINT, SIGTERM};
use tokio::sync::Notify;

/// The first signal received, if any (0: none).
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// Wakes every task waiting in [`stopped`].
static STOP: Notify = Notify::const_new();

type Hook = Box<dyn Fn() + Send>;

/// Run by the watcher thread on the first signal.
static HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

/// Set by [`exit_while`]: the stage and outcome of a stop that the
/// watcher thread reports itself before it ends the process.
static EXIT_NOW: Mutex<Option<(String, String)>> = Mutex::new(None);

/// A stop asked for by a signal: an error that carries the exit code, and
/// once the command knows it, what state the run was left in.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
    /// `while connecting`, `after 15000 rows`.
    stage: Option<String>,
    /// `nothing was written`, `--state s.json records 15000 rows: ...`.
    outcome: Option<String>,
}

impl Interrupted {
    pub fn exit_code(&self) -> u8 {
        128 + self.signal as u8
    }

    /// Says when the signal came and what the output holds; the message
    /// is then complete on its own.
    pub fn left(mut self, stage: impl Into<String>, outcome: impl Into<String>) -> Interrupted {
        self.stage = Some(stage.into());
        self.outcome = Some(outcome.into());
        self
    }

    /// Whether [`Interrupted::left`] has said what the run left behind.
    pub fn is_explained(&self) -> bool {
        self.outcome.is_some()
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = if self.signal == SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        write!(f, "stopped by {name}")?;
        if let Some(stage) = &self.stage {
            write!(f, " {stage}")?;
        }
        if let Some(outcome) = &self.outcome {
            write!(f, "; {outcome}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Interrupted {}

/// Installs the handlers and the watcher thread. A second signal exits at
/// once with its code.
pub fn install() -> std::io::Result<()> {
    for signal in [SIGINT, SIGTERM] {
        let once = Arc::new(AtomicBool::new(false));
        // Registered first, so it runs before the flag below is set: on the
        // second signal the flag is already true, and the process exits.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, once.clone())?;
        signal_hook::flag::register(signal, once)?;
        signal_hook::flag::register_usize(signal, &RECEIVED, signal as usize)?;
    }
    // Waking tasks takes locks, which a signal handler must not; a thread
    // does it instead, told by signal-hook's self-pipe.
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("dbchunk-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let exit_now = lock(&EXIT_NOW).take();
                if let Some((stage, outcome)) = exit_now {
                    let stop = Interrupted {
                        signal,
                        stage: None,
                        outcome: None,
                    };
                    let stop = stop.left(stage, outcome).to_string();
                    crate::log::error(&crate::secrets::scrub(&stop));
                    std::process::exit(128 + signal);
                }
                STOP.notify_waiters();
                for hook in lock(&HOOKS).iter() {
                    hook();
                }
            }
        })?;
    Ok(())
}

/// Runs `hook` (from another thread) when the first signal comes: for a
/// synchronous call that only another thread can cut short.
pub fn on_stop(hook: impl Fn() + Send + 'static) {
    lock(&HOOKS).push(Box::new(hook));
}

/// Until the guard is dropped, the first signal ends the process at once
/// (from the signal thread), saying `stage` and `outcome`: for a wait that
/// nothing can wake (a blocking read of stdin) and that has nothing to
/// clean up.
#[must_use = "the process exits on a signal only while the guard lives"]
pub fn exit_while(stage: &str, outcome: &str) -> ExitWhile {
    *lock(&EXIT_NOW) = Some((stage.to_string(), outcome.to_string()));
    ExitWhile
}

pub struct ExitWhile;

impl Drop for ExitWhile {
    fn drop(&mut self) {
        *lock(&EXIT_NOW) = None;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// `Err(Interrupted)` once a signal has asked to stop.
pub fn check() -> Result<(), Interrupted> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(Interrupted {
            signal: signal as i32,
            stage: None,
            outcome: None,
        }),
    }
}

/// Resolves once a signal has asked to stop.
pub async fn stopped() -> Interrupted {
    loop {
        let notified = STOP.notified();
        tokio::pin!(notified);
        // Registered before the flag is read, so a signal in between
        // still wakes this task.
        notified.as_mut().enable();
        if let Err(stop) = check() {
            return stop;
        }
        notified.await;
    }
}

/// Runs `work` until it ends or a signal asks to stop, whichever comes
/// first; the work is then dropped where it waits. An error that comes
/// after a signal (a SQLite statement interrupted by [`on_stop`], a
/// connection cut by the stop) is the stop too.
pub async fn until_stopped<T>(
    work: impl Future<Output = anyhow::Result<T>>,
) -> Result<anyhow::Result<T>, Interrupted> {
    let result = tokio::select! {
        biased;
        stop = stopped() => return Err(stop),
        result = work => result,
    };
    match result {
        Err(err) => match check() {
            Err(stop) => Err(take_stop(err).unwrap_or(stop)),
            Ok(()) => Ok(Err(err)),
        },
        ok => Ok(ok),
    }
}

/// The `Interrupted` in `err`'s chain, without the context around it (the
/// stop gets its own wording), or `err` itself when a signal is not why
/// it failed.
pub fn take_stop(err: anyhow::Error) -> Result<Interrupted, anyhow::Error> {
    let Some(signal) = err.chain().find_map(|c| c.downcast_ref::<Interrupted>()) else {
        return Err(err);
    };
    Ok(Interrupted {
        signal: signal.signal,
        stage: signal.stage.clone(),
        outcome: signal.outcome.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_says_when_and_what_was_left() {
        let stop = Interrupted {
            signal: SIGTERM,
            stage: None,
            outcome: None,
        };
        assert_eq!(stop.to_string(), "stopped by SIGTERM");
        assert!(!stop.is_explained());
        let stop = stop.left("while connecting", "nothing was written");
        assert_eq!(
            stop.to_string(),
            "stopped by SIGTERM while connecting; nothing was written"
        );
        assert_eq!(stop.exit_code(), 143);
        let err = anyhow::Error::new(stop).context("exporting table t");
        assert_eq!(
            take_stop(err).unwrap().to_string(),
            "stopped by SIGTERM while connecting; nothing was written"
        );
        assert!(take_stop(anyhow::anyhow!("other")).is_err());
    }
}
