//! The batched writer: sends rows to the database a batch at a time and
//! keeps an exact count of what is committed.
//!
//! Each batch is one multi-row `INSERT`, committed on its own (or, with
//! `--atomic`, inside the one transaction, behind a savepoint). When a
//! batch fails, it is rolled back and replayed row by row, each row behind
//! a savepoint, to find the row at fault: its input line goes into the
//! error, or into the reject file. Without `--atomic`, the rows before it
//! are committed, so "N rows were committed" is always exactly what the
//! table holds.
//!
//! Without `--atomic`, a batch's COMMIT waits for the server to flush its
//! log to disk (milliseconds on a real disk, for every batch). So the
//! writer keeps a second connection: it writes the next batch on one while
//! the last batch's COMMIT runs on the other. Commits stay one at a time
//! and in input order (the next batch commits only once the last one has),
//! so the committed rows are still exactly a prefix of the input.

use std::io::Write;

use anyhow::{anyhow, Context, Result};

use crate::bulk::BulkFormat;
use crate::db::Db;
use crate::plan::insert::ImportStrategy;
use crate::plan::insert::Insert;
use crate::state::{ImportState, PendingBatch};
use crate::values::{TargetType, Value};

/// Input rows on their way in, with where each came from.
#[derive(Default, Debug)]
pub struct Batch {
    /// The checked values of `insert` rows; empty for the fast paths,
    /// whose rows are in `bulk` (and `fields`, for a replay).
    pub values: Vec<Vec<Value>>,
    /// The input line each record starts on.
    pub lines: Vec<u64>,
    /// The input offset each record starts at.
    pub starts: Vec<u64>,
    /// Where the input after this batch starts: once it commits, every
    /// record before this offset is in the table or the reject file.
    pub end: u64,
    /// The line the input after this batch starts on.
    pub end_line: u64,
    /// Each record's original text, kept only when there is a reject file.
    pub raws: Vec<Vec<u8>>,
    /// Rows that may already be in the table (a resumed import's batch
    /// whose commit was never confirmed): written skipping duplicate keys.
    pub careful: bool,
    /// The rows in the fast path's text ([`crate::bulk`]), encoded on the
    /// input thread; empty for `insert`.
    pub bulk: Vec<u8>,
    /// Fast paths: every field's checked text, back to back, and each
    /// field's span in it (`None`: NULL), row after row. Parsed into
    /// values again only when the batch is replayed or written carefully,
    /// so the common case allocates nothing per value.
    fields: Vec<u8>,
    spans: Vec<Option<(usize, usize)>>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds a checked `insert` row.
    pub fn push(&mut self, record: &crate::input::Record, keep_raw: bool, values: Vec<Value>) {
        self.values.push(values);
        self.note(record, keep_raw);
    }

    /// Checks a record's fields against `columns` and adds it in the fast
    /// path's text (`format`). The error names the line and column of the
    /// first bad field; the batch is then as it was.
    pub fn push_bulk(
        &mut self,
        record: &crate::input::Record,
        keep_raw: bool,
        format: BulkFormat,
        columns: &[crate::db::TargetColumn],
    ) -> Result<(), String> {
        if record.len() != columns.len() {
            return Err(field_count(record, columns.len()));
        }
        let (bulk_mark, fields_mark, spans_mark) =
            (self.bulk.len(), self.fields.len(), self.spans.len());
        for (i, (field, column)) in record.iter().zip(columns).enumerate() {
            let quoted = json_string(record, i, field, column.target);
            let field = quoted.as_deref().map(str::as_bytes).or(field);
            if i > 0 {
                self.bulk.push(b'\t');
            }
            let encoded = match (field, column.target) {
                // Text goes as it is: no value to build.
                (Some(text), TargetType::Text | TargetType::Other) => std::str::from_utf8(text)
                    .map(|_| format.encode_text(&mut self.bulk, text))
                    .map_err(|_| "the value is not valid UTF-8".to_string()),
                _ => crate::values::parse(field, column.target)
                    .map(|value| format.encode_value(&mut self.bulk, &value)),
            };
            if let Err(reason) = encoded {
                self.bulk.truncate(bulk_mark);
                self.fields.truncate(fields_mark);
                self.spans.truncate(spans_mark);
                return Err(bad_field(record, i, column, &reason));
            }
            self.spans.push(field.map(|text| {
                self.fields.extend_from_slice(text);
                (self.fields.len() - text.len(), self.fields.len())
            }));
        }
        self.bulk.push(b'\n');
        self.note(record, keep_raw);
        Ok(())
    }

    fn note(&mut self, record: &crate::input::Record, keep_raw: bool) {
        self.lines.push(record.line());
        self.starts.push(record.start_offset());
        self.end = record.end_offset();
        self.end_line = record.next_line();
        if keep_raw {
            self.raws.push(record.raw().to_vec());
        }
    }

    /// Every row's values: those of an `insert` batch, or a fast path's
    /// fields parsed again (they were checked once, so this only fails on
    /// a bug).
    pub fn rows(&self, types: &[TargetType]) -> Result<std::borrow::Cow<'_, [Vec<Value>]>> {
        if self.spans.is_empty() {
            return Ok(std::borrow::Cow::Borrowed(&self.values));
        }
        let width = types.len().max(1);
        let rows = self
            .spans
            .chunks(width)
            .map(|row| {
                row.iter()
                    .zip(types)
                    .map(|(span, target)| {
                        let field = span.map(|(start, end)| &self.fields[start..end]);
                        crate::values::parse(field, *target).map_err(|e| anyhow!(e))
                    })
                    .collect::<Result<Vec<Value>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(std::borrow::Cow::Owned(rows))
    }
}

/// An NDJSON string going into a JSON column is a JSON string: its text,
/// quoted again.
pub fn json_string(
    record: &crate::input::Record,
    i: usize,
    field: Option<&[u8]>,
    target: TargetType,
) -> Option<String> {
    match field {
        Some(text) if target == TargetType::Json && record.is_json_string(i) => {
            Some(serde_json::to_string(&String::from_utf8_lossy(text)).expect("a string"))
        }
        _ => None,
    }
}

/// A record with the wrong number of fields.
pub fn field_count(record: &crate::input::Record, expected: usize) -> String {
    format!(
        "{}: expected {expected} fields, found {}",
        record.place(),
        record.len()
    )
}

/// A field that does not fit its column, with its line and column.
pub fn bad_field(
    record: &crate::input::Record,
    i: usize,
    column: &crate::db::TargetColumn,
    reason: &str,
) -> String {
    format!(
        "{}, column {} ({}): {reason}",
        record.place(),
        i + 1,
        column.name
    )
}

/// Where rejected rows go (`--reject-file`): a `# line N: reason` comment,
/// then the record's original text.
///
/// Written in place as rows are rejected, not renamed at the end: a killed
/// import's rejects stay, and `--resume` cuts the file back to what its
/// state records. A symlink is written through to its target; a device or
/// FIFO is written as a stream and never cut back.
pub struct Rejects {
    file: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
    /// A regular file, which [`Rejects::rewind`] can cut back.
    rewindable: bool,
    pub count: u64,
    /// Bytes written to the file, so a resumed import can cut it back to
    /// what its state records.
    bytes: u64,
    /// `--max-errors`; without it, no limit: the reject file is there so
    /// that the good rows go in however many bad ones there are.
    max: Option<u64>,
}

impl Rejects {
    pub fn create(path: &std::path::Path, max: Option<u64>) -> Result<Rejects> {
        Rejects::reopen(path, max, 0, 0)
    }

    /// The reject file of a resumed import: cut back to `bytes`, which
    /// hold `count` records, and continued.
    pub fn reopen(
        path: &std::path::Path,
        max: Option<u64>,
        count: u64,
        bytes: u64,
    ) -> Result<Rejects> {
        use crate::place::{open_stream, Place};
        let place = Place::of(path)
            .with_context(|| format!("cannot open the reject file {}", path.display()))?;
        let opened = match place {
            Place::File(target) => std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(bytes == 0)
                .open(target)
                .map(|file| (file, true)),
            Place::Stream(stream) => open_stream(&stream).map(|file| (file, false)),
        };
        let (file, rewindable) =
            opened.with_context(|| format!("cannot open the reject file {}", path.display()))?;
        let mut rejects = Rejects {
            file: std::io::BufWriter::new(file),
            path: path.to_path_buf(),
            rewindable,
            count,
            bytes,
            max,
        };
        rejects.rewind((count, bytes))?;
        Ok(rejects)
    }

    /// Back to an earlier [`Rejects::position`]: the rejects of a batch
    /// that is written again are recorded again (on a stream, after the
    /// first ones, which cannot be taken back).
    pub fn rewind(&mut self, (count, bytes): (u64, u64)) -> Result<()> {
        use std::io::Seek;
        if !self.rewindable {
            (self.count, self.bytes) = (count, bytes);
            return Ok(());
        }
        self.file
            .flush()
            .and_then(|()| self.file.get_mut().set_len(bytes))
            .and_then(|()| self.file.seek(std::io::SeekFrom::Start(bytes)).map(drop))
            .with_context(|| format!("writing the reject file {}", self.path.display()))?;
        (self.count, self.bytes) = (count, bytes);
        Ok(())
    }

    /// The records and bytes written so far, flushed to the file.
    pub fn position(&mut self) -> Result<(u64, u64)> {
        self.file
            .flush()
            .with_context(|| format!("writing the reject file {}", self.path.display()))?;
        Ok((self.count, self.bytes))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Records a bad row. Fails once more than `--max-errors` rows are bad.
    pub fn reject(&mut self, line: u64, raw: &[u8], reason: &str) -> Result<()> {
        self.count += 1;
        let reason = reason.replace('\n', " ");
        let reason = match reason.starts_with("line ") || reason.starts_with("row ") {
            true => reason,
            false => format!("line {line}: {reason}"),
        };
        let comment = format!("# {reason}\n");
        self.file
            .write_all(comment.as_bytes())
            .and_then(|()| self.file.write_all(raw))
            .and_then(|()| self.file.write_all(b"\n"))
            .with_context(|| format!("writing the reject file {}", self.path.display()))?;
        self.bytes += (comment.len() + raw.len() + 1) as u64;
        if let Some(max) = self.max.filter(|&max| self.count > max) {
            self.file.flush()?;
            return Err(anyhow!(
                "{reason}; that is {} bad rows, more than --max-errors {max}",
                self.count
            ));
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.file
            .flush()
            .with_context(|| format!("writing the reject file {}", self.path.display()))
    }
}

/// How the writer gets a new connection after losing one.
pub struct Reconnect {
    pub url: crate::url::DbUrl,
    pub retries: crate::retry::Retries,
}

/// A batch whose COMMIT was sent: what the writer stands at if it went
/// through.
#[derive(Clone)]
struct InFlight {
    end: u64,
    line: u64,
    rows: u64,
    rejects: (u64, u64),
    xid: Option<String>,
}

/// How far the input is committed: every record before `bytes` is in the
/// table or in the reject file, which then holds `rejects` (records,
/// bytes). A failed import names it as the place to go on from.
#[derive(Clone, Copy, Debug)]
pub struct Committed {
    pub bytes: u64,
    /// The input line at `bytes`; unknown where a resumed import starts.
    pub line: Option<u64>,
    pub rejects: (u64, u64),
}

/// The `--state` file of an import, saved around every commit.
pub struct Journal {
    pub path: std::path::PathBuf,
    pub state: ImportState,
}

/// How a [`BatchWriter`] writes, as the import's plan settles it.
pub struct WriteOptions {
    pub insert: Insert,
    /// How whole batches go in; a failed batch is always replayed with
    /// single-row `INSERT`s.
    pub strategy: ImportStrategy,
    /// `--atomic`: one transaction for the whole input.
    pub atomic: bool,
    /// `--state` (never with `--atomic`).
    pub journal: Option<Journal>,
    /// `--retries` where a lost connection can be opened again.
    pub reconnect: Option<Reconnect>,
    /// Where to open the second connection that overlaps each COMMIT with
    /// the next batch; `None` for `--atomic` (one transaction) and SQLite
    /// (one writer).
    pub overlap: Option<crate::url::DbUrl>,
}

/// The second connection, and the batch written on it whose COMMIT is
/// still to come.
struct Overlap {
    url: crate::url::DbUrl,
    other: Option<Db>,
    staged: Option<Staged>,
}

/// A batch written in its own transaction, not committed yet: it commits
/// while the next batch is being written, or when the writer settles
/// (before a bad record goes to the reject file, when the input pauses,
/// and at the end).
struct Staged {
    commit: InFlight,
    /// Kept to be written again if its COMMIT is lost with the connection.
    batch: Batch,
}

pub struct BatchWriter<'a> {
    db: &'a mut Db,
    options: WriteOptions,
    in_flight: Option<InFlight>,
    /// Where the committed input ends; `None` until a batch commits,
    /// unless a resumed import starts after committed input.
    pub committed_at: Option<Committed>,
    /// Rows the database has accepted (committed, or pending the final
    /// commit under `--atomic`).
    pub written: u64,
    pub batches: u64,
    /// Batches that failed as a whole and were replayed row by row.
    pub replayed: u64,
    /// What the input's record numbers count in messages: `line`, or `row`
    /// for Parquet.
    pub input_unit: &'static str,
    overlap: Option<Overlap>,
}

impl<'a> BatchWriter<'a> {
    /// Opens the one transaction of an `--atomic` import. A `journal`
    /// (never with `--atomic`) goes on from the rows its state records.
    pub async fn start(db: &'a mut Db, options: WriteOptions) -> Result<BatchWriter<'a>> {
        if options.atomic {
            db.execute("BEGIN")
                .await
                .context("starting the transaction")?;
        }
        let journal = options.journal.as_ref();
        let written = journal.map_or(0, |j| j.state.rows);
        let committed_at = journal.filter(|j| j.state.bytes > 0).map(|j| Committed {
            bytes: j.state.bytes,
            line: None,
            rejects: (j.state.rejected, j.state.reject_bytes),
        });
        let overlap = options.overlap.clone().map(|url| Overlap {
            url,
            other: None,
            staged: None,
        });
        Ok(BatchWriter {
            db,
            overlap,
            options,
            in_flight: None,
            committed_at,
            written,
            batches: 0,
            replayed: 0,
            input_unit: "line",
        })
    }

    /// Rows committed for good so far.
    pub fn committed(&self) -> u64 {
        if self.options.atomic {
            0
        } else {
            self.written
        }
    }

    /// Empties the table (`--truncate`), inside the transaction if any.
    pub async fn truncate(&mut self) -> Result<()> {
        let sql = format!("DELETE FROM {}", self.options.insert.table);
        self.db
            .execute(&sql)
            .await
            .context("emptying the table (--truncate)")
    }

    /// Writes one batch. A row the database refuses goes to `rejects`
    /// when there is one; otherwise its line and reason are the error.
    ///
    /// With the second connection, the batch is written on one connection
    /// while the previous batch commits on the other, and is left to
    /// commit with the next one ([`BatchWriter::settle`] commits it
    /// sooner). A batch that fails, a careful batch, and every batch
    /// without the second connection are written and committed at once.
    pub async fn write(&mut self, batch: Batch, mut rejects: Option<&mut Rejects>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.batches += 1;
        if batch.careful || self.overlap.is_none() {
            self.settle(rejects.as_deref_mut()).await?;
            return self.write_now(&batch, batch.careful, rejects).await;
        }
        // No reject is written while a batch is staged (the caller
        // settles first), so this is where the reject file stands when
        // this batch commits.
        let rejects_at = reject_position(rejects.as_deref_mut())?;
        let want_xid = self.options.journal.is_some() || self.options.reconnect.is_some();
        let BatchWriter {
            db,
            options,
            overlap,
            ..
        } = self;
        let overlap = overlap.as_mut().expect("checked above");
        let previous = overlap.staged.take();
        let write = stage(db, &options.insert, options.strategy, &batch, want_xid);
        let commit_previous = async {
            match (&previous, overlap.other.as_mut()) {
                (Some(staged), Some(other)) => {
                    commit_on(other, options.journal.as_mut(), &staged.commit).await
                }
                (Some(_), None) => unreachable!("a staged batch has its connection"),
                (None, Some(_)) => Ok(()),
                // The first batch: open the second connection meanwhile. If
                // it cannot be opened, the import goes on without it.
                (None, None) => {
                    overlap.other = Db::connect_for_import(&overlap.url).await.ok();
                    Ok(())
                }
            }
        };
        let (written, committed) = tokio::join!(write, commit_previous);
        let have_other = overlap.other.is_some();
        if let Some(staged) = previous {
            if let Err(err) = committed {
                // This batch's transaction goes, written or failed (a
                // failed ROLLBACK means a lost connection, which writing
                // again finds out); it is written again after the
                // previous one.
                let _ = self.db.execute("ROLLBACK").await;
                self.recover(staged, err, rejects.as_deref_mut()).await?;
                return self.write_now(&batch, false, rejects).await;
            }
            self.commit_went_through(staged.commit)?;
        }
        let xid = match written {
            Ok(xid) => xid,
            Err(_) => {
                // A bad row, or a lost connection: as without the second
                // connection, the batch is rolled back and written again
                // (row by row, to find the row at fault). A failed ROLLBACK
                // means a lost connection, which writing again finds out.
                let _ = self.abandon().await;
                return self.write_now(&batch, false, rejects).await;
            }
        };
        let commit = InFlight {
            end: batch.end,
            line: batch.end_line,
            rows: self.written + batch.len() as u64,
            rejects: rejects_at,
            xid,
        };
        if !have_other {
            self.overlap = None;
            return self.commit_now(commit).await;
        }
        let overlap = self.overlap.as_mut().expect("checked above");
        let other = overlap.other.as_mut().expect("checked above");
        std::mem::swap(&mut *self.db, other);
        overlap.staged = Some(Staged { commit, batch });
        Ok(())
    }

    /// Commits the staged batch, if any: before a bad record goes to the
    /// reject file (which must then stand where the committed input ends),
    /// while the input pauses, and before the import ends or stops.
    pub async fn settle(&mut self, rejects: Option<&mut Rejects>) -> Result<()> {
        let Some(overlap) = self.overlap.as_mut() else {
            return Ok(());
        };
        let Some(staged) = overlap.staged.take() else {
            return Ok(());
        };
        let other = overlap
            .other
            .as_mut()
            .expect("a staged batch has its connection");
        match commit_on(other, self.options.journal.as_mut(), &staged.commit).await {
            Ok(()) => self.commit_went_through(staged.commit),
            Err(err) => self.recover(staged, err, rejects).await,
        }
    }

    /// A staged batch whose COMMIT failed: if the connection was lost (and
    /// `--retries` allows), asks a new connection whether the COMMIT went
    /// through, and writes the batch again if it did not. Any other
    /// failure is the import's.
    async fn recover(
        &mut self,
        staged: Staged,
        err: anyhow::Error,
        rejects: Option<&mut Rejects>,
    ) -> Result<()> {
        let Some(reconnect) = &self.options.reconnect else {
            return Err(err);
        };
        if !crate::db::is_connection_lost(&err) {
            return Err(err);
        }
        let url = &reconnect.url;
        let mut fresh = (reconnect.retries)
            .reconnect(err, &mut 0, || Db::connect_for_import(url))
            .await?;
        let landed = match &staged.commit.xid {
            Some(xid) => fresh.transaction_committed(xid).await?,
            None => None,
        };
        if let Some(overlap) = self.overlap.as_mut() {
            overlap.other = Some(fresh);
        }
        match landed {
            Some(true) => self.commit_went_through(staged.commit),
            Some(false) => self.write_now(&staged.batch, false, rejects).await,
            None if self.options.insert.key_is_in_input() => {
                self.write_now(&staged.batch, true, rejects).await
            }
            None => Err(self.unknown_commit(&staged.batch)),
        }
    }

    /// Writes one batch and commits it. When the connection is lost (and
    /// `--retries` allows), the writer reconnects and writes the batch
    /// again, unless it committed: a batch lost before its COMMIT was sent
    /// was rolled back by the server. One lost during its COMMIT is looked
    /// up by its transaction id on PostgreSQL, and otherwise written again
    /// skipping the keys already there (`careful`); with neither, the
    /// import stops and says so.
    async fn write_now(
        &mut self,
        batch: &Batch,
        mut careful: bool,
        mut rejects: Option<&mut Rejects>,
    ) -> Result<()> {
        let (written, replayed) = (self.written, self.replayed);
        let reject_mark = reject_position(rejects.as_deref_mut())?;
        let mut retries = 0;
        loop {
            self.in_flight = None;
            let err = match self
                .write_once(batch, careful, rejects.as_deref_mut())
                .await
            {
                Ok(()) => return Ok(()),
                Err(err) => err,
            };
            let Some(reconnect) = &self.options.reconnect else {
                return Err(err);
            };
            if self.options.atomic
                || retries == reconnect.retries.max
                || !crate::db::is_connection_lost(&err)
            {
                return Err(err);
            }
            // Back to how things stood before this batch.
            (self.written, self.replayed) = (written, replayed);
            if let Some(rejects) = rejects.as_deref_mut() {
                rejects.rewind(reject_mark)?;
            }
            let url = &reconnect.url;
            *self.db = (reconnect.retries)
                .reconnect(err, &mut retries, || Db::connect_for_import(url))
                .await?;
            let Some(commit) = self.in_flight.take() else {
                continue; // rolled back: write it again
            };
            let landed = match &commit.xid {
                Some(xid) => self.db.transaction_committed(xid).await?,
                None => None,
            };
            match landed {
                Some(true) => return self.commit_went_through(commit),
                Some(false) => {}
                None if self.options.insert.key_is_in_input() => careful = true,
                None => return Err(self.unknown_commit(batch)),
            }
        }
    }

    /// A batch whose COMMIT may or may not have happened, on a table
    /// without a key to tell.
    fn unknown_commit(&self, batch: &Batch) -> anyhow::Error {
        anyhow!(
            "the connection was lost while the batch ending on {} {} was being committed, and \
             {} has no key to tell whether it was: check for those rows before rerunning",
            self.input_unit,
            batch.lines.last().copied().unwrap_or(0),
            self.options.insert.table
        )
    }

    /// Records a batch whose COMMIT went through (its answer may have been
    /// lost): the rows, the input and the rejects it leaves done.
    fn commit_went_through(&mut self, commit: InFlight) -> Result<()> {
        self.written = commit.rows;
        self.committed_at = Some(Committed {
            bytes: commit.end,
            line: Some(commit.line),
            rejects: commit.rejects,
        });
        if let Some(journal) = self.options.journal.as_mut() {
            let state = &mut journal.state;
            (state.rows, state.bytes, state.pending) = (commit.rows, commit.end, None);
            (state.rejected, state.reject_bytes) = commit.rejects;
            state.save(&journal.path)?;
        }
        Ok(())
    }

    async fn write_once(
        &mut self,
        batch: &Batch,
        careful: bool,
        mut rejects: Option<&mut Rejects>,
    ) -> Result<()> {
        let (insert, strategy) = match careful {
            true => (
                self.options.insert.skipping_duplicates(),
                ImportStrategy::Insert,
            ),
            false => (self.options.insert.clone(), self.options.strategy),
        };
        self.open().await?;
        let rows = match strategy {
            ImportStrategy::Insert => batch.rows(&insert.types)?,
            _ => std::borrow::Cow::Borrowed(&batch.values[..]),
        };
        let written = self
            .db
            .write_fast(strategy, &insert, &rows, &batch.bulk)
            .await;
        match written {
            Ok(_) => {
                let rows = self.written + batch.len() as u64;
                let end = (batch.end, batch.end_line);
                self.close(end, rows, rejects.as_deref_mut()).await?;
                self.written = rows;
                Ok(())
            }
            Err(_) => {
                self.abandon().await?;
                self.replayed += 1;
                self.replay(&insert, batch, rejects).await
            }
        }
    }

    /// Row by row, each behind a savepoint, to find the rows at fault.
    async fn replay(
        &mut self,
        insert: &Insert,
        batch: &Batch,
        mut rejects: Option<&mut Rejects>,
    ) -> Result<()> {
        let rows = batch.rows(&insert.types)?;
        self.open().await?;
        for (i, values) in rows.iter().enumerate() {
            let line = batch.lines[i];
            let unit = self.input_unit;
            self.db.execute("SAVEPOINT dbchunk_row").await?;
            match self.db.insert(insert, std::slice::from_ref(values)).await {
                Ok(_) => {
                    self.db.execute("RELEASE SAVEPOINT dbchunk_row").await?;
                    self.written += 1;
                }
                Err(err) => {
                    self.db.execute("ROLLBACK TO SAVEPOINT dbchunk_row").await?;
                    let reason = format!("{unit} {line}: {}", crate::error::one_line(&err));
                    let (rejected, kept) = match rejects.as_deref_mut() {
                        Some(rejects) => {
                            let raw = batch.raws.get(i).map_or(&[][..], Vec::as_slice);
                            (rejects.reject(line, raw, &reason), true)
                        }
                        None => (Err(anyhow!(reason)), false),
                    };
                    if let Err(stop) = rejected {
                        // The rows before this one go in. The state ends
                        // after this record if the reject file has it
                        // (--max-errors was reached), else before it.
                        let next = (batch.starts.get(i + 1), batch.lines.get(i + 1));
                        let end = match (kept, next) {
                            (true, (Some(&start), Some(&line))) => (start, line),
                            (true, _) => (batch.end, batch.end_line),
                            (false, _) => (batch.starts[i], line),
                        };
                        let rows = self.written;
                        self.close(end, rows, rejects).await?;
                        return Err(stop);
                    }
                }
            }
        }
        let rows = self.written;
        self.close((batch.end, batch.end_line), rows, rejects).await
    }

    /// Commits the `--atomic` transaction, and records in the state that
    /// the whole input, up to `end`, is done.
    pub async fn finish(mut self, end: u64, mut rejects: Option<&mut Rejects>) -> Result<()> {
        self.settle(rejects.as_deref_mut()).await?;
        if self.options.atomic {
            self.db
                .execute("COMMIT")
                .await
                .context("committing the transaction")?;
        }
        if let Some(mut journal) = self.options.journal {
            let state = &mut journal.state;
            (state.rejected, state.reject_bytes) = reject_position(rejects)?;
            (state.rows, state.bytes, state.done) = (self.written, end, true);
            state.save(&journal.path)?;
        }
        Ok(())
    }

    async fn open(&mut self) -> Result<()> {
        self.batch_statement("SAVEPOINT dbchunk_batch", "BEGIN")
            .await
    }

    /// Runs a batch's `on_savepoint` inside the one `--atomic`
    /// transaction, else its own transaction's `alone`.
    async fn batch_statement(&mut self, on_savepoint: &str, alone: &str) -> Result<()> {
        let sql = if self.options.atomic {
            on_savepoint
        } else {
            alone
        };
        self.db.execute(sql).await
    }

    /// Ends the batch's transaction (or savepoint): after it, `rows` rows
    /// are in, and the input up to `end` (offset, line) is done. With a
    /// state file, the batch is recorded as pending just before COMMIT and
    /// as done just after, so a crash in between leaves a state that says
    /// what to check.
    async fn close(
        &mut self,
        (end, line): (u64, u64),
        rows: u64,
        rejects: Option<&mut Rejects>,
    ) -> Result<()> {
        if self.options.atomic {
            return self
                .db
                .execute("RELEASE SAVEPOINT dbchunk_batch")
                .await
                .context("committing the batch");
        }
        let xid = match self.options.journal.is_some() || self.options.reconnect.is_some() {
            true => self.db.transaction_id().await?,
            false => None,
        };
        let commit = InFlight {
            end,
            line,
            rows,
            rejects: reject_position(rejects)?,
            xid,
        };
        self.commit_now(commit).await
    }

    /// Commits the open transaction on the writer's connection, recording
    /// it as in flight for [`BatchWriter::write_now`] should the
    /// connection be lost meanwhile.
    async fn commit_now(&mut self, commit: InFlight) -> Result<()> {
        self.in_flight = Some(commit.clone());
        commit_on(self.db, self.options.journal.as_mut(), &commit).await?;
        self.commit_went_through(commit)
    }

    async fn abandon(&mut self) -> Result<()> {
        self.batch_statement("ROLLBACK TO SAVEPOINT dbchunk_batch", "ROLLBACK")
            .await
    }
}

/// Opens a batch's transaction and writes the batch: the first half of
/// [`BatchWriter::write_once`], for the overlapped path. Returns the
/// transaction's id when a lost COMMIT will need it.
async fn stage(
    db: &mut Db,
    insert: &Insert,
    strategy: ImportStrategy,
    batch: &Batch,
    want_xid: bool,
) -> Result<Option<String>> {
    db.execute("BEGIN").await?;
    db.write_fast(strategy, insert, &batch.values, &batch.bulk)
        .await?;
    match want_xid {
        true => db.transaction_id().await,
        false => Ok(None),
    }
}

/// Sends a batch's COMMIT, with a state file recording it as pending
/// first, so that a crash before the answer leaves a state that says what
/// to check. The caller records the batch as done once this returns.
async fn commit_on(db: &mut Db, journal: Option<&mut Journal>, commit: &InFlight) -> Result<()> {
    if let Some(journal) = journal {
        let state = &mut journal.state;
        state.pending = Some(PendingBatch {
            bytes: commit.end,
            rows: commit.rows - state.rows,
            rejected: commit.rejects.0,
            reject_bytes: commit.rejects.1,
            xid: commit.xid.clone(),
        });
        state.save(&journal.path)?;
    }
    db.execute("COMMIT").await.context("committing the batch")
}

fn reject_position(rejects: Option<&mut Rejects>) -> Result<(u64, u64)> {
    rejects.map_or(Ok((0, 0)), Rejects::position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::TargetColumn;
    use crate::input::{Reader, Record};

    fn column(name: &str, target: TargetType) -> TargetColumn {
        TargetColumn {
            name: name.into(),
            sql_type: String::new(),
            cast_type: String::new(),
            target,
        }
    }

    /// Reads `csv` (no header) into a fast-path batch; each record's
    /// outcome.
    fn bulk_batch(csv: &str, columns: &[TargetColumn]) -> (Batch, Vec<Result<(), String>>) {
        let mut reader = Reader::new(
            crate::format::Format::Csv,
            csv.as_bytes(),
            false,
            "",
            1 << 20,
        );
        let (mut batch, mut record, mut outcomes) = (Batch::default(), Record::new(), Vec::new());
        while reader.read(&mut record).unwrap() {
            outcomes.push(batch.push_bulk(&record, true, BulkFormat::PostgresCopy, columns));
        }
        (batch, outcomes)
    }

    #[test]
    fn bulk_rows_are_checked_encoded_and_kept_for_a_replay() {
        let int = TargetType::Int {
            min: i32::MIN.into(),
            max: i32::MAX.into(),
        };
        let columns = [column("id", int), column("t", TargetType::Text)];
        let (batch, outcomes) = bulk_batch("1,a\tb\n2,\n99999999999,x\n3,\"\"\n", &columns);
        assert_eq!(outcomes[0], Ok(()));
        assert_eq!(outcomes[1], Ok(()));
        let bad = outcomes[2].as_ref().unwrap_err();
        assert!(bad.starts_with("line 3, column 1 (id): "), "{bad}");
        assert_eq!(outcomes[3], Ok(()));
        // The bad row left nothing behind.
        assert_eq!(batch.bulk, b"1\ta\\tb\n2\t\\N\n3\t\n");
        assert_eq!((batch.len(), batch.lines.clone()), (3, vec![1, 2, 4]));
        assert_eq!(batch.raws.len(), 3);
        let rows = batch.rows(&[int, TargetType::Text]).unwrap();
        assert_eq!(
            rows.to_vec(),
            vec![
                vec![Value::Int(1), Value::Text("a\tb".into())],
                vec![Value::Int(2), Value::Null],
                vec![Value::Int(3), Value::Text(String::new())],
            ]
        );
    }

    #[test]
    fn bulk_rows_refuse_a_wrong_field_count() {
        // The reader checks records against each other; this, the count
        // against the columns.
        let columns = [column("a", TargetType::Text), column("b", TargetType::Text)];
        let (batch, outcomes) = bulk_batch("x,y,z\n", &columns);
        assert_eq!(
            outcomes[0],
            Err("line 1: expected 2 fields, found 3".to_string())
        );
        assert!(batch.is_empty() && batch.bulk.is_empty());
    }
}
