//! MySQL's packets on one socket: each payload comes after a 4-byte
//! header (3 bytes of length, a sequence number), and a payload of
//! 16 MiB - 1 bytes or more goes on in the next packet.
//!
//! Packets are read into one buffer per connection and lent out as
//! slices, so a row costs no allocation and no copy before its fields are
//! written to the output.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest payload one packet carries; a payload this long is
/// continued by the next packet.
const MAX_PAYLOAD: usize = 0xFF_FFFF;

/// What the buffer starts at: room for many narrow rows per `read` call.
const START_BUFFER: usize = 64 * 1024;

/// A socket, plain or encrypted, TCP or Unix.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct Packets {
    io: Box<dyn Io>,
    /// Bytes read from the socket; `buf[start..end]` is not handed out yet.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// A payload spread over several packets, joined.
    joined: Vec<u8>,
    /// The sequence number the next packet written carries.
    seq: u8,
}

impl Packets {
    pub fn new(io: Box<dyn Io>) -> Packets {
        Packets {
            io,
            buf: vec![0; START_BUFFER],
            start: 0,
            end: 0,
            joined: Vec::new(),
            seq: 0,
        }
    }

    /// The socket itself, for the TLS handshake (nothing may be
    /// buffered); [`Packets::set_io`] puts the encrypted one back.
    pub fn take_io(&mut self) -> Box<dyn Io> {
        debug_assert_eq!(self.start, self.end);
        std::mem::replace(&mut self.io, Box::new(tokio::io::duplex(1).0))
    }

    pub fn set_io(&mut self, io: Box<dyn Io>) {
        self.io = io;
    }

    /// The next payload, lent until the next call.
    pub async fn next(&mut self) -> io::Result<&[u8]> {
        self.joined.clear();
        loop {
            self.fill(4).await?;
            let header = &self.buf[self.start..self.start + 4];
            let len =
                usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
            self.seq = header[3].wrapping_add(1);
            self.fill(4 + len).await?;
            let payload = self.start + 4..self.start + 4 + len;
            self.start = payload.end;
            if len == MAX_PAYLOAD {
                self.joined.extend_from_slice(&self.buf[payload]);
                continue;
            }
            if self.joined.is_empty() {
                return Ok(&self.buf[payload]);
            }
            self.joined.extend_from_slice(&self.buf[payload]);
            return Ok(&self.joined);
        }
    }

    /// Reads until `need` unread bytes are buffered.
    async fn fill(&mut self, need: usize) -> io::Result<()> {
        if self.end - self.start >= need {
            return Ok(());
        }
        if self.buf.len() - self.start < need {
            self.buf.copy_within(self.start..self.end, 0);
            (self.end, self.start) = (self.end - self.start, 0);
            if self.buf.len() < need {
                self.buf.resize(need.next_power_of_two(), 0);
            }
        }
        while self.end - self.start < need {
            let read = self.io.read(&mut self.buf[self.end..]).await?;
            if read == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            self.end += read;
        }
        Ok(())
    }

    /// Sends the first packet of a command (its sequence starts at 0).
    pub async fn command(&mut self, payload: &[u8]) -> io::Result<()> {
        self.seq = 0;
        self.send(payload).await
    }

    /// Sends a payload as the next packet(s) of the exchange.
    pub async fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        let mut rest = payload;
        loop {
            // A payload of a multiple of the largest size ends with an
            // empty packet.
            let (part, after) = rest.split_at(rest.len().min(MAX_PAYLOAD));
            let len = part.len();
            out.extend_from_slice(&[len as u8, (len >> 8) as u8, (len >> 16) as u8, self.seq]);
            out.extend_from_slice(part);
            self.seq = self.seq.wrapping_add(1);
            rest = after;
            if len < MAX_PAYLOAD {
                break;
            }
        }
        self.io.write_all(&out).await?;
        self.io.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `payload` through a pipe and reads it back.
    fn round_trip(payload: Vec<u8>) -> Vec<u8> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (ours, theirs) = tokio::io::duplex(1 << 20);
            let mut sender = Packets::new(Box::new(ours));
            let mut receiver = Packets::new(Box::new(theirs));
            let send = async {
                sender.command(&payload).await.expect("send");
                sender.command(b"next").await.expect("send");
            };
            let receive = async {
                let first = receiver.next().await.expect("read").to_vec();
                let second = receiver.next().await.expect("read").to_vec();
                assert_eq!(second, b"next", "the packet after it is read on its own");
                first
            };
            let ((), first) = tokio::join!(send, receive);
            first
        })
    }

    #[test]
    fn payloads_of_any_length_come_back_whole() {
        for len in [0, 1, 4095, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert_eq!(round_trip(payload.clone()), payload, "{len} bytes");
        }
    }

    #[test]
    fn payloads_over_one_packet_are_joined() {
        // One byte short of, exactly, and past the largest packet: the
        // second and third go out as two packets (the exact one with an
        // empty second).
        for len in [MAX_PAYLOAD - 1, MAX_PAYLOAD, MAX_PAYLOAD + 10] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            assert!(
                round_trip(payload.clone()) == payload,
                "{len} bytes came back different"
            );
        }
    }
}
