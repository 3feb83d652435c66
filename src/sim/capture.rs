//! Exporting a run's traffic. The engine hands every frame a node sends to an optional
//! [`FrameSink`] as the frame leaves the sender, before the loss model decides its fate, so
//! a capture shows what each sender's interface saw: lost frames included, frames a dead
//! slot never read included.
//!
//! [`PcapCapture`] is the sink behind `reload-sim run --pcap FILE`: classic pcap with
//! nanosecond timestamps, Ethernet/IPv4/UDP from the sender's address to the destination
//! address (both `10.a.b.c:6084`, see [`NodeIndex::addr`]), the packet timestamp being the
//! simulated send time (nanoseconds since the start of the run, which readers show as
//! 1970-01-01 00:00:00 UTC). A [`NodeSet`] limits it to frames sent or addressed to some
//! slots. The output is a function of the run alone: one scenario and seed give the same
//! bytes.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use crate::pcap::PcapWriter;
use crate::sim::config::SimConfig;
use crate::sim::engine::NodeIndex;
use crate::time::Time;

/// Receives every frame a node sends.
pub trait FrameSink {
    /// Slot `from` sent `frame` (one FramedMessage frame, the whole UDP payload) to `to` at
    /// simulated time `at` (nanoseconds since the start of the run).
    fn sent(&mut self, at: Time, from: NodeIndex, to: SocketAddr, frame: &[u8]);

    /// The run is over: flush and say what was written.
    fn finish(self: Box<Self>) -> CaptureReport;
}

/// What a capture wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureReport {
    /// The destination, for messages (the file name).
    pub target: String,
    /// Packets written, one per frame.
    pub frames: u64,
    /// Size of the capture, global header and packet records included, bytes.
    pub bytes: u64,
    /// Frames the slot filter passed that pcap cannot hold and were left out: a non-IPv4
    /// destination, or a frame longer than an IPv4 packet (65,507 bytes of UDP payload).
    pub skipped: u64,
    /// The first write error, naming the target; nothing was written after it.
    pub error: Option<String>,
}

impl CaptureReport {
    /// Keeps the first error.
    fn fail(&mut self, e: &io::Error) {
        if self.error.is_none() {
            self.error = Some(format!("capture {}: write failed: {e}", self.target));
        }
    }
}

impl fmt::Display for CaptureReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "capture {}: {} frames, {} bytes",
            self.target, self.frames, self.bytes
        )?;
        if self.skipped > 0 {
            write!(f, ", {} frames pcap cannot hold left out", self.skipped)?;
        }
        if let Some(e) = &self.error {
            write!(f, "; {e}")?;
        }
        Ok(())
    }
}

/// Bytes of the pcap global header.
const GLOBAL_HEADER_LEN: u64 = 24;
/// Bytes a packet adds to its UDP payload: record header, Ethernet, IPv4 and UDP headers.
const PACKET_OVERHEAD: u64 = 16 + 14 + 20 + 8;
/// Largest UDP payload an IPv4 packet holds.
const MAX_UDP_PAYLOAD: usize = 0xffff - 20 - 8;

/// Writes the frames a [`NodeSet`] selects (all when `None`) as classic pcap.
pub struct PcapCapture<W: Write> {
    writer: PcapWriter<W>,
    nodes: Option<NodeSet>,
    report: CaptureReport,
}

impl<W: Write> PcapCapture<W> {
    /// Writes the pcap global header to `out`. `target` names `out` in the report and in
    /// error messages.
    pub fn new(out: W, target: impl Into<String>, nodes: Option<NodeSet>) -> io::Result<Self> {
        Ok(PcapCapture {
            writer: PcapWriter::new(out)?,
            nodes,
            report: CaptureReport {
                target: target.into(),
                frames: 0,
                bytes: GLOBAL_HEADER_LEN,
                skipped: 0,
                error: None,
            },
        })
    }

    /// Whether the filter keeps a frame from slot `from` to `to`.
    pub fn wants(&self, from: NodeIndex, to: SocketAddr) -> bool {
        match &self.nodes {
            None => true,
            Some(set) => {
                set.contains(from) || NodeIndex::from_addr(to).is_some_and(|t| set.contains(t))
            }
        }
    }

    /// Writes one frame if the filter keeps it. After a write error nothing more is
    /// written; the error is kept for the report.
    pub fn record(&mut self, at: Time, from: NodeIndex, to: SocketAddr, frame: &[u8]) {
        if self.report.error.is_some() || !self.wants(from, to) {
            return;
        }
        let (SocketAddr::V4(src), SocketAddr::V4(dst)) = (from.addr(), to) else {
            self.report.skipped += 1;
            return;
        };
        if frame.len() > MAX_UDP_PAYLOAD {
            self.report.skipped += 1;
            return;
        }
        match self.writer.write_udp(at, src, dst, frame) {
            Ok(()) => {
                self.report.frames += 1;
                self.report.bytes += PACKET_OVERHEAD + frame.len() as u64;
            }
            Err(e) => self.report.fail(&e),
        }
    }

    /// Flushes; returns the report and the writer (`None` if flushing failed).
    pub fn close(mut self) -> (CaptureReport, Option<W>) {
        match self.writer.finish() {
            Ok(w) => (self.report, Some(w)),
            Err(e) => {
                self.report.fail(&e);
                (self.report, None)
            }
        }
    }
}

impl<W: Write> FrameSink for PcapCapture<W> {
    fn sent(&mut self, at: Time, from: NodeIndex, to: SocketAddr, frame: &[u8]) {
        self.record(at, from, to, frame);
    }

    fn finish(self: Box<Self>) -> CaptureReport {
        self.close().0
    }
}

/// `--pcap FILE [--pcap-nodes SPEC]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcapOptions {
    /// The capture file; created or truncated.
    pub path: PathBuf,
    /// Only frames sent by or addressed to these slots; `None`: every frame.
    pub nodes: Option<NodeSet>,
}

impl PcapOptions {
    /// Checks the slot list against the run's slots (`cfg.peers + cfg.clients`) and creates
    /// the file, so both fail before the run starts.
    pub fn open(&self, cfg: &SimConfig) -> Result<PcapCapture<BufWriter<File>>, String> {
        let slots = cfg
            .peers
            .saturating_add(cfg.clients)
            .min(NodeIndex::MAX_SLOTS);
        if let Some(max) = self.nodes.as_ref().and_then(NodeSet::max) {
            if max >= slots {
                return Err(format!(
                    "--pcap-nodes: slot {max} does not exist (the run has {slots} slots, 0-{})",
                    slots.saturating_sub(1)
                ));
            }
        }
        let name = self.path.display().to_string();
        let file = File::create(&self.path).map_err(|e| format!("--pcap {name}: {e}"))?;
        PcapCapture::new(BufWriter::new(file), name.clone(), self.nodes.clone())
            .map_err(|e| format!("--pcap {name}: {e}"))
    }
}

/// A set of node slots, written as a comma list of slot indices and inclusive ranges:
/// `0-9,42`. Slot `i` is the node with address `NodeIndex(i).addr()`, the `node` index of
/// the results files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSet {
    /// Sorted, disjoint, non-adjacent inclusive ranges.
    ranges: Vec<(u32, u32)>,
}

/// Why a slot list does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad slot list {spec:?}: {why} (expected slot indices and ranges like 0-9,42)")]
pub struct NodeSpecError {
    spec: String,
    why: String,
}

impl NodeSet {
    /// Parses `0-9,42`: items separated by commas, each an index or `a-b` with `a <= b`;
    /// spaces around items are ignored. Indices go up to `NodeIndex::MAX_SLOTS - 1`.
    pub fn parse(spec: &str) -> Result<NodeSet, NodeSpecError> {
        let err = |why: String| NodeSpecError {
            spec: spec.to_owned(),
            why,
        };
        let index = |s: &str| -> Result<u32, NodeSpecError> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(format!("{s:?} is not a slot index")));
            }
            s.parse::<u32>()
                .ok()
                .filter(|&i| i < NodeIndex::MAX_SLOTS)
                .ok_or_else(|| {
                    err(format!(
                        "{s} is beyond the last possible slot {}",
                        NodeIndex::MAX_SLOTS - 1
                    ))
                })
        };
        if spec.trim().is_empty() {
            return Err(err("no slots given".into()));
        }
        let mut ranges = Vec::new();
        for item in spec.split(',') {
            let (a, b) = match item.split_once('-') {
                Some((a, b)) => (index(a)?, index(b)?),
                None => {
                    let i = index(item)?;
                    (i, i)
                }
            };
            if a > b {
                return Err(err(format!("range {}-{} runs backwards", a, b)));
            }
            ranges.push((a, b));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Ok(NodeSet { ranges: merged })
    }

    /// Whether slot `i` is in the set.
    pub fn contains(&self, i: NodeIndex) -> bool {
        let k = self.ranges.partition_point(|&(_, b)| b < i.0);
        self.ranges.get(k).is_some_and(|&(a, _)| a <= i.0)
    }

    /// The highest slot in the set.
    pub fn max(&self) -> Option<u32> {
        self.ranges.last().map(|&(_, b)| b)
    }
}

impl FromStr for NodeSet {
    type Err = NodeSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeSet::parse(s)
    }
}

impl fmt::Display for NodeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, &(a, b)) in self.ranges.iter().enumerate() {
            let sep = if k == 0 { "" } else { "," };
            if a == b {
                write!(f, "{sep}{a}")?;
            } else {
                write!(f, "{sep}{a}-{b}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::read_packets;

    #[test]
    fn slot_lists_parse_merge_and_reject_junk() {
        let s = NodeSet::parse("42, 0-9,5-10,11,100-100").unwrap();
        assert_eq!(s.to_string(), "0-11,42,100");
        for i in [0, 9, 11, 42, 100] {
            assert!(s.contains(NodeIndex(i)), "{i}");
        }
        for i in [12, 41, 43, 99, 101, u32::MAX] {
            assert!(!s.contains(NodeIndex(i)), "{i}");
        }
        assert_eq!(s.max(), Some(100));
        for bad in [
            "",
            " ",
            "0,,3",
            "a",
            "0-",
            "-3",
            "9-0",
            "1-2-3",
            "+1",
            "0x10",
            "16777215",
            "99999999999",
        ] {
            let e = NodeSet::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("bad slot list"), "{bad:?}: {e}");
        }
        assert!(NodeSet::parse("16777214").is_ok());
    }

    #[test]
    fn filtered_frames_are_written_and_counted() {
        let nodes = NodeSet::parse("1").ok();
        let mut c = PcapCapture::new(Vec::new(), "mem", nodes).unwrap();
        c.record(Time(5), NodeIndex(0), NodeIndex(1).addr(), b"to one");
        c.record(Time(6), NodeIndex(1), NodeIndex(2).addr(), b"from one");
        c.record(Time(7), NodeIndex(2), NodeIndex(3).addr(), b"neither");
        c.record(Time(8), NodeIndex(1), "[::1]:6084".parse().unwrap(), b"v6");
        c.record(Time(9), NodeIndex(1), NodeIndex(0).addr(), &vec![0; 70_000]);
        let (report, out) = c.close();
        let file = out.unwrap();
        assert_eq!(report.frames, 2);
        assert_eq!(report.skipped, 2);
        assert_eq!(report.bytes, file.len() as u64);
        assert_eq!(report.error, None);
        let p = read_packets(&file, 6084).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].timestamp_ns, 5);
        assert_eq!(p[0].payload, b"to one");
        assert_eq!(p[1].src, NodeIndex(1).addr());
        assert_eq!(p[1].dst, NodeIndex(2).addr());
    }

    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_errors_are_kept_for_the_report() {
        let mut c = PcapCapture::new(BufWriter::with_capacity(64, Full), "x.pcap", None).unwrap();
        for t in 0..10 {
            c.record(Time(t), NodeIndex(0), NodeIndex(1).addr(), &[0x81; 40]);
        }
        let report = Box::new(c).finish();
        assert_eq!(report.frames, 0);
        assert_eq!(
            report.error.as_deref(),
            Some("capture x.pcap: write failed: disk full")
        );
        assert!(report.to_string().contains("x.pcap"));
    }
}
