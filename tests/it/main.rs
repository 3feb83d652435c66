//! Integration tests: one test binary, one module per concern.

mod calls;
mod cli;
mod clients;
mod codec_props;
mod engine;
mod harness;
mod layering;
mod multinode;
mod plot;
mod report;
mod scenario;
mod scripted;
mod sip;
mod storage;
mod toy;
mod tshark;
mod vectors;
