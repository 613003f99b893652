//! Centra calls `tally apply` makes: the live state of a target (a size's stock, an order's
//! shipments) and the mutations (`changeStock`, `createShipment`, `completeShipment`), each typed,
//! so nothing outside the connectors walks GraphQL JSON. A reply of another shape than the
//! contract's is an [`Error::Data`] naming the call and what was wrong.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::Error;
use super::centra::{
    CHANGE_STOCK_MUTATION, COMPLETE_SHIPMENT_MUTATION, CREATE_SHIPMENT_MUTATION, Centra,
    LIVE_STOCK_QUERY, ORDER_SHIPMENTS_QUERY,
};
use super::json::int;

/// What Centra said to a mutation besides its result: the problems that stopped it
/// (`userErrors`: nothing was changed) and the warnings it carried on with.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Answer {
    #[serde(rename = "userErrors")]
    user_errors: Vec<Message>,
    #[serde(rename = "userWarnings", default)]
    user_warnings: Vec<Message>,
}

#[derive(Debug, Clone, Deserialize)]
struct Message {
    message: String,
}

impl Answer {
    /// The `userErrors`, joined; `None` when there were none (the mutation ran).
    pub fn refused(&self) -> Option<String> {
        join(&self.user_errors)
    }
    /// The `userWarnings`, joined, if any.
    pub fn warnings(&self) -> Option<String> {
        join(&self.user_warnings)
    }
}

fn join(messages: &[Message]) -> Option<String> {
    (!messages.is_empty()).then(|| {
        messages
            .iter()
            .map(|m| m.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// Which way a `changeStock` moves units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `intoWarehouse`: adds units.
    In,
    /// `outFromWarehouse`: removes units.
    Out,
}

/// One shipment of an order as Centra has it now.
#[derive(Debug, Clone, Deserialize)]
pub struct LiveShipment {
    #[serde(deserialize_with = "int")]
    pub id: i64,
    #[serde(rename = "isShipped")]
    pub is_shipped: bool,
    pub lines: Vec<LiveShipmentLine>,
}

/// A line of a [`LiveShipment`].
#[derive(Debug, Clone, Deserialize)]
pub struct LiveShipmentLine {
    #[serde(deserialize_with = "int")]
    pub quantity: i64,
    #[serde(rename = "orderLine")]
    pub order_line: OrderLineRef,
}

/// The order line a shipment line ships.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderLineRef {
    #[serde(deserialize_with = "int")]
    pub id: i64,
}

/// What `createShipment` did: the new shipment's id, or why Centra refused it.
#[derive(Debug, Clone)]
pub enum Created {
    Shipment(i64),
    Refused(String),
}

/// Mutation `field`'s payload in a reply's data, as `T`.
fn payload<T: DeserializeOwned>(data: &serde_json::Value, field: &str) -> Result<T, Error> {
    serde_json::from_value(data[field].clone()).map_err(|e| Error::Data {
        system: "Centra",
        what: format!("{field} mutation"),
        detail: format!("the reply is not the contract's payload: {e}"),
    })
}

impl Centra {
    /// Free-to-allocate now of each SKU in `skus`, in warehouse `warehouse_id`.
    pub async fn free_stock(
        &self,
        warehouse_id: i64,
        skus: &[&str],
    ) -> Result<BTreeMap<String, i64>, Error> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(rename = "productSizes")]
            sizes: Vec<Size>,
        }
        #[derive(Deserialize)]
        struct Size {
            #[serde(rename = "SKU")]
            sku: String,
            stock: Vec<Stock>,
        }
        #[derive(Deserialize)]
        struct Stock {
            warehouse: Warehouse,
            #[serde(rename = "freeToAllocateQuantity", deserialize_with = "int")]
            free: i64,
        }
        #[derive(Deserialize)]
        struct Warehouse {
            #[serde(deserialize_with = "int")]
            id: i64,
        }
        let live: Data = self
            .query(
                "productSizes (live stock)",
                LIVE_STOCK_QUERY,
                json!({ "skus": skus, "limit": 200 }),
            )
            .await?;
        Ok(live
            .sizes
            .into_iter()
            .map(|s| {
                let free = s
                    .stock
                    .iter()
                    .filter(|st| st.warehouse.id == warehouse_id)
                    .map(|st| st.free)
                    .sum();
                (s.sku, free)
            })
            .collect())
    }

    /// `changeStock`: moves `(SKU, units)` into or out of warehouse `warehouse_id`, once.
    pub async fn change_stock(
        &self,
        warehouse_id: i64,
        direction: Direction,
        description: &str,
        sizes: &[(&str, i64)],
    ) -> Result<Answer, Error> {
        let warehouse = json!({ "id": warehouse_id });
        let (into, out) = match direction {
            Direction::In => (warehouse, serde_json::Value::Null),
            Direction::Out => (serde_json::Value::Null, warehouse),
        };
        let input = json!({
            "intoWarehouse": into,
            "outFromWarehouse": out,
            "description": description,
            "productSizes": sizes.iter().map(|(sku, q)| json!({ "productSize": { "SKU": sku }, "quantity": q })).collect::<Vec<_>>(),
        });
        let data: serde_json::Value = self
            .mutate(
                "changeStock",
                CHANGE_STOCK_MUTATION,
                json!({ "input": input }),
            )
            .await?;
        payload(&data, "changeStock")
    }

    /// The shipments of order `number` as Centra has them now.
    pub async fn order_shipments(&self, number: i64) -> Result<Vec<LiveShipment>, Error> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(rename = "orderConnection")]
            connection: Connection,
        }
        #[derive(Deserialize)]
        struct Connection {
            edges: Vec<Edge>,
        }
        #[derive(Deserialize)]
        struct Edge {
            node: Node,
        }
        #[derive(Deserialize)]
        struct Node {
            shipments: Vec<LiveShipment>,
        }
        let live: Data = self
            .query(
                &format!("order {number} shipments"),
                ORDER_SHIPMENTS_QUERY,
                json!({ "number": number }),
            )
            .await?;
        Ok(live
            .connection
            .edges
            .into_iter()
            .flat_map(|e| e.node.shipments)
            .collect())
    }

    /// `createShipment`: an unshipped shipment of `(order line id, units)` on order `number`, once.
    pub async fn create_shipment(
        &self,
        number: i64,
        lines: &[(i64, i64)],
    ) -> Result<Created, Error> {
        #[derive(Deserialize)]
        struct Payload {
            #[serde(flatten)]
            answer: Answer,
            shipment: Option<ShipmentId>,
        }
        #[derive(Deserialize)]
        struct ShipmentId {
            #[serde(deserialize_with = "int")]
            id: i64,
        }
        let input = json!({
            "order": { "number": number },
            "lines": lines.iter().map(|(line, q)| json!({ "orderLine": { "id": line }, "quantity": q })).collect::<Vec<_>>(),
            "isGoodToGo": true,
            "sendEmail": false,
        });
        let data: serde_json::Value = self
            .mutate(
                "createShipment",
                CREATE_SHIPMENT_MUTATION,
                json!({ "input": input }),
            )
            .await?;
        let p: Payload = payload(&data, "createShipment")?;
        match (p.answer.refused(), p.shipment) {
            (Some(why), _) => Ok(Created::Refused(why)),
            (None, Some(s)) => Ok(Created::Shipment(s.id)),
            (None, None) => Err(Error::Data {
                system: "Centra",
                what: "createShipment mutation".into(),
                detail: "the reply has neither a shipment nor userErrors".into(),
            }),
        }
    }

    /// `completeShipment`: marks shipment `id` shipped at `shipped_at` with its carrier, service and
    /// tracking number, once.
    pub async fn complete_shipment(
        &self,
        id: i64,
        shipped_at: &str,
        carrier: &str,
        service: &str,
        tracking_number: Option<&str>,
    ) -> Result<Answer, Error> {
        let input = json!({
            "shippedAt": shipped_at,
            "sendEmail": false,
            "shipmentInfo": { "carrier": carrier, "service": service, "trackingNumber": tracking_number },
        });
        let data: serde_json::Value = self
            .mutate(
                "completeShipment",
                COMPLETE_SHIPMENT_MUTATION,
                json!({ "id": id, "input": input }),
            )
            .await?;
        payload(&data, "completeShipment")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_of_another_shape_names_the_mutation() {
        let data = json!({ "changeStock": { "userErrors": "none" } });
        let e = payload::<Answer>(&data, "changeStock")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Centra changeStock mutation") && e.contains("expected a sequence"),
            "{e}"
        );
        let ok: Answer = payload(
            &json!({ "changeStock": { "userErrors": [] } }),
            "changeStock",
        )
        .unwrap();
        assert_eq!(ok.refused(), None);
    }
}
