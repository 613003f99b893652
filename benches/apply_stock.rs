//! Applying stock corrections against the sandbox: every Centra stock row is put 3 units off, then
//! planned and applied (re-read, changeStock in batches of 50, journal). Reported as corrections
//! per second. Run: `cargo bench --bench apply_stock`.

mod common;

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn apply_stock(c: &mut Criterion) {
    let b = common::setup(2_000);
    let shared = b.sandbox.as_ref().expect("running").shared.clone();
    let rows = shared.world.read().unwrap().centra_stock.len();
    let apply = tally::apply::Options {
        execute: true,
        batch_size: None,
        only: Some("push_stock".into()),
        retry: Default::default(),
    };
    let mut group = c.benchmark_group("apply");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60))
        .throughput(Throughput::Elements(rows as u64));
    group.bench_function("apply_stock_corrections", |bench| {
        bench.iter_batched(
            || {
                for s in shared.world.write().unwrap().centra_stock.iter_mut() {
                    s.free += 3;
                }
                let snap =
                    b.rt.block_on(tally::extract::run(&b.cfg, &b.secrets, &b.opts))
                        .unwrap();
                let plan = tally::plan::build(&snap.dir, &b.cfg, &Default::default()).unwrap();
                let path = snap.dir.join("plan.jsonl");
                tally::plan::write(&plan, &path).unwrap();
                path
            },
            |path| {
                let report =
                    b.rt.block_on(tally::apply::run(&path, &b.cfg, &b.secrets, &apply))
                        .unwrap();
                assert!(!report.outcomes.contains_key("failed"));
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let mutations = shared
        .stats
        .centra_requests
        .load(std::sync::atomic::Ordering::Relaxed);
    println!("{rows} stock rows per iteration; {mutations} Centra requests in all");
}

criterion_group!(benches, apply_stock);
criterion_main!(benches);
