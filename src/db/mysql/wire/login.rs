//! Logging in: the server's greeting, TLS when asked, and the two
//! password plugins mysql_async itself takes by default
//! (`mysql_native_password`, `caching_sha2_password`, whose full
//! exchange sends the password over TLS or a Unix socket, else
//! encrypted with the server's RSA key).

use mysql_async::consts::CapabilityFlags;
use mysql_async::{DriverError, Error};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{
    AuthPlugin, AuthSwitchRequest, HandshakePacket, HandshakeResponse, SslRequest,
};
use mysql_common::proto::MySerialize;
use tokio::net::{TcpStream, UnixStream};

use super::packet::{Io, Packets};
use super::{io, server_error, unexpected, Address, Result, Target, Tls, MAX_PACKET};

/// utf8mb4_general_ci: the character set of the login (the session's
/// own is set by `SET NAMES` after it).
const UTF8MB4: u8 = 45;

/// What the client asks for: 4.1 protocol and authentication, the end
/// of a result as an OK packet, several results for a statement.
fn wanted() -> CapabilityFlags {
    CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_LONG_FLAG
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
        | CapabilityFlags::CLIENT_DEPRECATE_EOF
        | CapabilityFlags::CLIENT_CONNECT_WITH_DB
        | CapabilityFlags::CLIENT_SSL
}

/// A logged-in connection and the capabilities both sides have.
pub(super) async fn login(target: &Target) -> Result<(Packets, CapabilityFlags)> {
    let (stream, socket): (Box<dyn Io>, bool) = match &target.address {
        Address::Tcp(host, port) => {
            let stream = TcpStream::connect((host.as_str(), *port))
                .await
                .map_err(io)?;
            stream.set_nodelay(true).map_err(io)?;
            let keepalive = socket2::TcpKeepalive::new().with_time(target.keepalive);
            socket2::SockRef::from(&stream)
                .set_tcp_keepalive(&keepalive)
                .map_err(io)?;
            (Box::new(stream), false)
        }
        Address::Socket(path) => (Box::new(UnixStream::connect(path).await.map_err(io)?), true),
    };
    let mut packets = Packets::new(stream);
    let greeting = packets.next().await.map_err(io)?;
    if greeting.first() == Some(&0xFF) {
        return Err(server_error(greeting, CapabilityFlags::empty()));
    }
    let handshake = ParseBuf(greeting)
        .parse::<HandshakePacket>(())
        .map_err(|_| unexpected(greeting))?;
    let mut nonce = handshake.scramble_1_ref().to_vec();
    nonce.extend_from_slice(handshake.scramble_2_ref().unwrap_or_default());
    nonce.resize(20, 0);
    let version = handshake
        .maria_db_server_version_parsed()
        .or_else(|| handshake.server_version_parsed())
        .unwrap_or((0, 0, 0));
    let offered = handshake.capabilities();
    let mut plugin = match handshake.auth_plugin() {
        Some(AuthPlugin::CachingSha2Password) => AuthPlugin::CachingSha2Password,
        _ => AuthPlugin::MysqlNativePassword,
    };
    let mut capabilities = offered & wanted();
    if target.database.is_none() {
        capabilities.remove(CapabilityFlags::CLIENT_CONNECT_WITH_DB);
    }
    let secure = match &target.tls {
        Tls::On { config, name, .. } if offered.contains(CapabilityFlags::CLIENT_SSL) => {
            let request = SslRequest::new(capabilities, MAX_PACKET, UTF8MB4);
            let mut payload = Vec::new();
            request.serialize(&mut payload);
            packets.send(&payload).await.map_err(io)?;
            let plain = packets.take_io();
            let encrypted = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name.clone(), plain)
                .await
                .map_err(io)?;
            packets.set_io(Box::new(encrypted));
            true
        }
        Tls::On { required: true, .. } => {
            return Err(Error::Driver(DriverError::NoClientSslFlagFromServer))
        }
        _ => {
            capabilities.remove(CapabilityFlags::CLIENT_SSL);
            false
        }
    };
    let password = target.password.as_deref();
    let auth_data = plugin.gen_data(password, &nonce);
    let response = HandshakeResponse::new(
        auth_data.as_deref(),
        version,
        Some(target.user.as_bytes()),
        target.database.as_deref().map(str::as_bytes),
        Some(plugin.clone()),
        capabilities,
        None,
        MAX_PACKET,
    );
    let mut payload = Vec::new();
    response.serialize(&mut payload);
    packets.send(&payload).await.map_err(io)?;

    let mut switched = false;
    loop {
        let packet = packets.next().await.map_err(io)?;
        match (packet.first(), &plugin) {
            (Some(0x00), _) => return Ok((packets, capabilities)),
            (Some(0xFF), _) => return Err(server_error(packet, capabilities)),
            (Some(0xFE), _) if !switched => {
                switched = true;
                let request = ParseBuf(packet)
                    .parse::<AuthSwitchRequest>(())
                    .map_err(|_| unexpected(packet))?;
                nonce = request.plugin_data().to_vec();
                plugin = match request.auth_plugin() {
                    AuthPlugin::CachingSha2Password => AuthPlugin::CachingSha2Password,
                    AuthPlugin::MysqlNativePassword => AuthPlugin::MysqlNativePassword,
                    other => {
                        return Err(Error::Driver(DriverError::UnknownAuthPlugin {
                            name: String::from_utf8_lossy(other.as_bytes()).into_owned(),
                        }))
                    }
                };
                let mut data = Vec::new();
                if let Some(d) = plugin.gen_data(password, &nonce) {
                    d.serialize(&mut data);
                }
                packets.send(&data).await.map_err(io)?;
            }
            // caching_sha2_password: the fast path took (an OK follows), or
            // the server wants the password itself.
            (Some(0x01), AuthPlugin::CachingSha2Password) => match packet.get(1) {
                Some(0x03) => {}
                Some(0x04) => {
                    let mut clear = password.unwrap_or_default().as_bytes().to_vec();
                    clear.push(0);
                    if secure || socket {
                        packets.send(&clear).await.map_err(io)?;
                    } else {
                        packets.send(&[0x02]).await.map_err(io)?;
                        let key = packets.next().await.map_err(io)?;
                        let key = key.get(1..).unwrap_or_default().to_vec();
                        for (i, byte) in clear.iter_mut().enumerate() {
                            *byte ^= nonce[i % nonce.len()];
                        }
                        let encrypted = mysql_common::crypto::encrypt(&clear, &key);
                        packets.send(&encrypted).await.map_err(io)?;
                    }
                }
                _ => return Err(unexpected(packet)),
            },
            _ => return Err(unexpected(packet)),
        }
    }
}
