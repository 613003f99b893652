//! Merging a base snapshot with the changes read since it, dataset by dataset, by primary key.
//!
//! Each dataset has one rule ([`rule`]): re-read whole (stock, products, markets: state without a
//! change time), or keyed: a base row is dropped when the changes hold a row with its key, and the
//! changes' rows are added. Centra returns an order with its lines and shipments, so those follow
//! the order's number; OrderWise's exports each carry their own amended time, so each row follows
//! its own id. Rows are copied as Arrow record batches, never decoded into structs, so the merged
//! file has exactly the base's and the extraction's types, and memory holds one batch and the set
//! of changed keys.

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, BooleanArray, Int64Array};
use arrow::compute::filter_record_batch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::snapshot::{BatchSink, Error, FileEntry, Snapshot, SnapshotWriter};

/// How a dataset is brought up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Read whole every time: the changes are the dataset.
    Reread,
    /// Base rows whose `column` is among the changed `key_dataset.key_column` values are replaced
    /// by the changes' rows.
    Keyed {
        column: &'static str,
        key_dataset: &'static str,
        key_column: &'static str,
    },
}

/// The rule of each dataset in a snapshot.
pub fn rule(dataset: &str) -> Rule {
    let keyed = |column, key_dataset, key_column| Rule::Keyed {
        column,
        key_dataset,
        key_column,
    };
    match dataset {
        "centra/orders" => keyed("number", "centra/orders", "number"),
        "centra/order_lines" | "centra/shipments" | "centra/shipment_lines" => {
            keyed("order_number", "centra/orders", "number")
        }
        "orderwise/orders" => keyed("order_id", "orderwise/orders", "order_id"),
        "orderwise/order_lines" => keyed("line_id", "orderwise/order_lines", "line_id"),
        "orderwise/despatches" => keyed("despatch_id", "orderwise/despatches", "despatch_id"),
        "orderwise/despatch_lines" => keyed(
            "despatch_line_id",
            "orderwise/despatch_lines",
            "despatch_line_id",
        ),
        _ => Rule::Reread,
    }
}

fn reader(path: &Path) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(8192).build())
        .map_err(|e| Error::parquet(path, e))
}

fn int_column<'a>(
    batch: &'a arrow::array::RecordBatch,
    column: &str,
    path: &Path,
) -> Result<&'a Int64Array, Error> {
    batch
        .column_by_name(column)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or_else(|| Error::parquet(path, format!("no BIGINT column {column}")))
}

/// The distinct values of an integer column.
fn keys(path: &Path, column: &str) -> Result<HashSet<i64>, Error> {
    let mut out = HashSet::new();
    for batch in reader(path)? {
        let batch = batch.map_err(|e| Error::parquet(path, e))?;
        out.extend(int_column(&batch, column, path)?.iter().flatten());
    }
    Ok(out)
}

/// Copies every batch of `path` into `sink`, keeping the rows `keep` says to.
fn copy(
    path: &Path,
    sink: &mut BatchSink,
    keep: impl Fn(&arrow::array::RecordBatch) -> Result<Option<BooleanArray>, Error>,
) -> Result<(), Error> {
    for batch in reader(path)? {
        let batch = batch.map_err(|e| Error::parquet(path, e))?;
        match keep(&batch)? {
            None => sink.write(&batch)?,
            Some(mask) => sink
                .write(&filter_record_batch(&batch, &mask).map_err(|e| Error::parquet(path, e))?)?,
        }
    }
    Ok(())
}

/// Writes `dataset` of `base` brought up to date by `changes` into `writer`.
pub fn dataset(
    dataset: &str,
    base: &Snapshot,
    changes: &Snapshot,
    writer: &SnapshotWriter,
) -> Result<FileEntry, Error> {
    let changed = changes.file(dataset);
    let schema = {
        let file = File::open(&changed).map_err(|e| Error::io(&changed, e))?;
        ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| Error::parquet(&changed, e))?
            .schema()
            .clone()
    };
    let mut sink = writer.batch_sink(dataset, schema)?;
    if let Rule::Keyed {
        column,
        key_dataset,
        key_column,
    } = rule(dataset)
    {
        let replaced = keys(&changes.file(key_dataset), key_column)?;
        let from = base.file(dataset);
        copy(&from, &mut sink, |batch| {
            let values = int_column(batch, column, &from)?;
            let mask: BooleanArray = values
                .iter()
                .map(|v| Some(!v.is_some_and(|v| replaced.contains(&v))))
                .collect();
            Ok(Some(mask))
        })?;
    }
    copy(&changed, &mut sink, |_| Ok(None))?;
    sink.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dataset_has_a_rule_and_keyed_ones_name_columns_of_their_schema() {
        use crate::model::*;
        let schemas = [
            (CentraOrder::FILE, CentraOrder::schema()),
            (CentraOrderLine::FILE, CentraOrderLine::schema()),
            (CentraShipment::FILE, CentraShipment::schema()),
            (CentraShipmentLine::FILE, CentraShipmentLine::schema()),
            (OwOrder::FILE, OwOrder::schema()),
            (OwOrderLine::FILE, OwOrderLine::schema()),
            (OwDespatch::FILE, OwDespatch::schema()),
            (OwDespatchLine::FILE, OwDespatchLine::schema()),
        ];
        let keyed: Vec<&str> = DATASETS
            .iter()
            .copied()
            .filter(|d| rule(d) != Rule::Reread)
            .collect();
        assert_eq!(keyed.len(), schemas.len(), "{keyed:?}");
        for (file, schema) in schemas {
            let Rule::Keyed {
                column,
                key_dataset,
                key_column,
            } = rule(file)
            else {
                panic!("{file} must be keyed: it is read by change time");
            };
            assert!(schema.field_with_name(column).is_ok(), "{file}.{column}");
            let key_schema = schemas_of(key_dataset);
            assert!(
                key_schema.field_with_name(key_column).is_ok(),
                "{key_dataset}.{key_column}"
            );
        }
        for d in [
            "centra/stock",
            "centra/products",
            "orderwise/stock",
            "orderwise/variants",
        ] {
            assert_eq!(rule(d), Rule::Reread, "{d}");
        }
    }

    /// Snapshots were written with Snappy until stop 20, with LZ4_RAW since, and with their integer
    /// columns delta-packed since stop 24 (and text whose values do not repeat delta-length encoded
    /// since stop 25): a refresh reads its base with this reader, so all must come back row for row.
    #[test]
    fn the_reader_reads_snappy_lz4_raw_and_delta_packed_bases() {
        use crate::model::{CentraMarket, Row};
        use parquet::basic::Compression;
        let rows = vec![
            CentraMarket {
                market_id: 1,
                market: "United Kingdom".into(),
                ..Default::default()
            },
            CentraMarket {
                market_id: 2,
                market: "Europe".into(),
                ..Default::default()
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        let with = |compression| {
            parquet::file::properties::WriterProperties::builder()
                .set_compression(compression)
                .build()
        };
        for (name, props) in [
            ("snappy", with(Compression::SNAPPY)),
            ("lz4_raw", with(Compression::LZ4_RAW)),
            (
                "delta",
                crate::snapshot::writer::properties(
                    &CentraMarket::schema(),
                    Some(&CentraMarket::to_batch(&rows)),
                ),
            ),
        ] {
            let path = dir.path().join(format!("{name}.parquet"));
            let file = File::create(&path).unwrap();
            let mut w =
                parquet::arrow::ArrowWriter::try_new(file, CentraMarket::schema(), Some(props))
                    .unwrap();
            w.write(&CentraMarket::to_batch(&rows)).unwrap();
            w.close().unwrap();
            let batches: Vec<_> = reader(&path).unwrap().map(|b| b.unwrap()).collect();
            assert_eq!(batches, vec![CentraMarket::to_batch(&rows)], "{name}");
        }
    }

    fn schemas_of(dataset: &str) -> arrow::datatypes::SchemaRef {
        use crate::model::*;
        match dataset {
            "centra/orders" => CentraOrder::schema(),
            "orderwise/orders" => OwOrder::schema(),
            "orderwise/order_lines" => OwOrderLine::schema(),
            "orderwise/despatches" => OwDespatch::schema(),
            "orderwise/despatch_lines" => OwDespatchLine::schema(),
            other => panic!("{other} is not a key dataset"),
        }
    }
}
