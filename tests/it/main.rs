//! Integration tests: one test binary, one module per concern.

mod cli;
mod codec_props;
mod engine;
mod layering;
mod report;
mod scenario;
mod toy;
mod tshark;
mod vectors;
