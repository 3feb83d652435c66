//! Integration tests: one test binary, one module per concern.

mod calls;
mod cli;
mod clients;
mod codec_props;
mod common;
mod engine;
mod expect;
mod folders;
mod golden;
mod harness;
mod layering;
mod multinode;
mod pcap_export;
mod plot;
mod report;
mod scenario;
mod scripted;
mod sip;
mod storage;
mod sweep;
mod toy;
mod tshark;
mod vectors;
