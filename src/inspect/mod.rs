//! Decoded-message rendering.
