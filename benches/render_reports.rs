//! Report rendering time over a 100,000-order snapshot: each report in HTML and in PDF, from data
//! already read (`report::Input`), plus reading that input. The snapshot is extracted and
//! reconciled once. Run: `cargo bench --bench render_reports`.

mod common;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tally::report::{self, Format, Input, Kind};

const ORDERS: usize = 100_000;

fn render_reports(c: &mut Criterion) {
    let mut b = common::setup(ORDERS);
    let snap =
        b.rt.block_on(tally::extract::run(&b.cfg, &b.secrets, &b.opts))
            .unwrap();
    b.sandbox.take();
    tally::reconcile::run(&snap.dir, &b.cfg).unwrap();
    let input = Input::read(&snap.dir).unwrap();
    let mut group = c.benchmark_group("report_100k_orders");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("read_input", |bench| {
        bench.iter(|| Input::read(&snap.dir).unwrap())
    });
    for kind in Kind::ALL {
        for format in [Format::Html, Format::Pdf] {
            let name = kind.file_name(format);
            group.bench_function(name, |bench| {
                bench.iter(|| report::render(&input, kind, format, &Default::default()).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, render_reports);
criterion_main!(benches);
