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

use std::io::Write;

use anyhow::{anyhow, Context, Result};

use crate::cli::ImportStrategy;
use crate::db::Db;
use crate::plan::insert::Insert;
use crate::values::Value;

/// Input rows on their way in, with where each came from.
#[derive(Default, Debug)]
pub struct Batch {
    pub values: Vec<Vec<Value>>,
    /// The input line each record starts on.
    pub lines: Vec<u64>,
    /// Each record's original text, kept only when there is a reject file.
    pub raws: Vec<Vec<u8>>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn push(&mut self, line: u64, raw: Option<&[u8]>, values: Vec<Value>) {
        self.values.push(values);
        self.lines.push(line);
        if let Some(raw) = raw {
            self.raws.push(raw.to_vec());
        }
    }

    pub fn clear(&mut self) {
        self.values.clear();
        self.lines.clear();
        self.raws.clear();
    }
}

/// Where rejected rows go (`--reject-file`): a `# line N: reason` comment,
/// then the record's original text.
pub struct Rejects {
    file: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
    pub count: u64,
    max: u64,
}

impl Rejects {
    pub fn create(path: &std::path::Path, max: u64) -> Result<Rejects> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create the reject file {}", path.display()))?;
        Ok(Rejects {
            file: std::io::BufWriter::new(file),
            path: path.to_path_buf(),
            count: 0,
            max,
        })
    }

    /// Records a bad row. Fails once more than `--max-errors` rows are bad.
    pub fn reject(&mut self, line: u64, raw: &[u8], reason: &str) -> Result<()> {
        self.count += 1;
        let reason = reason.replace('\n', " ");
        let reason = match reason.starts_with("line ") {
            true => reason,
            false => format!("line {line}: {reason}"),
        };
        writeln!(self.file, "# {reason}")
            .and_then(|()| self.file.write_all(raw))
            .and_then(|()| self.file.write_all(b"\n"))
            .with_context(|| format!("writing the reject file {}", self.path.display()))?;
        if self.count > self.max {
            self.file.flush()?;
            return Err(anyhow!(
                "{reason}; that is {} bad rows, more than --max-errors {} (they are in {})",
                self.count,
                self.max,
                self.path.display()
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

pub struct BatchWriter<'a> {
    db: &'a mut Db,
    insert: Insert,
    /// How whole batches go in; a failed batch is always replayed with
    /// single-row `INSERT`s.
    strategy: ImportStrategy,
    atomic: bool,
    /// Rows the database has accepted (committed, or pending the final
    /// commit under `--atomic`).
    pub written: u64,
    pub batches: u64,
    /// Batches that failed as a whole and were replayed row by row.
    pub replayed: u64,
}

impl<'a> BatchWriter<'a> {
    /// Opens the one transaction of an `--atomic` import.
    pub async fn start(
        db: &'a mut Db,
        insert: Insert,
        strategy: ImportStrategy,
        atomic: bool,
    ) -> Result<BatchWriter<'a>> {
        if atomic {
            db.execute("BEGIN")
                .await
                .context("starting the transaction")?;
        }
        Ok(BatchWriter {
            db,
            insert,
            strategy,
            atomic,
            written: 0,
            batches: 0,
            replayed: 0,
        })
    }

    /// Rows committed for good so far.
    pub fn committed(&self) -> u64 {
        if self.atomic {
            0
        } else {
            self.written
        }
    }

    /// Empties the table (`--truncate`), inside the transaction if any.
    pub async fn truncate(&mut self) -> Result<()> {
        let sql = format!("DELETE FROM {}", self.insert.table);
        self.db
            .execute(&sql)
            .await
            .context("emptying the table (--truncate)")
    }

    /// Writes one batch. A row the database refuses goes to `rejects`
    /// when there is one; otherwise its line and reason are the error.
    pub async fn write(&mut self, batch: &Batch, rejects: Option<&mut Rejects>) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.batches += 1;
        self.open().await?;
        let written = self
            .db
            .write_fast(self.strategy, &self.insert, &batch.values)
            .await;
        match written {
            Ok(_) => {
                self.close().await?;
                self.written += batch.len() as u64;
                Ok(())
            }
            Err(_) => {
                self.abandon().await?;
                self.replayed += 1;
                self.replay(batch, rejects).await
            }
        }
    }

    /// Row by row, each behind a savepoint, to find the rows at fault.
    async fn replay(&mut self, batch: &Batch, mut rejects: Option<&mut Rejects>) -> Result<()> {
        self.open().await?;
        for (i, values) in batch.values.iter().enumerate() {
            let line = batch.lines[i];
            self.db.execute("SAVEPOINT dbchunk_row").await?;
            match self
                .db
                .insert(&self.insert, std::slice::from_ref(values))
                .await
            {
                Ok(_) => {
                    self.db.execute("RELEASE SAVEPOINT dbchunk_row").await?;
                    self.written += 1;
                }
                Err(err) => {
                    self.db.execute("ROLLBACK TO SAVEPOINT dbchunk_row").await?;
                    let reason = crate::error::one_line(&err);
                    let rejected = match rejects.as_deref_mut() {
                        Some(rejects) => {
                            let raw = batch.raws.get(i).map_or(&[][..], Vec::as_slice);
                            rejects.reject(line, raw, &reason)
                        }
                        None => Err(anyhow!("line {line}: {reason}")),
                    };
                    if let Err(stop) = rejected {
                        self.close().await?;
                        return Err(stop);
                    }
                }
            }
        }
        self.close().await
    }

    /// Commits the `--atomic` transaction.
    pub async fn finish(self) -> Result<()> {
        if self.atomic {
            self.db
                .execute("COMMIT")
                .await
                .context("committing the transaction")?;
        }
        Ok(())
    }

    async fn open(&mut self) -> Result<()> {
        let sql = if self.atomic {
            "SAVEPOINT dbchunk_batch"
        } else {
            "BEGIN"
        };
        self.db.execute(sql).await
    }

    async fn close(&mut self) -> Result<()> {
        let sql = if self.atomic {
            "RELEASE SAVEPOINT dbchunk_batch"
        } else {
            "COMMIT"
        };
        self.db.execute(sql).await.context("committing the batch")
    }

    async fn abandon(&mut self) -> Result<()> {
        let sql = if self.atomic {
            "ROLLBACK TO SAVEPOINT dbchunk_batch"
        } else {
            "ROLLBACK"
        };
        self.db.execute(sql).await
    }
}
