//! dbchunk's own MySQL session for reading rows: login, statements, and
//! result rows walked in place.
//!
//! mysql_async gives every field of every row its own allocation, passes
//! every packet through a process-wide buffer pool (an atomic queue and an
//! `Arc` per packet, which the threads of `dump --jobs` contend on), and
//! reads the clock per packet: together about half of the client's CPU
//! when a MariaDB table is exported (docs/profile.md). This session reads
//! the packets into one buffer and lends each row's bytes to the encoder.
//!
//! It runs what a read needs: the session settings, the consistent-snapshot
//! transaction of `--parallel` and `dump` workers, and the read itself as a
//! prepared statement (the binary protocol, so numbers arrive as numbers).
//! Everything else (the catalog, writes) stays on mysql_async. Its errors
//! are mysql_async's, so a lost connection or a refused statement is
//! recognised the same way whichever session it came from.
//!
//! The packets other than rows are mysql_common's (the protocol crate
//! under mysql_async): the handshake, login, column definitions and
//! parameters.

use std::time::Duration;

use mysql_async::consts::CapabilityFlags;
use mysql_async::{Column, DriverError, Error, IoError, ServerError, Value};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{ComStmtExecuteRequestBuilder, ErrPacket, StmtPacket};
use mysql_common::proto::MySerialize;

use packet::Packets;

mod login;
mod packet;
pub mod row;

pub type Result<T> = std::result::Result<T, Error>;

/// Where and how to log in: what the driver's connection used.
#[derive(Clone)]
pub struct Target {
    pub address: Address,
    pub user: String,
    pub password: Option<String>,
    pub database: Option<String>,
    pub tls: Tls,
    pub keepalive: Duration,
    /// Statements run after login (time zone, character set, SQL mode).
    pub init: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum Address {
    Tcp(String, u16),
    Socket(String),
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp(host, port) => write!(f, "{host}:{port}"),
            Address::Socket(path) => write!(f, "the socket {path}"),
        }
    }
}

#[derive(Clone)]
pub enum Tls {
    Off,
    /// Encrypt; `required: false` logs in without when the server offers
    /// no TLS (ssl-mode PREFERRED).
    On {
        config: std::sync::Arc<rustls::ClientConfig>,
        name: rustls::pki_types::ServerName<'static>,
        required: bool,
    },
}

/// A prepared statement's id and text.
struct Prepared {
    sql: String,
    id: u32,
}

pub struct Session {
    packets: Packets,
    capabilities: CapabilityFlags,
    /// The statement prepared last (a keyset export runs one many times).
    prepared: Option<Prepared>,
    /// The columns of the result being read.
    columns: Vec<Column>,
    /// A result whose rows have not all been read.
    pending: bool,
    /// Another result follows the current one (the server's status flag).
    more_results: bool,
}

/// `SERVER_MORE_RESULTS_EXISTS` in an OK or EOF packet's status.
const MORE_RESULTS: u16 = 0x0008;

/// The largest packet the client says it takes: the protocol's own
/// limit, so that any row the server will send (its `max_allowed_packet`
/// decides) is read; the buffer grows to the longest row.
const MAX_PACKET: u32 = 1 << 30;

impl Session {
    pub async fn connect(target: &Target) -> Result<Session> {
        let (packets, capabilities) = login::login(target).await?;
        let mut session = Session {
            packets,
            capabilities,
            prepared: None,
            columns: Vec::new(),
            pending: false,
            more_results: false,
        };
        for statement in &target.init {
            session.execute(statement).await?;
        }
        Ok(session)
    }

    fn deprecate_eof(&self) -> bool {
        self.capabilities
            .contains(CapabilityFlags::CLIENT_DEPRECATE_EOF)
    }

    /// Runs a statement that returns no rows (any it does return are
    /// read and dropped).
    pub async fn execute(&mut self, sql: &str) -> Result<()> {
        self.finish().await?;
        let mut command = Vec::with_capacity(sql.len() + 1);
        command.push(0x03); // COM_QUERY
        command.extend_from_slice(sql.as_bytes());
        self.packets.command(&command).await.map_err(io)?;
        self.response().await?;
        self.finish().await
    }

    /// Prepares `sql` (unless it is the statement prepared last) and runs
    /// it with `params`; its rows follow from [`Session::next_row`], typed
    /// by [`Session::columns`].
    pub async fn run(&mut self, sql: &str, params: &[Value]) -> Result<()> {
        self.finish().await?;
        let id = self.prepare(sql).await?;
        let (request, too_long) = ComStmtExecuteRequestBuilder::new(id).build(params);
        if too_long {
            return Err(Error::Driver(DriverError::PacketTooLarge));
        }
        let mut command = Vec::new();
        request.serialize(&mut command);
        self.packets.command(&command).await.map_err(io)?;
        self.response().await
    }

    /// The columns of the rows being read.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The next row of the result being read, as the binary protocol's
    /// bytes (see [`row`]), or `None` after its last.
    pub async fn next_row(&mut self) -> Result<Option<&[u8]>> {
        if !self.pending {
            return Ok(None);
        }
        let deprecate_eof = self.deprecate_eof();
        let capabilities = self.capabilities;
        let packet = self.packets.next().await.map_err(io)?;
        match packet.first() {
            Some(0xFE) if packet.len() < 0xFF_FFFF => {
                self.pending = false;
                self.more_results = status(packet, deprecate_eof) & MORE_RESULTS != 0;
                Ok(None)
            }
            Some(0xFF) => {
                self.pending = false;
                Err(server_error(packet, capabilities))
            }
            _ => Ok(Some(packet)),
        }
    }

    /// Reads what is left of the current response, so that the next
    /// command can be sent.
    async fn finish(&mut self) -> Result<()> {
        loop {
            while self.next_row().await?.is_some() {}
            if !self.more_results {
                return Ok(());
            }
            self.response().await?;
        }
    }

    /// Reads a statement's response up to its rows: an OK, an error, or
    /// a result's columns (its rows are then pending).
    async fn response(&mut self) -> Result<()> {
        let deprecate_eof = self.deprecate_eof();
        let capabilities = self.capabilities;
        self.columns.clear();
        let packet = self.packets.next().await.map_err(io)?;
        let count = match packet.first() {
            Some(0x00) => {
                self.more_results = status(packet, true) & MORE_RESULTS != 0;
                return Ok(());
            }
            Some(0xFF) => return Err(server_error(packet, capabilities)),
            _ => lenenc(&mut &packet[..]).ok_or_else(|| unexpected(packet))?,
        };
        for _ in 0..count {
            let packet = self.packets.next().await.map_err(io)?;
            let column = ParseBuf(packet)
                .parse::<Column>(())
                .map_err(|_| unexpected(packet))?;
            self.columns.push(column);
        }
        if !deprecate_eof {
            self.packets.next().await.map_err(io)?;
        }
        self.pending = true;
        self.more_results = false;
        Ok(())
    }

    /// The id of `sql` prepared, closing the statement prepared before.
    async fn prepare(&mut self, sql: &str) -> Result<u32> {
        if let Some(prepared) = self.prepared.as_ref().filter(|p| p.sql == sql) {
            return Ok(prepared.id);
        }
        if let Some(old) = self.prepared.take() {
            let mut close = vec![0x19]; // COM_STMT_CLOSE: the server answers nothing
            close.extend_from_slice(&old.id.to_le_bytes());
            self.packets.command(&close).await.map_err(io)?;
        }
        let mut command = Vec::with_capacity(sql.len() + 1);
        command.push(0x16); // COM_STMT_PREPARE
        command.extend_from_slice(sql.as_bytes());
        self.packets.command(&command).await.map_err(io)?;
        let capabilities = self.capabilities;
        let packet = self.packets.next().await.map_err(io)?;
        if packet.first() == Some(&0xFF) {
            return Err(server_error(packet, capabilities));
        }
        let statement = ParseBuf(packet)
            .parse::<StmtPacket>(())
            .map_err(|_| unexpected(packet))?;
        // The parameters' and the columns' definitions: the execution's
        // own response repeats the columns.
        for count in [statement.num_params(), statement.num_columns()] {
            let eof = u16::from(count > 0 && !self.deprecate_eof());
            for _ in 0..count + eof {
                self.packets.next().await.map_err(io)?;
            }
        }
        let id = statement.statement_id();
        self.prepared = Some(Prepared {
            sql: sql.to_string(),
            id,
        });
        Ok(id)
    }
}

/// The status flags of an OK packet, or of the packet that ends a result
/// (an OK with the 0xFE header, or the old EOF packet).
fn status(packet: &[u8], ok_packet: bool) -> u16 {
    let mut rest = packet.get(1..).unwrap_or_default();
    if ok_packet {
        // affected rows, last insert id
        if lenenc(&mut rest).and(lenenc(&mut rest)).is_none() {
            return 0;
        }
    } else {
        rest = rest.get(2..).unwrap_or_default(); // warnings
    }
    match rest {
        [low, high, ..] => u16::from_le_bytes([*low, *high]),
        _ => 0,
    }
}

/// A length-encoded integer at the front of `bytes`, which moves past it.
pub(crate) fn lenenc(bytes: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = bytes.split_first()?;
    let width = match first {
        0xFC => 2,
        0xFD => 3,
        0xFE => 8,
        0xFB | 0xFF => return None,
        small => {
            *bytes = rest;
            return Some(u64::from(small));
        }
    };
    let value = rest.get(..width)?;
    *bytes = &rest[width..];
    let mut full = [0u8; 8];
    full[..width].copy_from_slice(value);
    Some(u64::from_le_bytes(full))
}

/// The server's error packet as mysql_async's error.
fn server_error(payload: &[u8], capabilities: CapabilityFlags) -> Error {
    match ParseBuf(payload).parse::<ErrPacket>(capabilities) {
        Ok(ErrPacket::Error(e)) => Error::Server(ServerError {
            code: e.error_code(),
            message: e.message_str().into_owned(),
            state: e
                .sql_state_ref()
                .map(|s| s.as_str().into_owned())
                .unwrap_or_default(),
        }),
        _ => unexpected(payload),
    }
}

/// A packet that does not belong where it came.
fn unexpected(payload: &[u8]) -> Error {
    Error::Driver(DriverError::UnexpectedPacket {
        payload: payload.to_vec(),
    })
}

fn io(err: std::io::Error) -> Error {
    Error::Io(IoError::Io(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_encoded_integers_take_one_to_nine_bytes() {
        let mut bytes: &[u8] = &[
            0x05, 0xFC, 0x34, 0x12, 0xFD, 1, 2, 3, 0xFE, 1, 0, 0, 0, 0, 0, 0, 1,
        ];
        assert_eq!(lenenc(&mut bytes), Some(5));
        assert_eq!(lenenc(&mut bytes), Some(0x1234));
        assert_eq!(lenenc(&mut bytes), Some(0x030201));
        assert_eq!(lenenc(&mut bytes), Some(0x0100_0000_0000_0001));
        assert!(bytes.is_empty());
        assert_eq!(lenenc(&mut &[0xFC, 0x01][..]), None, "cut short");
        assert_eq!(lenenc(&mut &[0xFB][..]), None, "NULL is no length");
    }

    #[test]
    fn the_status_is_found_in_ok_and_eof_packets() {
        // OK with 0xFE header: affected 0, insert id 0, status 0x0008.
        assert_eq!(status(&[0xFE, 0, 0, 0x08, 0, 0, 0], true), MORE_RESULTS);
        // Old EOF: warnings 0, status 0x0002.
        assert_eq!(status(&[0xFE, 0, 0, 0x02, 0], false), 0x0002);
        assert_eq!(status(&[0xFE], true), 0);
    }
}
