//! `reload-sim peer`: the real RELOAD peer. One tokio task owns the [`Node`] and drives it
//! through [`Peer`] exactly as the simulator's engine does: every input (a frame from a
//! link, a link going down, a timer, a control command) is followed by draining
//! `poll_transmit`, `poll_link_close` and `poll_event`, then reading `poll_timeout`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::capture::Capture;
use super::clock::Clock;
use super::control::Request;
use super::links::{self, LinkInput, Links};
use super::pki::sign::RsaCrypto;
use super::pki::tls::{Credentials, TlsContext, Trust};
use super::storage;
use crate::proto::config::{ConfigFileError, OverlayConfig};
use crate::proto::event::{Event, NodeState, RequestError, RequestId};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::link::LinkTransport;
use crate::proto::node::{Identity, Node};
use crate::proto::peer::Peer;
use crate::proto::wire::Destination;
use crate::proto::wire::error_response::error_name;
use crate::time::{Duration, Time};

/// How long a leaving peer waits for its Leave requests to go out and be answered.
const LEAVE_GRACE: Duration = Duration::from_secs(3);

/// What `reload-sim peer` was asked to do (its command-line options).
#[derive(Clone, Debug, clap::Args)]
pub struct PeerOptions {
    /// The RFC 6940 §11 overlay configuration document (XML).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Which overlay of the document [default: its first configuration].
    #[arg(long, value_name = "NAME")]
    pub overlay: Option<String>,
    /// Address and port to listen on; links to other peers are made from it too.
    #[arg(long, value_name = "IP:PORT")]
    pub listen: SocketAddr,
    /// Control socket (a Unix socket) for `reload-sim ctl`.
    #[arg(long, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// This peer's certificate (PEM; `reload-sim ca issue` makes one). Its `reload://`
    /// URI gives the Node-ID, its rfc822Name the user name.
    #[arg(long, value_name = "FILE", required_unless_present = "clear_text")]
    pub cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", required_unless_present = "clear_text")]
    pub key: Option<PathBuf>,
    /// Framed RELOAD over plain TCP, without TLS: INSECURE, for debugging.
    #[arg(long)]
    pub clear_text: bool,
    /// This peer's Node-ID, 32 hex digits [default: the certificate's first, or random
    /// with --clear-text and no certificate].
    #[arg(long, value_name = "HEX", value_parser = parse_node_id)]
    pub node_id: Option<NodeId>,
    /// This peer's user name [default: the certificate's, or peer@<overlay>].
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Write every frame the peer sends and receives to a pcap file (TCP segments).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Seed of the node's random stream [default: random]: with the same Node-ID, user,
    /// configuration, address and seed, the peer sends what a simulated node would.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// A Node-ID option: exactly 32 hex digits.
pub fn parse_node_id(hex: &str) -> Result<NodeId, String> {
    NodeId::from_hex(hex)
        .filter(|_| hex.len() == 32)
        .ok_or_else(|| format!("{hex:?} is not 32 hex digits"))
}

/// Why the peer could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The configuration file could not be read.
    #[error("{path}: {source}")]
    ConfigRead {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The configuration document is not usable.
    #[error("{path}: {source}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong, naming the element.
        source: ConfigFileError,
    },
    /// The certificate or key is not usable, or does not match the options.
    #[error("{0}")]
    Credentials(String),
    /// A socket could not be set up.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The node refused to start or join.
    #[error("{0}")]
    Command(String),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> PeerError {
    let what = what.into();
    move |source| PeerError::Io { what, source }
}

/// Runs the peer until SIGINT or SIGTERM (then it leaves and returns) or a `leave`
/// command.
pub fn run(opts: PeerOptions) -> Result<(), PeerError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(io_err("tokio runtime"))?;
    rt.block_on(serve(opts))
}

/// Sixteen bytes from the operating system's random source.
fn os_random() -> Result<[u8; 16], PeerError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| PeerError::Command(format!("random source: {e}")))?;
    Ok(b)
}

/// The configuration the peer runs: the file `opts.config`, on stream links (TCP: frames
/// are never sent again, the RTO measured from acks only takes a silent link out of
/// routing, §6.6.5).
pub fn load_config(opts: &PeerOptions) -> Result<OverlayConfig, PeerError> {
    let path = opts.config.display().to_string();
    let bytes = std::fs::read(&opts.config).map_err(|source| PeerError::ConfigRead {
        path: path.clone(),
        source,
    })?;
    let mut config = OverlayConfig::from_document(&bytes, opts.overlay.as_deref())
        .map_err(|source| PeerError::Config { path, source })?;
    config.link_transport = LinkTransport::Stream;
    Ok(config)
}

struct Pending {
    reply: oneshot::Sender<Value>,
    started: Time,
    cmd: &'static str,
    /// The values of a fetch, from its `Event::Fetched`.
    values: Option<Vec<Value>>,
}

struct Driver {
    node: Node,
    clock: Clock,
    links: Links,
    pending: HashMap<RequestId, Pending>,
    leaving_since: Option<Time>,
    leave_replies: Vec<oneshot::Sender<Value>>,
    /// This peer's user name: the default resource of `store` and `fetch`.
    user: String,
    local: SocketAddr,
    capture: Option<Capture>,
}

enum ControlInput {
    Request(Request, oneshot::Sender<Value>),
}

/// Who this peer is: its Node-ID and user name, from its certificate where it has one.
fn identity(
    opts: &PeerOptions,
    creds: Option<&Credentials>,
    overlay: &str,
    random: [u8; 16],
) -> Result<(NodeId, String), PeerError> {
    let Some(creds) = creds else {
        let node_id = opts
            .node_id
            .unwrap_or_else(|| NodeId(u128::from_be_bytes(random)));
        let user = opts
            .user
            .clone()
            .unwrap_or_else(|| format!("peer@{overlay}"));
        return Ok((node_id, user));
    };
    let cert = &creds.cert;
    let node_id = match opts.node_id {
        Some(id) if !cert.node_ids.contains(&id) => {
            return Err(PeerError::Credentials(format!(
                "--node-id {id} is not in the certificate (it names {})",
                cert.node_ids
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Some(id) => id,
        None => cert.node_ids[0],
    };
    let user = match (&opts.user, &cert.user) {
        (Some(u), Some(c)) if u != c => {
            return Err(PeerError::Credentials(format!(
                "--user {u} is not the certificate's user {c}"
            )));
        }
        (_, Some(c)) => c.clone(),
        (Some(u), None) => u.clone(),
        (None, None) => format!("peer@{overlay}"),
    };
    Ok((node_id, user))
}

async fn serve(opts: PeerOptions) -> Result<(), PeerError> {
    let config = load_config(&opts)?;
    let creds = match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => {
            Some(Credentials::load(cert, key).map_err(|e| PeerError::Credentials(e.to_string()))?)
        }
        (None, None) => None,
        _ => {
            return Err(PeerError::Credentials(
                "--cert and --key go together".into(),
            ));
        }
    };
    let trust = Trust::new(&config.root_certs, config.self_signed_permitted)
        .map_err(|e| PeerError::Credentials(e.to_string()))?;
    let tls = if opts.clear_text {
        warn!(
            "clear-text links: RELOAD messages cross the network unencrypted and unauthenticated (debugging only)"
        );
        None
    } else {
        let creds = creds.as_ref().expect("clap requires --cert and --key");
        Some(Arc::new(
            TlsContext::new(creds, trust.clone())
                .map_err(|e| PeerError::Credentials(e.to_string()))?,
        ))
    };
    let random = os_random()?;
    let (node_id, user) = identity(&opts, creds.as_ref(), &config.overlay_name, random)?;
    let crypto = match &creds {
        Some(creds) => Some(Arc::new(
            RsaCrypto::new(creds, node_id, trust)
                .map_err(|e| PeerError::Credentials(e.to_string()))?,
        )),
        None => {
            warn!(
                "no certificate: messages carry the simulator's stand-in signatures, which peers with certificates refuse"
            );
            None
        }
    };
    let listener =
        links::listen(opts.listen).map_err(io_err(format!("listen on {}", opts.listen)))?;
    let control = match &opts.control {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            Some(
                UnixListener::bind(path)
                    .map_err(io_err(format!("control socket {}", path.display())))?,
            )
        }
        None => None,
    };
    let clock = Clock::start();
    let capture = match &opts.pcap {
        Some(path) => {
            let epoch_ns = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            Some(
                Capture::create(path, epoch_ns)
                    .map_err(io_err(format!("pcap file {}", path.display())))?,
            )
        }
        None => None,
    };
    let bootstrap: Vec<SocketAddr> = config
        .bootstrap_nodes
        .iter()
        .copied()
        .filter(|a| *a != opts.listen)
        .collect();
    let first_bootstrap = config.bootstrap_nodes.first() == Some(&opts.listen);
    let config = Arc::new(config);
    let seed = opts
        .seed
        .unwrap_or_else(|| u64::from_be_bytes(random[8..].try_into().expect("8 bytes")));
    let mut node = <Node as Peer>::create(
        Arc::clone(&config),
        Identity::new(node_id, &user),
        opts.listen,
        clock.now(),
        seed,
    );
    if let Some(crypto) = crypto {
        node = node.with_crypto(crypto);
    }
    info!(node_id = %node_id, listen = %opts.listen, overlay = %config.overlay_name, "peer starting");
    let started = if first_bootstrap {
        info!("first bootstrap node of the configuration: starting the overlay");
        node.start_overlay(clock.now())
    } else {
        info!(bootstrap = ?bootstrap, "joining");
        node.join(clock.now(), &bootstrap)
    };
    started.map_err(|e| PeerError::Command(e.to_string()))?;

    let (link_tx, mut link_rx) = mpsc::unbounded_channel();
    let (ctl_tx, mut ctl_rx) = mpsc::unbounded_channel();
    if let Some(control) = control {
        tokio::spawn(control_server(control, ctl_tx));
    }
    let mut d = Driver {
        node,
        clock,
        links: Links::new(opts.listen, config.max_message_size + 64, link_tx, tls),
        pending: HashMap::new(),
        leaving_since: None,
        leave_replies: Vec::new(),
        user,
        local: opts.listen,
        capture,
    };
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(io_err("SIGTERM handler"))?;
    loop {
        d.drain();
        if d.done() {
            break;
        }
        let deadline = d.node.poll_timeout();
        let wake = deadline.map(|t| d.clock.instant(t));
        let leave_by = d.leaving_since.map(|t| d.clock.instant(t + LEAVE_GRACE));
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, addr)) => d.links.accepted(stream, addr),
                Err(e) => warn!("accept: {e}"),
            },
            Some(input) = link_rx.recv() => d.on_link(input),
            Some(ControlInput::Request(req, reply)) = ctl_rx.recv() => d.on_control(req, reply),
            () = sleep_until(wake), if wake.is_some() => {
                let now = d.clock.now();
                d.node.handle_timeout(now);
            }
            () = sleep_until(leave_by), if leave_by.is_some() => {
                warn!("leave not finished after {} s: stopping", LEAVE_GRACE.as_secs_f64());
                break;
            }
            _ = tokio::signal::ctrl_c() => d.start_leave("SIGINT"),
            _ = sigterm.recv() => d.start_leave("SIGTERM"),
        }
    }
    let answered = !d.leave_replies.is_empty();
    for reply in d.leave_replies.drain(..) {
        let _ = reply.send(json!({"ok": true, "state": format!("{:?}", d.node.state())}));
    }
    if answered {
        // Let the control tasks write the answers before the runtime stops.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    d.links.close_all();
    if let Some(path) = &opts.control {
        let _ = std::fs::remove_file(path);
    }
    info!("peer stopped");
    Ok(())
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Driver {
    fn done(&self) -> bool {
        self.node.state() == NodeState::Left
    }

    fn start_leave(&mut self, why: &str) {
        if self.leaving_since.is_some() {
            return;
        }
        info!("{why}: leaving the overlay");
        let now = self.clock.now();
        self.leaving_since = Some(now);
        self.node.leave(now);
    }

    fn on_link(&mut self, input: LinkInput) {
        let now = self.clock.now();
        match input {
            LinkInput::Up {
                addr,
                conn,
                tx,
                peer,
            } => {
                self.links.up(addr, conn, tx);
                match peer {
                    Some(peer) => {
                        debug!(%addr, conn, %peer, "TLS link up");
                        self.node.handle_link_up(now, addr, peer);
                    }
                    None => debug!(%addr, conn, "link up"),
                }
            }
            LinkInput::Frame { addr, bytes } => {
                if let Some(c) = &mut self.capture {
                    c.frame(now, addr, self.local, &bytes);
                }
                self.node.handle_datagram(now, addr, &bytes);
            }
            LinkInput::Down { addr, conn, why } => {
                if self.links.down(addr, conn) {
                    info!(%addr, %why, "link down");
                    self.node.handle_link_close(now, addr);
                } else {
                    debug!(%addr, %why, "connection ended");
                }
            }
        }
    }

    /// Sends what the node has to send, closes what it closed, and acts on its events.
    fn drain(&mut self) {
        let now = self.clock.now();
        while let Some(t) = self.node.poll_transmit() {
            if let Some(c) = &mut self.capture {
                c.frame(now, self.local, t.to, &t.bytes);
            }
            self.links.send(t.to, t.bytes);
        }
        if let Some(c) = &mut self.capture {
            c.flush();
        }
        while let Some(addr) = self.node.poll_link_close() {
            debug!(%addr, "closing link");
            self.links.close(addr);
        }
        while let Some(event) = self.node.poll_event() {
            self.on_event(event);
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Joined => info!(
                node_id = %self.node.node_id(),
                successors = self.node.successors().len(),
                "joined the overlay"
            ),
            Event::JoinAttemptFailed {
                attempt,
                bootstrap,
                phase,
            } => warn!(attempt, %bootstrap, ?phase, "join attempt failed"),
            Event::Left => info!("left the overlay"),
            Event::NeighborsChanged => debug!(
                successors = ?self.node.successors().iter().map(|n| n.to_string()).collect::<Vec<_>>(),
                "neighbours changed"
            ),
            Event::Fetched {
                request,
                answer,
                discarded,
            } => {
                if let Some(p) = self.pending.get_mut(&request) {
                    p.values = Some(storage::fetched_values(&answer, discarded));
                }
            }
            Event::RequestDone { request, outcome } => {
                let Some(p) = self.pending.remove(&request) else {
                    return;
                };
                let rtt_ms = (self.clock.now() - p.started).as_secs_f64() * 1e3;
                let answer = match outcome {
                    Ok(a) => {
                        let mut v = json!({
                            "ok": true,
                            "cmd": p.cmd,
                            "responder": a.responder.to_string(),
                            "rtt_ms": (rtt_ms * 1000.0).round() / 1000.0,
                        });
                        if let Some(values) = p.values {
                            v["values"] = Value::Array(values);
                        }
                        v
                    }
                    Err(RequestError::ErrorResponse(code)) => json!({
                        "ok": false,
                        "error": error_name(code).map_or_else(|| format!("error {code:#x}"), str::to_string),
                        "code": code,
                    }),
                    Err(e) => json!({"ok": false, "error": e.to_string()}),
                };
                let _ = p.reply.send(answer);
            }
            Event::RequestServed { .. } => {}
            other => debug!(event = ?other, "event"),
        }
    }

    fn on_control(&mut self, req: Request, reply: oneshot::Sender<Value>) {
        let now = self.clock.now();
        let (cmd, started) = match req {
            Request::Status => {
                let _ = reply.send(self.status());
                return;
            }
            Request::Stat => {
                let stats = serde_json::to_value(self.node.stats()).unwrap_or(Value::Null);
                let _ = reply.send(json!({"ok": true, "stats": stats}));
                return;
            }
            Request::Leave => {
                self.leave_replies.push(reply);
                self.start_leave("leave command");
                return;
            }
            Request::Ping { target } => ("ping", self.ping(now, &target)),
            Request::Find { target } => ("find", self.ping(now, &target)),
            Request::Store {
                at,
                lifetime_s,
                value,
            } => (
                "store",
                storage::store(&mut self.node, now, &self.user, &at, lifetime_s, &value),
            ),
            Request::Fetch { at } => (
                "fetch",
                storage::fetch(&mut self.node, now, &self.user, &at),
            ),
        };
        match started {
            Ok(id) => self.wait_for(id, reply, now, cmd),
            Err(e) => {
                let _ = reply.send(json!({"ok": false, "error": e}));
            }
        }
    }

    /// A routed Ping to `target` (a Node-ID or a resource name).
    fn ping(&mut self, now: Time, target: &str) -> Result<RequestId, String> {
        self.node
            .ping(now, destination(target))
            .map_err(|e| e.to_string())
    }

    fn wait_for(
        &mut self,
        id: RequestId,
        reply: oneshot::Sender<Value>,
        now: Time,
        cmd: &'static str,
    ) {
        self.pending.insert(
            id,
            Pending {
                reply,
                started: now,
                cmd,
                values: None,
            },
        );
    }

    fn status(&self) -> Value {
        let n = &self.node;
        let ids = |v: &[NodeId]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let links: Vec<Value> = n
            .connections()
            .into_iter()
            .map(|(addr, peer, state, ready, _)| {
                json!({
                    "address": addr.to_string(),
                    "peer": peer.map(|p| p.to_string()),
                    "state": format!("{state:?}"),
                    "ready": ready,
                })
            })
            .collect();
        json!({
            "ok": true,
            "node_id": n.node_id().to_string(),
            "state": format!("{:?}", n.state()),
            "overlay": n.config().overlay_name,
            "address": n.local_addr().to_string(),
            "successors": ids(n.successors()),
            "predecessors": ids(n.predecessors()),
            "fingers": ids(&n.fingers()),
            "links": links,
            "connections_up": self.links.up_count(),
            "frames_not_sent": self.links.dropped,
            "frames_not_captured": self.capture.as_ref().map(|c| c.skipped),
        })
    }
}

/// A control target: a Node-ID in hex, else a resource name (hashed, §5.2).
fn destination(target: &str) -> Destination {
    match NodeId::from_hex(target) {
        Some(id) if target.len() == 32 => Destination::Node(id),
        _ => Destination::Resource(ResourceId::hash(target.as_bytes())),
    }
}

async fn control_server(listener: UnixListener, to_peer: mpsc::UnboundedSender<ControlInput>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let to_peer = to_peer.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            // Bounded: a client gets answers to at most 1,000 requests a connection.
            for _ in 0..1000 {
                let Ok(Some(line)) = lines.next_line().await else {
                    return;
                };
                let answer = match serde_json::from_str::<Request>(&line) {
                    Ok(req) => {
                        let (tx, rx) = oneshot::channel();
                        if to_peer.send(ControlInput::Request(req, tx)).is_err() {
                            return;
                        }
                        rx.await
                            .unwrap_or_else(|_| json!({"ok": false, "error": "peer stopped"}))
                    }
                    Err(e) => json!({"ok": false, "error": format!("bad request: {e}")}),
                };
                let mut out = answer.to_string();
                out.push('\n');
                if write.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}
