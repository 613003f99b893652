//! The sandbox serves exactly the Centra contract, and the connector's queries are valid against it.
//!
//! Schemas are compared parsed, type by type: fields, arguments with their types and defaults,
//! interfaces, enum values and input fields. Any difference fails with a line naming it.

mod common;

use std::collections::BTreeMap;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

/// A schema as comparable lines: `Type.field(arg: T = default): R`, one per element.
fn normalise(sdl: &str) -> BTreeMap<String, String> {
    let doc = parse_schema(sdl).expect("the SDL parses");
    let mut out = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = t.node;
        let name = t.name.node.to_string();
        if name.starts_with("__")
            || ["String", "Int", "Float", "Boolean", "ID"].contains(&name.as_str())
        {
            continue;
        }
        let field_line = |f: &async_graphql::parser::types::FieldDefinition| {
            let mut args: Vec<String> = f
                .arguments
                .iter()
                .map(|a| {
                    let a = &a.node;
                    let default = a
                        .default_value
                        .as_ref()
                        .map(|d| format!(" = {}", d.node))
                        .unwrap_or_default();
                    format!("{}: {}{}", a.name.node, a.ty.node, default)
                })
                .collect();
            args.sort();
            format!("({}): {}", args.join(", "), f.ty.node)
        };
        match &t.kind {
            TypeKind::Scalar => {
                out.insert(name, "scalar".into());
            }
            TypeKind::Object(o) => {
                let mut ifaces: Vec<String> =
                    o.implements.iter().map(|i| i.node.to_string()).collect();
                ifaces.sort();
                out.insert(
                    name.clone(),
                    format!("type implements [{}]", ifaces.join(", ")),
                );
                for f in &o.fields {
                    out.insert(format!("{name}.{}", f.node.name.node), field_line(&f.node));
                }
            }
            TypeKind::Interface(i) => {
                let mut ifaces: Vec<String> =
                    i.implements.iter().map(|i| i.node.to_string()).collect();
                ifaces.sort();
                out.insert(
                    name.clone(),
                    format!("interface implements [{}]", ifaces.join(", ")),
                );
                for f in &i.fields {
                    out.insert(format!("{name}.{}", f.node.name.node), field_line(&f.node));
                }
            }
            TypeKind::Enum(e) => {
                let mut values: Vec<String> = e
                    .values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect();
                values.sort();
                out.insert(name, format!("enum {}", values.join(" ")));
            }
            TypeKind::InputObject(i) => {
                out.insert(name.clone(), "input".into());
                for f in &i.fields {
                    let f = &f.node;
                    let default = f
                        .default_value
                        .as_ref()
                        .map(|d| format!(" = {}", d.node))
                        .unwrap_or_default();
                    out.insert(
                        format!("{name}.{}", f.name.node),
                        format!("{}{}", f.ty.node, default),
                    );
                }
            }
            TypeKind::Union(u) => {
                let mut members: Vec<String> =
                    u.members.iter().map(|m| m.node.to_string()).collect();
                members.sort();
                out.insert(name, format!("union {}", members.join(" | ")));
            }
        }
    }
    out
}

fn sandbox_schema() -> tally::sandbox::centra::CentraSchema {
    let world = common::world(1, 50);
    let shared = tally::sandbox::Shared::new(world, Default::default());
    tally::sandbox::centra::schema(shared)
}

#[test]
fn served_schema_equals_the_contract() {
    let contract = normalise(include_str!("../contracts/centra.graphql"));
    let served = normalise(&sandbox_schema().sdl());
    // The comparison sees the whole schema, arguments and defaults included.
    assert!(contract.len() > 150, "{}", contract.len());
    assert_eq!(
        contract["Query.orderConnection"],
        "(after: String, first: Int = 20, sort: [OrderSort!] = [id_ASC], where: OrderFilter): OrderConnection!"
    );
    assert_eq!(
        contract["ProductOrderLine.unitPrice"],
        "(includingTax: Boolean! = true): MonetaryValue!"
    );
    assert_eq!(contract["DirectToConsumerOrder"], "type implements [Order]");
    let mut differences = Vec::new();
    for (k, v) in &contract {
        match served.get(k) {
            None => differences.push(format!("missing in sandbox: {k} {v}")),
            Some(s) if s != v => differences.push(format!(
                "differs: {k}\n    contract: {v}\n    sandbox:  {s}"
            )),
            _ => {}
        }
    }
    for (k, v) in &served {
        if !contract.contains_key(k) {
            differences.push(format!("not in contract: {k} {v}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[test]
fn the_repo_copy_of_the_contract_is_the_shared_one() {
    // The copies in contracts/ are part of the product and must not drift from the shared
    // contracts beside the clone (as on every developer machine and in CI). A missing copy is a
    // failure: a test that passes when its input is absent proves nothing.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared_dir = root.join("../shared/contracts");
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    for file in ["centra.graphql", "centra.md", "orderwise.md"] {
        let shared = read(&shared_dir.join(file));
        let ours = read(&root.join("contracts").join(file));
        if file.ends_with(".graphql") {
            assert_eq!(normalise(&shared), normalise(&ours), "{file}");
        } else {
            assert!(
                shared == ours,
                "contracts/{file} differs from the shared contract"
            );
        }
    }
}

#[tokio::test]
async fn connector_queries_validate_against_the_contract_schema() {
    let schema = sandbox_schema();
    let variables = serde_json::json!({ "first": 5, "after": null, "where": null, "withTotal": true, "limit": 5, "page": 1, "skus": ["TS1001-BLK-M"], "number": 100001 });
    for query in tally::connectors::centra::ALL_QUERIES {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables.clone()));
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{query}\n{:?}", response.errors);
    }
}

#[tokio::test]
async fn invalid_arguments_are_refused_like_centra() {
    let schema = sandbox_schema();
    for query in [
        "{ orderConnection(first: 201) { totalCount } }",
        "{ products(limit: 0) { id } }",
        "{ markets(page: 0) { id } }",
        "{ orderConnection { edges { node { nope } } } }",
    ] {
        let response = schema.execute(query).await;
        assert!(!response.errors.is_empty(), "{query} was accepted");
    }
}

#[tokio::test]
async fn connector_mutations_validate_against_the_contract_schema() {
    use tally::connectors::centra::{
        CHANGE_STOCK_MUTATION, COMPLETE_SHIPMENT_MUTATION, CREATE_SHIPMENT_MUTATION,
    };
    let schema = sandbox_schema();
    let cases = [
        (
            CHANGE_STOCK_MUTATION,
            serde_json::json!({"input": {"intoWarehouse": {"id": 1}, "description": "t", "productSizes": [{"productSize": {"SKU": "nope"}, "quantity": 1}]}}),
        ),
        (
            CREATE_SHIPMENT_MUTATION,
            serde_json::json!({"input": {"order": {"number": 1}, "lines": [{"orderLine": {"id": 1}, "quantity": 1}]}}),
        ),
        (
            COMPLETE_SHIPMENT_MUTATION,
            serde_json::json!({"id": 1, "input": {"shipmentInfo": {"carrier": "DPD"}}}),
        ),
    ];
    for (mutation, variables) in cases {
        let request = async_graphql::Request::new(mutation)
            .variables(async_graphql::Variables::from_json(variables));
        let response = schema.execute(request).await;
        // userErrors (unknown size, order or shipment) are data; GraphQL errors would be a bad document.
        assert!(
            response.errors.is_empty(),
            "{mutation}\n{:?}",
            response.errors
        );
    }
}
