//! Ctrl-C (SIGINT) and SIGTERM: the first one finishes the chunk or batch
//! in flight, writes it out, and stops with exit 130 (143 for SIGTERM); a
//! second one ends the process at once.
//!
//! The handlers only set flags, from the signal handler itself, so both the
//! async readers and the synchronous ones (SQLite) see them at their next
//! chunk boundary.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// The first signal received, if any (0: none).
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// A stop asked for by a signal: an error that carries the exit code.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
}

impl Interrupted {
    pub fn exit_code(&self) -> u8 {
        128 + self.signal as u8
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = if self.signal == SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        };
        write!(f, "stopped by {name}")
    }
}

impl std::error::Error for Interrupted {}

/// Installs the handlers. A second signal exits at once with its code.
pub fn install() -> std::io::Result<()> {
    for signal in [SIGINT, SIGTERM] {
        let once = Arc::new(AtomicBool::new(false));
        // Registered first, so it runs before the flag below is set: on the
        // second signal the flag is already true, and the process exits.
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, once.clone())?;
        signal_hook::flag::register(signal, once)?;
        signal_hook::flag::register_usize(signal, &RECEIVED, signal as usize)?;
    }
    Ok(())
}

/// `Err(Interrupted)` once a signal has asked to stop.
pub fn check() -> Result<(), Interrupted> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => Ok(()),
        signal => Err(Interrupted {
            signal: signal as i32,
        }),
    }
}
