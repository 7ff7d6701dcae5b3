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

use anyhow::{anyhow, Context, Result};

use crate::db::Db;
use crate::plan::insert::ImportStrategy;
use crate::plan::insert::Insert;
use crate::state::{ImportState, PendingBatch};

mod batch;
mod rejects;

pub use batch::{bad_field, field_count, json_string, Batch, MAX_BYTES};
pub use rejects::Rejects;

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

impl WriteOptions {
    /// Whether each batch's transaction id is kept: a COMMIT whose answer
    /// is lost is asked after by it, on resuming from the state file or
    /// on a new connection.
    fn wants_xid(&self) -> bool {
        self.journal.is_some() || self.reconnect.is_some()
    }
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
        let BatchWriter {
            db,
            options,
            overlap,
            ..
        } = self;
        let overlap = overlap.as_mut().expect("checked above");
        let previous = overlap.staged.take();
        let want_xid = options.wants_xid();
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
        let xid = self.open().await?;
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
                self.close(xid, end, rows, rejects.as_deref_mut()).await?;
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
        let xid = self.open().await?;
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
                        self.close(xid, end, rows, rejects).await?;
                        return Err(stop);
                    }
                }
            }
        }
        let rows = self.written;
        self.close(xid, (batch.end, batch.end_line), rows, rejects)
            .await
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

    /// Opens a batch's transaction (or, under `--atomic`, its savepoint);
    /// returns the transaction's id when a lost COMMIT will need it.
    async fn open(&mut self) -> Result<Option<String>> {
        if self.options.atomic {
            self.db.execute("SAVEPOINT dbchunk_batch").await?;
            return Ok(None);
        }
        self.db.begin(self.options.wants_xid()).await
    }

    /// Ends the batch's transaction `xid` (or savepoint): after it, `rows`
    /// rows are in, and the input up to `end` (offset, line) is done. With
    /// a state file, the batch is recorded as pending just before COMMIT
    /// and as done just after, so a crash in between leaves a state that
    /// says what to check.
    async fn close(
        &mut self,
        xid: Option<String>,
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
        let sql = match self.options.atomic {
            true => "ROLLBACK TO SAVEPOINT dbchunk_batch",
            false => "ROLLBACK",
        };
        self.db.execute(sql).await
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
    let xid = db.begin(want_xid).await?;
    db.write_fast(strategy, insert, &batch.values, &batch.bulk)
        .await?;
    Ok(xid)
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
