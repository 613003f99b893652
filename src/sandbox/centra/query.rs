//! The query root: what the connector reads (orders, products, sizes, markets, warehouses,
//! rate limits), with the contract's paging and filters.

use std::sync::Arc;

use async_graphql::{Context, Object, Result};

use crate::sandbox::server::Shared;
use crate::sandbox::world;

use super::types::*;

pub struct Query;

#[Object]
impl Query {
    async fn rate_limits(&self, ctx: &Context<'_>) -> Vec<RateLimit> {
        ctx.data_unchecked::<Arc<Shared>>().rate_limits()
    }

    async fn stores(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Store>> {
        let (start, end) = page_range(limit, page)?;
        let w = ctx
            .data_unchecked::<Arc<Shared>>()
            .world
            .read()
            .expect("world lock");
        Ok((0..w.stores.len())
            .skip(start)
            .take(end - start)
            .map(|i| store(&w, i))
            .collect())
    }

    async fn markets(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Market>> {
        let (start, end) = page_range(limit, page)?;
        let w = ctx
            .data_unchecked::<Arc<Shared>>()
            .world
            .read()
            .expect("world lock");
        Ok((0..w.markets.len())
            .skip(start)
            .take(end - start)
            .map(|i| market(&w, i))
            .collect())
    }

    async fn warehouses(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Warehouse>> {
        let (start, end) = page_range(limit, page)?;
        let w = ctx
            .data_unchecked::<Arc<Shared>>()
            .world
            .read()
            .expect("world lock");
        Ok(w.warehouses
            .iter()
            .skip(start)
            .take(end - start)
            .map(|wh| Warehouse {
                id: wh.id as i32,
                name: wh.name.into(),
            })
            .collect())
    }

    async fn order_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] first: Option<i32>,
        after: Option<String>,
        #[graphql(name = "where")] filter: Option<OrderFilter>,
        #[graphql(default_with = "Some(vec![OrderSort::IdAsc])")] sort: Option<Vec<OrderSort>>,
    ) -> Result<OrderConnection> {
        let first = first.unwrap_or(20);
        if !(1..=200).contains(&first) {
            return Err(format!("first must be between 1 and 200, got {first}").into());
        }
        let start = match &after {
            None => 0,
            Some(c) => decode_cursor(c).ok_or("after is not a cursor this API issued")? + 1,
        };
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let w = shared.world.read().expect("world lock");
        let sort = sort
            .unwrap_or_default()
            .first()
            .copied()
            .unwrap_or(OrderSort::IdAsc);
        let n = w.orders.len();
        // Position -> order index under the sort; only updatedAt needs a sorted copy.
        let by_updated: Vec<usize> = if sort == OrderSort::UpdatedAtAsc {
            let mut v: Vec<usize> = (0..n).collect();
            v.sort_by_key(|&i| (w.orders[i].updated_at, i));
            v
        } else {
            Vec::new()
        };
        let at = |p: usize| match sort {
            OrderSort::IdAsc | OrderSort::NumberAsc => p,
            OrderSort::IdDesc | OrderSort::NumberDesc => n - 1 - p,
            OrderSort::UpdatedAtAsc => by_updated[p],
        };
        let matches = |i: usize| filter.as_ref().is_none_or(|f| f.matches(&w.orders[i], &w));
        let mut edges = Vec::new();
        let mut last = None;
        let mut position = start;
        while position < n && edges.len() < first as usize {
            let i = at(position);
            if matches(i) {
                edges.push(OrderEdge {
                    cursor: cursor(position),
                    node: Order::DirectToConsumerOrder(DirectToConsumerOrder::new(
                        &w,
                        &w.orders[i],
                        shared,
                    )),
                });
                last = Some(position);
            }
            position += 1;
        }
        let has_next_page = (position..n).any(|p| matches(at(p)));
        drop(w);
        Ok(OrderConnection {
            shared: shared.clone(),
            filter,
            page_info: PageInfo {
                has_next_page,
                end_cursor: last.map(cursor),
            },
            edges,
        })
    }

    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] filter: Option<ProductFilter>,
        #[graphql(default_with = "Some(vec![ProductSort::IdAsc])")] sort: Option<Vec<ProductSort>>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Product>> {
        let (start, end) = page_range(limit, page)?;
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let w = shared.world.read().expect("world lock");
        let mut selected: Vec<&world::Product> = w
            .products
            .iter()
            .filter(|p| {
                filter.as_ref().is_none_or(|f| {
                    f.status.as_ref().is_none_or(|s| {
                        s.iter().any(|s| {
                            matches!(
                                (s, p.status),
                                (ProductStatus::Active, "ACTIVE")
                                    | (ProductStatus::Inactive, "INACTIVE")
                                    | (ProductStatus::Cancelled, "CANCELLED")
                            )
                        })
                    }) && in_range(p.updated_at, &f.updated_at)
                })
            })
            .collect();
        if sort.unwrap_or_default().first() == Some(&ProductSort::IdDesc) {
            selected.reverse();
        }
        Ok(selected
            .into_iter()
            .skip(start)
            .take(end - start)
            .map(|p| Product {
                product: p.clone(),
                sizes: p
                    .variants
                    .iter()
                    .map(|v| {
                        v.sizes
                            .iter()
                            .map(|&s| ProductSize::new(&w, s, shared))
                            .collect()
                    })
                    .collect(),
                tz: w.timezone,
            })
            .collect())
    }

    async fn product_sizes(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] filter: Option<ProductSizeFilter>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<ProductSize>> {
        let (start, end) = page_range(limit, page)?;
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let w = shared.world.read().expect("world lock");
        Ok(w.sizes
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                filter.as_ref().is_none_or(|f| {
                    f.sku.as_ref().is_none_or(|k| k.contains(&s.sku))
                        && f.ean
                            .as_ref()
                            .is_none_or(|e| s.ean.as_ref().is_some_and(|x| e.contains(x)))
                })
            })
            .skip(start)
            .take(end - start)
            .map(|(i, _)| ProductSize::new(&w, i, shared))
            .collect())
    }
}
