//! The sans-IO RELOAD peer and its wire format. Nothing in here touches sockets, threads,
//! clocks or global randomness; time comes in as [`crate::time::Time`].

pub mod id;
pub mod wire;
