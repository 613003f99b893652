//! A digest in each format the webhooks take: Slack Block Kit, a Microsoft Teams Adaptive Card for
//! a Workflows webhook, or the digest itself as JSON. Cards show the largest exceptions and count
//! the rest; the JSON lists every one.

use serde_json::{Value, json};

use super::digest::{Alerted, Digest};
use crate::config::operations::AlertFormat;

/// Exceptions a card shows before "and N more".
pub const CARD_ROWS: usize = 10;

/// The request body posted for `digest` in `format`.
pub fn body(digest: &Digest, format: AlertFormat) -> String {
    match format {
        AlertFormat::Json => serde_json::to_string(digest).expect("a digest serialises"),
        AlertFormat::Slack => slack(digest).to_string(),
        AlertFormat::Teams => teams(digest).to_string(),
    }
}

/// Slack's mrkdwn gives `&`, `<` and `>` meaning: data is escaped so a product name cannot ping a
/// channel or forge a link.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn line(a: &Alerted) -> String {
    let amount = match (&a.amount, &a.currency) {
        (Some(x), Some(c)) => format!(" ({})", crate::report::money(*x, c)),
        _ => String::new(),
    };
    format!(
        "{} {} {}{}: {}",
        a.severity, a.check, a.key, amount, a.detail
    )
}

/// The rows a card shows: escalated first, then new, and how many more there are.
fn shown(d: &Digest) -> (Vec<(&'static str, &Alerted)>, usize) {
    let all: Vec<(&'static str, &Alerted)> = d
        .escalated
        .iter()
        .map(|a| ("escalated", a))
        .chain(d.new.iter().map(|a| {
            (
                if a.status == "reopened" {
                    "reopened"
                } else {
                    "new"
                },
                a,
            )
        }))
        .collect();
    let more = all.len().saturating_sub(CARD_ROWS);
    (all.into_iter().take(CARD_ROWS).collect(), more)
}

fn failure_line(d: &Digest) -> Option<String> {
    d.failed_runs.as_ref().map(|f| {
        format!(
            "tally failed {} runs in a row (since {}); last error: {}",
            f.count,
            f.since.format("%Y-%m-%d %H:%M UTC"),
            f.last_error
        )
    })
}

fn slack(d: &Digest) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": format!("tally: {}", d.owner)}
    })];
    blocks.push(json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": slack_escape(&d.headline())}
    }));
    if let Some(f) = failure_line(d) {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!(":warning: {}", slack_escape(&f))}
        }));
    }
    let (rows, more) = shown(d);
    for (label, a) in rows {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!("*{label}* {}", slack_escape(&line(a)))}
        }));
    }
    if more > 0 {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("and {more} more: `tally history --status open`")}]
        }));
    }
    json!({ "text": d.headline(), "blocks": blocks })
}

fn teams(d: &Digest) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "size": "Large", "weight": "Bolder", "text": format!("tally: {}", d.owner), "wrap": true}),
        json!({"type": "TextBlock", "text": d.headline(), "wrap": true}),
    ];
    if let Some(f) = failure_line(d) {
        body.push(json!({"type": "TextBlock", "text": f, "color": "Attention", "wrap": true}));
    }
    let (rows, more) = shown(d);
    if !rows.is_empty() {
        let facts: Vec<Value> = rows
            .iter()
            .map(|(label, a)| json!({"title": *label, "value": line(a)}))
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    if more > 0 {
        body.push(json!({"type": "TextBlock", "text": format!("and {more} more: tally history --status open"), "isSubtle": true, "wrap": true}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn digest(n: usize) -> Digest {
        let a = Alerted {
            check: "order.total_mismatch".into(),
            entity: "order".into(),
            severity: "high".into(),
            owner: "finance".into(),
            key: "100042".into(),
            centra_value: Some("10.00".into()),
            orderwise_value: Some("9.00".into()),
            difference: Some("1.00".into()),
            amount: Some("1.00".parse().unwrap()),
            currency: Some("GBP".into()),
            detail: "<!channel> & <https://evil|click>".into(),
            status: "new".into(),
            first_seen: chrono::Utc.with_ymd_and_hms(2026, 11, 8, 10, 0, 0).unwrap(),
        };
        Digest {
            id: "run-3-finance".into(),
            run: 3,
            owner: "finance".into(),
            at: a.first_seen,
            new: vec![a; n],
            escalated: vec![],
            resolved: 2,
            money_at_stake: [("GBP".to_string(), "1.00".parse().unwrap())].into(),
            failed_runs: None,
            part: 1,
            parts: 1,
        }
    }

    #[test]
    fn slack_escapes_data_and_counts_what_it_does_not_show() {
        let v: Value = serde_json::from_str(&body(&digest(12), AlertFormat::Slack)).unwrap();
        let text = v.to_string();
        assert!(!text.contains("<!channel>"), "{text}");
        assert!(text.contains("&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"));
        assert!(text.contains("and 2 more"), "{text}");
        assert_eq!(v["blocks"].as_array().unwrap().len(), 2 + CARD_ROWS + 1);
    }

    #[test]
    fn teams_is_an_adaptive_card_message_and_json_is_the_digest() {
        let v: Value = serde_json::from_str(&body(&digest(1), AlertFormat::Teams)).unwrap();
        let card = &v["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        let back: Digest = serde_json::from_str(&body(&digest(1), AlertFormat::Json)).unwrap();
        assert_eq!(back, digest(1));
        assert_eq!(back.money_at_stake["GBP"].to_string(), "1.00");
    }
}
