//! Clients (RFC 6940 §4.2): connected through the peer responsible for their Node-ID,
//! reachable through it, and following it when a new peer takes over.

use reload_sim::proto::event::{Event, NodeState};
use reload_sim::proto::id::NodeId;
use reload_sim::time::Duration;

use crate::harness::{Net, addr};

#[test]
fn a_client_registers_is_called_and_follows_its_responsible_peer() {
    let mut net = Net::ring(10, Duration::from_millis(300), Net::fast_config());
    net.run_for(Duration::from_secs(30));
    // A client at a point of the ring between two peers.
    let ids = net.ring_ids();
    let (lo, hi) = (ids[3], ids[4]);
    let x = NodeId(lo.0 + lo.distance_to(hi) / 4);
    let c = net.add_with_id(x);
    let now = net.now;
    net.node_mut(c).connect_client(now, &[addr(0)]).unwrap();
    net.service(c);
    net.run_for(Duration::from_secs(5));
    assert_eq!(net.node(c).state(), NodeState::Client);
    assert!(
        net.events
            .iter()
            .any(|(i, e)| *i == c && *e == Event::Connected)
    );
    assert_eq!(
        net.node(c).client_peer(),
        Some(hi),
        "the peer responsible for the client's id"
    );
    assert_eq!(net.node(c).connection_count(), 1);
    assert!(net.ring_ids().len() == 10, "a client is not a peer");

    // It registers its user and a peer calls it through its responsible peer.
    let now = net.now;
    let aor = format!("node{c}@test.example.org");
    net.node_mut(c).register(now, &aor, 3600).unwrap();
    net.service(c);
    net.run_for(Duration::from_secs(5));
    let call = |net: &mut Net| {
        let now = net.now;
        let id = net.node_mut(1).call(now, &aor).unwrap();
        net.service(1);
        net.run_for(Duration::from_secs(10));
        net.events.iter().find_map(|(_, e)| match e {
            Event::CallDone { call, outcome } if *call == id => Some(*outcome),
            _ => None,
        })
    };
    assert_eq!(call(&mut net).unwrap().unwrap().callee, x);

    // A new peer joins between the client and its peer: the client moves to it.
    let p = net.add_with_id(NodeId(x.0 + x.distance_to(hi) / 2));
    let now = net.now;
    net.node_mut(p).join(now, &[addr(0)]).unwrap();
    net.service(p);
    net.run_for(Duration::from_secs(60));
    assert_eq!(net.node(c).client_peer(), Some(net.node(p).node_id()));
    assert_eq!(net.node(c).connection_count(), 1);
    assert_eq!(call(&mut net).unwrap().unwrap().callee, x);
}
