//! Writing a snapshot: Parquet files streamed batch by batch into a temporary directory, hashed as
//! they are written, then the manifest, then one rename. Dropped without [`SnapshotWriter::commit`]
//! (an error, a panic, a cancelled task), the temporary directory is removed.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, SchemaRef};
use chrono::{DateTime, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use sha2::{Digest, Sha256};

use super::{Error, FileEntry, MANIFEST, Manifest};
use crate::model::Row;

/// Rows buffered before a record batch is written.
const BATCH_ROWS: usize = 8192;
/// Rows per Parquet row group. The writer holds a row group's encoded columns in memory until it is
/// full, so this bounds extraction memory whatever the number of orders.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// The layout [`properties`] gives a snapshot's Parquet files, named. Readers do not need it: every
/// version of tally reads every layout. Benches that keep a snapshot between runs (`benches/scale.rs`
/// keeps ten million orders) write it again when this changes, so a change to the writer is
/// measured on files it wrote. Change it with [`properties`].
pub const LAYOUT: &str = "integers delta-packed; text dictionary, or delta-length where mostly \
                          distinct; LZ4_RAW; 65,536-row groups";

/// How every dataset file is written. Text columns: dictionary pages where the values repeat, and
/// LZ4_RAW, not Snappy: the same size (10M orders: 4.5 GB either way), and DuckDB decodes it for
/// less (Snappy's decoder was 8.7% of reconcile's CPU at 10M; with LZ4_RAW the whole catalogue used
/// 101 s of CPU against 104-106 s). Text columns whose values hardly repeat (tracking numbers,
/// references, ids, times as written) are DELTA_LENGTH_BYTE_ARRAY instead, LZ4_RAW too: a
/// dictionary of values that do not repeat is the values again plus an index per row, and DuckDB
/// read OrderWise's despatches stored so in half the time (tracking numbers tested for text in
/// 0.15 s against 0.30 s). Which columns those are is learnt from the file's first record batch
/// (`first`; see [`mostly_distinct`]), so a client whose SKUs never repeat gets the same choice.
/// Columns stored as integers (ids, numbers, quantities, money in minor units, timestamps):
/// DELTA_BINARY_PACKED, uncompressed. Ids and order numbers rise row by row, so each value takes a
/// few bits instead of eight bytes that LZ4 then had to unpack on every read: a Centra order line
/// file's `order_number` and `line_id` took 222 MB compressed, 3 MB so, and DuckDB summed them in
/// 0.08 s against 0.29 s. Older snapshots read as before; any Parquet reader (Spark, Trino,
/// polars) reads these encodings.
pub(crate) fn properties(schema: &SchemaRef, first: Option<&RecordBatch>) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(concat!("tally ", env!("CARGO_PKG_VERSION")).into());
    for (i, field) in schema.fields().iter().enumerate() {
        let column = ColumnPath::from(field.name().as_str());
        if stored_as_integers(field.data_type()) {
            props = props
                .set_column_dictionary_enabled(column.clone(), false)
                .set_column_encoding(column.clone(), Encoding::DELTA_BINARY_PACKED)
                .set_column_compression(column, Compression::UNCOMPRESSED);
        } else if first.is_some_and(|batch| mostly_distinct(batch.column(i))) {
            props = props
                .set_column_dictionary_enabled(column.clone(), false)
                .set_column_encoding(column, Encoding::DELTA_LENGTH_BYTE_ARRAY);
        }
    }
    props.build()
}

/// Whether a text column's values mostly differ from each other: more than half of its non-null
/// values distinct. Other columns (SKUs, statuses, markets, which the checks group and join on)
/// keep their dictionaries.
fn mostly_distinct(column: &ArrayRef) -> bool {
    let Some(text) = column.as_any().downcast_ref::<StringArray>() else {
        return false;
    };
    let values: HashSet<&str> = text.iter().flatten().collect();
    let present = text.len() - text.null_count();
    present > 0 && values.len() * 2 > present
}

/// Whether Parquet stores a column of `data_type` as INT32 or INT64, the types
/// DELTA_BINARY_PACKED encodes.
fn stored_as_integers(data_type: &DataType) -> bool {
    match data_type {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => true,
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => true,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) => true,
        DataType::Decimal128(precision, _) => *precision <= 18,
        _ => false,
    }
}

/// Prefix of the temporary directory a snapshot is written in.
pub const PARTIAL_PREFIX: &str = ".partial-";

/// A snapshot being written.
pub struct SnapshotWriter {
    root: PathBuf,
    tmp: PathBuf,
    id: String,
    started: DateTime<Utc>,
    committed: bool,
}

impl SnapshotWriter {
    /// Starts a snapshot under `root` (created if needed), at `started`.
    pub fn create(root: &Path, started: DateTime<Utc>) -> Result<SnapshotWriter, Error> {
        std::fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
        let id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
        let tmp = root.join(format!("{PARTIAL_PREFIX}{id}"));
        for sub in ["centra", "orderwise"] {
            let d = tmp.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        }
        Ok(SnapshotWriter {
            root: root.to_path_buf(),
            tmp,
            id,
            started,
            committed: false,
        })
    }

    /// The snapshot's short id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The temporary directory (for tests that look inside a run).
    pub fn partial_dir(&self) -> &Path {
        &self.tmp
    }

    /// Opens the Parquet file of dataset `R`.
    pub fn sink<R: Row>(&self) -> Result<Sink<R>, Error> {
        Ok(Sink {
            file: self.batch_sink(R::FILE, R::schema())?,
            buffer: Vec::with_capacity(BATCH_ROWS),
        })
    }

    /// Opens the Parquet file of a dataset (`centra/orders`) that takes whole record batches of
    /// `schema`: how a refresh copies rows of a base snapshot without decoding them into structs.
    pub fn batch_sink(&self, dataset: &str, schema: SchemaRef) -> Result<BatchSink, Error> {
        let path = self.tmp.join(format!("{dataset}.parquet"));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let out = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        Ok(BatchSink {
            writer: None,
            unopened: Some((out, schema)),
            rows: 0,
            path,
            file: format!("{dataset}.parquet"),
        })
    }

    /// Writes the manifest and renames the directory into place; returns the snapshot's path.
    pub fn commit(mut self, mut manifest: Manifest) -> Result<PathBuf, Error> {
        manifest.snapshot_id = self.id.clone();
        let path = self.tmp.join(MANIFEST);
        let text = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
        let mut f = File::create(&path).map_err(|e| Error::io(&path, e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| Error::io(&path, e))?;
        f.sync_all().map_err(|e| Error::io(&path, e))?;
        let name = format!("{}-{}", self.started.format("%Y%m%dT%H%M%SZ"), self.id);
        let dest = self.root.join(name);
        std::fs::rename(&self.tmp, &dest).map_err(|e| Error::io(&dest, e))?;
        if let Ok(dir) = File::open(&self.root) {
            let _ = dir.sync_all();
        }
        self.committed = true;
        Ok(dest)
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// A `Write` that hashes and counts what passes through, so the manifest's SHA-256 costs no reread.
struct HashingWriter {
    inner: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The Parquet file of one dataset, taking record batches. The Parquet writer is opened at the
/// first batch, whose values choose the text columns' encodings (see [`properties`]).
pub struct BatchSink {
    writer: Option<ArrowWriter<HashingWriter>>,
    /// The file and its schema until the first batch opens the writer.
    unopened: Option<(HashingWriter, SchemaRef)>,
    rows: u64,
    path: PathBuf,
    file: String,
}

impl BatchSink {
    /// Writes one record batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Error> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.writer(Some(batch))?
            .write(batch)
            .map_err(|e| Error::parquet(&self.path, e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// The Parquet writer, opened with the encodings `first` calls for if it is not open yet.
    fn writer(
        &mut self,
        first: Option<&RecordBatch>,
    ) -> Result<&mut ArrowWriter<HashingWriter>, Error> {
        if let Some((out, schema)) = self.unopened.take() {
            let props = properties(&schema, first);
            let writer = ArrowWriter::try_new(out, schema, Some(props))
                .map_err(|e| Error::parquet(&self.path, e))?;
            self.writer = Some(writer);
        }
        Ok(self.writer.as_mut().expect("opened above or before"))
    }

    /// Closes the file and returns its manifest entry.
    pub fn finish(mut self) -> Result<FileEntry, Error> {
        self.writer(None)?;
        let writer = self.writer.take().expect("opened above");
        let out = writer
            .into_inner()
            .map_err(|e| Error::parquet(&self.path, e))?;
        let HashingWriter {
            inner,
            hasher,
            bytes,
        } = out;
        let file = inner
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        Ok(FileEntry {
            file: self.file,
            rows: self.rows,
            bytes,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// The Parquet file of one dataset, taking rows as they arrive.
pub struct Sink<R: Row> {
    file: BatchSink,
    buffer: Vec<R>,
}

impl<R: Row> Sink<R> {
    /// Adds a row; a full buffer is written as one record batch.
    pub fn push(&mut self, row: R) -> Result<(), Error> {
        self.buffer.push(row);
        if self.buffer.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.file.write(&R::to_batch(&self.buffer))?;
        self.buffer.clear();
        Ok(())
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.file.rows + self.buffer.len() as u64
    }

    /// Closes the file and returns its manifest entry.
    pub fn finish(mut self) -> Result<FileEntry, Error> {
        self.flush()?;
        self.file.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CentraMarket;

    #[test]
    fn integer_columns_are_delta_packed_and_text_lz4_raw_by_dictionary_or_length() {
        let root = tempfile::tempdir().unwrap();
        let writer = SnapshotWriter::create(root.path(), Utc::now()).unwrap();
        let mut sink = writer.sink::<CentraMarket>().unwrap();
        for id in 1..=3 {
            sink.push(CentraMarket {
                market_id: id,
                market: format!("Market {id}"), // every value distinct
                store: "Retail".into(),         // one value
                store_type: ["A", "B", "A"][id as usize - 1].into(), // two of three distinct
                ..Default::default()
            })
            .unwrap();
        }
        sink.finish().unwrap();
        let path = writer.partial_dir().join("centra/markets.parquet");
        let file = File::open(&path).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        let meta = parquet::file::reader::FileReader::metadata(&reader);
        assert_eq!(meta.file_metadata().num_rows(), 3);
        let mut seen = Vec::new();
        for column in meta.row_group(0).columns() {
            let name = column.column_path().string();
            let (compression, encoding) = match name.as_str() {
                "market_id" | "store_id" => {
                    (Compression::UNCOMPRESSED, Encoding::DELTA_BINARY_PACKED)
                }
                "market" | "store_type" => {
                    (Compression::LZ4_RAW, Encoding::DELTA_LENGTH_BYTE_ARRAY)
                }
                _ => (Compression::LZ4_RAW, Encoding::RLE_DICTIONARY),
            };
            assert_eq!(column.compression(), compression, "{name}");
            let encodings: Vec<Encoding> = column.encodings().collect();
            assert!(encodings.contains(&encoding), "{name}: {encodings:?}");
            assert_eq!(
                encodings.contains(&Encoding::RLE_DICTIONARY),
                encoding == Encoding::RLE_DICTIONARY,
                "{name}: {encodings:?}"
            );
            seen.push(name);
        }
        assert_eq!(
            seen,
            ["market_id", "market", "store_id", "store", "store_type"]
        );
    }

    #[test]
    fn a_file_without_rows_is_written_with_its_schema() {
        let root = tempfile::tempdir().unwrap();
        let writer = SnapshotWriter::create(root.path(), Utc::now()).unwrap();
        let entry = writer.sink::<CentraMarket>().unwrap().finish().unwrap();
        assert_eq!(entry.rows, 0);
        let path = writer.partial_dir().join("centra/markets.parquet");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            File::open(&path).unwrap(),
        )
        .unwrap();
        assert_eq!(reader.schema(), &CentraMarket::schema());
    }

    #[test]
    fn integers_money_and_times_are_what_parquet_stores_as_integers() {
        use arrow::datatypes::TimeUnit;
        assert!(stored_as_integers(&DataType::Int64));
        assert!(stored_as_integers(&DataType::Decimal128(18, 4)));
        assert!(stored_as_integers(&DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into())
        )));
        // Wider decimals are fixed-length byte arrays, which the encoding does not take.
        assert!(!stored_as_integers(&DataType::Decimal128(38, 4)));
        assert!(!stored_as_integers(&DataType::Utf8));
        assert!(!stored_as_integers(&DataType::Boolean));
    }
}
