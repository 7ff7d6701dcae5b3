//! Parquet input for `dbchunk import`: each row handed out as the same
//! [`Record`] the text readers fill, one canonical text per field (the
//! forms `dbchunk export` writes in CSV, see docs/types.md) and NULL kept
//! apart from "", so every check of [`crate::values`] applies unchanged.
//!
//! Memory is bounded by one batch of [`BATCH`] rows per column (plus the
//! page the `parquet` crate's column reader is decoding), never by a row
//! group or the file: each column of the current row group is read through
//! its own typed column reader, `BATCH` records at a time.
//!
//! Positions count rows, not bytes: a record of row `n` (from 0) starts at
//! offset `n` and ends at `n + 1`, so an import's `--state` records how many
//! rows of the file are done, and [`ParquetReader::skip_to`] passes over
//! whole row groups to get back there.

use std::fs::File;

use anyhow::{bail, Result};
use parquet::basic::Repetition;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::Type;

mod column;
mod text;

use column::Field;
use text::{kind_of, push_json_string, Kind};

use super::record::{InputError, Record};
use crate::values::TargetType;

/// Rows read from each column at a time.
const BATCH: usize = 1024;

pub struct ParquetReader {
    file: SerializedFileReader<File>,
    fields: Vec<Field>,
    /// The first row of each row group, and the total after the last.
    group_starts: Vec<u64>,
    /// The row group being read (`group_starts.len() - 1` at the end).
    group: usize,
    /// The next row to hand out, from 0.
    row: u64,
    /// Rows of the current batch not handed out yet.
    batch_left: usize,
    max_record_bytes: usize,
    keep_raw: bool,
    /// A read error is repeated by every later call.
    failed: Option<InputError>,
}

impl ParquetReader {
    /// Reads the footer of `file`. The error says what is wrong with the
    /// file as a whole (not Parquet, damaged footer).
    pub fn open(file: File, max_record_bytes: usize) -> Result<ParquetReader> {
        let file = match SerializedFileReader::new(file) {
            Ok(file) => file,
            Err(err) => bail!("not a readable Parquet file ({err})"),
        };
        let metadata = file.metadata();
        let mut group_starts = vec![0];
        for group in metadata.row_groups() {
            let last = group_starts[group_starts.len() - 1];
            group_starts.push(last + group.num_rows().max(0) as u64);
        }
        let schema = metadata.file_metadata().schema_descr();
        let mut fields: Vec<Field> = Vec::new();
        for leaf in 0..schema.num_columns() {
            let root = schema.get_column_root_idx(leaf);
            if root < fields.len() {
                continue; // a second leaf of a group: refused in `bind`
            }
            let column = schema.column(leaf);
            fields.push(Field::new(
                schema.root_schema().get_fields()[root].name().to_string(),
                leaf,
                column.max_def_level(),
            ));
        }
        Ok(ParquetReader {
            file,
            fields,
            group_starts,
            group: 0,
            row: 0,
            batch_left: 0,
            max_record_bytes,
            keep_raw: false,
            failed: None,
        })
    }

    /// The names of the file's top-level fields, in order.
    pub fn names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    pub fn total_rows(&self) -> u64 {
        self.group_starts[self.group_starts.len() - 1]
    }

    /// Rows handed out (or skipped) so far: the offset of the next record.
    pub fn position(&self) -> u64 {
        self.row
    }

    /// Fill `Record::raw` with an NDJSON line of each row, for a reject
    /// file.
    pub fn keep_raw(&mut self, keep: bool) {
        self.keep_raw = keep;
    }

    /// Decides how each field becomes text for the column it goes into
    /// (`targets[i]` for field `i`, named `columns[i]`). Fields Parquet
    /// nests (structs, maps, lists of lists) are refused here, naming the
    /// field, before any row is read; a `LIST` goes into a PostgreSQL
    /// array or a JSON column as JSON text.
    pub fn bind(&mut self, targets: &[(String, TargetType)]) -> Result<()> {
        let schema = self.file.metadata().file_metadata().schema_descr_ptr();
        let roots = schema.root_schema().get_fields();
        for (i, field) in self.fields.iter_mut().enumerate() {
            let Some((column, target)) = targets.get(i) else {
                break;
            };
            let root = &roots[schema.get_column_root_idx(field.leaf)];
            let leaves = (0..schema.num_columns())
                .filter(|&l| {
                    schema.get_column_root_idx(l) == schema.get_column_root_idx(field.leaf)
                })
                .count();
            let descr = schema.column(field.leaf);
            let nested = |what: &str| {
                anyhow::anyhow!(
                    "the Parquet field {:?} (for column {column:?}) is {what}, which dbchunk cannot \
                     import: flatten it first (e.g. with DuckDB: SELECT ... , to_json({}) AS {} \
                     ...) into a JSON column, or leave it out with a query",
                    field.name,
                    field.name,
                    field.name
                )
            };
            if leaves > 1 {
                return Err(nested("a group of several values (a struct or a map)"));
            }
            if descr.max_rep_level() > 1 {
                return Err(nested("a list of lists"));
            }
            if descr.max_rep_level() == 1 {
                if !matches!(target, TargetType::Array | TargetType::Json) {
                    bail!(
                        "the Parquet field {:?} is a LIST, which goes only into a PostgreSQL \
                         array or a JSON column (as JSON text), and column {column:?} is neither: \
                         import it into such a column, or leave the field out",
                        field.name
                    );
                }
                field.list = Some(repeated_def_level(root).ok_or_else(|| nested("a map"))?);
            } else if root.is_group() {
                return Err(nested("a group (a struct)"));
            }
            field.kind = kind_of(&descr, *target).map_err(|what| {
                anyhow::anyhow!(
                    "the Parquet field {:?} (for column {column:?}) is {what}, which dbchunk \
                     cannot import: cast it to a string, number or timestamp first",
                    field.name
                )
            })?;
        }
        Ok(())
    }

    /// Passes over the first `rows` rows without reading them: whole row
    /// groups are never opened, and within one the column readers skip
    /// (decoding only what their pages need).
    pub fn skip_to(&mut self, rows: u64) -> Result<(), InputError> {
        if rows <= self.row {
            return Ok(());
        }
        let rows = rows.min(self.total_rows());
        while self.group + 1 < self.group_starts.len() && self.group_starts[self.group + 1] <= rows
        {
            self.group += 1;
            self.row = self.group_starts[self.group];
            self.batch_left = 0;
            for field in &mut self.fields {
                field.close();
            }
        }
        if self.row >= rows {
            return Ok(());
        }
        // Inside the group: drop what is left of the batch, then skip.
        self.open_group_if_needed()?;
        let mut left = rows - self.row;
        while left > 0 && self.batch_left > 0 {
            self.skip_batch_row();
            left -= 1;
        }
        if left > 0 {
            for i in 0..self.fields.len() {
                match self.fields[i].skip(left as usize) {
                    Ok(n) if n as u64 == left => {}
                    Ok(n) => return Err(self.short(i, n)),
                    Err(err) => return Err(self.read_error(i, &err)),
                }
            }
            self.row += left;
        }
        Ok(())
    }

    /// The next row into `record`; `Ok(false)` after the last one.
    pub fn read(&mut self, record: &mut Record) -> Result<bool, InputError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.batch_left == 0 {
            if self.row >= self.total_rows() {
                return Ok(false);
            }
            if let Err(err) = self.fill_batch() {
                self.failed = Some(err.clone());
                return Err(err);
            }
        }
        record.clear();
        let (group, in_group) = (self.group, self.row - self.group_starts[self.group]);
        record.line = self.row + 1;
        record.next_line = self.row + 2;
        record.start = self.row;
        record.end = self.row + 1;
        record.row_group = Some((group, in_group));
        record.strings.clear();
        for field in &mut self.fields {
            let start = record.buf.len();
            let present = field.next(&mut record.buf);
            record
                .fields
                .push(present.then_some((start, record.buf.len())));
        }
        self.row += 1;
        self.batch_left -= 1;
        if record.buf.len() > self.max_record_bytes {
            let message = format!(
                "row longer than {} bytes as text (raise --max-line-bytes)",
                self.max_record_bytes
            );
            record.clear();
            return Err(InputError {
                row_group: record.row_group,
                ..InputError::new(record.line, message)
            });
        }
        if self.keep_raw {
            self.raw_line(record);
        }
        Ok(true)
    }

    /// Opens the readers of the current row group when none is open.
    fn open_group_if_needed(&mut self) -> Result<(), InputError> {
        if self.fields.first().is_none_or(|f| f.is_open()) {
            return Ok(());
        }
        let group = match self.file.get_row_group(self.group) {
            Ok(group) => group,
            Err(err) => {
                return Err(self.fatal(format!("cannot read row group {}: {err}", self.group)))
            }
        };
        for field in &mut self.fields {
            let reader = match group.get_column_reader(field.leaf) {
                Ok(reader) => reader,
                Err(err) => {
                    let message = format!(
                        "cannot read field {:?} of row group {}: {err}",
                        field.name, self.group
                    );
                    return Err(InputError {
                        fatal: true,
                        ..InputError::new(self.row + 1, message)
                    });
                }
            };
            field.open(reader);
        }
        Ok(())
    }

    /// Reads the next batch of every column, moving to the next row group
    /// when this one is done.
    fn fill_batch(&mut self) -> Result<(), InputError> {
        while self.row >= self.group_starts[self.group + 1] {
            self.group += 1;
            for field in &mut self.fields {
                field.close();
            }
        }
        self.open_group_if_needed()?;
        let rows = (self.group_starts[self.group + 1] - self.row).min(BATCH as u64) as usize;
        for i in 0..self.fields.len() {
            match self.fields[i].read_batch(rows) {
                Ok(n) if n == rows => {}
                Ok(n) => return Err(self.short(i, n)),
                Err(err) => return Err(self.read_error(i, &err)),
            }
        }
        self.batch_left = rows;
        Ok(())
    }

    /// Moves every column past one row of the batch.
    fn skip_batch_row(&mut self) {
        let mut scratch = Vec::new();
        for field in &mut self.fields {
            scratch.clear();
            field.next(&mut scratch);
        }
        self.row += 1;
        self.batch_left -= 1;
    }

    fn short(&self, field: usize, got: usize) -> InputError {
        self.fatal(format!(
            "field {:?} of row group {} ends early ({got} more rows read where the row group \
             declares more): the file is damaged",
            self.fields[field].name, self.group
        ))
    }

    fn read_error(&self, field: usize, err: &parquet::errors::ParquetError) -> InputError {
        self.fatal(format!(
            "cannot read field {:?} of row group {}: {err}",
            self.fields[field].name, self.group
        ))
    }

    fn fatal(&self, message: String) -> InputError {
        InputError {
            fatal: true,
            row_group: Some((self.group, self.row - self.group_starts[self.group])),
            ..InputError::new(self.row + 1, message)
        }
    }

    /// The row as one NDJSON object, for a reject file: numbers, booleans
    /// and JSON as themselves, everything else as its text, so the line can
    /// be imported again with `--format ndjson` once fixed.
    fn raw_line(&self, record: &mut Record) {
        let mut raw = std::mem::take(&mut record.raw);
        raw.clear();
        raw.push(b'{');
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                raw.push(b',');
            }
            push_json_string(&mut raw, field.name.as_bytes());
            raw.push(b':');
            match record.get(i).flatten() {
                None => raw.extend_from_slice(b"null"),
                Some(text) => {
                    let bare = match (field.kind, field.list) {
                        (_, Some(_)) | (Kind::Json, _) => {
                            serde_json::from_slice::<serde_json::Value>(text).is_ok()
                        }
                        (kind, None) => kind.is_bare_json(text),
                    };
                    match bare {
                        true => raw.extend_from_slice(text),
                        false => push_json_string(&mut raw, text),
                    }
                }
            }
        }
        raw.push(b'}');
        record.raw = raw;
    }
}

/// The definition level of the repeated node under a `LIST` field, for
/// the standard three-level layout and the older two-level ones.
fn repeated_def_level(root: &Type) -> Option<i16> {
    let mut level = 0;
    let mut node = root;
    loop {
        let info = node.get_basic_info();
        if info.has_repetition() && info.repetition() != Repetition::REQUIRED {
            level += 1;
        }
        if info.has_repetition() && info.repetition() == Repetition::REPEATED {
            return Some(level);
        }
        match node {
            Type::GroupType { fields, .. } if fields.len() == 1 => node = &fields[0],
            _ => return None,
        }
    }
}
