//! The simulated Centra Integration API: a real GraphQL schema (async-graphql) implementing
//! `contracts/centra.graphql` type for type, argument for argument, over the sandbox's
//! [`World`](super::World). Transport rules (tokens, throttling, faults) live in
//! [`super::server`]; this module is the schema, in three rooms:
//!
//! - [`types`]: the contract's types, enums, scalars and filters, each resolving from the world;
//! - [`query`]: the query root (`orderConnection`, `products`, `productSizes`, ...);
//! - [`mutation`]: the mutations with the rules Centra applies (`changeStock`, `setStock`,
//!   `createShipment`, `completeShipment`).

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema};

use super::server::Shared;

pub mod mutation;
pub mod query;
pub mod types;

pub use mutation::Mutation;
pub use query::Query;
pub use types::*;

/// The sandbox's Centra schema type.
pub type CentraSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema over shared sandbox state.
pub fn schema(shared: Arc<Shared>) -> CentraSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .data(shared)
        .finish()
}
