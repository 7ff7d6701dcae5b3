//! Where encoded bytes go: stdout or a file, written by one thread.
//!
//! The export loop hands finished buffers over a bounded channel, so the
//! database read of the next chunk overlaps with writing this one, and
//! memory stays bounded by the channel's depth. A file is written under a
//! temporary name in the same directory and renamed only once everything
//! is written and synced: a failed export never leaves a complete-looking
//! file behind. A device or FIFO is written in place instead
//! ([`crate::place`] decides which, and resolves symlinks).
//!
//! With `--compress` (or a `.gz`/`.zst` name) the writer thread also
//! compresses ([`crate::compress`]), ending a gzip member or zstd frame at
//! every checkpoint and before the rename, so neither a checkpoint nor
//! the finished file ever stands for a stream without its trailer.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::compress::{Compression, Compressor};
use crate::place::{open_stream, temp_beside, Place};
use crate::state::Checkpoint;

/// Buffers in flight between the encoder and the writer thread.
const QUEUE_DEPTH: usize = 4;

/// Where output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// A checkpoint to record once the bytes before it are written
/// (`--state`): the state file to write, and where the export stands. The
/// writer adds the compressed length, which only it knows.
#[derive(Clone, Debug)]
pub struct Saved {
    pub state_file: Option<PathBuf>,
    pub checkpoint: Checkpoint,
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
    /// A one-off temporary file, renamed over `to` when complete, removed
    /// if the export fails.
    Temp {
        file: tempfile::NamedTempFile,
        to: PathBuf,
    },
    /// A resumable export's file under a fixed name beside `to`
    /// (`.NAME.dbchunk-partial`), kept when the export stops, so a rerun
    /// with `--resume` goes on in it.
    Partial {
        file: std::fs::File,
        to: PathBuf,
    },
    /// A device, FIFO or `/proc` link, written in place: nothing to
    /// rename, and nothing to remove when the export fails.
    Direct(std::fs::File),
}

impl Target {
    fn of(destination: &Destination) -> Result<Target> {
        Ok(match destination {
            Destination::Stdout => Target::Stdout,
            Destination::File(path) => match place(path)? {
                Place::File(to) => Target::Temp {
                    file: temp_beside(&to)?,
                    to,
                },
                Place::Stream(path) => Target::Direct(open_stream(&path)?),
            },
        })
    }

    /// Whether a failed export must wait for the writer to clean up. A
    /// stdout or device writer may be blocked on a reader that stopped
    /// reading, and has nothing to clean up.
    fn cleans_up(&self) -> bool {
        matches!(self, Target::Temp { .. } | Target::Partial { .. })
    }
}

pub struct Output {
    sender: Option<SyncSender<Piece>>,
    /// Written buffers come back here to be refilled, so steady state
    /// allocates nothing.
    spares: Receiver<Vec<u8>>,
    writer: Option<JoinHandle<io::Result<Target>>>,
    destination: Destination,
    /// Whether dropping the output unfinished waits for the writer.
    cleans_up: bool,
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
    /// The thread waiting for room in the queue (or for the writer to
    /// end), unparked at each piece the writer takes and when it ends.
    /// Without it, a sender blocked on a pipe nobody reads could never
    /// notice Ctrl-C.
    waiter: Mutex<Option<Thread>>,
    /// Set when a signal stops the export: the writer writes no more
    /// pieces, so the last checkpoint it records is the one reported.
    abandoned: AtomicBool,
    /// Set by the writer just before it wakes the waiter for the last
    /// time: `JoinHandle::is_finished` turns true only a moment after, and
    /// a waiter that saw it false would sleep its whole timeout (100 ms
    /// per file, per part of a split export).
    ended: AtomicBool,
}

/// Where a resumed export goes on: the bytes of its format written before
/// (the counts go on from them), and the length of the file to keep,
/// which is less when it is compressed.
#[derive(Clone, Copy, Debug)]
pub struct ResumeAt {
    pub bytes: u64,
    pub file_bytes: u64,
}

impl ResumeAt {
    pub fn of(checkpoint: &Checkpoint) -> ResumeAt {
        ResumeAt {
            bytes: checkpoint.bytes,
            file_bytes: checkpoint.compressed_bytes.unwrap_or(checkpoint.bytes),
        }
    }
}

impl Output {
    pub fn open(destination: Destination, compression: Option<Compression>) -> Result<Output> {
        let target = Target::of(&destination)?;
        Output::start(destination, target, None, compression)
    }

    /// An output that checkpoints can resume: a file goes under its fixed
    /// partial name, and with `resume_at` the partial file is cut back to
    /// the last recorded checkpoint and continued. To stdout or a device,
    /// the output is the rest, to append, as with `--resume-from`.
    pub fn open_resumable(
        destination: Destination,
        resume_at: Option<ResumeAt>,
        compression: Option<Compression>,
    ) -> Result<Output> {
        let to = match &destination {
            Destination::File(path) => match place(path)? {
                Place::File(to) => to,
                Place::Stream(_) => return Output::open_at(destination, resume_at, compression),
            },
            Destination::Stdout => return Output::open_at(destination, resume_at, compression),
        };
        let path = partial_path(&to);
        let file = match resume_at {
            None => std::fs::File::create(&path)
                .with_context(|| format!("creating {}", path.display()))?,
            Some(ResumeAt {
                file_bytes: bytes, ..
            }) => {
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
        let target = Target::Partial { file, to };
        Output::start(destination, target, resume_at, compression)
    }

    /// A stream that a resumed export continues: it starts at the bytes
    /// written before.
    fn open_at(
        destination: Destination,
        resume_at: Option<ResumeAt>,
        compression: Option<Compression>,
    ) -> Result<Output> {
        let target = Target::of(&destination)?;
        Output::start(destination, target, resume_at, compression)
    }

    fn start(
        destination: Destination,
        target: Target,
        resume_at: Option<ResumeAt>,
        compression: Option<Compression>,
    ) -> Result<Output> {
        let bytes = resume_at.map_or(0, |r| r.bytes);
        let file_bytes = resume_at.map_or(0, |r| r.file_bytes);
        let compressor = compression
            .map(|c| Compressor::new(c, file_bytes > 0))
            .transpose()
            .context("starting the compressor")?;
        let (sender, receiver) = sync_channel::<Piece>(QUEUE_DEPTH);
        let (spare_sender, spares) = sync_channel::<Vec<u8>>(QUEUE_DEPTH);
        let saved = Arc::new(Mutex::new(None));
        let saved_by_writer = saved.clone();
        let shared = Arc::new(Shared::default());
        let shared_by_writer = shared.clone();
        let cleans_up = target.cleans_up();
        let writer = std::thread::Builder::new()
            .name("dbchunk-writer".into())
            .spawn(move || {
                let mut writer = Writer {
                    target,
                    compressor,
                    file_bytes,
                };
                let written =
                    writer.write_all(receiver, spare_sender, &saved_by_writer, &shared_by_writer);
                shared_by_writer.ended.store(true, Ordering::SeqCst);
                if let Some(waiter) = lock(&shared_by_writer.waiter).as_ref() {
                    waiter.unpark();
                }
                written?;
                Ok(writer.target)
            })
            .context("starting the output thread")?;
        Ok(Output {
            sender: Some(sender),
            spares,
            writer: Some(writer),
            destination,
            cleans_up,
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
        if self.cleans_up {
            if let Some(writer) = self.writer.take() {
                let _ = writer.join();
            }
        } else {
            // A pipe nobody reads would block a join for ever.
            for _ in 0..20 {
                if self.writer.as_ref().is_none_or(|w| w.is_finished()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
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
        let (renamed, to) = match self.join()? {
            Target::Temp { file, to } => (file.persist(&to).map(drop).map_err(|e| e.error), to),
            Target::Partial { file, to } => {
                drop(file);
                (std::fs::rename(partial_path(&to), &to), to)
            }
            Target::Stdout | Target::Direct(_) => return Ok(()),
        };
        renamed.with_context(|| format!("renaming the finished output to {}", to.display()))
    }

    /// Waits for the writer to end, or for a signal: a pipe nobody reads
    /// would otherwise hold the process here for ever.
    fn wait_for_writer(&self) -> Result<()> {
        *lock(&self.shared.waiter) = Some(std::thread::current());
        while !self.shared.ended.load(Ordering::SeqCst)
            && !self.writer.as_ref().is_none_or(|w| w.is_finished())
        {
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
    /// complete up to its last checkpoint) before the process exits.
    fn drop(&mut self) {
        drop(self.sender.take());
        if let (Some(writer), true) = (self.writer.take(), self.cleans_up) {
            let _ = writer.join();
        }
    }
}

/// Whether a resumable export to `path` that its state says is done had
/// also moved its file into place (no partial file waits beside it). A
/// device keeps nothing to check.
pub fn finished(path: &Path) -> bool {
    match Place::of(path) {
        Ok(Place::File(to)) => to.exists() && !partial_path(&to).exists(),
        Ok(Place::Stream(_)) => true,
        Err(_) => false,
    }
}

/// Where `-o PATH` is written, with the path in the error.
fn place(path: &Path) -> Result<Place> {
    Place::of(path).with_context(|| format!("cannot write the output to {}", path.display()))
}

/// The fixed name a resumable export writes under: `.NAME.dbchunk-partial`
/// beside `NAME` (beside the final target of a symlink).
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.dbchunk-partial"))
}

/// The writer thread's side: where bytes go, and how.
struct Writer {
    target: Target,
    compressor: Option<Compressor>,
    /// Bytes in the file (or on stdout) so far, compressed ones when
    /// compressing: where a resumed export cuts the file back to.
    file_bytes: u64,
}

impl Writer {
    fn write_all(
        &mut self,
        pieces: Receiver<Piece>,
        spares: SyncSender<Vec<u8>>,
        saved: &Mutex<Option<String>>,
        shared: &Shared,
    ) -> io::Result<()> {
        // Only a stdout writer takes the stdout lock: `--parallel` workers
        // spooling to files run beside the one that writes to stdout.
        let mut stdout = matches!(self.target, Target::Stdout).then(|| io::stdout().lock());
        for piece in pieces {
            if let Some(sender) = lock(&shared.waiter).as_ref() {
                sender.unpark();
            }
            if shared.abandoned.load(Ordering::SeqCst) {
                return Ok(());
            }
            let out = sink(&mut self.target, stdout.as_mut());
            self.file_bytes += match &mut self.compressor {
                None => {
                    out.write_all(&piece.bytes)?;
                    piece.bytes.len() as u64
                }
                Some(compressor) => compressor.write(&piece.bytes, out)?,
            };
            if let Some(Saved {
                state_file,
                mut checkpoint,
            }) = piece.checkpoint
            {
                // A checkpoint ends a member or frame: the file cut back
                // to here is a whole stream.
                if let Some(compressor) = &mut self.compressor {
                    self.file_bytes += compressor.end_member(out)?;
                    checkpoint.compression = Some(compressor.codec().name().to_string());
                    checkpoint.compressed_bytes = Some(self.file_bytes);
                }
                // The state may only claim bytes that are really out.
                out.flush()?;
                if let Target::Partial { file, .. } = &self.target {
                    file.sync_data()?;
                }
                if let Some(path) = &state_file {
                    crate::state::save(path, &checkpoint.to_json().to_string())?;
                }
                *lock(saved) = Some(checkpoint.token());
            }
            let _ = spares.try_send(piece.bytes);
        }
        // The trailer goes out before the sync and the rename: a file
        // under its final name is always a complete stream.
        if let Some(compressor) = &mut self.compressor {
            let out = sink(&mut self.target, stdout.as_mut());
            self.file_bytes += compressor.finish(out)?;
        }
        match (&mut self.target, stdout.as_mut()) {
            (Target::Temp { file, .. }, _) => {
                file.flush()?;
                file.as_file().sync_all()?;
            }
            (Target::Partial { file, .. }, _) => file.sync_all()?,
            // A device or FIFO cannot be synced (EINVAL): written is all.
            (Target::Direct(_), _) => {}
            (Target::Stdout, Some(out)) => out.flush()?,
            (Target::Stdout, None) => {}
        }
        Ok(())
    }
}

/// What the writer writes to.
fn sink<'a>(
    target: &'a mut Target,
    stdout: Option<&'a mut io::StdoutLock<'static>>,
) -> &'a mut dyn Write {
    match (target, stdout) {
        (Target::Temp { file, .. }, _) => file,
        (Target::Partial { file, .. } | Target::Direct(file), _) => file,
        (Target::Stdout, Some(out)) => out,
        (Target::Stdout, None) => unreachable!("a stdout writer holds the lock"),
    }
}

/// A lock that a panicked writer did not poison for the rest.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
