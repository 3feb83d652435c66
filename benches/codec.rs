//! Codec benchmarks: decode and encode of a routed Fetch (5-entry via list) and of a full
//! Update (3+3 neighbours, 16 fingers), and the forwarding fast path (read the header,
//! re-encode it with one more via entry). Run with `cargo bench --bench codec`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use reload_sim::proto::wire::examples::{full_update, peer, routed_fetch};
use reload_sim::proto::wire::{Destination, ForwardEdit, HeaderView, Message};

fn codec(c: &mut Criterion) {
    let fetch = routed_fetch(5);
    let fetch_bytes = fetch.to_bytes().unwrap();
    let update = full_update();
    let update_bytes = update.to_bytes().unwrap();
    let mut out = Vec::with_capacity(4096);

    c.bench_function("decode/fetch_req_via5", |b| {
        b.iter(|| Message::decode(black_box(&fetch_bytes)).unwrap())
    });
    c.bench_function("encode/fetch_req_via5", |b| {
        b.iter(|| {
            out.clear();
            black_box(&fetch).encode(&mut out).unwrap();
        })
    });
    c.bench_function("decode/update_full_3_3_16", |b| {
        b.iter(|| Message::decode(black_box(&update_bytes)).unwrap())
    });
    c.bench_function("encode/update_full_3_3_16", |b| {
        b.iter(|| {
            out.clear();
            black_box(&update).encode(&mut out).unwrap();
        })
    });
    let prev = Destination::Node(peer(6));
    c.bench_function("forward/parse_and_append_via", |b| {
        b.iter(|| {
            out.clear();
            let view = HeaderView::parse(black_box(&fetch_bytes)).unwrap();
            view.forward_into(
                ForwardEdit {
                    pop_destinations: 0,
                    push_via: Some(&prev),
                    decrement_ttl: true,
                },
                &mut out,
            )
            .unwrap();
        })
    });
    c.bench_function("forward/parse_only", |b| {
        b.iter(|| {
            HeaderView::parse(black_box(&fetch_bytes))
                .unwrap()
                .first_destination()
                .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = codec
}
criterion_main!(benches);
