//! Integration tests: one test binary, one module per concern.

mod cli;
mod codec_props;
mod harness;
mod layering;
mod multinode;
mod scripted;
mod tshark;
mod vectors;
