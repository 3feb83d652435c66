//! The SIP usage on the peer (RFC 7904): registering an AoR, refreshing it, and finding a
//! callee: Fetch the AoR's registrations (wildcard), follow `uri` indirections (bounded, no
//! loops), then AppAttach along each route's Destination List, checking that the answerer
//! is the list's last entry. The application follows the route's contact_prefs (RFC 7904
//! §5.1: 5061 for a callee that names SIPS alone, else 5060). GRUUs skip the Fetch and use
//! 5060.
//!
//! What this node registers: a route to its own Node-ID with empty contact_prefs, as it
//! answers AppAttaches for SIP and SIPS alike (§5.1 asks only SIPS-only callees to say
//! so), so its callers use 5060.

use super::Node;
use super::storage::sign_value_as;
use crate::proto::event::{CallError, CallInfo, CommandError, Event, RequestError, RequestId};
use crate::proto::id::{NodeId, ResourceId};
use crate::proto::identity::{SignerInfo, SimCrypto};
use crate::proto::transaction::Purpose;
use crate::proto::wire::Wire;
use crate::proto::wire::attach::{AppAttachReqAns, application};
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::sip::{SipRegistration, decode_gruu, preferred_application};
use crate::proto::wire::storage::{
    DataValue, FetchReq, KindId, SpecifierIndices, StoreKindData, StoreReq, StoredDataSpecifier,
    StoredDataValue,
};
use crate::proto::wire::{Body, Destination, Message};
use crate::time::{Duration, Time};

/// `uri` indirections followed at most (RFC 7904 §4: "bound recursion").
pub const MAX_INDIRECTIONS: usize = 4;

/// The lifetime of a tombstone for an AoR this node keeps no value of (§7.4.1.3): it
/// may have stored one before, under a lifetime this node no longer knows.
const TOMBSTONE_LIFETIME_S: u32 = 600;

/// The value this node last stored for an AoR: a route it keeps alive, or an alias.
#[derive(Clone, Debug)]
pub(super) struct Registration {
    /// The certificate of the AoR's user on this node; H(AoR) is its user.
    cert: SimCrypto,
    /// The lifetime of the value last stored.
    lifetime_s: u32,
    /// When the route is stored again; `None` for an alias, which is not refreshed.
    refresh_at: Option<Time>,
}

/// Where a call lookup stands.
#[derive(Clone, Debug)]
pub(super) struct CallLookup {
    id: RequestId,
    started: Time,
    fetched_at: Option<Time>,
    /// AoRs (their Resource-IDs) already fetched, for loop detection.
    visited: Vec<ResourceId>,
    fetches_pending: usize,
    /// The Destination Lists found, each with the AppAttach application its registration's
    /// contact_prefs call for.
    routes: Vec<(Vec<Destination>, u16)>,
    /// AppAttach to the routes found (`call`), or only report them (`lookup_aor`).
    connect: bool,
}

impl CallLookup {
    /// True if `route` was found already (by another registration or indirection).
    fn has_route(&self, route: &[Destination]) -> bool {
        self.routes.iter().any(|(r, _)| r == route)
    }
}

impl Node {
    /// Registers `aor` (no scheme, e.g. `alice@dht.example.com`) with a route to this node,
    /// stored at H(aor) under this node's Node-ID (USER-NODE-MATCH), refreshed at 80 % of
    /// `lifetime_s` until `unregister`. Every store, the first and each refresh, ends in
    /// `Event::Registered`.
    ///
    /// A node may host any number of users. The simulated enrollment server issues a
    /// certificate per user and node (§13.3): user name `aor`, this Node-ID. The StoreReq and
    /// the stored value are signed with it, as USER-NODE-MATCH requires of both (§7.3).
    pub fn register(
        &mut self,
        now: Time,
        aor: &str,
        lifetime_s: u32,
    ) -> Result<RequestId, CommandError> {
        let cert = self.user_cert(aor);
        let id = self.store_registration(now, &cert, lifetime_s)?;
        self.remember_value(cert, lifetime_s, Some(now + refresh_after(lifetime_s)));
        Ok(id)
    }

    /// Records the value just stored for `cert`'s AoR: it replaces any before it (one
    /// dictionary entry per AoR and node).
    fn remember_value(&mut self, cert: SimCrypto, lifetime_s: u32, refresh_at: Option<Time>) {
        self.rare_mut().registrations.retain(|r| r.cert != cert);
        self.rare_mut().registrations.push(Registration {
            cert,
            lifetime_s,
            refresh_at,
        });
    }

    /// Registers `aor` as an alias: a `uri` registration pointing at `target` (another AoR
    /// or a GRUU), stored under this node's Node-ID; callers follow it (RFC 7904 §3.2). Not
    /// refreshed, and it replaces a route registered for `aor` (the same dictionary entry),
    /// which is no longer refreshed either; the answer comes as `Event::RequestDone`.
    pub fn register_alias(
        &mut self,
        now: Time,
        aor: &str,
        target: &str,
        lifetime_s: u32,
    ) -> Result<RequestId, CommandError> {
        let bytes = SipRegistration::Uri(target.as_bytes().to_vec())
            .to_bytes()
            .map_err(|_| CommandError::Encode)?;
        let value = own_entry(self.id, true, bytes);
        let cert = self.user_cert(aor);
        let id = self.store_value(now, &cert, lifetime_s, value, Purpose::Command)?;
        self.remember_value(cert, lifetime_s, None);
        Ok(id)
    }

    /// Stops refreshing `aor` and deletes its value (exists = false, §7.2). The answer
    /// comes as `Event::RequestDone`.
    ///
    /// §7.4.1.3: the owner "SHOULD use a lifetime for the nonexistent value that is at
    /// least as long as the remainder of the lifetime of the value it is replacing", or
    /// the value could be stored again after the tombstone expired. The tombstone gets
    /// the whole lifetime of the value this node last stored for `aor` (route or alias):
    /// every holder counts a lifetime from its own receipt, and received the value before
    /// the tombstone, so what is left of the value is never longer. An AoR this node has
    /// no value of gets 600 s.
    pub fn unregister(&mut self, now: Time, aor: &str) -> Result<RequestId, CommandError> {
        let cert = self.user_cert(aor);
        let lifetime_s = self
            .rare()
            .registrations
            .iter()
            .find(|r| r.cert == cert)
            .map_or(TOMBSTONE_LIFETIME_S, |r| r.lifetime_s);
        self.rare_mut().registrations.retain(|r| r.cert != cert);
        let value = own_entry(self.id, false, Vec::new());
        self.store_value(now, &cert, lifetime_s, value, Purpose::Command)
    }

    /// AoRs this node keeps registered (routes it refreshes; aliases are not counted).
    pub fn registered_count(&self) -> usize {
        self.rare()
            .registrations
            .iter()
            .filter(|r| r.refresh_at.is_some())
            .count()
    }

    /// The certificate of user `aor` on this node.
    fn user_cert(&self, aor: &str) -> SimCrypto {
        SimCrypto {
            signer: SignerInfo::new(self.id, aor),
        }
    }

    fn store_registration(
        &mut self,
        now: Time,
        cert: &SimCrypto,
        lifetime_s: u32,
    ) -> Result<RequestId, CommandError> {
        let reg = SipRegistration::Route {
            contact_prefs: Vec::new(),
            destination_list: vec![Destination::Node(self.id)],
        };
        let bytes = reg.to_bytes().map_err(|_| CommandError::Encode)?;
        let value = own_entry(self.id, true, bytes);
        let purpose = Purpose::Register {
            aor: cert.signer.user,
        };
        self.store_value(now, cert, lifetime_s, value, purpose)
    }

    /// Stores `value` at H(AoR) of `cert`, signed (value and request) by `cert`.
    fn store_value(
        &mut self,
        now: Time,
        cert: &SimCrypto,
        lifetime_s: u32,
        value: StoredDataValue,
        purpose: Purpose,
    ) -> Result<RequestId, CommandError> {
        if !self.can_request() {
            return Err(CommandError::InvalidState(self.state));
        }
        // storage_time only has to grow from store to store of this node (§7.4.1.1); the
        // simulated clock in ms does, and the +1 separates two stores in one instant.
        self.last_storage_time = self.last_storage_time.max(now.as_millis()) + 1;
        let resource = cert.signer.user;
        let signed = sign_value_as(
            cert,
            &resource,
            KindId::SIP_REGISTRATION,
            self.last_storage_time,
            lifetime_s,
            value,
        );
        let body = Body::StoreReq(StoreReq {
            resource,
            replica_number: 0,
            kind_data: vec![StoreKindData {
                kind: KindId::SIP_REGISTRATION,
                generation_counter: 0,
                values: vec![signed],
            }],
        });
        let txid = self.new_txid();
        let to = vec![Destination::Resource(resource)];
        self.start_request_as(now, cert, txid, to, body, purpose, None)
            .map_err(|_| CommandError::Encode)
    }

    /// Re-stores registrations due for refresh.
    pub(super) fn refresh_registrations(&mut self, now: Time) {
        let due: Vec<(SimCrypto, u32)> = self
            .rare()
            .registrations
            .iter()
            .filter(|r| r.refresh_at.is_some_and(|t| t <= now))
            .map(|r| (r.cert, r.lifetime_s))
            .collect();
        for (cert, lifetime_s) in due {
            let _ = self.store_registration(now, &cert, lifetime_s);
            if let Some(r) = self
                .rare_mut()
                .registrations
                .iter_mut()
                .find(|r| r.cert == cert)
            {
                r.refresh_at = Some(now + refresh_after(lifetime_s));
            }
        }
    }

    /// Next registration refresh.
    pub(super) fn next_refresh(&self) -> Option<Time> {
        self.rare()
            .registrations
            .iter()
            .filter_map(|r| r.refresh_at)
            .min()
    }

    /// Finds where `aor` can be reached and connects to it (RFC 7904 §4–5). A GRUU
    /// (`aor;gr=…`) goes straight to its Destination List. The result comes as
    /// `Event::CallDone`.
    pub fn call(&mut self, now: Time, aor: &str) -> Result<RequestId, CommandError> {
        self.find_aor(now, aor, true)
    }

    /// Finds where `aor` can be reached without connecting (RFC 7904 §4): the registered
    /// Destination Lists, after following `uri` indirections. A GRUU gives its own
    /// Destination List at once. The result comes as `Event::AorLookedUp`.
    pub fn lookup_aor(&mut self, now: Time, aor: &str) -> Result<RequestId, CommandError> {
        self.find_aor(now, aor, false)
    }

    fn find_aor(&mut self, now: Time, aor: &str, connect: bool) -> Result<RequestId, CommandError> {
        if !self.can_request() {
            return Err(CommandError::InvalidState(self.state));
        }
        let id = self.new_txid();
        let mut lookup = CallLookup {
            id,
            started: now,
            fetched_at: None,
            visited: Vec::new(),
            fetches_pending: 0,
            routes: Vec::new(),
            connect,
        };
        match decode_gruu(aor) {
            Some(Ok((_, route))) => {
                lookup.fetched_at = Some(now);
                lookup.routes.push((route, application::SIP));
                self.rare_mut().calls.push(lookup);
                self.start_attaches(now, id);
            }
            Some(Err(_)) => return Err(CommandError::Encode),
            None => {
                self.rare_mut().calls.push(lookup);
                self.fetch_aor(now, id, ResourceId::hash(aor.as_bytes()));
            }
        }
        Ok(id)
    }

    fn fetch_aor(&mut self, now: Time, call: RequestId, resource: ResourceId) {
        let Some(c) = self.rare_mut().calls.iter_mut().find(|c| c.id == call) else {
            return;
        };
        c.visited.push(resource);
        c.fetches_pending += 1;
        let spec = StoredDataSpecifier {
            kind: KindId::SIP_REGISTRATION,
            generation: 0,
            indices: SpecifierIndices::Dictionary(Vec::new()),
        };
        let body = Body::FetchReq(FetchReq {
            resource,
            specifiers: vec![spec],
        });
        if self
            .start_request(
                now,
                vec![Destination::Resource(resource)],
                body,
                Purpose::CallFetch { call },
                None,
            )
            .is_err()
        {
            self.call_step_failed(now, call, CallError::Fetch(RequestError::NoRoute));
        }
    }

    /// A FetchAns for a call lookup: collect routes, follow uris.
    pub(super) fn call_fetched(&mut self, now: Time, call: RequestId, msg: &Message) {
        let Some(c) = self.rare_mut().calls.iter_mut().find(|c| c.id == call) else {
            return;
        };
        c.fetches_pending = c.fetches_pending.saturating_sub(1);
        let mut uris = Vec::new();
        if let Body::FetchAns(a) = &msg.contents.body {
            for v in a.kind_responses.iter().flat_map(|k| &k.values) {
                let data = v.value.data();
                if !data.exists {
                    continue;
                }
                match SipRegistration::from_bytes(&data.value) {
                    Ok(SipRegistration::Route {
                        destination_list,
                        contact_prefs,
                    }) if !destination_list.is_empty() && !c.has_route(&destination_list) => {
                        c.routes
                            .push((destination_list, preferred_application(&contact_prefs)));
                    }
                    Ok(SipRegistration::Uri(uri)) => uris.push(uri),
                    _ => {}
                }
            }
        }
        let mut looped = false;
        let mut next = Vec::new();
        for uri in uris {
            let aor = String::from_utf8_lossy(&uri);
            let aor = aor.strip_prefix("sip:").unwrap_or(&aor);
            if let Some(Ok((_, route))) = decode_gruu(aor) {
                if !c.has_route(&route) {
                    c.routes.push((route, application::SIP));
                }
                continue;
            }
            let r = ResourceId::hash(aor.as_bytes());
            if c.visited.contains(&r) {
                looped = true;
            } else if c.visited.len() + next.len() <= MAX_INDIRECTIONS {
                next.push(r);
            } else {
                looped = true;
            }
        }
        for r in next {
            self.fetch_aor(now, call, r);
        }
        let Some(c) = self.rare().calls.iter().find(|c| c.id == call) else {
            return;
        };
        if c.fetches_pending > 0 {
            return;
        }
        if c.routes.is_empty() {
            let why = if looped {
                CallError::IndirectionLoop
            } else {
                CallError::NotRegistered
            };
            self.finish_call(call, Err(why));
            return;
        }
        if let Some(c) = self.rare_mut().calls.iter_mut().find(|c| c.id == call) {
            c.fetched_at = Some(now);
        }
        self.start_attaches(now, call);
    }

    fn start_attaches(&mut self, now: Time, call: RequestId) {
        let Some(c) = self.rare().calls.iter().find(|c| c.id == call) else {
            return;
        };
        if !c.connect {
            let routes = c.routes.iter().map(|(r, _)| r.clone()).collect();
            self.finish_lookup(call, Ok(routes));
            return;
        }
        let routes = c.routes.clone();
        for (route, application) in routes {
            let mut body = self.own_attach("passive", false);
            body.send_update = false;
            let app = AppAttachReqAns {
                ufrag: body.ufrag,
                password: body.password,
                application,
                role: body.role,
                candidates: body.candidates,
            };
            let expected = route.last().and_then(Destination::as_node);
            if self
                .start_request(
                    now,
                    route,
                    Body::AppAttachReq(app),
                    Purpose::CallAttach { call, expected },
                    None,
                )
                .is_err()
            {
                self.call_step_failed(now, call, CallError::Attach(RequestError::NoRoute));
            }
        }
    }

    /// An AppAttachAns for a call: the callee must be the route's last entry (RFC 7904 §5).
    pub(super) fn call_attached(
        &mut self,
        now: Time,
        call: RequestId,
        expected: Option<NodeId>,
        signer: NodeId,
    ) {
        if expected.is_some_and(|e| e != signer) {
            self.call_step_failed(now, call, CallError::WrongCallee);
            return;
        }
        let Some(c) = self.rare().calls.iter().find(|c| c.id == call) else {
            return;
        };
        let fetched = c.fetched_at.unwrap_or(c.started);
        let info = CallInfo {
            callee: signer,
            fetch: fetched - c.started,
            attach: now - fetched,
            fetches: c.visited.len() as u8,
        };
        self.finish_call(call, Ok(info));
    }

    /// One step of a call failed; the call fails once nothing else is pending for it.
    pub(super) fn call_step_failed(&mut self, _now: Time, call: RequestId, why: CallError) {
        let pending = self.txns.count(|p| matches!(p, Purpose::CallFetch { call: c } | Purpose::CallAttach { call: c, .. } if *c == call));
        if pending == 0 {
            self.finish_call(call, Err(why));
        }
    }

    fn finish_call(&mut self, call: RequestId, outcome: Result<CallInfo, CallError>) {
        let Some(i) = self.rare().calls.iter().position(|c| c.id == call) else {
            return;
        };
        let lookup = self.rare_mut().calls.swap_remove(i);
        if lookup.connect {
            self.events.push_back(Event::CallDone { call, outcome });
        } else if let Err(why) = outcome {
            self.events.push_back(Event::AorLookedUp {
                lookup: call,
                outcome: Err(why),
            });
        }
    }

    fn finish_lookup(
        &mut self,
        call: RequestId,
        outcome: Result<Vec<Vec<Destination>>, CallError>,
    ) {
        let Some(i) = self.rare().calls.iter().position(|c| c.id == call) else {
            return;
        };
        self.rare_mut().calls.swap_remove(i);
        self.events.push_back(Event::AorLookedUp {
            lookup: call,
            outcome,
        });
    }

    /// Answers an AppAttach (§6.5.2): SIP and SIPS are offered; anything else is
    /// Error_Not_Found.
    pub(super) fn answer_app_attach(&self, req: &AppAttachReqAns) -> Body {
        if req.application != application::SIP && req.application != application::SIPS {
            return Body::Error(ErrorResponse::new(
                error_code::NOT_FOUND,
                "application not offered",
            ));
        }
        let a = self.own_attach("active", false);
        Body::AppAttachAns(AppAttachReqAns {
            ufrag: a.ufrag,
            password: a.password,
            application: req.application,
            role: a.role,
            candidates: a.candidates,
        })
    }
}

fn refresh_after(lifetime_s: u32) -> Duration {
    Duration::from_millis(u64::from(lifetime_s) * 800)
}

/// A SIP-REGISTRATION dictionary entry under `node`'s own key (RFC 7904 §3).
fn own_entry(node: NodeId, exists: bool, value: Vec<u8>) -> StoredDataValue {
    StoredDataValue::Dictionary {
        key: node.octets().to_vec(),
        value: DataValue { exists, value },
    }
}
