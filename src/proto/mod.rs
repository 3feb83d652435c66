//! The sans-IO RELOAD peer and its wire format. Nothing in here touches sockets, threads,
//! clocks or global randomness; time comes in as [`crate::time::Time`].

pub mod chord;
pub mod config;
pub mod config_doc;
pub mod event;
pub mod id;
pub mod identity;
pub mod link;
pub mod node;
pub mod peer;
pub mod rtt;
pub mod stats;
pub mod store;
pub mod transaction;
pub mod wire;
