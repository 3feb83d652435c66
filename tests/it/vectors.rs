//! Hand-written RFC 6940 byte vectors.
