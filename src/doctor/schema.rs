//! Whether the live Centra schema still offers everything the connector asks for.
//!
//! The schema is read by introspection; each of the connector's documents is walked field by
//! field from its root type, and each field and argument it uses must exist with the type the
//! contract copy (`contracts/centra.graphql`) gives it. A removed field or argument, or one whose
//! type changed, is named (`Order.number is String! here, Int! in the contract`).

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet, TypeKind, TypeSystemDefinition,
};
use serde_json::Value;

/// The introspection query: every type's fields with their arguments and types.
pub const INTROSPECTION_QUERY: &str = r#"query Introspection {
  __schema {
    queryType { name }
    mutationType { name }
    types {
      name
      fields(includeDeprecated: true) { name args { name type { ...T } } type { ...T } }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

/// A field as the live schema has it: its type and its arguments' types, written as in SDL.
#[derive(Debug, Clone, Default)]
struct Field {
    ty: String,
    args: BTreeMap<String, String>,
}

/// `[Order!]!` from an introspected type reference.
fn type_string(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_string(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_string(&t["ofType"])),
        _ => t["name"].as_str().unwrap_or("?").to_string(),
    }
}

/// The named type under list and non-null wrappers.
fn base(ty: &str) -> &str {
    ty.trim_matches(|c| c == '[' || c == ']' || c == '!')
}

/// Type -> field -> its type and arguments, from an introspection answer's `data`.
fn live_types(data: &Value) -> BTreeMap<String, BTreeMap<String, Field>> {
    let mut out = BTreeMap::new();
    for t in data["__schema"]["types"].as_array().into_iter().flatten() {
        let Some(name) = t["name"].as_str() else {
            continue;
        };
        let fields = t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                Some((
                    f["name"].as_str()?.to_string(),
                    Field {
                        ty: type_string(&f["type"]),
                        args: f["args"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|a| {
                                Some((a["name"].as_str()?.to_string(), type_string(&a["type"])))
                            })
                            .collect(),
                    },
                ))
            })
            .collect();
        out.insert(name.to_string(), fields);
    }
    out
}

/// The same map from the contract's SDL.
fn contract_types() -> BTreeMap<String, BTreeMap<String, Field>> {
    let doc = async_graphql::parser::parse_schema(include_str!("../../contracts/centra.graphql"))
        .expect("the contract copy parses (tests/contract.rs)");
    let mut out = BTreeMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let fields = match &t.node.kind {
            TypeKind::Object(o) => &o.fields,
            TypeKind::Interface(i) => &i.fields,
            _ => continue,
        };
        out.insert(
            t.node.name.node.to_string(),
            fields
                .iter()
                .map(|f| {
                    (
                        f.node.name.node.to_string(),
                        Field {
                            ty: f.node.ty.node.to_string(),
                            args: f
                                .node
                                .arguments
                                .iter()
                                .map(|a| (a.node.name.node.to_string(), a.node.ty.node.to_string()))
                                .collect(),
                        },
                    )
                })
                .collect(),
        );
    }
    out
}

struct Walk<'a> {
    live: &'a BTreeMap<String, BTreeMap<String, Field>>,
    contract: &'a BTreeMap<String, BTreeMap<String, Field>>,
    doc: &'a ExecutableDocument,
    problems: BTreeSet<String>,
    checked: usize,
}

impl Walk<'_> {
    fn selection_set(&mut self, on: &str, set: &SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    if name.starts_with("__") {
                        continue;
                    }
                    self.checked += 1;
                    let Some(live) = self.live.get(on).and_then(|t| t.get(name)) else {
                        self.problems.insert(format!("{on}.{name} is gone"));
                        continue;
                    };
                    let expected = self.contract.get(on).and_then(|t| t.get(name));
                    if let Some(c) = expected
                        && c.ty != live.ty
                    {
                        self.problems.insert(format!(
                            "{on}.{name} is {} here, {} in the contract",
                            live.ty, c.ty
                        ));
                    }
                    for (arg, _) in &f.node.arguments {
                        let arg = arg.node.as_str();
                        match (live.args.get(arg), expected.and_then(|c| c.args.get(arg))) {
                            (None, _) => {
                                self.problems.insert(format!("{on}.{name}({arg}:) is gone"));
                            }
                            (Some(l), Some(c)) if l != c => {
                                self.problems.insert(format!(
                                    "{on}.{name}({arg}:) is {l} here, {c} in the contract"
                                ));
                            }
                            _ => {}
                        }
                    }
                    let ty = base(&live.ty).to_string();
                    self.selection_set(&ty, &f.node.selection_set.node);
                }
                Selection::InlineFragment(i) => {
                    let ty = i
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(on.to_string(), |t| t.node.on.node.to_string());
                    self.selection_set(&ty, &i.node.selection_set.node);
                }
                Selection::FragmentSpread(s) => {
                    if let Some(f) = self.doc.fragments.get(&s.node.fragment_name.node) {
                        let ty = f.node.type_condition.node.on.node.to_string();
                        self.selection_set(&ty, &f.node.selection_set.node);
                    }
                }
            }
        }
    }
}

/// Checks `documents` against an introspection answer's `data`: how many fields were checked,
/// and each problem.
pub fn check(data: &Value, documents: &[&str]) -> (usize, Vec<String>) {
    let live = live_types(data);
    let contract = contract_types();
    let query = data["__schema"]["queryType"]["name"]
        .as_str()
        .unwrap_or("Query")
        .to_string();
    let mutation = data["__schema"]["mutationType"]["name"]
        .as_str()
        .unwrap_or("Mutation")
        .to_string();
    let mut problems = BTreeSet::new();
    let mut checked = 0;
    for text in documents {
        let doc =
            async_graphql::parser::parse_query(text).expect("the connector's documents parse");
        let mut walk = Walk {
            live: &live,
            contract: &contract,
            doc: &doc,
            problems: BTreeSet::new(),
            checked: 0,
        };
        let operations: Vec<_> = match &doc.operations {
            DocumentOperations::Single(op) => vec![op.clone()],
            DocumentOperations::Multiple(ops) => ops.values().cloned().collect(),
        };
        for op in operations {
            let root = match op.node.ty {
                async_graphql::parser::types::OperationType::Mutation => &mutation,
                _ => &query,
            };
            walk.selection_set(root, &op.node.selection_set.node);
        }
        checked += walk.checked;
        problems.extend(walk.problems);
    }
    (checked, problems.into_iter().collect())
}
