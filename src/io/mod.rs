//! The real RELOAD peer: the same sans-IO [`crate::proto::node::Node`] the simulator
//! drives, here driven by tokio over real sockets (`reload-sim peer`), with a control
//! socket (`reload-sim ctl`).
//!
//! - [`peer`]: the driver loop, configuration, start and leave;
//! - [`links`]: one TCP connection per peer carrying FramedMessage frames (§6.6.5);
//! - [`stream`]: cutting a stream into frames;
//! - [`control`]: the JSON-lines control protocol and its client;
//! - [`storage`]: `ctl store` and `ctl fetch` as Store and Fetch requests;
//! - [`capture`]: `--pcap`, the peer's frames as TCP segments;
//! - [`clock`]: monotonic time as [`crate::time::Time`].

pub mod capture;
pub mod clock;
pub mod control;
pub mod links;
pub mod peer;
pub mod pki;
pub mod storage;
pub mod stream;
