//! The links of the real peer: one TCP connection per peer carrying FramedMessage frames
//! (RFC 6940 §6.6.5), inside TLS with mutual authentication (TLS-TCP-FH-NO-ICE) or, with
//! `--clear-text`, on plain TCP.
//!
//! The Node keys its links by the peer's transport address, the one its Attach candidate
//! names (§6.5.1.1). So that the address a connection comes from is that address, every
//! outgoing connection is made from the peer's own listening address and port
//! (`SO_REUSEADDR` and `SO_REUSEPORT` on the listener and on each connecting socket): the
//! accepting peer sees the connecting peer's listening address as the remote end, as a
//! datagram link would. Two peers that connect to each other at once share one
//! connection (a TCP simultaneous open) or one of the two connects fails because the
//! other's connection already holds the address pair; either way one link results.

use std::collections::HashMap;
use std::net::SocketAddr;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tracing::warn;

use super::pki::tls::{TlsContext, peer_node_id};
use super::stream::FrameSplitter;
use crate::proto::id::NodeId;

/// How long a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a connect may take before the link counts as failed.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Frames queued for a peer whose connection is not up yet, at most.
const MAX_QUEUED: usize = 256;

/// What connection tasks tell the peer's loop.
#[derive(Debug)]
pub enum LinkInput {
    /// A connection to `addr` is up (accepted or connected); frames for it go to `tx`.
    Up {
        /// The peer's address.
        addr: SocketAddr,
        /// This connection's number.
        conn: u64,
        /// Where to write frames.
        tx: mpsc::UnboundedSender<Vec<u8>>,
        /// The Node-ID of the peer's certificate (TLS links), `None` on clear-text links.
        peer: Option<NodeId>,
    },
    /// A whole frame arrived from `addr`.
    Frame {
        /// The peer's address.
        addr: SocketAddr,
        /// The frame.
        bytes: Vec<u8>,
    },
    /// The connection `conn` to `addr` ended, or could not be made (`conn` 0).
    Down {
        /// The peer's address.
        addr: SocketAddr,
        /// The connection's number (0: a connect that failed).
        conn: u64,
        /// Why, for the log.
        why: String,
    },
}

enum Conn {
    Connecting {
        queue: Vec<Vec<u8>>,
    },
    Up {
        conn: u64,
        tx: mpsc::UnboundedSender<Vec<u8>>,
    },
}

/// The connections, by the peer's address.
pub struct Links {
    local: SocketAddr,
    max_message: usize,
    conns: HashMap<SocketAddr, Conn>,
    next_conn: u64,
    inputs: mpsc::UnboundedSender<LinkInput>,
    tls: Option<Arc<TlsContext>>,
    /// Frames dropped because their connection could not be made or queued too many.
    pub dropped: u64,
}

fn reusable_socket(local: SocketAddr) -> std::io::Result<TcpSocket> {
    let socket = if local.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.bind(local)?;
    Ok(socket)
}

/// Listens on `local` with the address reusable by outgoing connections.
pub fn listen(local: SocketAddr) -> std::io::Result<TcpListener> {
    reusable_socket(local)?.listen(1024)
}

impl Links {
    /// No connections yet; connection tasks report to `inputs`. With `tls`, every
    /// connection is TLS with both certificates checked; without, plain TCP.
    pub fn new(
        local: SocketAddr,
        max_message: usize,
        inputs: mpsc::UnboundedSender<LinkInput>,
        tls: Option<Arc<TlsContext>>,
    ) -> Links {
        Links {
            local,
            max_message,
            conns: HashMap::new(),
            next_conn: 1,
            inputs,
            tls,
            dropped: 0,
        }
    }

    /// Number of connections up.
    pub fn up_count(&self) -> usize {
        self.conns
            .values()
            .filter(|c| matches!(c, Conn::Up { .. }))
            .count()
    }

    /// Sends one frame to `to`, connecting first if needed.
    pub fn send(&mut self, to: SocketAddr, frame: Vec<u8>) {
        match self.conns.get_mut(&to) {
            Some(Conn::Up { tx, .. }) => {
                if tx.send(frame).is_err() {
                    self.dropped += 1;
                }
            }
            Some(Conn::Connecting { queue }) => {
                if queue.len() < MAX_QUEUED {
                    queue.push(frame);
                } else {
                    self.dropped += 1;
                }
            }
            None => {
                self.conns
                    .insert(to, Conn::Connecting { queue: vec![frame] });
                let conn = self.next_id();
                tokio::spawn(connect(
                    self.local,
                    to,
                    conn,
                    self.max_message,
                    self.inputs.clone(),
                    self.tls.clone(),
                ));
            }
        }
    }

    /// Serves an accepted connection from `addr`.
    pub fn accepted(&mut self, stream: TcpStream, addr: SocketAddr) {
        let conn = self.next_id();
        let (max_message, inputs) = (self.max_message, self.inputs.clone());
        match self.tls.clone() {
            None => {
                tokio::spawn(serve(stream, addr, conn, max_message, inputs, None));
            }
            Some(tls) => {
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&tls.server));
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => {
                            let peer = peer_node_id(tls_stream.get_ref().1.peer_certificates());
                            serve(tls_stream, addr, conn, max_message, inputs, peer).await;
                        }
                        Ok(Err(e)) => warn!(%addr, "TLS handshake refused: {e}"),
                        Err(_) => warn!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        }
    }

    /// A connection came up: frames queued for its peer go out now. A newer connection
    /// from the same address replaces an older one (whose peer restarted or reconnected).
    pub fn up(&mut self, addr: SocketAddr, conn: u64, tx: mpsc::UnboundedSender<Vec<u8>>) {
        if let Some(Conn::Connecting { queue }) = self.conns.remove(&addr) {
            for frame in queue {
                let _ = tx.send(frame);
            }
        }
        self.conns.insert(addr, Conn::Up { conn, tx });
    }

    /// Connection `conn` to `addr` went down (`conn` 0: a connect failed). True if it was
    /// the peer's current connection, which the Node must then be told of. A failed
    /// connect drops its queued frames without telling the Node, as a datagram network
    /// loses packets: Simple Reliability retransmits (connecting again) or declares the
    /// link failed.
    pub fn down(&mut self, addr: SocketAddr, conn: u64) -> bool {
        match self.conns.get(&addr) {
            Some(Conn::Up { conn: c, .. }) if *c == conn => {
                self.conns.remove(&addr);
                true
            }
            Some(Conn::Connecting { queue }) if conn == 0 => {
                self.dropped += queue.len() as u64;
                self.conns.remove(&addr);
                false
            }
            _ => false,
        }
    }

    /// Closes the link to `addr` (the Node asked to): the peer sees the stream end.
    pub fn close(&mut self, addr: SocketAddr) {
        self.conns.remove(&addr);
    }

    /// Closes every link.
    pub fn close_all(&mut self) {
        self.conns.clear();
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_conn;
        self.next_conn += 1;
        id
    }
}

async fn connect(
    local: SocketAddr,
    to: SocketAddr,
    conn: u64,
    max_message: usize,
    inputs: mpsc::UnboundedSender<LinkInput>,
    tls: Option<Arc<TlsContext>>,
) {
    let attempt = async {
        let socket = reusable_socket(local)?;
        socket.connect(to).await
    };
    let failed = |why: String| {
        let _ = inputs.send(LinkInput::Down {
            addr: to,
            conn: 0,
            why,
        });
    };
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return failed(format!("connect: {e}")),
        Err(_) => return failed("connect timed out".into()),
    };
    let Some(tls) = tls else {
        return serve(stream, to, conn, max_message, inputs, None).await;
    };
    let _ = stream.set_nodelay(true);
    // The name is not checked (peers are named by the Node-IDs of their certificates).
    let name = rustls::pki_types::ServerName::IpAddress(to.ip().into());
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(&tls.client));
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(name, stream)).await {
        Ok(Ok(tls_stream)) => {
            let peer = peer_node_id(tls_stream.get_ref().1.peer_certificates());
            serve(tls_stream, to, conn, max_message, inputs.clone(), peer).await;
        }
        Ok(Err(e)) => {
            warn!(addr = %to, "TLS handshake refused: {e}");
            failed(format!("TLS: {e}"));
        }
        Err(_) => failed("TLS handshake timed out".into()),
    }
}

/// Reads frames from `stream` until it ends, writing what the peer's loop sends.
async fn serve<S: Nodelay + AsyncRead + AsyncWrite + Send + 'static>(
    stream: S,
    addr: SocketAddr,
    conn: u64,
    max_message: usize,
    inputs: mpsc::UnboundedSender<LinkInput>,
    peer: Option<NodeId>,
) {
    // Frames are small and latency-bound: no Nagle delay (TLS stalls without it).
    stream.no_delay();
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    if inputs
        .send(LinkInput::Up {
            addr,
            conn,
            tx,
            peer,
        })
        .is_err()
    {
        return;
    }
    let write = async move {
        while let Some(frame) = rx.recv().await {
            if writer.write_all(&frame).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    };
    let inputs_r = inputs.clone();
    let read = async move {
        let mut splitter = FrameSplitter::new(max_message);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match reader.read(&mut buf).await {
                Ok(0) => return "closed by peer".to_string(),
                Ok(n) => n,
                Err(e) => return format!("read: {e}"),
            };
            splitter.push(&buf[..n]);
            loop {
                match splitter.next_frame() {
                    Ok(Some(bytes)) => {
                        if inputs_r.send(LinkInput::Frame { addr, bytes }).is_err() {
                            return "peer stopped".into();
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return e.to_string(),
                }
            }
        }
    };
    // The link ends when the peer's stream ends or this side stops writing.
    let why = tokio::select! {
        why = read => why,
        () = write => "closed".to_string(),
    };
    let _ = inputs.send(LinkInput::Down { addr, conn, why });
}

/// A stream whose TCP socket can be told not to delay small writes.
trait Nodelay {
    fn no_delay(&self);
}

impl Nodelay for TcpStream {
    fn no_delay(&self) {
        let _ = self.set_nodelay(true);
    }
}

impl<S: Nodelay> Nodelay for tokio_rustls::server::TlsStream<S> {
    fn no_delay(&self) {
        self.get_ref().0.no_delay();
    }
}

impl<S: Nodelay> Nodelay for tokio_rustls::client::TlsStream<S> {
    fn no_delay(&self) {
        self.get_ref().0.no_delay();
    }
}
