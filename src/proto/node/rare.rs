//! State that most peers never hold: injected crypto, SIP registrations and calls, refused
//! copies, rebinding Attaches, ConfigUpdate pushes, a client's peer and a leave deadline.
//! It lives behind one
//! box, allocated the first time a part is needed and given back once every part is empty
//! again, so an idle peer pays one pointer for all of it.

use std::sync::Arc;

use crate::proto::config::Addr;
use crate::proto::id::NodeId;
use crate::proto::identity::Crypto;
use crate::time::Time;

use super::Node;
use super::refused::RefusedCopy;
use super::sip::{CallLookup, Registration};

/// The signing and verifying a driver injected (the real peer's certificates).
#[derive(Clone)]
pub(super) struct Injected(pub(super) Arc<dyn Crypto>);

impl std::fmt::Debug for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Injected(Crypto)")
    }
}

/// The rarely used parts of a node.
#[derive(Debug, Default)]
pub(super) struct Rare {
    /// Injected crypto; `None` signs with the simulator's [`SimCrypto`]
    /// (crate::proto::identity::SimCrypto).
    pub(super) crypto: Option<Injected>,
    pub(super) registrations: Vec<Registration>,
    pub(super) calls: Vec<CallLookup>,
    /// Attaches from nodes at the address of another linked node: (address, Node-ID,
    /// send_update), newest first, until their handshake rebinds the link (answer.rs).
    pub(super) rebinding: Vec<(Addr, NodeId, bool)>,
    /// Copies refused by peers with a stale view, to resend (refused.rs).
    pub(super) refused: Vec<RefusedCopy>,
    /// When the refused copies are resent.
    pub(super) copy_retry_at: Option<Time>,
    /// A client's peer, and the peer it is moving to.
    pub(super) client_peer: Option<NodeId>,
    pub(super) client_target: Option<NodeId>,
    /// ConfigUpdates sent lately: (destination, when), for the push bound
    /// (config_update.rs).
    pub(super) config_pushes: Vec<(NodeId, Time)>,
    /// When a graceful leave gives up waiting for its acks.
    pub(super) leave_deadline: Option<Time>,
}

/// What a node without the box reads.
static EMPTY: Rare = Rare {
    crypto: None,
    registrations: Vec::new(),
    calls: Vec::new(),
    rebinding: Vec::new(),
    refused: Vec::new(),
    copy_retry_at: None,
    client_peer: None,
    client_target: None,
    config_pushes: Vec::new(),
    leave_deadline: None,
};

impl Rare {
    /// True when no part holds anything.
    fn is_empty(&self) -> bool {
        self.crypto.is_none()
            && self.registrations.is_empty()
            && self.calls.is_empty()
            && self.rebinding.is_empty()
            && self.refused.is_empty()
            && self.copy_retry_at.is_none()
            && self.client_peer.is_none()
            && self.client_target.is_none()
            && self.config_pushes.is_empty()
            && self.leave_deadline.is_none()
    }

    /// Heap bytes of the box and its lists.
    pub(super) fn heap_bytes(&self) -> usize {
        fn vec_bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        std::mem::size_of::<Rare>()
            + vec_bytes(&self.registrations)
            + vec_bytes(&self.calls)
            + vec_bytes(&self.rebinding)
            + vec_bytes(&self.refused)
            + vec_bytes(&self.config_pushes)
    }
}

/// The injected crypto of a node's rare parts, if any.
pub(super) fn injected(rare: &Option<Box<Rare>>) -> Option<&Arc<dyn Crypto>> {
    rare.as_deref()
        .and_then(|r| r.crypto.as_ref())
        .map(|c| &c.0)
}

impl Node {
    /// The rarely used parts (empty ones when the box is not allocated).
    pub(super) fn rare(&self) -> &Rare {
        self.rare.as_deref().unwrap_or(&EMPTY)
    }

    /// The rarely used parts, allocating the box if needed.
    pub(super) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Gives back the rare-state box and the answer cache once nothing is in them.
    pub(super) fn release_idle_boxes(&mut self) {
        if self.rare.as_ref().is_some_and(|r| r.is_empty()) {
            self.rare = None;
        }
        if self.answers.as_ref().is_some_and(|a| a.is_empty()) {
            self.answers = None;
        }
    }
}
