//! Reconcile time over a 100,000-order snapshot: every check of queries/ in DuckDB, exceptions and
//! summary written. The snapshot is extracted once from the sandbox. Run:
//! `cargo bench --bench reconcile_orders`.

mod common;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ORDERS: usize = 100_000;

fn reconcile_orders(c: &mut Criterion) {
    let mut b = common::setup(ORDERS);
    let snap =
        b.rt.block_on(tally::extract::run(&b.cfg, &b.secrets, &b.opts))
            .unwrap();
    b.sandbox.take();
    let mut group = c.benchmark_group("reconcile");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(ORDERS as u64));
    group.bench_function("reconcile_100k_orders", |bench| {
        bench.iter(|| tally::reconcile::run(&snap.dir, &b.cfg).unwrap())
    });
    group.finish();
}

criterion_group!(benches, reconcile_orders);
criterion_main!(benches);
