//! Where a file dbchunk writes really goes, and how it is written there.
//!
//! Every file dbchunk writes (`--output` and its resumable partial file,
//! `--state`, `--reject-file`) is placed by [`Place::of`], so a path means
//! the same to all of them:
//!
//! - A regular file, or a name nothing holds yet, is written beside itself
//!   under a temporary name and renamed over itself once complete, so it is
//!   never seen half-written.
//! - A symlink is followed to its final target (through a chain of links,
//!   also when the last one dangles), and that target is what is replaced:
//!   renaming over the link itself would turn it into a plain file.
//! - A character device, FIFO or socket (`/dev/null`, a named pipe) is
//!   opened and written where it is. A rename would put a regular file in
//!   the device's place (`-o /dev/null` as root), and a device cannot be
//!   half-written in any useful sense anyway.
//! - A file reached through `/proc` (`/dev/stdout`, `/dev/fd/3`) is written
//!   where it is too: those links name a file already open in the shell,
//!   which may have meant to append to it.
//! - A directory is refused.

use std::io;
use std::path::{Path, PathBuf};

/// Symlinks followed before giving up, as the kernel does (`ELOOP`).
const MAX_LINKS: usize = 40;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A regular file or a free name, symlinks resolved: the file to
    /// replace atomically.
    File(PathBuf),
    /// A device, FIFO, socket or `/proc` link, as given: written in place,
    /// not atomically.
    Stream(PathBuf),
}

impl Place {
    /// Where writing to `path` goes. Only looks: creates nothing.
    pub fn of(path: &Path) -> io::Result<Place> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!(
                    "{} is a directory: give the name of a file in it",
                    path.display()
                ),
            )),
            Ok(meta) if !meta.is_file() => Ok(Place::Stream(path.to_path_buf())),
            Ok(_) => final_target(path),
            // Nothing there, or a link to nothing: the name to create.
            Err(e) if e.kind() == io::ErrorKind::NotFound => final_target(path),
            Err(e) => Err(named(path, e)),
        }
    }
}

/// Opens a device, FIFO or `/proc` link to write to it. Appending: to a
/// device it makes no difference, and a shell's `>>` file behind
/// `/dev/stdout` keeps what it held.
pub fn open_stream(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| named(path, e))
}

/// Writes `bytes` to the regular file `to` (or a free name) all at once:
/// into a temporary file beside it, synced, then renamed over it.
pub fn write_atomically(to: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = temp_beside(to)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(to).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file beside `target` (same directory, so the final rename
/// cannot cross file systems), named `.NAME.XXXXXX.partial`.
pub fn temp_beside(target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    builder.tempfile_in(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create a file in {} to write {}: {e}; check that the directory exists and \
                 is writable",
                dir.display(),
                target.display()
            ),
        )
    })
}

/// The regular file (or free name) at the end of `path`'s symlinks; a
/// stream if a link leads into `/proc`.
fn final_target(path: &Path) -> io::Result<Place> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if under_proc(&current) {
            return Ok(Place::Stream(path.to_path_buf()));
        }
        match std::fs::read_link(&current) {
            Ok(link) => {
                current = match current.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                }
            }
            // Not a symlink (EINVAL), or nothing there: this is the file.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::NotFound
                ) =>
            {
                return Ok(Place::File(current))
            }
            Err(e) => return Err(named(&current, e)),
        }
    }
    Err(io::Error::other(format!(
        "{}: more than {MAX_LINKS} symbolic links in a row (a loop?)",
        path.display()
    )))
}

/// Whether `path`'s directory is really in `/proc`, where links name open
/// files (`/dev/fd` links there too).
fn under_proc(path: &Path) -> bool {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::canonicalize(dir).is_ok_and(|dir| dir.starts_with("/proc"))
}

/// `e` with the path in its message (io errors do not name it).
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::testing::assert_contains;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_resolve_to_their_final_target() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.csv");
        std::fs::write(&file, "x").unwrap();
        symlink("data.csv", dir.path().join("one")).unwrap();
        symlink(dir.path().join("one"), dir.path().join("two")).unwrap();
        symlink("sub/missing.csv", dir.path().join("dangling")).unwrap();
        let place = |name: &str| Place::of(&dir.path().join(name)).unwrap();
        assert_eq!(place("data.csv"), Place::File(file.clone()));
        assert_eq!(place("one"), Place::File(file.clone()));
        assert_eq!(place("two"), Place::File(file));
        assert_eq!(
            place("dangling"),
            Place::File(dir.path().join("sub/missing.csv"))
        );
        assert_eq!(place("new"), Place::File(dir.path().join("new")));
    }

    #[test]
    fn devices_and_proc_links_are_streams_and_directories_are_refused() {
        let stream = |p: &str| Place::Stream(PathBuf::from(p));
        assert_eq!(
            Place::of(Path::new("/dev/null")).unwrap(),
            stream("/dev/null")
        );
        assert_eq!(
            Place::of(Path::new("/dev/stdout")).unwrap(),
            stream("/dev/stdout")
        );
        let dir = tempfile::tempdir().unwrap();
        let err = Place::of(dir.path()).unwrap_err();
        assert_contains(&err.to_string(), "is a directory");
        symlink("loop", dir.path().join("loop")).unwrap();
        assert!(Place::of(&dir.path().join("loop")).is_err());
    }
}
