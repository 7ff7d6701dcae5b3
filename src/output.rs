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
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use anyhow::{Context, Result};

/// Buffers in flight between the encoder and the writer thread.
const QUEUE_DEPTH: usize = 4;

/// Where output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

pub struct Output {
    sender: Option<SyncSender<Vec<u8>>>,
    /// Written buffers come back here to be refilled, so steady state
    /// allocates nothing.
    spares: Receiver<Vec<u8>>,
    writer: Option<JoinHandle<io::Result<Option<tempfile::NamedTempFile>>>>,
    destination: Destination,
    bytes: u64,
}

impl Output {
    pub fn open(destination: Destination) -> Result<Output> {
        let temp = match &destination {
            Destination::Stdout => None,
            Destination::File(path) => Some(temp_beside(path)?),
        };
        let (sender, receiver) = sync_channel::<Vec<u8>>(QUEUE_DEPTH);
        let (spare_sender, spares) = sync_channel::<Vec<u8>>(QUEUE_DEPTH);
        let writer = std::thread::Builder::new()
            .name("dbchunk-writer".into())
            .spawn(move || write_all(receiver, spare_sender, temp))
            .context("starting the output thread")?;
        Ok(Output {
            sender: Some(sender),
            spares,
            writer: Some(writer),
            destination,
            bytes: 0,
        })
    }

    /// Bytes handed to the writer so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Queues `buffer` for writing and returns an empty buffer to fill next.
    /// Blocks while the queue is full. Fails with the writer's own error
    /// (a broken pipe, a full disk) once the writer has stopped.
    pub fn send(&mut self, buffer: Vec<u8>) -> Result<Vec<u8>> {
        self.bytes += buffer.len() as u64;
        let sender = self.sender.as_ref().expect("send after finish");
        if sender.send(buffer).is_err() {
            return Err(self.writer_error());
        }
        Ok(self.spares.try_recv().unwrap_or_default())
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
        let temp = self.join()?;
        if let (Some(temp), Destination::File(path)) = (temp, &self.destination) {
            temp.persist(path)
                .with_context(|| format!("renaming the finished output to {}", path.display()))?;
        }
        Ok(())
    }

    fn writer_error(&mut self) -> anyhow::Error {
        match self.join() {
            Err(e) => e,
            Ok(_) => anyhow::anyhow!("the output thread stopped early"),
        }
    }

    fn join(&mut self) -> Result<Option<tempfile::NamedTempFile>> {
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
    /// writer, so that the temporary file it owns is removed before the
    /// process exits. (A stdout writer may be blocked on a full pipe, and
    /// has nothing to clean up.)
    fn drop(&mut self) {
        drop(self.sender.take());
        if let (Some(writer), Destination::File(_)) = (self.writer.take(), &self.destination) {
            let _ = writer.join();
        }
    }
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
    buffers: Receiver<Vec<u8>>,
    spares: SyncSender<Vec<u8>>,
    mut temp: Option<tempfile::NamedTempFile>,
) -> io::Result<Option<tempfile::NamedTempFile>> {
    // Only a stdout writer takes the stdout lock: `--parallel` workers
    // spooling to files run beside the one that writes to stdout.
    let mut stdout = temp.is_none().then(|| io::stdout().lock());
    for buffer in buffers {
        match (temp.as_mut(), stdout.as_mut()) {
            (Some(file), _) => file.write_all(&buffer)?,
            (None, Some(out)) => out.write_all(&buffer)?,
            (None, None) => unreachable!("a writer has a file or stdout"),
        }
        let _ = spares.try_send(buffer);
    }
    match (temp.as_mut(), stdout.as_mut()) {
        (Some(file), _) => {
            file.flush()?;
            file.as_file().sync_all()?;
        }
        (None, Some(out)) => out.flush()?,
        (None, None) => {}
    }
    Ok(temp)
}
