//! What a [`crate::proto::node::Node`] hands back to its driver: datagrams, events and
//! typed results.

use crate::proto::config::Addr;
use crate::proto::id::{NodeId, ResourceId, TransactionId};
use crate::proto::wire::Destination;
use crate::proto::wire::storage::FetchAns;

/// A datagram to send: one FramedMessage frame (§6.6.2), data or ack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination transport address.
    pub to: Addr,
    /// The frame bytes.
    pub bytes: Vec<u8>,
}

/// Identifies a request started by a command: its transaction id.
pub type RequestId = TransactionId;

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Created, not yet joining.
    Idle,
    /// Joining the overlay (§10.5).
    Joining,
    /// A full peer of the overlay.
    Joined,
    /// Sending Leave requests (§10.9).
    Leaving,
    /// Gone; the driver may drop it.
    Left,
    /// A client (§4.2) linking to its responsible peer.
    ClientConnecting,
    /// A client connected through its responsible peer.
    Client,
}

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No answer after every end-to-end retransmission (§6.2.1).
    #[error("timed out")]
    Timeout,
    /// The responder answered with an Error message (§6.3.3.1).
    #[error("error response {0:#x}")]
    ErrorResponse(u16),
    /// No route: no connected peer to send it to.
    #[error("no route")]
    NoRoute,
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The node is not in a state that allows this command.
    #[error("not allowed in state {0:?}")]
    InvalidState(NodeState),
    /// Joining needs at least one bootstrap address.
    #[error("no bootstrap address")]
    NoBootstrap,
    /// The message could not be encoded.
    #[error("encoding failed")]
    Encode,
    /// The configuration's overlay name is not a DNS name (§6.3.2,
    /// [`crate::proto::config::check_overlay_name`]): the node takes part in no overlay.
    #[error("the overlay name is not a DNS name")]
    BadOverlayName,
}

/// A successful answer to a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Node-ID of the signer of the answer.
    pub responder: NodeId,
    /// Message code of the answer.
    pub code: u16,
}

/// Something the driver may want to know. Drain with `poll_event` after every input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The node completed its join (§10.5) and is a peer.
    Joined,
    /// A join attempt gave up (§6.4.2.1: "nodes which cannot form connections SHOULD
    /// report an error to the user"): it stalled for `join_timeout`, or a step of it
    /// failed. The next attempt starts at once with the next bootstrap address.
    JoinAttemptFailed {
        /// Which attempt of this join failed: 1 for the first.
        attempt: u32,
        /// The bootstrap address the attempt went through.
        bootstrap: Addr,
        /// How far it got: `Bootstrapping` means no connection to the bootstrap peer was
        /// formed at all.
        phase: crate::proto::node::JoinPhase,
    },
    /// The node finished leaving; the driver can drop it.
    Left,
    /// A client connected to its responsible peer (§4.2).
    Connected,
    /// The Neighbor Table changed.
    NeighborsChanged,
    /// A request started by a command finished.
    RequestDone {
        /// The request.
        request: RequestId,
        /// Its outcome.
        outcome: Result<Answer, RequestError>,
    },
    /// A Store of a registration made by `register` finished: the first store or a refresh
    /// (RFC 7904 §3).
    Registered {
        /// H(AoR).
        aor: ResourceId,
        /// The Store request.
        request: RequestId,
        /// Its outcome: code store_ans when the registration is stored.
        outcome: Result<Answer, RequestError>,
    },
    /// The values of a `fetch`; `RequestDone` for the same request follows.
    Fetched {
        /// The request.
        request: RequestId,
        /// The answer, one entry per requested Kind, with only the values that verified.
        answer: FetchAns,
        /// Values of the FetchAns that failed verification (signature or the Kind's access
        /// policy) and were left out of `answer`. Nonzero: a partial response, which
        /// §7.4.2.2 says the application SHOULD be told of.
        discarded: u32,
    },
    /// A call lookup finished (RFC 7904 §4–5).
    CallDone {
        /// The call, as returned by `call`.
        call: RequestId,
        /// The callee reached, or why not.
        outcome: Result<CallInfo, CallError>,
    },
    /// An AoR lookup finished (RFC 7904 §4).
    AorLookedUp {
        /// The lookup, as returned by `lookup_aor`.
        lookup: RequestId,
        /// The registered Destination Lists (each ending at a registered node), or why none.
        outcome: Result<Vec<Vec<Destination>>, CallError>,
    },
    /// This node answered a request from another node (for path metrics).
    RequestServed {
        /// The origin (signer) of the request.
        origin: NodeId,
        /// Its transaction id.
        transaction: TransactionId,
        /// Overlay transmissions from the origin to this node: via-list length + 1.
        hops: u32,
        /// The request's message code.
        code: u16,
    },
}

/// A call that reached its callee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallInfo {
    /// The Node-ID that answered the AppAttach.
    pub callee: NodeId,
    /// Time from the call to the last registration Fetch answer (zero for a GRUU).
    pub fetch: crate::time::Duration,
    /// Time from then to the AppAttach answer.
    pub attach: crate::time::Duration,
    /// Registration Fetches made (1 + indirections followed).
    pub fetches: u8,
}

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The AoR has no live registration.
    #[error("not registered")]
    NotRegistered,
    /// `uri` indirections loop or exceed the bound.
    #[error("indirection loop")]
    IndirectionLoop,
    /// The AppAttach was answered by a node other than the route's last entry.
    #[error("wrong callee")]
    WrongCallee,
    /// A registration Fetch of the call failed.
    #[error("registration fetch: {0}")]
    Fetch(RequestError),
    /// The AppAttach of the call failed.
    #[error("app attach: {0}")]
    Attach(RequestError),
}
