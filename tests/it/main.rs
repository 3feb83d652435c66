//! Integration tests: one test binary, one module per concern.

mod cli;
mod codec_props;
mod harness;
mod layering;
mod multinode;
mod tshark;
mod vectors;
