//! One run at a time per `--state FILE`: an exclusive lock on `FILE.lock`,
//! held until the process ends.
//!
//! An advisory `flock`, which the kernel drops when the process dies, so
//! a killed run (`kill -9`) never leaves a stale lock behind. The lock
//! file is left in place: removing it would let a third run lock a new
//! file while the second still holds the old one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::error::Busy;

/// The lock of one state file; released when dropped (or at exit).
pub struct StateLock {
    _file: File,
}

/// `FILE.lock`, beside the state file.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of `state`. Another run holding it is a [`Busy`]
/// error at once, or after waiting up to `wait` for it.
pub fn lock(state: &Path, wait: Option<Duration>) -> Result<StateLock> {
    let path = lock_path(state);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| {
            let missing = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty() && !d.is_dir());
            match missing {
                Some(dir) => format!(
                    "opening the lock file {}: the directory {} does not exist: create it first \
                     (dbchunk makes no directories)",
                    path.display(),
                    dir.display()
                ),
                None => format!("opening the lock file {}", path.display()),
            }
        })?;
    let deadline = wait.map(|wait| Instant::now() + wait);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(StateLock { _file: file }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("locking {}", path.display()))
            }
        }
        if deadline.is_none_or(|d| Instant::now() >= d) {
            let waited = match wait {
                Some(wait) => format!(" after waiting {}s", wait.as_secs_f64()),
                None => String::new(),
            };
            return Err(Busy(format!(
                "another dbchunk run holds the lock of --state {} ({}){waited}: this run did \
                 nothing; it exits 75 so that cron retries later (or give --wait-lock DURATION)",
                state.display(),
                path.display()
            ))
            .into());
        }
        crate::signals::check()?;
        std::thread::sleep(Duration::from_millis(50));
    }
}
