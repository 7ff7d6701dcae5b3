//! Helpers for the unit tests of every module (compiled for tests only).

/// What `write` appends to an empty buffer, as text: for the tests of the
/// writers of canonical forms.
pub fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    write(&mut out);
    String::from_utf8(out).unwrap()
}

/// Asserts that `text` holds `part`, showing all of `text` when it does not.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} is not in:\n{text}");
}
