//! Reassembly of fragmented messages at their destination (RFC 6940 §6.7).
//!
//! A fragment carries a full forwarding header; `fragment` holds the last-fragment bit and
//! the byte offset of its chunk within the data after the header. Forwarding peers pass
//! fragments on untouched; only the destination reassembles, and verifies the signature
//! on the whole message.
//!
//! - Fragments are collected per (link address, transaction id): fragments of one message
//!   are expected over one link (a message re-routed mid-way is retransmitted end to end).
//!   Out-of-order fragments are kept; a repeated fragment is ignored.
//! - Every fragment but the last carries at least 256 bytes of the message body (§6.7);
//!   one that does not is dropped as `malformed`, which also bounds the fragments per
//!   message.
//! - Buffered bytes are bounded: [`PER_SENDER_MESSAGES`] × `max_message_size` per link
//!   address and [`PER_NODE_MESSAGES`] × `max_message_size` for the node. A fragment that
//!   would exceed either drops the message it belongs to (§6.7: "if the receiver runs out
//!   of buffer space to reassemble a message, it MUST drop the message"; counted
//!   `dropped`).
//! - An incomplete message is dropped [`REASSEMBLY_TIMEOUT`] (15 s, the maximum request
//!   lifetime) after its first fragment arrived; expired buffers are purged whenever a
//!   fragment arrives, so no timer is needed.
//! - A message whose reassembled size (header + data) would exceed `max_message_size` is
//!   refused as soon as a fragment shows it: nothing more of it is buffered, and a request
//!   gets Error_Message_Too_Large (§6.6) once its first fragment (the one with the message
//!   code) is known.
//!
//! The reassembled message takes the forwarding header of its first fragment (offset 0),
//! with `fragment` = 0xC0000000 and `length` = its real size.

use std::collections::BTreeMap;

use super::Node;
use crate::proto::config::Addr;
use crate::proto::wire::HeaderView;
use crate::proto::wire::error_response::{ErrorResponse, error_code};
use crate::proto::wire::header::{LAST_FRAGMENT_FLAG, UNFRAGMENTED};
use crate::proto::wire::message::is_request;
use crate::proto::wire::{Body, Destination};
use crate::time::{Duration, Time};

/// How long an incomplete message is kept after its first fragment (§6.7: the maximum
/// request lifetime).
pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(15);
/// Bytes buffered per link address, in units of `max_message_size`.
pub const PER_SENDER_MESSAGES: usize = 2;
/// Bytes buffered per node, in units of `max_message_size`.
pub const PER_NODE_MESSAGES: usize = 16;
/// Most messages in reassembly at once (refused ones included, until they expire).
pub const MAX_PARTIALS: usize = 256;
/// Fewest body bytes in a fragment that is not the last (§6.7).
pub const MIN_FRAGMENT_BODY: usize = 256;

const OFFSET_MASK: u32 = 0x00ff_ffff;

/// One message being reassembled.
#[derive(Debug)]
struct Partial {
    expires: Time,
    /// The header of the first fragment (offset 0), once it arrived.
    header: Option<Vec<u8>>,
    /// Chunks by offset.
    chunks: BTreeMap<usize, Vec<u8>>,
    /// Data length, once the last fragment arrived.
    total: Option<usize>,
    /// Bytes held in `chunks` and `header`.
    held: usize,
    /// Too large: nothing more is buffered; `answered` once the error went out.
    refused: bool,
    answered: bool,
}

/// The node's reassembly buffers.
#[derive(Debug, Default)]
pub(super) struct Reassembly {
    partials: BTreeMap<(Addr, u64), Partial>,
    /// Bytes held over all partials.
    held: usize,
}

/// What one fragment did.
enum Outcome {
    /// Buffered (or ignored); the message is not complete.
    Pending,
    /// The message is complete.
    Whole(Vec<u8>),
    /// The message is too large: answer it, from its first fragment (these bytes).
    TooLarge(Vec<u8>),
    /// Broke a rule (`malformed`) or ran out of buffer space (`dropped`).
    Malformed,
    Dropped,
}

impl Reassembly {
    /// Bytes buffered from link address `from`.
    fn held_from(&self, from: Addr) -> usize {
        self.partials
            .range((from, 0)..=(from, u64::MAX))
            .map(|(_, p)| p.held)
            .sum()
    }

    /// Heap bytes: the buffered fragments and their tree entries.
    pub(super) fn heap_bytes(&self) -> usize {
        self.held + self.partials.len() * std::mem::size_of::<((Addr, u64), Partial)>() * 3 / 2
    }

    fn remove(&mut self, key: (Addr, u64)) {
        if let Some(p) = self.partials.remove(&key) {
            self.held -= p.held;
        }
    }

    fn purge(&mut self, now: Time) {
        let expired: Vec<(Addr, u64)> = self
            .partials
            .iter()
            .filter(|(_, p)| p.expires <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            self.remove(k);
        }
    }

    /// Adds fragment `view` from `from`.
    fn add(&mut self, now: Time, from: Addr, view: &HeaderView<'_>, max_size: usize) -> Outcome {
        self.purge(now);
        let key = (from, view.transaction_id.0);
        let offset = (view.fragment & OFFSET_MASK) as usize;
        let last = view.fragment & LAST_FRAGMENT_FLAG != 0;
        let chunk = view.payload();
        let end = offset + chunk.len();
        let header = &view.bytes()[..view.header_len()];
        if (!last && chunk.len() < MIN_FRAGMENT_BODY) || end > OFFSET_MASK as usize + 1 {
            self.remove(key);
            return Outcome::Malformed;
        }
        if !self.partials.contains_key(&key) && self.partials.len() >= MAX_PARTIALS {
            return Outcome::Dropped;
        }
        let p = self.partials.entry(key).or_insert_with(|| Partial {
            expires: now + REASSEMBLY_TIMEOUT,
            header: None,
            chunks: BTreeMap::new(),
            total: None,
            held: 0,
            refused: false,
            answered: false,
        });
        let inconsistent = p.total.is_some_and(|t| end > t || (last && end != t))
            || (last && p.chunks.range(end..).next().is_some());
        if inconsistent {
            self.remove(key);
            return Outcome::Malformed;
        }
        if p.refused || header.len() + end > max_size {
            // The first fragment, to answer from: this one, or the one buffered.
            let first = if offset == 0 {
                Some(view.bytes().to_vec())
            } else {
                p.header
                    .as_ref()
                    .zip(p.chunks.get(&0))
                    .map(|(h, c)| [h.as_slice(), c].concat())
            };
            let first = first.filter(|_| !p.answered);
            p.answered |= first.is_some();
            p.refused = true;
            p.chunks.clear();
            p.header = None;
            let freed = std::mem::take(&mut p.held);
            self.held -= freed;
            return match first {
                Some(f) => Outcome::TooLarge(f),
                None => Outcome::Pending,
            };
        }
        if p.chunks.contains_key(&offset) {
            return Outcome::Pending;
        }
        let adds = chunk.len() + if offset == 0 { header.len() } else { 0 };
        if self.held + adds > PER_NODE_MESSAGES * max_size
            || self.held_from(from) + adds > PER_SENDER_MESSAGES * max_size
        {
            self.remove(key);
            return Outcome::Dropped;
        }
        let Some(p) = self.partials.get_mut(&key) else {
            return Outcome::Pending;
        };
        p.chunks.insert(offset, chunk.to_vec());
        if offset == 0 {
            p.header = Some(header.to_vec());
        }
        if last {
            p.total = Some(end);
        }
        p.held += adds;
        self.held += adds;
        match assemble(p) {
            Some(whole) => {
                self.remove(key);
                Outcome::Whole(whole)
            }
            None => Outcome::Pending,
        }
    }
}

/// The whole message, if every byte of it arrived.
fn assemble(p: &Partial) -> Option<Vec<u8>> {
    let (header, total) = (p.header.as_ref()?, p.total?);
    let mut covered = 0;
    for (&at, c) in &p.chunks {
        if at > covered {
            return None;
        }
        covered = covered.max(at + c.len());
    }
    if covered < total {
        return None;
    }
    let mut whole = Vec::with_capacity(header.len() + total);
    whole.extend_from_slice(header);
    whole[12..16].copy_from_slice(&UNFRAGMENTED.to_be_bytes());
    whole[16..20].copy_from_slice(&((header.len() + total) as u32).to_be_bytes());
    for (&at, c) in &p.chunks {
        let have = whole.len() - header.len();
        if at + c.len() > have {
            whole.extend_from_slice(&c[have - at..]);
        }
    }
    Some(whole)
}

impl Node {
    /// Takes `bytes` if it is a fragment addressed to this node (§6.7): buffers it, and
    /// delivers the message once it is whole. False for a whole message (one 4-byte check).
    pub(super) fn takes_fragment(&mut self, now: Time, li: usize, bytes: &[u8]) -> bool {
        if bytes.get(12..16) == Some(&UNFRAGMENTED.to_be_bytes()[..]) {
            return false;
        }
        let Ok(view) = HeaderView::parse(bytes) else {
            self.stats.malformed += 1;
            return true;
        };
        let from = self.links.addr(li);
        let max_size = self.config.max_message_size;
        let parts = self.reassembly.get_or_insert_with(Box::default);
        let outcome = parts.add(now, from, &view, max_size);
        if parts.partials.is_empty() {
            // Most peers never see a fragment: the table lives only while one waits.
            self.reassembly = None;
        }
        match outcome {
            Outcome::Pending => {}
            Outcome::Whole(whole) => match HeaderView::parse(&whole) {
                Ok(v) => {
                    let header_len = v.header_len();
                    self.deliver(now, li, &whole, header_len);
                }
                Err(_) => self.stats.malformed += 1,
            },
            Outcome::TooLarge(first) => self.answer_too_large(now, li, &first),
            Outcome::Malformed => self.stats.malformed += 1,
            Outcome::Dropped => self.stats.dropped += 1,
        }
        true
    }

    /// Error_Message_Too_Large for a request whose first fragment is `first` (§6.6).
    fn answer_too_large(&mut self, now: Time, li: usize, first: &[u8]) {
        self.stats.dropped += 1;
        let Ok(view) = HeaderView::parse(first) else {
            return;
        };
        let code = view
            .payload()
            .get(..2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]));
        let (Some(true), Some(prev), Ok(via)) =
            (code.map(is_request), self.links.peer(li), view.via_list())
        else {
            return;
        };
        let mut dest = vec![Destination::Node(prev)];
        dest.extend(via.into_iter().rev());
        let body = Body::Error(ErrorResponse::new(
            error_code::MESSAGE_TOO_LARGE,
            &format!(
                "reassembled message exceeds max-message-size {}",
                self.config.max_message_size
            ),
        ));
        let options: Vec<_> = view
            .option_refs()
            .filter_map(Result::ok)
            .map(|o| o.to_option())
            .collect();
        let copied = super::options::response_copies(&options);
        if let Some(m) = self.build_response(view.transaction_id, dest, copied, body) {
            self.send_on_link(now, li, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::id::{NodeId, TransactionId};
    use crate::proto::wire::ForwardingHeader;
    use crate::proto::wire::header::FRAGMENT_FLAG;

    const MAX: usize = 5000;

    /// A fragment of transaction `txid`: `len` bytes of `fill` at `offset`.
    fn fragment(txid: u64, offset: usize, len: usize, last: bool, fill: u8) -> Vec<u8> {
        let mut h = ForwardingHeader::new(
            1,
            0,
            TransactionId(txid),
            vec![Destination::Node(NodeId(5))],
        );
        h.fragment = FRAGMENT_FLAG | if last { LAST_FRAGMENT_FLAG } else { 0 } | offset as u32;
        let mut out = Vec::new();
        h.encode_with_body_len(len, &mut out).unwrap();
        out.resize(out.len() + len, fill);
        out
    }

    fn add(r: &mut Reassembly, from: u8, bytes: &[u8]) -> Outcome {
        let addr = Addr::from(([10, 0, 0, from], 6084));
        r.add(Time(1), addr, &HeaderView::parse(bytes).unwrap(), MAX)
    }

    #[test]
    fn pieces_reassemble_in_any_order_into_one_unfragmented_message() {
        let mut r = Reassembly::default();
        assert!(matches!(
            add(&mut r, 1, &fragment(7, 300, 10, true, 2)),
            Outcome::Pending
        ));
        let Outcome::Whole(whole) = add(&mut r, 1, &fragment(7, 0, 300, false, 1)) else {
            panic!("not whole");
        };
        let v = HeaderView::parse(&whole).unwrap();
        assert_eq!(v.fragment, UNFRAGMENTED);
        let mut data = vec![1; 300];
        data.extend([2; 10]);
        assert_eq!(v.payload(), &data[..]);
        assert_eq!((r.held, r.partials.len()), (0, 0));
    }

    #[test]
    fn short_non_last_fragments_and_inconsistent_ends_are_malformed() {
        let mut r = Reassembly::default();
        let short = fragment(7, 0, MIN_FRAGMENT_BODY - 1, false, 0);
        assert!(matches!(add(&mut r, 1, &short), Outcome::Malformed));
        assert!(matches!(
            add(&mut r, 1, &fragment(8, 300, 10, true, 0)),
            Outcome::Pending
        ));
        // A second "last" fragment with another end.
        assert!(matches!(
            add(&mut r, 1, &fragment(8, 300, 20, true, 0)),
            Outcome::Malformed
        ));
        assert_eq!((r.held, r.partials.len()), (0, 0));
    }

    /// The node-wide bound: 16 × max_message_size over all senders.
    #[test]
    fn the_node_wide_bound_drops_the_message_that_would_exceed_it() {
        let mut r = Reassembly::default();
        let chunk = 4000;
        let per_node = PER_NODE_MESSAGES * MAX;
        let mut held = 0;
        let mut i = 0u8;
        loop {
            let f = fragment(u64::from(i), 0, chunk, false, 0);
            if held + f.len() > per_node {
                assert!(matches!(add(&mut r, i, &f), Outcome::Dropped));
                break;
            }
            assert!(matches!(add(&mut r, i, &f), Outcome::Pending));
            held += f.len();
            i += 1;
        }
        assert_eq!(r.held, held);
        assert_eq!(r.partials.len(), usize::from(i));
    }

    #[test]
    fn incomplete_messages_expire_after_the_timeout() {
        let mut r = Reassembly::default();
        let a = Addr::from(([10, 0, 0, 1], 6084));
        let f = fragment(7, 0, 300, false, 0);
        r.add(Time(1), a, &HeaderView::parse(&f).unwrap(), MAX);
        let last = fragment(7, 300, 10, true, 0);
        let just_before = Time(REASSEMBLY_TIMEOUT.as_nanos()); // 1 ns before expiry
        let g = fragment(9, 0, 300, false, 0);
        r.add(just_before, a, &HeaderView::parse(&g).unwrap(), MAX);
        assert_eq!(r.partials.len(), 2);
        let out = r.add(
            Time(1) + REASSEMBLY_TIMEOUT,
            a,
            &HeaderView::parse(&last).unwrap(),
            MAX,
        );
        assert!(matches!(out, Outcome::Pending));
        // Transaction 7 started over with its last fragment alone; 9 is still held.
        assert_eq!(r.partials.len(), 2);
        assert_eq!(r.partials[&(a, 7)].chunks.len(), 1);
        assert_eq!(r.held, g.len() + 10);
    }
}
