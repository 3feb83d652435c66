//! Property tests for the codec.
