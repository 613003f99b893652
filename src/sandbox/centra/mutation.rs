//! The mutations and the rules Centra applies to them: stock moves that may not go below zero,
//! shipments only of what is left to ship, completion only once. Each answers `userErrors` as
//! Centra does, never a silent success.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::sandbox::server::Shared;
use crate::sandbox::world::{self, Status, World};

use super::types::*;

#[derive(InputObject)]
pub struct WarehouseInput {
    pub(super) id: Option<i32>,
}
#[derive(InputObject)]
pub struct ProductSizeInput {
    pub(super) id: Option<i32>,
    #[graphql(name = "SKU")]
    pub(super) sku: Option<String>,
    #[graphql(name = "EAN")]
    pub(super) ean: Option<String>,
}
#[derive(InputObject)]
pub struct StockSetProductSizeInput {
    pub(super) product_size: ProductSizeInput,
    pub(super) quantity: i32,
}
#[derive(InputObject)]
pub struct StockSetInput {
    pub(super) warehouse: WarehouseInput,
    pub(super) description: String,
    pub(super) stock_quantity_type: StockQuantityType,
    pub(super) product_sizes: Vec<StockSetProductSizeInput>,
}
#[derive(InputObject)]
pub struct StockChangeProductSizeInput {
    pub(super) product_size: ProductSizeInput,
    pub(super) quantity: i32,
}
#[derive(InputObject)]
pub struct StockChangeInput {
    pub(super) into_warehouse: Option<WarehouseInput>,
    pub(super) out_from_warehouse: Option<WarehouseInput>,
    pub(super) description: String,
    pub(super) product_sizes: Vec<StockChangeProductSizeInput>,
}
#[derive(SimpleObject, Default)]
pub struct StockSetPayload {
    pub(super) user_errors: Vec<UserError>,
    pub(super) user_warnings: Vec<UserWarning>,
}
#[derive(SimpleObject, Default)]
pub struct StockChangePayload {
    pub(super) user_errors: Vec<UserError>,
    pub(super) user_warnings: Vec<UserWarning>,
}
#[derive(InputObject)]
pub struct OrderInput {
    pub(super) id: Option<String>,
    pub(super) number: Option<i32>,
}
#[derive(InputObject)]
pub struct OrderLineInput {
    pub(super) id: i32,
}
#[derive(InputObject)]
pub struct ShipmentLineInput {
    pub(super) order_line: OrderLineInput,
    pub(super) quantity: i32,
}
#[derive(InputObject)]
pub struct ShipmentCreateInput {
    pub(super) order: OrderInput,
    pub(super) lines: Vec<ShipmentLineInput>,
    pub(super) is_good_to_go: Option<bool>,
    pub(super) send_email: Option<bool>,
}
#[derive(InputObject)]
pub struct ShipmentInfoInput {
    pub(super) carrier: Option<String>,
    pub(super) service: Option<String>,
    pub(super) tracking_number: Option<String>,
    pub(super) packages_number: Option<i32>,
}
#[derive(InputObject)]
pub struct ShipmentCompleteInput {
    pub(super) shipped_at: Option<DateTimeTz>,
    pub(super) send_email: Option<bool>,
    pub(super) shipment_info: Option<ShipmentInfoInput>,
}
#[derive(SimpleObject, Default)]
pub struct ShipmentCreatePayload {
    pub(super) shipment: Option<Shipment>,
    pub(super) user_errors: Vec<UserError>,
    pub(super) user_warnings: Vec<UserWarning>,
}
#[derive(SimpleObject, Default)]
pub struct ShipmentCompletePayload {
    pub(super) shipment: Option<Shipment>,
    pub(super) user_errors: Vec<UserError>,
    pub(super) user_warnings: Vec<UserWarning>,
}

pub(super) fn user_error(message: impl Into<String>, path: &[&str]) -> UserError {
    UserError {
        message: message.into(),
        path: Some(path.iter().map(|s| s.to_string()).collect()),
    }
}

pub(super) fn find_size(w: &World, input: &ProductSizeInput) -> Option<usize> {
    w.sizes.iter().position(|s| {
        input.id.is_some_and(|id| id as i64 == s.id)
            || input.sku.as_ref().is_some_and(|k| *k == s.sku)
            || input
                .ean
                .as_ref()
                .is_some_and(|e| s.ean.as_ref() == Some(e))
    })
}

pub(super) fn find_warehouse(w: &World, input: &WarehouseInput) -> Option<usize> {
    w.warehouses
        .iter()
        .position(|wh| input.id == Some(wh.id as i32))
}

pub(super) fn stock_row(w: &mut World, size: usize, warehouse: usize) -> &mut world::CentraStock {
    if let Some(i) = w
        .centra_stock
        .iter()
        .position(|s| s.size == size && s.warehouse == warehouse)
    {
        &mut w.centra_stock[i]
    } else {
        w.centra_stock.push(world::CentraStock {
            size,
            warehouse,
            free: 0,
            allocated: 0,
        });
        w.centra_stock.last_mut().expect("just pushed")
    }
}

pub(super) fn shipment_view(
    w: &World,
    o: &world::Order,
    s: &world::Shipment,
    shared: &Arc<Shared>,
) -> Shipment {
    DirectToConsumerOrder::new(w, o, shared).shipment(s)
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Sets absolute levels per size in one warehouse; all-or-nothing.
    async fn set_stock(&self, ctx: &Context<'_>, input: StockSetInput) -> StockSetPayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let Some(wh) = find_warehouse(&w, &input.warehouse) else {
            return StockSetPayload {
                user_errors: vec![user_error("unknown warehouse", &["input", "warehouse"])],
                ..Default::default()
            };
        };
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        for (i, ps) in input.product_sizes.iter().enumerate() {
            match find_size(&w, &ps.product_size) {
                _ if ps.quantity < 0 => errors.push(user_error(
                    "quantity must be zero or more",
                    &["input", "productSizes", &i.to_string(), "quantity"],
                )),
                None => errors.push(user_error(
                    "unknown product size",
                    &["input", "productSizes", &i.to_string(), "productSize"],
                )),
                Some(s) => changes.push((s, ps.quantity as i64)),
            }
        }
        if !errors.is_empty() {
            return StockSetPayload {
                user_errors: errors,
                ..Default::default()
            };
        }
        for (s, q) in changes {
            let row = stock_row(&mut w, s, wh);
            row.free = match input.stock_quantity_type {
                StockQuantityType::FreeToAllocate => q,
                StockQuantityType::Physical => (q - row.allocated).max(0),
            };
        }
        StockSetPayload::default()
    }

    /// Adds (`intoWarehouse`) or removes (`outFromWarehouse`) units per size; never below zero.
    async fn change_stock(&self, ctx: &Context<'_>, input: StockChangeInput) -> StockChangePayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let (wh, sign) = match (&input.into_warehouse, &input.out_from_warehouse) {
            (Some(into), None) => (find_warehouse(&w, into), 1),
            (None, Some(out)) => (find_warehouse(&w, out), -1),
            _ => {
                return StockChangePayload {
                    user_errors: vec![user_error(
                        "give exactly one of intoWarehouse and outFromWarehouse",
                        &["input"],
                    )],
                    ..Default::default()
                };
            }
        };
        let Some(wh) = wh else {
            return StockChangePayload {
                user_errors: vec![user_error("unknown warehouse", &["input"])],
                ..Default::default()
            };
        };
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        for (i, ps) in input.product_sizes.iter().enumerate() {
            let at = i.to_string();
            match find_size(&w, &ps.product_size) {
                _ if ps.quantity <= 0 => errors.push(user_error(
                    "quantity must be positive",
                    &["input", "productSizes", &at, "quantity"],
                )),
                None => errors.push(user_error(
                    "unknown product size",
                    &["input", "productSizes", &at, "productSize"],
                )),
                Some(s) => {
                    let free = w
                        .centra_stock
                        .iter()
                        .find(|r| r.size == s && r.warehouse == wh)
                        .map_or(0, |r| r.free);
                    if free + sign * (ps.quantity as i64) < 0 {
                        errors.push(user_error(
                            format!(
                                "only {free} free to allocate; cannot remove {}",
                                ps.quantity
                            ),
                            &["input", "productSizes", &at, "quantity"],
                        ));
                    } else {
                        changes.push((s, sign * ps.quantity as i64));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return StockChangePayload {
                user_errors: errors,
                ..Default::default()
            };
        }
        for (s, delta) in changes {
            stock_row(&mut w, s, wh).free += delta;
        }
        StockChangePayload::default()
    }

    /// Creates an unshipped shipment for quantities not yet in another shipment.
    async fn create_shipment(
        &self,
        ctx: &Context<'_>,
        input: ShipmentCreateInput,
    ) -> ShipmentCreatePayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let found = w.orders.iter().position(|o| {
            input.order.id.as_ref().is_some_and(|id| *id == o.id)
                || input.order.number.is_some_and(|n| n as i64 == o.number)
        });
        let fail = |m: &str, path: &[&str]| ShipmentCreatePayload {
            user_errors: vec![user_error(m, path)],
            ..Default::default()
        };
        let Some(oi) = found else {
            return fail("unknown order", &["input", "order"]);
        };
        if input.lines.is_empty() {
            return fail("a shipment needs at least one line", &["input", "lines"]);
        }
        let next_line_id = w
            .orders
            .iter()
            .flat_map(|o| &o.shipments)
            .flat_map(|s| &s.lines)
            .map(|l| l.0)
            .max()
            .unwrap_or(0);
        let next_shipment_id = w
            .orders
            .iter()
            .flat_map(|o| &o.shipments)
            .map(|s| s.id)
            .max()
            .unwrap_or(0)
            + 1;
        let now = shared.clock.now();
        let o = &mut w.orders[oi];
        if matches!(o.status, Status::Cancelled | Status::Pending) {
            return fail("order cannot be shipped in its status", &["input", "order"]);
        }
        let mut lines = Vec::new();
        for (i, l) in input.lines.iter().enumerate() {
            let Some(li) = o.lines.iter().position(|x| x.id == l.order_line.id as i64) else {
                return fail("unknown order line", &["input", "lines", &i.to_string()]);
            };
            let in_shipments: i64 = o
                .shipments
                .iter()
                .flat_map(|s| &s.lines)
                .filter(|x| x.1 == li)
                .map(|x| x.2)
                .sum();
            if l.quantity <= 0 || in_shipments + l.quantity as i64 > o.lines[li].quantity {
                return fail(
                    "quantity exceeds what is left to ship",
                    &["input", "lines", &i.to_string(), "quantity"],
                );
            }
            lines.push((next_line_id + 1 + i as i64, li, l.quantity as i64));
        }
        let shipment = world::Shipment {
            id: next_shipment_id,
            n: o.shipments.len() as u32 + 1,
            created_at: now,
            updated_at: now,
            shipped_at: None,
            tracking: None,
            carrier: None,
            lines,
        };
        o.shipments.push(shipment.clone());
        o.updated_at = now;
        let o = w.orders[oi].clone();
        ShipmentCreatePayload {
            shipment: Some(shipment_view(&w, &o, &shipment, shared)),
            ..Default::default()
        }
    }

    /// Marks a shipment shipped with its tracking and carrier; the order's status follows.
    async fn complete_shipment(
        &self,
        ctx: &Context<'_>,
        id: i32,
        input: ShipmentCompleteInput,
    ) -> ShipmentCompletePayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let found = w.orders.iter().enumerate().find_map(|(oi, o)| {
            o.shipments
                .iter()
                .position(|s| s.id == id as i64)
                .map(|si| (oi, si))
        });
        let Some((oi, si)) = found else {
            return ShipmentCompletePayload {
                user_errors: vec![user_error("unknown shipment", &["id"])],
                ..Default::default()
            };
        };
        if w.orders[oi].shipments[si].shipped_at.is_some() {
            return ShipmentCompletePayload {
                user_errors: vec![user_error("shipment is already completed", &["id"])],
                ..Default::default()
            };
        }
        let now = shared.clock.now();
        let market_wh = w.markets[w.orders[oi].market].warehouse;
        let shipped: Vec<(usize, i64)> = {
            let o = &mut w.orders[oi];
            let s = &mut o.shipments[si];
            s.shipped_at = Some(input.shipped_at.map_or(now, |t| t.at.to_utc()));
            s.updated_at = now;
            if let Some(info) = &input.shipment_info {
                s.tracking = info.tracking_number.clone();
                s.carrier = Some((
                    info.carrier.clone().unwrap_or_default(),
                    info.service.clone().unwrap_or_default(),
                ));
            }
            let shipped = s
                .lines
                .iter()
                .map(|&(_, li, q)| (o.lines[li].size, q))
                .collect();
            let all_shipped = o
                .lines
                .iter()
                .enumerate()
                .all(|(li, l)| o.shipped_units(li) >= l.quantity);
            o.status = if all_shipped {
                Status::Shipped
            } else {
                Status::Processing
            };
            o.updated_at = now;
            shipped
        };
        // Centra decrements stock itself when it ships: the allocated units leave.
        for (size, q) in shipped {
            let row = stock_row(&mut w, size, market_wh);
            row.allocated = (row.allocated - q).max(0);
        }
        let o = w.orders[oi].clone();
        let s = o.shipments[si].clone();
        ShipmentCompletePayload {
            shipment: Some(shipment_view(&w, &o, &s, shared)),
            ..Default::default()
        }
    }
}
