//! Overlay configuration (RFC 6940 §11, §10.7): the parameters every peer of one overlay
//! shares. Units are in the field names; defaults follow the RFC.

use std::net::SocketAddr;

use crate::proto::id::overlay_hash;
use crate::proto::store::KindConfig;
use crate::time::Duration;

/// A transport address. The simulator gives node `i` the address `10.x.y.z:6084` with
/// `x.y.z` = `i + 1`, so address and slot map to each other in O(1).
pub type Addr = SocketAddr;

/// Parameters shared by every peer of an overlay.
#[derive(Clone, Debug)]
pub struct OverlayConfig {
    /// Overlay name (`instance-name`).
    pub overlay_name: String,
    /// `overlay` header field: low 32 bits of SHA-1(overlay name).
    pub overlay: u32,
    /// Configuration sequence number carried in every header (§6.3.2.1).
    pub configuration_sequence: u16,
    /// Successors kept in the Neighbor Table (≥ 3, §10.1).
    pub successors: usize,
    /// Predecessors kept in the Neighbor Table (≥ 3, §10.1).
    pub predecessors: usize,
    /// Finger Table size (16..=128, §10.7.4.3).
    pub fingers: usize,
    /// `chord-update-interval`: period of neighbour Updates (§10.7.4.1).
    pub chord_update_interval: Duration,
    /// `chord-ping-interval`: period of finger refresh Pings (§10.7.4.2).
    pub chord_ping_interval: Duration,
    /// `chord-reactive`: send Updates as soon as the Neighbor Table changes (§10.7.4).
    pub chord_reactive: bool,
    /// `overlay-reliability-timer`: end-to-end retransmission timer (§6.2.1).
    pub reliability_timer: Duration,
    /// End-to-end sends of a request before it fails (§6.2.1: 5).
    pub request_sends: u8,
    /// Simple Reliability initial retransmission timeout, doubled per retry (§6.6.3).
    pub link_rto: Duration,
    /// Simple Reliability sends of a frame before the link is declared failed (§6.6.3: 5).
    pub link_sends: u8,
    /// Frames in flight per link before further frames queue.
    pub link_window: usize,
    /// Initial TTL of requests (`initial-ttl`, §6.3.2).
    pub initial_ttl: u8,
    /// Largest message accepted (`max-message-size`, §6.6).
    pub max_message_size: usize,
    /// Upper bound on the Connection Table.
    pub max_connections: usize,
    /// How long an answer is kept for duplicate requests (§6.2.1: 15 s).
    pub duplicate_window: Duration,
    /// How long a join attempt may take before it restarts.
    pub join_timeout: Duration,
    /// The Kinds this overlay stores (§7.2, `required-kinds`).
    pub kinds: KindConfig,
}

impl OverlayConfig {
    /// The RFC defaults for an overlay called `name`.
    pub fn new(name: &str) -> Self {
        OverlayConfig {
            overlay_name: name.to_string(),
            overlay: overlay_hash(name),
            configuration_sequence: 1,
            successors: 3,
            predecessors: 3,
            fingers: 16,
            chord_update_interval: Duration::from_secs(600),
            chord_ping_interval: Duration::from_secs(3600),
            chord_reactive: true,
            reliability_timer: Duration::from_millis(3000),
            request_sends: 5,
            link_rto: Duration::from_millis(500),
            link_sends: 5,
            link_window: 64,
            initial_ttl: 100,
            max_message_size: 5000,
            max_connections: 1024,
            duplicate_window: Duration::from_secs(15),
            join_timeout: Duration::from_secs(60),
            kinds: KindConfig::standard(),
        }
    }
}
