//! Integration tests: one test binary, one module per concern.

mod calls;
mod cli;
mod clients;
mod codec_props;
mod common;
mod engine;
mod expect;
mod field_table;
mod figures;
mod folders;
mod golden;
mod harness;
mod layering;
mod limits;
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
