//! The vocabulary every database reader and every encoder shares.
//!
//! A reader pushes one [`Cell`] per value into a [`crate::format::Encoder`].
//! Cells borrow from the driver's row buffer, so no value is copied on its
//! way from the socket to the output buffer. Readers that render a value on
//! the server (PostgreSQL) pass canonical text; readers that get typed
//! values (MySQL's binary protocol, SQLite) pass the typed variants and let
//! the encoder format them.

use crate::coltype::ColType;
use crate::key::Key;

/// One value of one row, borrowed for the duration of a single push.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A MySQL `FLOAT` or PostgreSQL `real`: formatted with the shortest
    /// digits that read back as the same `f32`.
    F32(f32),
    F64(f64),
    /// Canonical number text (integers, exact decimals, floats the server
    /// already rendered). NDJSON writes it as a JSON number unless it is
    /// `NaN` or an infinity, which JSON cannot hold.
    Number(&'a [u8]),
    /// Text, written as a string. Kept as bytes: only NDJSON needs UTF-8.
    Text(&'a [u8]),
    /// Raw binary, written as lowercase hex.
    Bytes(&'a [u8]),
    /// A JSON document: embedded as JSON in NDJSON, as its text elsewhere.
    Json(&'a [u8]),
}

/// One output column: its name and what kind of values it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The engine's own name for the type, for messages and `--explain`.
    pub type_name: String,
    /// The portable type from the catalog, which typed formats (Parquet)
    /// write their schema from.
    pub ty: ColType,
}

impl Column {
    /// A column whose values are carried as their canonical text.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Column {
        Column::typed(name, type_name, ColType::Other)
    }

    pub fn typed(name: impl Into<String>, type_name: impl Into<String>, ty: ColType) -> Column {
        Column {
            name: name.into(),
            type_name: type_name.into(),
            ty,
        }
    }
}

/// Where readers push rows. Implemented by [`crate::pipeline::Pipeline`].
pub trait RowSink {
    /// The next value of the current row, in output column order.
    fn cell(&mut self, cell: Cell<'_>);
    /// Ends the current row. `Ok(false)` means no more rows are wanted
    /// (`--limit` reached): the reader stops and returns.
    fn end_row(&mut self) -> anyhow::Result<bool>;
    /// Rows already encoded in the output format (PostgreSQL `COPY`).
    fn raw_rows(&mut self, bytes: &[u8], rows: u64) -> anyhow::Result<bool>;
    /// A chunk of rows is done (see [`crate::db::Chunks`]): `last_key` is
    /// the key of its last row when the rows come in key order, where a
    /// read that stops here can go on.
    fn end_chunk(&mut self, last_key: Option<&Key>) -> anyhow::Result<()>;
}
