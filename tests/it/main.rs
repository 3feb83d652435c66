//! Integration tests: one test binary, one module per concern.

mod cli;
mod codec_props;
mod layering;
mod tshark;
mod vectors;
