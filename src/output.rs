//! Where encoded bytes go: stdout or a file, written by one thread.
//!
//! The export loop hands finished buffers over a bounded channel, so the
//! database read of the next chunk overlaps with writing this one, and
//! memory stays bounded by the channel's depth. A file is written under a
//! temporary name in the same directory and renamed only once everything
//! is written and synced: a failed export never leaves a complete-looking
//! file behind.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use anyhow::{Context, Result};

/// Buffers in flight between the encoder and the writer thread.
const QUEUE_DEPTH: usize = 4;

/// Where output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// A checkpoint to record once the bytes before it are written
/// (`--state`): the state file to write, and the resume token.
#[derive(Clone, Debug)]
pub struct Saved {
    pub state_file: Option<PathBuf>,
    pub json: String,
    pub token: String,
}

/// What the writer thread receives: bytes, and sometimes a checkpoint that
/// holds once they are written.
struct Piece {
    bytes: Vec<u8>,
    checkpoint: Option<Saved>,
}

/// What the writer thread writes to.
enum Target {
    Stdout,
    /// A one-off temporary file, removed if the export fails.
    Temp(tempfile::NamedTempFile),
    /// A resumable export's file under a fixed name (`.NAME.dbchunk-partial`),
    /// kept when the export stops, so a rerun with `--resume` goes on in it.
    Partial(std::fs::File),
}

pub struct Output {
    sender: Option<SyncSender<Piece>>,
    /// Written buffers come back here to be refilled, so steady state
    /// allocates nothing.
    spares: Receiver<Vec<u8>>,
    writer: Option<JoinHandle<io::Result<Target>>>,
    destination: Destination,
    bytes: u64,
    /// The token of the last checkpoint whose bytes are written.
    saved: Arc<Mutex<Option<String>>>,
    /// Shared with the writer thread, which wakes a sender waiting on a
    /// full queue and stops early once abandoned.
    shared: Arc<Shared>,
}

/// What the sending side and the writer thread both see.
#[derive(Default)]
struct Shared {
    /// The thread waiting for room in the queue, unparked at each piece
    /// the writer takes. Without it, a sender blocked on a pipe nobody
    /// reads could never notice Ctrl-C.
    waiter: Mutex<Option<Thread>>,
    /// Set when a signal stops the export: the writer writes no more
    /// pieces, so the last checkpoint it records is the one reported.
    abandoned: AtomicBool,
}

impl Output {
    pub fn open(destination: Destination) -> Result<Output> {
        let target = match &destination {
            Destination::Stdout => Target::Stdout,
            Destination::File(path) => Target::Temp(temp_beside(path)?),
        };
        Output::start(destination, target, 0)
    }

    /// An output that checkpoints can resume: a file goes under its fixed
    /// partial name, and with `resume_at` the partial file is cut back to
    /// that many bytes (the last recorded checkpoint) and continued.
    pub fn open_resumable(destination: Destination, resume_at: Option<u64>) -> Result<Output> {
        let path = match &destination {
            Destination::Stdout => {
                return Output::start(destination, Target::Stdout, resume_at.unwrap_or(0))
            }
            Destination::File(path) => partial_path(path),
        };
        let file = match resume_at {
            None => std::fs::File::create(&path)
                .with_context(|| format!("creating {}", path.display()))?,
            Some(bytes) => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("opening {} to resume it", path.display()))?;
                let length = file.metadata()?.len();
                if length < bytes {
                    anyhow::bail!(
                        "{} holds {length} bytes, fewer than the {bytes} the state records: it is not the \
                         file this state belongs to; export again without --resume",
                        path.display()
                    );
                }
                file.set_len(bytes)?;
                file
            }
        };
        let mut file = file;
        use std::io::Seek;
        file.seek(io::SeekFrom::End(0))?;
        Output::start(destination, Target::Partial(file), resume_at.unwrap_or(0))
    }

    fn start(destination: Destination, target: Target, bytes: u64) -> Result<Output> {
        let (sender, receiver) = sync_channel::<Piece>(QUEUE_DEPTH);
        let (spare_sender, spares) = sync_channel::<Vec<u8>>(QUEUE_DEPTH);
        let saved = Arc::new(Mutex::new(None));
        let saved_by_writer = saved.clone();
        let shared = Arc::new(Shared::default());
        let shared_by_writer = shared.clone();
        let writer = std::thread::Builder::new()
            .name("dbchunk-writer".into())
            .spawn(move || {
                let written = write_all(
                    receiver,
                    spare_sender,
                    target,
                    &saved_by_writer,
                    &shared_by_writer,
                );
                if let Some(waiter) = lock(&shared_by_writer.waiter).as_ref() {
                    waiter.unpark();
                }
                written
            })
            .context("starting the output thread")?;
        Ok(Output {
            sender: Some(sender),
            spares,
            writer: Some(writer),
            destination,
            bytes,
            saved,
            shared,
        })
    }

    /// Bytes handed to the writer so far (with `--resume`, from the start
    /// of the whole export).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The resume token of the last checkpoint that is written, if any.
    pub fn last_saved(&self) -> Option<String> {
        lock(&self.saved).clone()
    }

    /// Queues `buffer` for writing and returns an empty buffer to fill next.
    /// Blocks while the queue is full, until a signal asks to stop. Fails
    /// with the writer's own error (a broken pipe, a full disk) once the
    /// writer has stopped.
    pub fn send(&mut self, buffer: Vec<u8>) -> Result<Vec<u8>> {
        self.send_piece(buffer, None)
    }

    /// As `send`, and records `checkpoint` once `buffer` is written.
    pub fn send_checkpoint(&mut self, buffer: Vec<u8>, checkpoint: Saved) -> Result<Vec<u8>> {
        self.send_piece(buffer, Some(checkpoint))
    }

    fn send_piece(&mut self, bytes: Vec<u8>, checkpoint: Option<Saved>) -> Result<Vec<u8>> {
        self.bytes += bytes.len() as u64;
        let sender = self.sender.as_ref().expect("send after finish");
        let mut piece = Piece { bytes, checkpoint };
        let mut registered = false;
        loop {
            match sender.try_send(piece) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return Err(self.writer_error()),
                Err(TrySendError::Full(back)) => piece = back,
            }
            crate::signals::check()?;
            if registered {
                // The timeout only bounds a missed wake-up; the writer
                // unparks this thread as soon as there is room.
                std::thread::park_timeout(Duration::from_millis(100));
            } else {
                // Registered before trying again, so room made from now
                // on unparks this thread.
                *lock(&self.shared.waiter) = Some(std::thread::current());
                registered = true;
            }
        }
        Ok(self.spares.try_recv().unwrap_or_default())
    }

    /// After a signal: the writer finishes the piece it is writing and
    /// writes no more. Waits a moment for it (a file's writer to the end,
    /// so its temporary file is gone when the process exits), and returns
    /// the token of the last checkpoint written.
    pub fn abandon(&mut self) -> Option<String> {
        self.shared.abandoned.store(true, Ordering::SeqCst);
        drop(self.sender.take());
        match &self.destination {
            Destination::File(_) => {
                if let Some(writer) = self.writer.take() {
                    let _ = writer.join();
                }
            }
            // A pipe nobody reads would block a join forever.
            Destination::Stdout => {
                for _ in 0..20 {
                    if self.writer.as_ref().is_none_or(|w| w.is_finished()) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        self.last_saved()
    }

    /// Queues the whole content of `path` (a `--parallel` worker's range),
    /// a megabyte at a time.
    pub fn send_file(&mut self, path: &Path) -> Result<()> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)
            .with_context(|| format!("reading the spooled range {}", path.display()))?;
        loop {
            let mut buffer = self.spares.try_recv().unwrap_or_default();
            buffer.clear();
            buffer.reserve(1 << 20);
            let read = (&mut file).take(1 << 20).read_to_end(&mut buffer)?;
            if read == 0 {
                return Ok(());
            }
            self.send(buffer)?;
        }
    }

    /// Waits for every byte to be written, then moves a file into place.
    pub fn finish(mut self) -> Result<()> {
        drop(self.sender.take());
        self.wait_for_writer()?;
        let target = self.join()?;
        let Destination::File(path) = &self.destination else {
            return Ok(());
        };
        let renamed = match target {
            Target::Temp(temp) => temp.persist(path).map(drop).map_err(|e| e.error),
            Target::Partial(file) => {
                drop(file);
                std::fs::rename(partial_path(path), path)
            }
            Target::Stdout => Ok(()),
        };
        renamed.with_context(|| format!("renaming the finished output to {}", path.display()))
    }

    /// Waits for the writer to end, or for a signal: a pipe nobody reads
    /// would otherwise hold the process here for ever.
    fn wait_for_writer(&self) -> Result<()> {
        *lock(&self.shared.waiter) = Some(std::thread::current());
        while !self.writer.as_ref().is_none_or(|w| w.is_finished()) {
            crate::signals::check()?;
            // The writer unparks this thread as it ends.
            std::thread::park_timeout(Duration::from_millis(100));
        }
        Ok(())
    }

    fn writer_error(&mut self) -> anyhow::Error {
        match self.join() {
            Err(e) => e,
            Ok(_) => anyhow::anyhow!("the output thread stopped early"),
        }
    }

    fn join(&mut self) -> Result<Target> {
        let handle = self.writer.take().expect("writer joined twice");
        let result = handle.join().expect("the output thread panicked");
        result.with_context(|| match &self.destination {
            Destination::Stdout => "writing to stdout".to_string(),
            Destination::File(path) => format!("writing {}", path.display()),
        })
    }
}

impl Drop for Output {
    /// An export that failed drops its output unfinished: wait for a file
    /// writer, so that a temporary file is removed (and a partial one is
    /// complete up to its last checkpoint) before the process exits. A
    /// stdout writer may be blocked on a full pipe, and has nothing to
    /// clean up.
    fn drop(&mut self) {
        drop(self.sender.take());
        if self.writer.is_none() {
            return;
        }
        if let (Some(writer), Destination::File(_)) = (self.writer.take(), &self.destination) {
            let _ = writer.join();
        }
    }
}

/// The fixed name a resumable export writes under: `.NAME.dbchunk-partial`
/// beside `NAME`.
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.dbchunk-partial"))
}

fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
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
    builder.tempfile_in(dir).with_context(|| {
        format!(
            "cannot create the output file in {}: check that the directory exists and is writable",
            dir.display()
        )
    })
}

fn write_all(
    pieces: Receiver<Piece>,
    spares: SyncSender<Vec<u8>>,
    mut target: Target,
    saved: &Mutex<Option<String>>,
    shared: &Shared,
) -> io::Result<Target> {
    // Only a stdout writer takes the stdout lock: `--parallel` workers
    // spooling to files run beside the one that writes to stdout.
    let mut stdout = matches!(target, Target::Stdout).then(|| io::stdout().lock());
    for piece in pieces {
        if let Some(sender) = lock(&shared.waiter).as_ref() {
            sender.unpark();
        }
        if shared.abandoned.load(Ordering::SeqCst) {
            return Ok(target);
        }
        let out: &mut dyn Write = match (&mut target, stdout.as_mut()) {
            (Target::Temp(file), _) => file,
            (Target::Partial(file), _) => file,
            (Target::Stdout, Some(out)) => out,
            (Target::Stdout, None) => unreachable!("a stdout writer holds the lock"),
        };
        out.write_all(&piece.bytes)?;
        if let Some(checkpoint) = piece.checkpoint {
            // The state may only claim bytes that are really out.
            out.flush()?;
            if let Target::Partial(file) = &target {
                file.sync_data()?;
            }
            if let Some(path) = &checkpoint.state_file {
                crate::state::save(path, &checkpoint.json)?;
            }
            *lock(saved) = Some(checkpoint.token);
        }
        let _ = spares.try_send(piece.bytes);
    }
    match (&mut target, stdout.as_mut()) {
        (Target::Temp(file), _) => {
            file.flush()?;
            file.as_file().sync_all()?;
        }
        (Target::Partial(file), _) => file.sync_all()?,
        (Target::Stdout, Some(out)) => out.flush()?,
        (Target::Stdout, None) => {}
    }
    Ok(target)
}

/// A lock that a panicked writer did not poison for the rest.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
