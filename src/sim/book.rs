//! The reorder window shared by the lookup and call ledgers: records in issue order, of
//! which only the oldest not yet handed on are held, and an index of the unfinished ones
//! by (origin Node-ID, transaction id). A record leaves from the front once it and every
//! earlier one are settled, so the window spans about issue rate × the longest request
//! lifetime (requests end by timeout or when their origin goes), whatever the run length.
//! Each record leaving is counted in a [`Tally`], the ledger's figures.

use std::collections::{BTreeMap, VecDeque};

use crate::proto::id::{NodeId, TransactionId};

/// Figures accumulated record by record.
pub(crate) trait Tally<R>: Clone + Default {
    /// The figures over the records added.
    type Figures;

    /// Counts one more record.
    fn add(&mut self, r: &R);

    /// The figures so far.
    fn figures(&self) -> Self::Figures;
}

/// Records in issue order from `base` on, each with whether it is settled, and the tally
/// of those before `base`.
#[derive(Clone, Debug)]
pub(crate) struct Book<R, T> {
    rows: VecDeque<(R, bool)>,
    base: usize,
    pending: BTreeMap<(NodeId, TransactionId), usize>,
    tally: T,
}

impl<R, T: Default> Default for Book<R, T> {
    fn default() -> Self {
        Book {
            rows: VecDeque::new(),
            base: 0,
            pending: BTreeMap::new(),
            tally: T::default(),
        }
    }
}

impl<R, T: Tally<R>> Book<R, T> {
    /// A new unsettled record for `origin`'s transaction `tx`.
    pub(crate) fn issue(&mut self, origin: NodeId, tx: TransactionId, r: R) {
        self.pending
            .insert((origin, tx), self.base + self.rows.len());
        self.rows.push_back((r, false));
    }

    /// The unsettled record of `origin`'s transaction `tx`.
    pub(crate) fn pending_mut(&mut self, origin: NodeId, tx: TransactionId) -> Option<&mut R> {
        let i = *self.pending.get(&(origin, tx))?;
        self.rows.get_mut(i - self.base).map(|(r, _)| r)
    }

    /// Settles the record of `origin`'s transaction `tx`, to be filled in.
    pub(crate) fn settle(&mut self, origin: NodeId, tx: TransactionId) -> Option<&mut R> {
        let i = self.pending.remove(&(origin, tx))?;
        let (r, settled) = self.rows.get_mut(i - self.base)?;
        *settled = true;
        Some(r)
    }

    /// Settles every record `origin` still has pending (its requests end when it goes),
    /// in transaction order, through `f`.
    pub(crate) fn settle_all_of(&mut self, origin: NodeId, mut f: impl FnMut(&mut R)) {
        let keys: Vec<_> = self
            .pending
            .range((origin, TransactionId(0))..=(origin, TransactionId(u64::MAX)))
            .map(|(k, _)| *k)
            .collect();
        for (o, tx) in keys {
            if let Some(r) = self.settle(o, tx) {
                f(r);
            }
        }
    }

    /// Records not yet settled.
    pub(crate) fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Counts and hands to `out`, oldest first, every settled record not preceded by an
    /// unsettled one.
    pub(crate) fn flush(&mut self, mut out: impl FnMut(R)) {
        while self.rows.front().is_some_and(|(_, settled)| *settled) {
            self.pop(&mut out);
        }
    }

    /// Counts and hands to `out` every record held, settled or not (the end of the run),
    /// and returns the figures over all records.
    pub(crate) fn finish(mut self, mut out: impl FnMut(R)) -> T::Figures {
        while !self.rows.is_empty() {
            self.pop(&mut out);
        }
        self.tally.figures()
    }

    /// The figures over every record so far, those held included.
    pub(crate) fn figures(&self) -> T::Figures {
        let mut t = self.tally.clone();
        self.rows.iter().for_each(|(r, _)| t.add(r));
        t.figures()
    }

    fn pop(&mut self, out: &mut impl FnMut(R)) {
        if let Some((r, _)) = self.rows.pop_front() {
            self.base += 1;
            self.tally.add(&r);
            out(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts records and sums them.
    #[derive(Clone, Debug, Default)]
    struct Sum(u32, u32);

    impl Tally<u32> for Sum {
        type Figures = (u32, u32);
        fn add(&mut self, r: &u32) {
            self.0 += 1;
            self.1 += r;
        }
        fn figures(&self) -> (u32, u32) {
            (self.0, self.1)
        }
    }

    #[test]
    fn settled_records_leave_in_issue_order() {
        let mut b = Book::<u32, Sum>::default();
        let (a, c) = (NodeId(1), NodeId(2));
        for t in 0..3 {
            b.issue(a, TransactionId(t), t as u32);
        }
        b.issue(c, TransactionId(0), 10);
        let mut out = Vec::new();
        *b.settle(a, TransactionId(1)).unwrap() += 100;
        b.flush(|r| out.push(r));
        assert!(out.is_empty(), "the first is still pending");
        b.settle(a, TransactionId(0));
        b.flush(|r| out.push(r));
        assert_eq!(out, [0, 101]);
        let mut gone = Vec::new();
        b.settle_all_of(a, |r| gone.push(*r));
        assert_eq!(gone, [2]);
        assert_eq!(b.in_flight(), 1);
        assert!(b.pending_mut(c, TransactionId(0)).is_some());
        assert_eq!(b.figures(), (4, 113));
        b.flush(|r| out.push(r));
        assert_eq!(out, [0, 101, 2]);
        assert_eq!(b.finish(|r| out.push(r)), (4, 113));
        assert_eq!(out, [0, 101, 2, 10]);
    }
}
