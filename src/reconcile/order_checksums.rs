//! Each live order's items compared through one checksum per system, computed here, in Rust, from
//! the snapshot's Parquet files: the one shared table of `queries/_views.sql` that SQL does not
//! fill (`suspect_orders`).
//!
//! The line, shipment and tracking checks compare item by item only the orders whose items may
//! differ. To find them, every item of every order is folded into a checksum per order and
//! system: ordered SKUs, shipped SKUs and tracking numbers, each quantity times a 64-bit hash of
//! its kind and its SKU or number, added up per order (wrapping 128-bit integers). Two systems
//! with the same quantity of every item have the same checksum, however their lines are split; two
//! that differ have the same checksum only if the weights happen to cancel out (about 1 in 2^64).
//!
//! The same checksums were DuckDB aggregates until stop 26: 57 million items grouped into 10
//! million orders per system took 5 to 8 s of wall time each at 10M orders, and joining them to the
//! live orders 3 to 4 s more, the largest part of a reconciliation. Here each system's items are
//! summed, on a thread of their own, beside the system's order ids in the order the files store
//! them ([`ById`]), and the live orders are read once to compare them (see `docs/scale-log.md`,
//! stop 26).
//!
//! What is summed is what the item checks compare, or finer, never coarser (an order the checks
//! would find different always gets a different checksum):
//! - ordered: Centra's order lines with a SKU; OrderWise's order lines (`qty_required`);
//! - shipped: the lines of Centra's shipped shipments (as `centra_shipped_lines` in SQL: the lines
//!   of a shipment not shipped are left out); the lines of every OrderWise despatch;
//! - tracking: the number of each of Centra's shipped shipments and of each despatch, as written
//!   (`tracking_key` trims and upper-cases: a finer key only makes an order a suspect that is then
//!   compared and found to agree).
//!
//! The same pass marks the orders with a shipped shipment or a despatch without a tracking number:
//! the tracking checks compare those too. A number is there when it starts with printable ASCII
//! other than a space, and not when it is null; the few others are passed to SQL's `has_text`, the
//! definition the tracking checks read, to decide.
//!
//! Quantities are compared in OrderWise's unit, 1/10,000 (`DECIMAL(18,4)`): Centra's whole units
//! are multiplied by 10,000.

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Decimal128Type, Field, Int32Type, Int64Type, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use super::Error;
use crate::snapshot::Snapshot;

/// The table `queries/_views.sql` declares (typed from `live_orders`, empty) for this module to
/// fill: the live orders whose two checksums differ (`differs`) or that have a shipped shipment or
/// a despatch without a tracking number (`tracking_missing`).
pub(crate) const TABLE: &str = "suspect_orders";

/// Values by id: the ids of one of the snapshot's files, sorted, and a value beside each. Items
/// are read in the order the snapshot stores them, which follows their orders' ids (the extraction
/// pages every file by its id, and an order's lines are created with it), so finding an item's
/// order is mostly a step from the last one found, and the values are touched in sequence: a hash
/// map of ten million orders, touched at random, took 19.7 s for both systems' items at 10M
/// orders where this takes about 3.
struct ById<T> {
    ids: Vec<i64>,
    values: Vec<T>,
    /// Where the last id was found.
    at: usize,
}

impl<T: Copy> ById<T> {
    /// `values` by `ids`, one for one. Ids are stored in order, as the snapshot's files are
    /// written; others are sorted (of two with one id, the first read is kept).
    fn new(ids: Vec<i64>, values: Vec<T>) -> ById<T> {
        if ids.is_sorted_by(|a, b| a < b) {
            return ById { ids, values, at: 0 };
        }
        let mut pairs: Vec<(i64, T)> = ids.into_iter().zip(values).collect();
        pairs.sort_by_key(|p| p.0);
        pairs.dedup_by_key(|p| p.0);
        ById {
            ids: pairs.iter().map(|p| p.0).collect(),
            values: pairs.into_iter().map(|p| p.1).collect(),
            at: 0,
        }
    }

    /// The position of `id`, or `None` when the file has no such id.
    fn find(&mut self, id: i64) -> Option<usize> {
        let next = self.at + 1;
        if self.ids.get(self.at) == Some(&id) {
            return Some(self.at);
        }
        if self.ids.get(next) == Some(&id) {
            self.at = next;
            return Some(next);
        }
        let found = self.ids.binary_search(&id).ok()?;
        self.at = found;
        Some(found)
    }

    fn get(&mut self, id: i64) -> Option<T> {
        self.find(id).map(|i| self.values[i])
    }
}

/// One system's orders, by their id there: what each order's items add up to, and whether it has
/// a shipped shipment or a despatch without a tracking number.
struct Orders {
    sums: ById<i128>,
    untracked: Vec<bool>,
    /// Tracking numbers that do not start with printable ASCII, by the position of their order:
    /// whether they are blank is left to SQL's `has_text` (see [`resolve_odd`]).
    odd: Vec<(usize, String)>,
}

impl Orders {
    /// Every order of `dataset` (its id column `column`), with nothing summed yet.
    fn read(snapshot: &Snapshot, dataset: &str, column: &str) -> Result<Orders, Error> {
        let mut ids = Vec::new();
        each_batch(snapshot, dataset, &[column], |b| {
            ids.extend_from_slice(ints(&b[0], column)?.values());
            Ok(())
        })?;
        let zeros = vec![0; ids.len()];
        let sums = ById::new(ids, zeros);
        Ok(Orders {
            untracked: vec![false; sums.ids.len()],
            sums,
            odd: Vec::new(),
        })
    }

    /// Adds `w` to the sum of order `id`. An id that is not an order of the file is not one of a
    /// live order either: its items are left out.
    fn add(&mut self, id: i64, w: i128) {
        if let Some(i) = self.sums.find(id) {
            self.sums.values[i] = self.sums.values[i].wrapping_add(w);
        }
    }

    /// Adds a shipped shipment's or a despatch's tracking number (`None`: it has none) to order
    /// `id`. A number is weighed as written, blank or not. It is there (SQL's `has_text`) when it
    /// starts with printable ASCII other than a space; a null one is not; SQL decides the others.
    fn tracking(&mut self, id: i64, number: Option<&str>) {
        let Some(i) = self.sums.find(id) else {
            return;
        };
        let Some(number) = number else {
            self.untracked[i] = true;
            return;
        };
        let w = i128::from(weight(Kind::Tracking, number));
        self.sums.values[i] = self.sums.values[i].wrapping_add(w);
        if !number
            .as_bytes()
            .first()
            .is_some_and(|b| (33..=126).contains(b))
        {
            self.odd.push((i, number.to_string()));
        }
    }

    /// Order `id`'s sum and whether it lacks a tracking number (0 and no for an order with no
    /// items, as for one the file lacks).
    fn get(&mut self, id: i64) -> (i128, bool) {
        self.sums
            .find(id)
            .map_or((0, false), |i| (self.sums.values[i], self.untracked[i]))
    }
}

/// The kinds of item, each hashed apart: the same SKU ordered and shipped weighs differently.
#[derive(Clone, Copy)]
enum Kind {
    Ordered = 1,
    Shipped = 2,
    Tracking = 3,
}

/// Centra counts whole units; OrderWise's quantities are `DECIMAL(18,4)`, in 1/10,000.
const UNIT: i128 = 10_000;
/// The weight of a null SKU: no SKU's hash but a fixed one, so two null-SKU lines still agree.
const NULL_SKU: u64 = 0x9e37_79b9_7f4a_7c15;

fn weight(kind: Kind, item: &str) -> u64 {
    twox_hash::XxHash3_64::oneshot_with_seed(kind as u64, item.as_bytes())
}

/// Fills [`TABLE`] from the snapshot's files and `live_orders`.
pub(crate) fn fill(
    conn: &duckdb::Connection,
    snapshot: &Snapshot,
    threads: u32,
) -> Result<(), Error> {
    let (centra, orderwise) = if threads > 1 {
        std::thread::scope(|s| {
            let centra = s.spawn(|| centra(snapshot));
            let orderwise = orderwise(snapshot);
            (
                centra.join().expect("the Centra checksums do not panic"),
                orderwise,
            )
        })
    } else {
        (centra(snapshot), orderwise(snapshot))
    };
    let (mut centra, mut orderwise) = (centra?, orderwise?);
    let what = format!("filling {TABLE}");
    resolve_odd(conn, &mut [&mut centra, &mut orderwise]).map_err(|e| Error::duckdb(&what, e))?;
    let mut stmt = conn
        .prepare("SELECT number, orderwise_order_id FROM live_orders")
        .map_err(|e| Error::duckdb(&what, e))?;
    let mut suspects: Vec<(i64, i64, bool, bool)> = Vec::new();
    for batch in stmt.query_arrow([]).map_err(|e| Error::duckdb(&what, e))? {
        let live = |e: String| Error::DuckDb {
            what: what.clone(),
            detail: e,
        };
        let numbers = ints(batch.column(0), "live_orders.number").map_err(live)?;
        let ids = ints(batch.column(1), "live_orders.orderwise_order_id").map_err(live)?;
        for (number, id) in numbers.iter().zip(ids.iter()) {
            let (Some(number), Some(id)) = (number, id) else {
                continue;
            };
            let ((c, c_untracked), (o, o_untracked)) = (centra.get(number), orderwise.get(id));
            let (differs, tracking_missing) = (c != o, c_untracked || o_untracked);
            if differs || tracking_missing {
                suspects.push((number, id, differs, tracking_missing));
            }
        }
    }
    drop((centra, orderwise));
    let mut appender = conn.appender(TABLE).map_err(|e| Error::duckdb(&what, e))?;
    for (number, id, differs, tracking_missing) in suspects {
        appender
            .append_row(duckdb::params![number, id, differs, tracking_missing])
            .map_err(|e| Error::duckdb(&what, e))?;
    }
    appender.flush().map_err(|e| Error::duckdb(&what, e))
}

/// Asks SQL's `has_text` (`queries/_views.sql`) which of the tracking numbers that do not start
/// with printable ASCII are blank, and marks their orders as lacking one: what counts as blank is
/// decided in one place, by the SQL the tracking checks read. There are few such numbers.
fn resolve_odd(conn: &duckdb::Connection, sides: &mut [&mut Orders]) -> duckdb::Result<()> {
    let odd: std::collections::BTreeSet<&str> = sides
        .iter()
        .flat_map(|side| side.odd.iter().map(|(_, n)| n.as_str()))
        .collect();
    if odd.is_empty() {
        return Ok(());
    }
    conn.execute_batch("CREATE TEMP TABLE odd_tracking (number VARCHAR)")?;
    let mut appender = conn.appender("odd_tracking")?;
    for number in &odd {
        appender.append_row([number])?;
    }
    appender.flush()?;
    drop(appender);
    let mut stmt = conn.prepare("SELECT number FROM odd_tracking WHERE NOT has_text(number)")?;
    let blank: HashSet<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    conn.execute_batch("DROP TABLE odd_tracking")?;
    for side in sides.iter_mut() {
        for (i, number) in std::mem::take(&mut side.odd) {
            if blank.contains(&number) {
                side.untracked[i] = true;
            }
        }
    }
    Ok(())
}

/// Centra's checksums, by order number.
fn centra(snapshot: &Snapshot) -> Result<Orders, Error> {
    let mut sums = Orders::read(snapshot, "centra/orders", "number")?;
    each_batch(
        snapshot,
        "centra/order_lines",
        &["order_number", "sku_key", "quantity"],
        |b| {
            let (orders, skus, quantities) = (
                ints(&b[0], "order_number")?,
                &b[1],
                ints(&b[2], "quantity")?,
            );
            each_sku(skus, Kind::Ordered, |i, w| {
                if let Some(w) = w {
                    sums.add(
                        orders.value(i),
                        mul(w, i128::from(quantities.value(i)) * UNIT),
                    );
                }
            })
        },
    )?;
    // Shipments not shipped: their lines do not count. Tracking numbers of the shipped ones do.
    let mut unshipped = HashSet::new();
    each_batch(
        snapshot,
        "centra/shipments",
        &[
            "order_number",
            "shipment_id",
            "is_shipped",
            "tracking_number",
        ],
        |b| {
            let (orders, ids) = (ints(&b[0], "order_number")?, ints(&b[1], "shipment_id")?);
            let shipped = b[2]
                .as_boolean_opt()
                .ok_or_else(|| column_type("is_shipped"))?;
            let tracking = strings(&b[3], "tracking_number")?;
            for i in 0..b[0].len() {
                if !(shipped.is_valid(i) && shipped.value(i)) {
                    unshipped.insert(ids.value(i));
                } else {
                    let number = tracking.is_valid(i).then(|| tracking.value(i));
                    sums.tracking(orders.value(i), number);
                }
            }
            Ok(())
        },
    )?;
    each_batch(
        snapshot,
        "centra/shipment_lines",
        &["order_number", "shipment_id", "sku_key", "quantity"],
        |b| {
            let (orders, ids) = (ints(&b[0], "order_number")?, ints(&b[1], "shipment_id")?);
            let quantities = ints(&b[3], "quantity")?;
            each_sku(&b[2], Kind::Shipped, |i, w| {
                if !unshipped.contains(&ids.value(i)) {
                    let w = w.unwrap_or(NULL_SKU);
                    sums.add(
                        orders.value(i),
                        mul(w, i128::from(quantities.value(i)) * UNIT),
                    );
                }
            })
        },
    )?;
    Ok(sums)
}

/// OrderWise's checksums, by order id.
fn orderwise(snapshot: &Snapshot) -> Result<Orders, Error> {
    let mut sums = Orders::read(snapshot, "orderwise/orders", "order_id")?;
    each_batch(
        snapshot,
        "orderwise/order_lines",
        &["order_id", "sku_key", "qty_required"],
        |b| {
            let (orders, quantities) = (ints(&b[0], "order_id")?, decimals(&b[2], "qty_required")?);
            each_sku(&b[1], Kind::Ordered, |i, w| {
                sums.add(
                    orders.value(i),
                    mul(w.unwrap_or(NULL_SKU), quantities.value(i)),
                );
            })
        },
    )?;
    // Despatch lines carry their despatch, not its order.
    let (mut despatches, mut their_orders) = (Vec::new(), Vec::new());
    each_batch(
        snapshot,
        "orderwise/despatches",
        &["despatch_id", "order_id", "tracking_number"],
        |b| {
            let (ids, orders) = (ints(&b[0], "despatch_id")?, ints(&b[1], "order_id")?);
            let tracking = strings(&b[2], "tracking_number")?;
            for i in 0..b[0].len() {
                despatches.push(ids.value(i));
                their_orders.push(orders.value(i));
                let number = tracking.is_valid(i).then(|| tracking.value(i));
                sums.tracking(orders.value(i), number);
            }
            Ok(())
        },
    )?;
    let mut orders_of = ById::new(despatches, their_orders);
    each_batch(
        snapshot,
        "orderwise/despatch_lines",
        &["despatch_id", "sku_key", "qty"],
        |b| {
            let (ids, quantities) = (ints(&b[0], "despatch_id")?, decimals(&b[2], "qty")?);
            each_sku(&b[1], Kind::Shipped, |i, w| {
                // A line whose despatch the snapshot lacks has no order (SQL's inner join drops it).
                if let Some(order) = orders_of.get(ids.value(i)) {
                    sums.add(order, mul(w.unwrap_or(NULL_SKU), quantities.value(i)));
                }
            })
        },
    )?;
    Ok(sums)
}

/// A weight times a quantity, wrapping: the checksum is a sum modulo 2^128.
fn mul(weight: u64, quantity: i128) -> i128 {
    i128::from(weight).wrapping_mul(quantity)
}

/// Calls `f` with `columns` of every batch of `dataset`, in that order. SKU keys are read as
/// dictionaries, as they are stored: each distinct SKU of a batch is hashed once.
fn each_batch(
    snapshot: &Snapshot,
    dataset: &str,
    columns: &[&str],
    mut f: impl FnMut(&[ArrayRef]) -> Result<(), String>,
) -> Result<(), Error> {
    let path = snapshot.file(dataset);
    let file = File::open(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    // The footer is read once; the schema it gives is read back with SKU keys as dictionaries.
    let stored = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| parquet(&path, e))?;
    let fields: Vec<Field> = stored
        .schema()
        .fields()
        .iter()
        .map(|f| match (f.name().as_str(), f.data_type()) {
            ("sku_key", DataType::Utf8) => f.as_ref().clone().with_data_type(DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(DataType::Utf8),
            )),
            _ => f.as_ref().clone(),
        })
        .collect();
    let options = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
    let metadata = ArrowReaderMetadata::try_new(stored.metadata().clone(), options)
        .map_err(|e| parquet(&path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata);
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| parquet(&path, e))?;
    for batch in reader {
        let batch: RecordBatch = batch.map_err(|e| parquet(&path, e))?;
        let picked = columns
            .iter()
            .map(|c| {
                batch
                    .column_by_name(c)
                    .cloned()
                    .ok_or_else(|| parquet(&path, format!("no column {c}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        f(&picked).map_err(|e| parquet(&path, e))?;
    }
    Ok(())
}

/// Calls `f` with each row's index and the weight of its SKU (`None` where it has none).
fn each_sku(
    skus: &ArrayRef,
    kind: Kind,
    mut f: impl FnMut(usize, Option<u64>),
) -> Result<(), String> {
    if let Some(dict) = skus.as_dictionary_opt::<Int32Type>() {
        let values = strings(dict.values(), "sku_key")?;
        let weights: Vec<u64> = (0..values.len())
            .map(|i| weight(kind, values.value(i)))
            .collect();
        for (i, key) in dict.keys().iter().enumerate() {
            f(i, key.map(|k| weights[k as usize]));
        }
    } else {
        let values = strings(skus, "sku_key")?;
        for i in 0..values.len() {
            f(i, values.is_valid(i).then(|| weight(kind, values.value(i))));
        }
    }
    Ok(())
}

fn ints<'a>(array: &'a ArrayRef, column: &str) -> Result<&'a arrow::array::Int64Array, String> {
    array
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| column_type(column))
}

/// A `DECIMAL(18,4)` column's raw values, in 1/10,000.
fn decimals<'a>(
    array: &'a ArrayRef,
    column: &str,
) -> Result<&'a arrow::array::Decimal128Array, String> {
    match array.data_type() {
        DataType::Decimal128(_, 4) => Ok(array.as_primitive::<Decimal128Type>()),
        _ => Err(column_type(column)),
    }
}

fn strings<'a>(array: &'a ArrayRef, column: &str) -> Result<&'a arrow::array::StringArray, String> {
    array
        .as_string_opt::<i32>()
        .ok_or_else(|| column_type(column))
}

fn column_type(column: &str) -> String {
    format!("column {column} is not of the type this tally writes (a snapshot of another version?)")
}

fn parquet(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Read {
        path: path.to_path_buf(),
        detail: format!("computing the order checksums: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_in_step_out_of_step_and_not_at_all() {
        let mut by_id = ById::new(vec![30, 10, 20, 20, 40], vec!['c', 'a', 'b', 'x', 'd']);
        assert_eq!(by_id.ids, [10, 20, 30, 40], "sorted, one of each id");
        assert_eq!(by_id.get(20), Some('b'), "the first read of an id is kept");
        let walked: Vec<_> = [10, 10, 20, 30, 40, 10, 40, 25, 5, 45]
            .into_iter()
            .map(|id| by_id.get(id))
            .collect();
        assert_eq!(
            walked,
            [
                Some('a'),
                Some('a'),
                Some('b'),
                Some('c'),
                Some('d'),
                Some('a'),
                Some('d'),
                None,
                None,
                None
            ]
        );
    }

    #[test]
    fn sums_wrap_instead_of_overflowing_and_an_unknown_order_adds_nothing() {
        let mut orders = Orders {
            sums: ById::new(vec![1, 2], vec![0, 0]),
            untracked: vec![false; 2],
            odd: Vec::new(),
        };
        orders.add(1, i128::MAX);
        orders.add(1, 2);
        orders.add(3, 5);
        assert_eq!(orders.get(1), (i128::MIN + 1, false));
        assert_eq!(orders.get(2), (0, false));
        assert_eq!(
            orders.get(3),
            (0, false),
            "an order the file lacks sums to nothing"
        );
    }

    #[test]
    fn a_missing_number_marks_its_order_and_sql_is_asked_about_odd_ones() {
        let mut orders = Orders {
            sums: ById::new(vec![1, 2, 3], vec![0, 0, 0]),
            untracked: vec![false; 3],
            odd: Vec::new(),
        };
        orders.tracking(1, Some("1Z999"));
        orders.tracking(2, None);
        orders.tracking(3, Some("\u{a0}\u{2003}"));
        orders.tracking(3, Some(" 1Z999"));
        orders.tracking(4, None);
        assert_eq!(orders.get(1).0, i128::from(weight(Kind::Tracking, "1Z999")));
        assert!(!orders.get(1).1);
        assert_eq!(orders.get(2), (0, true), "a null number weighs nothing");
        assert_eq!(
            orders.odd,
            [(2, "\u{a0}\u{2003}".to_string()), (2, " 1Z999".to_string())],
            "numbers not starting with printable ASCII are left to SQL"
        );
    }

    #[test]
    fn a_sku_weighs_the_same_read_plain_or_as_a_dictionary_and_by_kind() {
        let plain: ArrayRef = Arc::new(arrow::array::StringArray::from(vec![
            Some("tshirt-blk-m"),
            None,
            Some("cap"),
        ]));
        let dict: ArrayRef = Arc::new(
            vec![Some("tshirt-blk-m"), None, Some("cap")]
                .into_iter()
                .collect::<arrow::array::DictionaryArray<Int32Type>>(),
        );
        let weights = |skus: &ArrayRef, kind: Kind| {
            let mut out = Vec::new();
            each_sku(skus, kind, |i, w| out.push((i, w))).unwrap();
            out
        };
        let ordered = weights(&plain, Kind::Ordered);
        assert_eq!(ordered, weights(&dict, Kind::Ordered));
        assert_eq!(ordered[1], (1, None));
        assert_eq!(ordered[0].1, Some(weight(Kind::Ordered, "tshirt-blk-m")));
        assert_ne!(ordered[0].1, weights(&plain, Kind::Shipped)[0].1);
    }
}
