//! The typed subject of an exception, and its key built from it in one place.
//!
//! A check returns the columns that name what its exception is about (`order_number`, `sku`,
//! `warehouse`, ...), each where it applies; the rest are null. The `key` people read and the
//! history tracks is built here from those columns, by entity, in the forms of DESIGN.md's
//! catalogue table. Nothing downstream takes a key apart again: reports, plans and tests read the
//! typed columns.

use super::catalogue::{Check, HeaderError};

/// The subject columns of every exception, in schema order, with their DuckDB types.
pub const COLUMNS: &[(&str, &str)] = &[
    // The Centra order number, as text (it meets OrderWise's external reference).
    ("order_number", "VARCHAR"),
    // OrderWise's id of the order (how its API addresses it) and its number (what people search).
    ("ow_order_id", "BIGINT"),
    ("ow_order_number", "VARCHAR"),
    // The SKU as Centra writes it (OrderWise's spelling where Centra has none).
    ("sku", "VARCHAR"),
    // A Centra warehouse name; an OrderWise stock location name.
    ("warehouse", "VARCHAR"),
    ("location", "VARCHAR"),
    // A Centra market name (several joined by " + " where a warehouse serves several).
    ("market", "VARCHAR"),
    // The currency of the subject and of `amount`.
    ("currency", "VARCHAR"),
    // A local month, YYYY-MM.
    ("period", "VARCHAR"),
    // An OrderWise delivery method.
    ("delivery_method", "VARCHAR"),
    // When the subject happened (order placed, despatch sent), UTC; null where nothing happened.
    ("occurred_at", "TIMESTAMP"),
];

/// The columns every check returns besides its subject.
pub const VALUE_COLUMNS: &[(&str, &str)] = &[
    ("centra_value", "VARCHAR"),
    ("orderwise_value", "VARCHAR"),
    ("difference", "VARCHAR"),
    ("amount", "DECIMAL(18,4)"),
    ("detail", "VARCHAR"),
];

/// The order of the exception columns after `check, entity, severity, owner, key`: DESIGN.md's
/// schema first (so a spreadsheet built on it keeps working), then the rest of the subject.
/// `queries/after/money_at_stake.sql` appends `at_stake`.
pub const OUTPUT_ORDER: &[&str] = &[
    "centra_value",
    "orderwise_value",
    "difference",
    "amount",
    "currency",
    "detail",
    "market",
    "occurred_at",
    "order_number",
    "ow_order_id",
    "ow_order_number",
    "sku",
    "warehouse",
    "location",
    "period",
    "delivery_method",
];

/// Every returned column with its type, in [`OUTPUT_ORDER`].
fn in_output_order() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    OUTPUT_ORDER.iter().map(|name| {
        COLUMNS
            .iter()
            .chain(VALUE_COLUMNS)
            .find(|(n, _)| n == name)
            .expect("every output column is a subject or value column")
    })
}

/// The key of an exception of `entity`: a SQL expression over the subject columns, and the form
/// it takes, for messages. The forms are DESIGN.md's catalogue table.
pub fn key_expression(entity: &str) -> Option<(&'static str, &'static str)> {
    Some(match entity {
        "order" => (
            "coalesce(order_number, ow_order_number)",
            "order_number (ow_order_number for an order only OrderWise has)",
        ),
        "shipment" => ("order_number", "order_number"),
        "order_line" | "shipment_line" => ("order_number || ':' || sku", "order_number:sku"),
        "stock" => (
            "sku || '@' || coalesce(warehouse, location)",
            "sku@warehouse (sku@location for an OrderWise location)",
        ),
        "product" => ("sku", "sku"),
        "carrier" => ("delivery_method", "delivery_method"),
        "market" => ("market", "market"),
        "period" => (
            "period || ':' || market || ':' || currency",
            "period:market:currency",
        ),
        _ => return None,
    })
}

/// The SELECT that turns one check's rows (with the columns `returned`) into exception rows: the
/// header's fields, the key built from the subject, the subject, the values. A check must return
/// every value column and may return any subject column; anything else is a mistake in the file.
pub fn exception_rows(
    check: &Check,
    owner: &str,
    returned: &[String],
) -> Result<String, HeaderError> {
    let err = |message: String| HeaderError {
        file: check.file.clone(),
        message,
    };
    let known = |c: &str| COLUMNS.iter().chain(VALUE_COLUMNS).any(|(n, _)| *n == c);
    if let Some(bad) = returned.iter().find(|c| !known(c)) {
        return Err(err(format!(
            "the query returns a column {bad:?}, which is neither a subject column ({}) nor a value \
             column ({}); rename it (the key is built from the subject, not returned)",
            names(COLUMNS),
            names(VALUE_COLUMNS)
        )));
    }
    if let Some((missing, _)) = VALUE_COLUMNS
        .iter()
        .find(|(c, _)| !returned.iter().any(|r| r == c))
    {
        return Err(err(format!("the query returns no {missing:?} column")));
    }
    let Some((key, _)) = key_expression(&check.entity) else {
        return Err(err(format!(
            "entity {:?} has no key form; use one of order, shipment, order_line, shipment_line, \
             stock, product, carrier, market, period",
            check.entity
        )));
    };
    let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let column = |(name, ty): &(&str, &str)| {
        if returned.iter().any(|r| r == name) {
            format!("CAST(q.{name} AS {ty}) AS {name}")
        } else {
            format!("CAST(NULL AS {ty}) AS {name}")
        }
    };
    let typed: Vec<String> = in_output_order().map(column).collect();
    let outer: Vec<String> = OUTPUT_ORDER.iter().map(|n| format!("q.{n}")).collect();
    Ok(format!(
        "SELECT {name} AS \"check\", {entity} AS entity, {severity} AS severity, {owner} AS owner,
                CAST({key} AS VARCHAR) AS key, {outer}
         FROM (SELECT {typed} FROM (\n{sql}\n) q) q",
        name = lit(&check.name),
        entity = lit(&check.entity),
        severity = lit(check.severity.as_str()),
        owner = lit(owner),
        outer = outer.join(", "),
        typed = typed.join(", "),
        sql = check.sql,
    ))
}

/// The `CREATE TABLE` of the exceptions, in [`OUTPUT_ORDER`].
pub fn exceptions_table() -> String {
    let cols: Vec<String> = in_output_order().map(|(n, t)| format!("{n} {t}")).collect();
    format!(
        "CREATE TABLE exceptions (\"check\" VARCHAR, entity VARCHAR, severity VARCHAR, \
         owner VARCHAR, key VARCHAR, {})",
        cols.join(", ")
    )
}

fn names(cols: &[(&str, &str)]) -> String {
    cols.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::Severity;

    /// A check of `entity` running `sql`.
    fn check(entity: &str, sql: String) -> Check {
        Check {
            name: "test.key".into(),
            entity: entity.into(),
            severity: Severity::Low,
            owner: "operations".into(),
            title: "t".into(),
            remedy: "r".into(),
            amount: "none.".into(),
            file: "test.key.sql".into(),
            sql,
        }
    }

    /// Runs a one-row check of `entity` returning `subject` (column, SQL literal) pairs through the
    /// exception wrapper in DuckDB and returns the key it built.
    fn key_of(entity: &str, subject: &[(&str, String)]) -> Option<String> {
        let lit = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut cols: Vec<String> = subject
            .iter()
            .map(|(c, v)| format!("{} as {c}", lit(v)))
            .collect();
        cols.extend(
            [
                "centra_value",
                "orderwise_value",
                "difference",
                "amount",
                "detail",
            ]
            .iter()
            .map(|c| format!("null as {c}")),
        );
        let check = check(entity, format!("select {}", cols.join(", ")));
        let mut returned: Vec<String> = subject.iter().map(|(c, _)| c.to_string()).collect();
        returned.extend(VALUE_COLUMNS.iter().map(|(c, _)| c.to_string()));
        let sql = exception_rows(&check, "operations", &returned).unwrap();
        let conn = duckdb::Connection::open_in_memory().unwrap();
        conn.query_row(&format!("select key from ({sql})"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn keys_take_the_catalogue_forms() {
        let s = |v: &str| v.to_string();
        assert_eq!(
            key_of("order", &[("order_number", s("1001"))]).as_deref(),
            Some("1001")
        );
        assert_eq!(
            key_of("order", &[("ow_order_number", s("SO-9"))]).as_deref(),
            Some("SO-9")
        );
        assert_eq!(
            key_of("stock", &[("sku", s("A-1")), ("location", s("MAIN"))]).as_deref(),
            Some("A-1@MAIN")
        );
        assert_eq!(
            key_of(
                "period",
                &[
                    ("period", s("2026-10")),
                    ("market", s("Europe")),
                    ("currency", s("EUR"))
                ]
            )
            .as_deref(),
            Some("2026-10:Europe:EUR")
        );
        // An incomplete subject gives no key (reconcile refuses such a row, naming the check).
        assert_eq!(key_of("order_line", &[("order_number", s("1001"))]), None);
    }

    #[test]
    fn a_check_returning_a_key_or_an_unknown_column_is_refused() {
        let check = check("order", "select 1".into());
        let mut cols: Vec<String> = VALUE_COLUMNS.iter().map(|(c, _)| c.to_string()).collect();
        cols.push("key".into());
        let e = exception_rows(&check, "operations", &cols)
            .unwrap_err()
            .to_string();
        assert!(e.contains("test.key.sql") && e.contains("\"key\""), "{e}");
        cols.pop();
        cols.retain(|c| c != "detail");
        let e = exception_rows(&check, "operations", &cols)
            .unwrap_err()
            .to_string();
        assert!(e.contains("detail"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn keys_join_any_subject_text_verbatim(
            order in "[0-9]{1,9}",
            sku in "\\PC{1,24}",
            place in "\\PC{1,16}",
        ) {
            proptest::prop_assert_eq!(
                key_of("order_line", &[("order_number", order.clone()), ("sku", sku.clone())]),
                Some(format!("{order}:{sku}"))
            );
            proptest::prop_assert_eq!(
                key_of("stock", &[("sku", sku.clone()), ("warehouse", place.clone())]),
                Some(format!("{sku}@{place}"))
            );
        }
    }
}
