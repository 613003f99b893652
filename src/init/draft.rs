//! The draft `tally.toml`: the connection sections as given, then every inferred mapping with its
//! evidence as a comment, and a `# TODO` on each a person must decide. A mapping that could not be
//! inferred at all is written commented out, so the draft parses and runs while saying what is
//! missing.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::infer::{Inference, Inferred};
use crate::config::RawConfig;
use crate::snapshot::Snapshot;

/// A TOML string literal (quoted and escaped).
fn s(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn todo<T>(out: &mut String, subject: &str, i: &Inferred<T>) {
    if let Some(t) = &i.todo {
        let _ = writeln!(out, "# TODO: {subject}: {t}");
    }
}

/// The draft's text.
pub fn write(raw: &RawConfig, inf: &Inference, snapshot: &Snapshot, now: DateTime<Utc>) -> String {
    let m = &snapshot.manifest;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# tally.toml drafted by `tally init` on {} from {} and {}:",
        now.format("%Y-%m-%d %H:%M UTC"),
        m.sources.centra,
        m.sources.orderwise
    );
    let _ = writeln!(
        out,
        "# {} Centra orders and {} OrderWise orders of the last {} days, and all stock.",
        m.rows("centra/orders"),
        m.rows("orderwise/orders"),
        super::DAYS
    );
    let _ = writeln!(
        out,
        "# Each mapping says what it was inferred from. Review every TODO, then run `tally doctor`.\n"
    );
    todo(&mut out, "timezone", &inf.timezone);
    let _ = writeln!(out, "# {}", inf.timezone.evidence);
    let _ = writeln!(
        out,
        "timezone = {}\n",
        s(inf.timezone.value.as_deref().unwrap_or(&raw.timezone))
    );
    let connections = toml::to_string_pretty(&ConnectionsOut {
        centra: &raw.centra,
        orderwise: &raw.orderwise,
    })
    .expect("connections serialise");
    out.push_str(&connections);
    out.push_str("\n[stock]\norderwise_figure = \"free\"             # or \"overall\": which OrderWise figure feeds the shop\n");

    for market in &inf.markets {
        out.push('\n');
        let complete = market.session.value.is_some()
            && market.customer.value.is_some()
            && market.warehouse.value.is_some();
        let _ = writeln!(out, "# {}: {}", market.name, market.session.evidence);
        todo(&mut out, &market.name, &market.session);
        todo(&mut out, &market.name, &market.customer);
        if complete {
            todo(&mut out, &market.name, &market.warehouse);
        }
        let prefix = if complete { "" } else { "# " };
        if !complete {
            let _ = writeln!(
                out,
                "# TODO: market {} has no mapping tally could infer; if it sells, map it here (its orders are reported as unmapped until then):",
                s(&market.name)
            );
        }
        let _ = writeln!(out, "{prefix}[[markets]]");
        let _ = writeln!(out, "{prefix}centra_market = {}", s(&market.name));
        let _ = writeln!(
            out,
            "{prefix}orderwise_session = {}",
            market.session.value.map_or("0".into(), |v| v.to_string())
        );
        let _ = writeln!(
            out,
            "{prefix}orderwise_customer = {}",
            s(market.customer.value.as_deref().unwrap_or(""))
        );
        let _ = writeln!(
            out,
            "{prefix}centra_warehouse = {}   # {}",
            s(market.warehouse.value.as_deref().unwrap_or("")),
            market.warehouse.evidence
        );
    }
    for w in &inf.warehouses {
        out.push('\n');
        todo(&mut out, &w.name, &w.locations);
        let _ = writeln!(out, "# {}: {}", w.name, w.locations.evidence);
        let locations: Vec<String> = w.locations.value.iter().flatten().map(|l| s(l)).collect();
        let _ = writeln!(out, "[[warehouses]]");
        let _ = writeln!(out, "centra_warehouse = {}", s(&w.name));
        let _ = writeln!(out, "orderwise_locations = [{}]", locations.join(", "));
    }
    for c in &inf.carriers {
        out.push('\n');
        todo(&mut out, &c.method, &c.carrier);
        let prefix = if c.carrier.value.is_some() { "" } else { "# " };
        let _ = writeln!(out, "# {}: {}", c.method, c.carrier.evidence);
        let (carrier, service) = c.carrier.value.clone().unwrap_or_default();
        let _ = writeln!(out, "{prefix}[[carriers]]");
        let _ = writeln!(out, "{prefix}orderwise_delivery_method = {}", s(&c.method));
        let _ = writeln!(out, "{prefix}centra_carrier = {}", s(&carrier));
        let _ = writeln!(out, "{prefix}centra_service = {}", s(&service));
    }
    out.push_str(
        "\n[vat_codes]                           # Centra tax percent -> OrderWise VAT code\n",
    );
    for v in &inf.vat_codes {
        todo(&mut out, &format!("VAT {}%", v.rate), &v.code);
        let prefix = if v.code.value.is_some() { "" } else { "# " };
        let _ = writeln!(
            out,
            "{prefix}{} = {}   # {}",
            s(&v.rate),
            s(v.code.value.as_deref().unwrap_or("")),
            v.code.evidence
        );
    }
    out.push_str(
        "\n[rules]\nmoney_tolerance = \"0.01\"\nsettle_minutes = 60                   # orders younger than this are not expected in OrderWise yet\nshipment_sla_hours = 24               # despatches older than this must be shipped in Centra\n",
    );
    out
}

#[derive(serde::Serialize)]
struct ConnectionsOut<'a> {
    centra: &'a crate::config::RawCentra,
    orderwise: &'a crate::config::RawOrderWise,
}
