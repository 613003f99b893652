//! Extraction throughput against the sandbox on loopback: both APIs, every dataset, into Parquet.
//! Reported as orders per second. Run: `cargo bench --bench extract_orders`.

mod common;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ORDERS: usize = 20_000;

fn extract_orders(c: &mut Criterion) {
    let b = common::setup(ORDERS);
    let mut group = c.benchmark_group("extract");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(40))
        .throughput(Throughput::Elements(ORDERS as u64));
    group.bench_function("extract_20k_orders", |bench| {
        bench.iter(|| {
            let snap =
                b.rt.block_on(tally::extract::run(&b.cfg, &b.secrets, &b.opts))
                    .unwrap();
            std::fs::remove_dir_all(&snap.dir).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, extract_orders);
criterion_main!(benches);
