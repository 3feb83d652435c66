//! Integration tests: one test binary, one module per concern.

mod codec_props;
mod tshark;
mod vectors;
