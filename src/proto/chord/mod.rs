//! CHORD-RELOAD (RFC 6940 §10): the Neighbor Table, the Finger Table and the routing rule.

pub mod fingers;
pub mod neighbors;
pub mod routing;

pub use fingers::FingerTable;
pub use neighbors::NeighborTable;
