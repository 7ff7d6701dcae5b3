//! Helpers for the unit tests of every module (compiled for tests only).

/// What `write` appends to an empty buffer, as text: for the tests of the
/// writers of canonical forms.
pub fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut out = Vec::new();
    write(&mut out);
    String::from_utf8(out).unwrap()
}
