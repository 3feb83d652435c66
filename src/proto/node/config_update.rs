//! ConfigUpdate (RFC 6940 §6.5.4): pushing this node's Configuration Document to a node
//! seen with an older one (§6.3.2.1), pushing Kind definitions to a node that did not know
//! a Kind of ours (§7.4.1.2), and applying the updates other nodes push (§6.5.4.2).
//!
//! Choices where the RFC leaves room:
//! - Every ConfigUpdate this node sends carries configuration_sequence 65535 in its header
//!   (built in send.rs), the value §6.3.2.1 makes every receiver accept on a ConfigUpdate:
//!   the receiver's sequence differs from ours by definition, so any other value would be
//!   refused with Error_Config_Too_Old or Too_New before the document is read.
//! - "Correctly digitally signed" (§6.5.4.2, §11.1) is the document's own `signature`,
//!   not the message's: any node may relay a configuration (as §6.3.2.1 asks every node
//!   to), and the receiver checks that a `configuration-signer` of its current
//!   configuration signed it. Kind definitions likewise carry their `kind-signature`,
//!   checked against the current `kind-signer`s. In the simulator these signatures are
//!   SimCrypto ones (config_doc/mod.rs).
//! - Pushes are bounded: at most one per destination Node-ID per [`PUSH_INTERVAL`], and
//!   at most [`PUSH_TARGETS`] destinations per interval in all, so a flood of old requests
//!   (or forged Via Lists naming many nodes) cannot make this node flood.

use std::sync::Arc;

use super::Node;
use crate::proto::config::Addr;
use crate::proto::config_doc::{self, CHORD_RELOAD, ConfigDocError, ConfigDocument, KindBlock};
use crate::proto::id::NodeId;
use crate::proto::store::KindConfig;
use crate::proto::transaction::Purpose;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::storage::KindId;
use crate::proto::wire::topology::{ConfigUpdateReq, KindDescription};
use crate::proto::wire::{Body, Destination};
use crate::time::{Duration, Time};

/// Least time between two ConfigUpdates this node sends to one Node-ID: longer than a
/// request's lifetime (5 sends, 3 s apart), so one push is retransmitted to completion
/// before another is started.
pub const PUSH_INTERVAL: Duration = Duration::from_secs(30);

/// Most destinations this node pushes to within one [`PUSH_INTERVAL`].
pub const PUSH_TARGETS: usize = 16;

impl Node {
    /// §6.5.4.2: applies a ConfigUpdate this node received, or says why not. The answer
    /// (ConfigUpdateAns or the error) is built after the switch, so it already carries the
    /// new configuration sequence.
    pub(super) fn answer_config_update(&mut self, req: &ConfigUpdateReq) -> Body {
        let applied = match req {
            ConfigUpdateReq::Config(data) => self.apply_config(data),
            ConfigUpdateReq::Kinds(kinds) => self.apply_kinds(kinds),
            ConfigUpdateReq::Unknown { .. } => Err(ErrorResponse::new(
                error_code::INVALID_MESSAGE,
                "unknown ConfigUpdate type",
            )),
        };
        match applied {
            Ok(()) => Body::ConfigUpdateAns,
            Err(e) => Body::Error(e),
        }
    }

    /// A ConfigUpdate of type `config` is processed only if (§6.5.4.2, §11.1):
    /// 1. the document reads and has a `configuration` for this overlay
    ///    (Error_Invalid_Message; Error_Incompatible_with_Overlay for another overlay);
    /// 2. its sequence is newer than ours, modulo 65535 (§6.3.2.1); an equal or older
    ///    one gets Error_Config_Too_Old (the sender's document is the old one);
    /// 3. a `configuration-signer` of our current configuration signed it, and a
    ///    `kind-signer` of the new one signed each of its Kinds (Error_Forbidden);
    /// 4. this peer can run it: CHORD-RELOAD, 16-byte Node-IDs
    ///    (Error_Incompatible_with_Overlay; the node keeps its configuration and stays).
    ///
    /// Then the node switches to the new configuration: sequence, signers, timers, limits
    /// and the document's Kinds, which replace the Kind table (Kinds learnt from `kind`
    /// updates and absent from the new document are relearnt on demand, §7.4.1.2).
    fn apply_config(&mut self, data: &[u8]) -> Result<(), ErrorResponse> {
        let c =
            config_doc::read_document(data, &self.config.overlay_name).map_err(|e| match e {
                ConfigDocError::NoConfiguration => ErrorResponse::new(
                    error_code::INCOMPATIBLE_WITH_OVERLAY,
                    "no configuration for this overlay",
                ),
                e => invalid(&e),
            })?;
        if !super::inbound::config_newer(c.sequence, self.config.configuration_sequence) {
            return Err(ErrorResponse::new(
                error_code::CONFIG_TOO_OLD,
                "configuration not newer than ours",
            ));
        }
        if !c
            .signer(data)
            .is_some_and(|s| self.config.configuration_signers.contains(&s.node_id))
        {
            return Err(forbidden(
                "configuration not signed by a configuration-signer",
            ));
        }
        if c.topology_plugin != CHORD_RELOAD || c.node_id_length != 16 {
            return Err(ErrorResponse::new(
                error_code::INCOMPATIBLE_WITH_OVERLAY,
                "topology plugin or node-id-length not supported",
            ));
        }
        let mut kinds = KindConfig::empty();
        for k in &c.kinds {
            let signer = k
                .signer(data)
                .map(|s| s.node_id)
                .filter(|s| c.kind_signers.contains(s))
                .ok_or_else(|| forbidden("kind not signed by a kind-signer"))?;
            let mut def = k.def.clone();
            def.signer = Some(signer);
            kinds.insert(def).map_err(|e| invalid(&e))?;
        }
        let document = ConfigDocument::received(data.to_vec(), &c);
        let next = self
            .config
            .reconfigured(&c, kinds)
            .with_document(Arc::new(document));
        self.config = Arc::new(next);
        Ok(())
    }

    /// A ConfigUpdate of type `kind` is processed only if every kind-block reads, is
    /// signed by a `kind-signer` of our configuration, and does not redefine a Kind we
    /// know from another signer (§6.5.4.2: Error_Forbidden). All or nothing: one bad block
    /// refuses the update. Accepted Kinds are added, or replace the same signer's earlier
    /// definition; the Configuration Document is unchanged.
    fn apply_kinds(&mut self, kinds: &[KindDescription]) -> Result<(), ErrorResponse> {
        if kinds.is_empty() {
            return Err(ErrorResponse::new(
                error_code::INVALID_MESSAGE,
                "no kind-block",
            ));
        }
        let mut table = self.config.kinds.clone();
        for KindDescription(bytes) in kinds {
            let block: KindBlock = config_doc::read_kind_block(bytes).map_err(|e| invalid(&e))?;
            let signer = block
                .signer(bytes)
                .map(|s| s.node_id)
                .filter(|s| self.config.kind_signers.contains(s))
                .ok_or_else(|| forbidden("kind not signed by a kind-signer"))?;
            let known = self.config.kinds.get(block.def.id).is_some();
            if known && self.config.kind_signer(block.def.id) != Some(signer) {
                return Err(forbidden("kind known from another signer"));
            }
            let mut def = block.def;
            def.signer = Some(signer);
            table.insert(def).map_err(|e| invalid(&e))?;
        }
        // The document stays the one we hold: the new Kinds are not part of it, and a
        // rewritten one would claim the document signer signed them.
        let document = Arc::clone(self.config.document());
        let mut next = (*self.config).clone().with_document(document);
        next.kinds = table;
        self.config = Arc::new(next);
        Ok(())
    }

    /// §6.3.2.1, §6.5.4: a request from `origin` arrived (on link `li`, straight from
    /// `origin` when `direct`) with an older configuration: push our document to it.
    pub(super) fn push_config(&mut self, now: Time, li: usize, origin: NodeId, direct: bool) {
        let body = ConfigUpdateReq::Config(self.config.document().bytes().to_vec());
        let via = direct.then(|| self.links.addr(li));
        self.push(now, origin, via, body);
    }

    /// §7.4.1.2: `responder` answered a request of ours with Error_Unknown_Kind listing
    /// `unknown`: send it the definitions our Configuration Document has of those Kinds
    /// (the RFC asks for "a Kind which was defined in the configuration document"; one
    /// that is not, or a list none of whose Kinds we define, sends nothing).
    pub(super) fn push_kinds(&mut self, now: Time, responder: NodeId, unknown: &[KindId]) {
        let doc = self.config.document();
        let blocks: Vec<KindDescription> = unknown
            .iter()
            .filter_map(|k| doc.kind_block(*k))
            .map(|b| KindDescription(b.to_vec()))
            .collect();
        if !blocks.is_empty() {
            self.push(now, responder, None, ConfigUpdateReq::Kinds(blocks));
        }
    }

    /// Sends `body` to `to` (over the link to `via` when given, else routed by Node-ID),
    /// unless the push bound says no.
    fn push(&mut self, now: Time, to: NodeId, via: Option<Addr>, body: ConfigUpdateReq) {
        if to == self.id || to == NodeId::WILDCARD || !self.may_push(now, to) {
            return;
        }
        let dest = vec![Destination::Node(to)];
        let body = Body::ConfigUpdateReq(body);
        // A failed push is not retried: the next old request from `to` starts another.
        let _ = self.start_request(now, dest, body, Purpose::ConfigUpdate, via);
    }

    /// The push bound: records a push to `to` at `now` and says yes, unless one went to
    /// `to` within [`PUSH_INTERVAL`] or [`PUSH_TARGETS`] others did.
    fn may_push(&mut self, now: Time, to: NodeId) -> bool {
        self.rare_mut()
            .config_pushes
            .retain(|(_, at)| now < *at + PUSH_INTERVAL);
        if self.rare().config_pushes.len() >= PUSH_TARGETS
            || self.rare().config_pushes.iter().any(|(n, _)| *n == to)
        {
            return false;
        }
        self.rare_mut().config_pushes.push((to, now));
        true
    }
}

/// `old` switched to the configuration `c` read from a document, with Kind table `kinds`.
/// What the document does not say keeps its RFC default (§11.1) for the elements it may
/// omit, and the simulator's own parameters (table sizes, link timers) are kept.
fn invalid(e: &dyn std::fmt::Display) -> ErrorResponse {
    ErrorResponse::new(error_code::INVALID_MESSAGE, &e.to_string())
}

fn forbidden(why: &str) -> ErrorResponse {
    ErrorResponse::new(error_code::FORBIDDEN, why)
}
