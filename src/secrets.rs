//! Passwords that must never be printed: registered once when the URL (or
//! a password file) is read, replaced by `***` in every message, warning
//! and panic. Below everything that prints, so nothing has to reach up to
//! the error reporting for it.

use std::sync::Mutex;

/// Secrets that must never be printed (passwords from URLs). A std
/// `Mutex` is enough: it is touched once at start-up and once per error.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn register_secret(secret: &str) {
    if !secret.is_empty() {
        SECRETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(secret.to_string());
    }
}

/// `message` with every registered secret replaced by `***`.
pub fn scrub(message: &str) -> String {
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut message = message.to_string();
    for secret in secrets.iter() {
        message = message.replace(secret.as_str(), "***");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed() {
        register_secret("hunter2-unit");
        assert_eq!(scrub("auth failed for hunter2-unit"), "auth failed for ***");
    }
}
