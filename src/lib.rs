//! tally reconciles Centra (the shop, GraphQL) with OrderWise (the ERP and warehouse, REST).
//!
//! Each stage is a module with typed inputs and outputs, reading what the previous one wrote:
//!
//! ```text
//! connectors ──> extract ──> snapshot (Parquet + manifest) ──> reconcile (DuckDB, queries/*.sql)
//!                                                               └─> report (minijinja, reports/)
//! ```
//!
//! On a schedule, [`run`] refreshes a [`store`]'s snapshot ([`refresh`]: full or incremental),
//! reconciles it, folds the exceptions into the [`history`] and posts [`alerts`].
//!
//! [`sandbox`] simulates both APIs over a generated business with known drift, and [`demo`] runs
//! the whole pipeline against it. Only [`connectors`] talk to the network.

pub mod alerts;
pub mod apply;
pub mod clock;
pub mod config;
pub mod connectors;
pub mod demo;
pub mod doctor;
pub mod extract;
pub mod history;
pub mod init;
pub mod model;
pub mod plan;
pub mod reconcile;
pub mod refresh;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod snapshot;
pub mod store;
