//! The order comparison of `benches/scale.rs`'s bare DuckDB baseline, in polars: Centra's orders
//! joined to OrderWise's on the Centra number (OrderWise's trimmed `external_ref`), counting the
//! pairs whose gross, VAT, discount or shipping differ. Lazy API, streaming engine. Prints the count
//! so the bench can check it found what DuckDB found.
//!
//! Usage: `tally-polars-baseline SNAPSHOT_DIR`.

use polars::prelude::*;

fn main() -> PolarsResult<()> {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: tally-polars-baseline SNAPSHOT_DIR");
    let scan = |file: &str| {
        LazyFrame::scan_parquet(
            PlRefPath::new(format!("{dir}/{file}")),
            ScanArgsParquet::default(),
        )
    };
    let centra = scan("centra/orders.parquet")?.select([
        col("number").cast(DataType::String).alias("key"),
        col("gross"),
        (col("tax_included") + col("tax_added")).alias("vat"),
        col("discounts"),
        col("shipping"),
    ]);
    let orderwise = scan("orderwise/orders.parquet")?.select([
        col("external_ref_key").alias("key"),
        col("total_gross"),
        col("total_vat"),
        col("discount_gross"),
        col("delivery_gross"),
    ]);
    // Centra's discounts are zero or negative, OrderWise's positive: they agree when they add to 0.
    let differs = col("gross")
        .neq(col("total_gross"))
        .or(col("vat").neq(col("total_vat")))
        .or((col("discounts") + col("discount_gross")).neq(lit(0)))
        .or(col("shipping").neq(col("delivery_gross")));
    let counted = centra
        .join(
            orderwise,
            [col("key")],
            [col("key")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(differs)
        .select([len().alias("differing")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    println!("{}", counted.column("differing")?.get(0)?);
    Ok(())
}
