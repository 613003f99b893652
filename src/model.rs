//! The snapshot's datasets: one Rust struct per Parquet file, column for column.
//!
//! Connectors map API responses into these rows; the snapshot writer turns batches of them into
//! Arrow record batches and Parquet. The `dataset!` macro keeps the struct, its file name and its
//! Arrow schema in one place, so a column cannot be added to one and forgotten in the other. Money
//! and OrderWise quantities are `DECIMAL(18,4)`, times are UTC timestamps, SKUs are kept raw with a
//! normalised `sku_key` beside them.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// Precision and scale of every money and quantity column: SQL Server's `DECIMAL(18,4)`.
pub const MONEY_PRECISION: u8 = 18;
/// See [`MONEY_PRECISION`].
pub const MONEY_SCALE: u32 = 4;

/// A value that can be a Parquet column: its Arrow type and how a column of them is built.
pub trait Cell: Sized {
    /// The Arrow field for a column of this type.
    fn field(name: &str) -> Field;
    /// Builds the column from the rows' values.
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef
    where
        Self: 'a;
}

impl Cell for String {
    fn field(name: &str) -> Field {
        Field::new(name, DataType::Utf8, false)
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.map(|v| Some(v.as_str())).collect::<StringArray>())
    }
}

impl Cell for Option<String> {
    fn field(name: &str) -> Field {
        Field::new(name, DataType::Utf8, true)
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.map(|v| v.as_deref()).collect::<StringArray>())
    }
}

impl Cell for i64 {
    fn field(name: &str) -> Field {
        Field::new(name, DataType::Int64, false)
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.copied().map(Some).collect::<Int64Array>())
    }
}

impl Cell for Option<i64> {
    fn field(name: &str) -> Field {
        Field::new(name, DataType::Int64, true)
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.copied().collect::<Int64Array>())
    }
}

impl Cell for bool {
    fn field(name: &str) -> Field {
        Field::new(name, DataType::Boolean, false)
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        Arc::new(values.copied().map(Some).collect::<BooleanArray>())
    }
}

/// The `DECIMAL(18,4)` integer of a value already checked to fit (see [`fit_money`]).
fn mantissa(d: &Decimal) -> i128 {
    let mut d = *d;
    d.rescale(MONEY_SCALE);
    d.mantissa()
}

fn decimal_array<'a>(values: impl Iterator<Item = Option<&'a Decimal>>) -> ArrayRef {
    let array: Decimal128Array = values.map(|v| v.map(mantissa)).collect();
    Arc::new(
        array
            .with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE as i8)
            .expect("18,4 is a valid decimal type"),
    )
}

impl Cell for Decimal {
    fn field(name: &str) -> Field {
        Field::new(
            name,
            DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE as i8),
            false,
        )
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        decimal_array(values.map(Some))
    }
}

impl Cell for Option<Decimal> {
    fn field(name: &str) -> Field {
        Field::new(
            name,
            DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE as i8),
            true,
        )
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        decimal_array(values.map(|v| v.as_ref()))
    }
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

impl Cell for DateTime<Utc> {
    fn field(name: &str) -> Field {
        Field::new(name, timestamp_type(), false)
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        let a: TimestampMicrosecondArray = values.map(|v| Some(v.timestamp_micros())).collect();
        Arc::new(a.with_timezone("UTC"))
    }
}

impl Cell for Option<DateTime<Utc>> {
    fn field(name: &str) -> Field {
        Field::new(name, timestamp_type(), true)
    }
    fn array<'a>(values: impl Iterator<Item = &'a Self>) -> ArrayRef {
        let a: TimestampMicrosecondArray =
            values.map(|v| v.map(|t| t.timestamp_micros())).collect();
        Arc::new(a.with_timezone("UTC"))
    }
}

/// One dataset of a snapshot: a row type with a file and a schema.
pub trait Row: Sized + Send + 'static {
    /// Path of the Parquet file inside the snapshot, without extension (`centra/orders`).
    const FILE: &'static str;
    /// The Arrow schema of the file.
    fn schema() -> SchemaRef;
    /// A record batch of these rows.
    fn to_batch(rows: &[Self]) -> RecordBatch;
}

macro_rules! dataset {
    ($(#[$meta:meta])* $name:ident => $file:literal { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        ///
        /// Deserialisable with defaults so test fixtures need only the columns that matter.
        #[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty),* }

        impl Row for $name {
            const FILE: &'static str = $file;
            fn schema() -> SchemaRef {
                Arc::new(Schema::new(vec![$(<$ty as Cell>::field(stringify!($field))),*]))
            }
            fn to_batch(rows: &[Self]) -> RecordBatch {
                let columns: Vec<ArrayRef> = vec![$(<$ty as Cell>::array(rows.iter().map(|r| &r.$field))),*];
                RecordBatch::try_new(Self::schema(), columns).expect("columns follow the schema")
            }
        }
    };
}

/// The normalised SKU key: trimmed and case-folded, so `" tshirt-blk-m"` meets `"TSHIRT-BLK-M"`.
pub fn sku_key(sku: &str) -> String {
    sku.trim().to_lowercase()
}

/// Checks that a money or quantity value fits `DECIMAL(18,4)`. A value with more decimals is rounded
/// (half away from zero) and the caller records a warning; one too large is refused.
pub fn fit_money(d: Decimal) -> Result<(Decimal, bool), String> {
    let rounded = d.round_dp_with_strategy(
        MONEY_SCALE,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    );
    let limit = Decimal::from_i128_with_scale(10i128.pow(MONEY_PRECISION as u32), MONEY_SCALE);
    if rounded.abs() >= limit {
        return Err(format!("{d} does not fit DECIMAL(18,4)"));
    }
    Ok((rounded, rounded != d))
}

dataset! {
    /// One Centra order (`orderConnection`), its totals as Centra states them.
    CentraOrder => "centra/orders" {
        id: String,
        number: i64,
        status: String,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        order_date: DateTime<Utc>,
        is_on_hold: bool,
        store: String,
        market_id: i64,
        market: String,
        currency: String,
        currency_decimals: i64,
        /// `order_date` in the OrderWise instance's time zone (`YYYY-MM-DD HH:MM:SS`): months are cut
        /// in local time, which the bundled DuckDB (no ICU) cannot compute.
        order_date_local: String,
        /// The local month of `order_date` (`YYYY-MM`).
        order_month: String,
        /// `grandTotal(includingTax: true)`.
        gross: Decimal,
        /// `grandTotal(includingTax: false)`.
        net: Decimal,
        line_values: Decimal,
        shipping: Decimal,
        handling: Decimal,
        /// Zero or negative.
        discounts: Decimal,
        tax_added: Decimal,
        tax_deducted: Decimal,
        tax_included: Decimal,
        shipping_option: Option<String>,
        country: Option<String>,
    }
}

dataset! {
    /// One Centra order line.
    CentraOrderLine => "centra/order_lines" {
        order_number: i64,
        line_id: i64,
        /// `productSize.SKU`; null where Centra no longer has the size.
        sku: Option<String>,
        sku_key: Option<String>,
        product_number: String,
        product_name: String,
        size: String,
        quantity: i64,
        cancelled_quantity: i64,
        tax_percent: Decimal,
        discount_percent: Decimal,
        unit_price: Decimal,
        line_gross: Decimal,
        line_net: Decimal,
    }
}

dataset! {
    /// One Centra shipment of an order.
    CentraShipment => "centra/shipments" {
        order_number: i64,
        shipment_id: i64,
        number: String,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        is_shipped: bool,
        shipped_at: Option<DateTime<Utc>>,
        tracking_number: Option<String>,
        carrier: Option<String>,
        service: Option<String>,
    }
}

dataset! {
    /// One line of a Centra shipment.
    CentraShipmentLine => "centra/shipment_lines" {
        order_number: i64,
        shipment_id: i64,
        shipment_line_id: i64,
        order_line_id: i64,
        sku: Option<String>,
        sku_key: Option<String>,
        quantity: i64,
    }
}

dataset! {
    /// Stock of one Centra product size in one warehouse.
    CentraStock => "centra/stock" {
        size_id: i64,
        sku: String,
        sku_key: String,
        warehouse_id: i64,
        warehouse: String,
        physical: i64,
        free_to_allocate: i64,
        allocated: i64,
    }
}

dataset! {
    /// One Centra product size, with its variant and product.
    CentraProduct => "centra/products" {
        product_id: i64,
        product_number: String,
        product_name: String,
        product_status: String,
        variant_id: i64,
        variant_number: String,
        variant_name: String,
        variant_status: String,
        size_id: i64,
        sku: String,
        sku_key: String,
        ean: Option<String>,
        size_number: String,
        is_active: bool,
    }
}

dataset! {
    /// One Centra market and its store.
    CentraMarket => "centra/markets" {
        market_id: i64,
        market: String,
        store_id: i64,
        store: String,
        store_type: String,
    }
}

dataset! {
    /// One Centra warehouse.
    CentraWarehouse => "centra/warehouses" {
        warehouse_id: i64,
        warehouse: String,
    }
}

dataset! {
    /// One OrderWise sales order header (export `orders`).
    OwOrder => "orderwise/orders" {
        order_id: i64,
        order_number: String,
        external_ref: Option<String>,
        /// `external_ref` trimmed: the key that meets Centra's order number.
        external_ref_key: Option<String>,
        session_id: i64,
        /// The account the order is posted on; null where the export definition predates it.
        customer_account: Option<String>,
        order_datetime: DateTime<Utc>,
        order_datetime_raw: String,
        /// The local month of `order_datetime` (`YYYY-MM`).
        order_month: String,
        status: String,
        currency_code: String,
        total_net: Decimal,
        total_vat: Decimal,
        total_gross: Decimal,
        delivery_net: Decimal,
        delivery_vat: Decimal,
        delivery_gross: Decimal,
        discount_gross: Decimal,
        delivery_method: Option<String>,
        amended_at: DateTime<Utc>,
        amended_at_raw: String,
    }
}

dataset! {
    /// One OrderWise order line (export `order_lines`).
    OwOrderLine => "orderwise/order_lines" {
        line_id: i64,
        order_id: i64,
        sku: String,
        sku_key: String,
        qty_required: Decimal,
        qty_sent: Decimal,
        item_gross: Decimal,
        line_net: Decimal,
        line_vat: Decimal,
        line_gross: Decimal,
        vat_code: Option<String>,
        vat_rate: Decimal,
        amended_at: DateTime<Utc>,
        amended_at_raw: String,
    }
}

dataset! {
    /// Stock of one OrderWise variant at one location (export `stock`).
    OwStock => "orderwise/stock" {
        stock_id: i64,
        sku: String,
        sku_key: String,
        location_id: i64,
        location_name: String,
        free: Decimal,
        overall: Decimal,
        amended_at: DateTime<Utc>,
        amended_at_raw: String,
    }
}

dataset! {
    /// One OrderWise despatch (export `despatches`).
    OwDespatch => "orderwise/despatches" {
        despatch_id: i64,
        order_id: i64,
        order_number: String,
        external_ref: Option<String>,
        external_ref_key: Option<String>,
        despatched_at: DateTime<Utc>,
        despatched_at_raw: String,
        tracking_number: Option<String>,
        delivery_method: Option<String>,
        courier: Option<String>,
        amended_at: DateTime<Utc>,
        amended_at_raw: String,
    }
}

dataset! {
    /// One line of an OrderWise despatch (export `despatch_lines`).
    OwDespatchLine => "orderwise/despatch_lines" {
        despatch_line_id: i64,
        despatch_id: i64,
        sku: String,
        sku_key: String,
        qty: Decimal,
        amended_at: DateTime<Utc>,
        amended_at_raw: String,
    }
}

dataset! {
    /// One OrderWise variant (export `variants`).
    OwVariant => "orderwise/variants" {
        variant_id: i64,
        sku: String,
        sku_key: String,
        product_code: String,
        description: String,
        ean: Option<String>,
        discontinued: bool,
        is_kit: bool,
        sale_variant: bool,
        amended_at: DateTime<Utc>,
        amended_at_raw: String,
    }
}

/// Every dataset file a complete snapshot holds, in manifest order.
pub const DATASETS: [&str; 14] = [
    CentraOrder::FILE,
    CentraOrderLine::FILE,
    CentraShipment::FILE,
    CentraShipmentLine::FILE,
    CentraStock::FILE,
    CentraProduct::FILE,
    CentraMarket::FILE,
    CentraWarehouse::FILE,
    OwOrder::FILE,
    OwOrderLine::FILE,
    OwStock::FILE,
    OwDespatch::FILE,
    OwDespatchLine::FILE,
    OwVariant::FILE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn sku_key_trims_and_folds_case() {
        assert_eq!(sku_key(" TShirt-BLK-M "), "tshirt-blk-m");
    }

    #[test]
    fn fit_money_keeps_four_decimals_and_flags_rounding() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(fit_money(d("33.3167")).unwrap(), (d("33.3167"), false));
        assert_eq!(fit_money(d("0.12345")).unwrap(), (d("0.1235"), true));
        assert!(fit_money(d("100000000000000")).is_err());
        assert!(!fit_money(d("99999999999999.9999")).unwrap().1);
    }

    #[test]
    fn money_column_holds_exact_values() {
        let rows: Vec<Decimal> = ["0.1", "19.99", "33.3167", "1234567.8901", "-5"]
            .iter()
            .map(|s| Decimal::from_str(s).unwrap())
            .collect();
        let array = <Decimal as Cell>::array(rows.iter());
        let array = array.as_any().downcast_ref::<Decimal128Array>().unwrap();
        let back: Vec<String> = (0..array.len()).map(|i| array.value_as_string(i)).collect();
        assert_eq!(
            back,
            ["0.1000", "19.9900", "33.3167", "1234567.8901", "-5.0000"]
        );
    }

    proptest::proptest! {
        #[test]
        fn sku_key_ignores_surrounding_space_and_case(
            sku in "[A-Za-z0-9][A-Za-z0-9./-]{0,15}",
            left in "[ \t]{0,3}",
            right in "[ \t]{0,3}",
        ) {
            let key = sku_key(&sku);
            proptest::prop_assert_eq!(sku_key(&format!("{left}{sku}{right}")), key.clone());
            proptest::prop_assert_eq!(sku_key(&sku.to_uppercase()), key.clone());
            proptest::prop_assert_eq!(sku_key(&key), key.clone());
            proptest::prop_assert_eq!(key.len(), sku.len());
        }

        #[test]
        fn sku_key_keeps_different_skus_apart(a in "[A-Z0-9-]{1,12}", b in "[A-Z0-9-]{1,12}") {
            proptest::prop_assert_eq!(sku_key(&a) == sku_key(&b), a == b);
        }
    }
}
