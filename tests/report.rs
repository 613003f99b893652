//! The three reports, in HTML and PDF, rendered from one reconciled sandbox scenario: their content
//! ties out to the snapshot's summary and exceptions, data is escaped in both formats, and the PDFs
//! are valid and carry the figures the HTML shows.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rust_decimal::Decimal;
use tally::report::{self, Format, Input, Kind, Options, count, money};
use tally::sandbox::generate::HOSTILE_NAME;

/// One scenario, extracted and reconciled once for every test in this file.
fn snapshot() -> &'static Path {
    static SNAP: OnceLock<PathBuf> = OnceLock::new();
    SNAP.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-scenario");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let sb = common::serve(common::world(11, 3000), 0.0, 11).await;
            let (cfg, secrets) = common::config(&sb, &dir);
            let snap = common::snapshot(&sb, &cfg, &secrets, &dir).await;
            tally::reconcile::run(&snap.dir, &cfg).expect("reconcile");
            let plan = tally::plan::build(&snap.dir, &cfg, &Default::default()).expect("plan");
            tally::plan::write(&plan, &snap.dir.join("plan.jsonl")).expect("plan written");
            sb.stop().await;
            snap.dir
        })
    })
}

fn input() -> Input {
    Input::read(snapshot()).expect("a reconciled snapshot")
}

/// Every exception of the scenario, read whole: what the reports' pages are checked against.
fn exceptions() -> Vec<tally::reconcile::Exception> {
    tally::reconcile::read_exceptions(snapshot()).expect("exceptions")
}

fn html(input: &Input, kind: Kind) -> String {
    String::from_utf8(report::render(input, kind, Format::Html, &Options::default()).unwrap())
        .unwrap()
}

/// Undoes minijinja's HTML escaping.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// The values of `attr="..."` in document order, unescaped.
fn attributes(html: &str, attr: &str) -> Vec<String> {
    let marker = format!("{attr}=\"");
    html.split(&marker)
        .skip(1)
        .map(|rest| unescape(&rest[..rest.find('"').unwrap()]))
        .collect()
}

fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("a parseable PDF");
    assert!(!doc.get_pages().is_empty(), "the PDF has pages");
    pdf_extract::extract_text_from_mem(bytes).expect("text extraction")
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn month_end_totals_tie_out_to_the_summary_and_explanations_to_the_difference() {
    let input = input();
    let lines = report::month_end::build(&input, Options::default().html_rows).unwrap();
    assert_eq!(lines.len(), input.summary.periods.len());
    assert!(
        lines.len() >= 4,
        "two months, several markets: {}",
        lines.len()
    );
    let all = exceptions();
    let mismatches: BTreeMap<&str, &tally::reconcile::Exception> = all
        .iter()
        .filter(|e| e.check == "finance.period_mismatch")
        .map(|e| (e.key.as_str(), e))
        .collect();
    assert!(!mismatches.is_empty(), "the scenario has month-end drift");
    let page = html(&input, Kind::MonthEnd);
    let mut explained_somewhere = 0;
    for (line, totals) in lines.iter().zip(&input.summary.periods) {
        let t = line.totals;
        assert_eq!(t, totals, "lines follow the summary's periods");
        let key = format!("{}:{}:{}", t.month, t.market, t.currency);
        assert_eq!(line.difference.gross, t.orderwise.gross - t.centra.gross);
        assert_eq!(
            line.difference.orders,
            t.orderwise.orders as i64 - t.centra.orders as i64
        );
        // The sandbox knows every drift it injected, so no order is left unexplained.
        assert_eq!(line.unexplained_orders, 0, "{key}: unexplained orders");
        assert_eq!(
            line.unexplained,
            Default::default(),
            "{key}: unexplained money"
        );
        // The explanations (per order, from SQL) add up to the difference of the month totals.
        let mut gross = Decimal::ZERO;
        let mut orders = 0;
        for r in &line.reasons {
            gross += r.total.gross;
            orders += r.total.orders;
        }
        assert_eq!(gross, line.difference.gross, "{key}");
        assert_eq!(orders, line.difference.orders, "{key}");
        assert_eq!(
            line.explained.gross + line.tolerated.gross + line.unexplained.gross,
            line.difference.gross
        );
        // A flagged line is one finance.period_mismatch reported, with the same difference.
        assert_eq!(line.flagged, mismatches.contains_key(key.as_str()), "{key}");
        if let Some(e) = mismatches.get(key.as_str()) {
            assert_eq!(
                e.difference.as_deref().unwrap().parse::<Decimal>().unwrap(),
                line.difference.gross,
                "{key}"
            );
            explained_somewhere += line.reasons.iter().filter(|r| r.explained).count();
        }
        // The page shows both systems' gross and the difference.
        for figure in [
            money(t.centra.gross, &t.currency),
            money(t.orderwise.gross, &t.currency),
        ] {
            assert!(page.contains(&figure), "{key}: {figure} not on the page");
        }
    }
    assert!(
        explained_somewhere > 0,
        "exceptions explain the flagged months"
    );
    // Every missing order in a mapped market shows up as the explanation of its month.
    let period_orders = tally::reconcile::read_period_orders(snapshot()).unwrap();
    let missing: Vec<&str> = period_orders
        .iter()
        .filter(|o| o.reason == "order.missing_in_orderwise")
        .map(|o| o.order_ref.as_str())
        .collect();
    assert!(!missing.is_empty());
    for m in &missing {
        assert!(
            all.iter()
                .any(|e| e.check == "order.missing_in_orderwise" && e.key == *m),
            "{m}"
        );
        assert!(
            page.contains(&format!("<code>{m}</code>")),
            "order {m} listed"
        );
    }
}

#[test]
fn the_audit_names_every_check_with_exceptions_and_lists_every_exception() {
    let input = input();
    let page = html(&input, Kind::Audit);
    let with_exceptions: Vec<_> = input
        .summary
        .checks
        .iter()
        .filter(|c| c.count > 0)
        .collect();
    assert!(with_exceptions.len() >= 20, "{}", with_exceptions.len());
    for c in &with_exceptions {
        let heading = format!("<code class=\"muted\">{}</code></h3>", c.check);
        assert!(
            page.contains(&heading),
            "the audit has a section for {}",
            c.check
        );
    }
    for area in ["Orders", "Stock", "Shipments", "Products", "Finance"] {
        assert!(
            page.contains(&format!("<div class=\"l\">{area}</div>")),
            "{area} scored"
        );
    }
    let appendix = attributes(&page, "data-exception");
    let all = exceptions();
    assert_eq!(
        appendix.len(),
        all.len(),
        "the appendix lists every exception"
    );
    for e in &all {
        assert!(
            appendix.contains(&format!("{} {}", e.check, e.key)),
            "{} {}",
            e.check,
            e.key
        );
    }
    assert!(page.contains("<svg"), "charts are inline SVG");
    assert!(!page.contains("<script"), "no script in a report");
}

#[test]
fn the_queue_lists_every_exception_once_oldest_first_per_owner() {
    let input = input();
    let page = html(&input, Kind::Exceptions);
    let mut listed = attributes(&page, "data-exception");
    let mut expected: Vec<String> = exceptions()
        .iter()
        .map(|e| format!("{} {}", e.check, e.key))
        .collect();
    // Oldest first within each owner: dates never go back, undated last.
    let owners = attributes(&page, "data-owner");
    let since = attributes(&page, "data-since");
    assert_eq!(owners.len(), listed.len());
    for i in 1..since.len() {
        if owners[i] == owners[i - 1] && !since[i].is_empty() {
            assert!(!since[i - 1].is_empty(), "undated rows come last");
            assert!(
                since[i - 1] <= since[i],
                "row {i}: {} after {}",
                since[i],
                since[i - 1]
            );
        }
    }
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected, "each exception exactly once");
    // Each row says whether tally plan fixes it.
    assert!(page.contains("tally plan: post_order"));
    assert!(page.contains("tally plan: push_stock"));
}

#[test]
fn a_hostile_product_name_is_text_in_every_format() {
    let input = input();
    let carrying = exceptions()
        .iter()
        .filter(|e| e.detail.contains(HOSTILE_NAME))
        .count();
    assert!(
        carrying > 0,
        "the scenario puts the hostile name into an exception"
    );
    for kind in [Kind::Audit, Kind::Exceptions] {
        let page = html(&input, kind);
        assert!(
            !page.contains(HOSTILE_NAME),
            "{kind:?}: raw hostile name in HTML"
        );
        assert!(
            page.contains("&lt;script&gt;alert("),
            "{kind:?}: escaped name missing"
        );
        assert!(!page.contains("<script"), "{kind:?}");
        let source = report::source(&input, kind, Format::Pdf, &Options::default()).unwrap();
        assert!(
            !source.contains("#set page(fill: red)"),
            "{kind:?}: Typst code got through"
        );
        let text =
            pdf_text(&report::render(&input, kind, Format::Pdf, &Options::default()).unwrap());
        assert!(
            squeeze(&text).contains(&squeeze(HOSTILE_NAME)),
            "{kind:?}: the PDF prints the name as written"
        );
    }
}

#[test]
fn pdfs_are_valid_and_carry_the_key_figures_of_the_html() {
    let input = input();
    let s = &input.summary;
    let total = count(s.total as i64);
    let mut figures: Vec<(Kind, Vec<String>)> = Vec::new();
    let at_stake: Vec<String> = s.money_at_stake.iter().map(|(c, a)| money(*a, c)).collect();
    figures.push((Kind::Audit, [vec![total.clone()], at_stake].concat()));
    let lines = report::month_end::build(&input, Options::default().html_rows).unwrap();
    figures.push((
        Kind::MonthEnd,
        lines
            .iter()
            .flat_map(|l| {
                let c = &l.totals.currency;
                [
                    money(l.totals.centra.gross, c),
                    money(l.totals.orderwise.gross, c),
                ]
            })
            .collect(),
    ));
    figures.push((
        Kind::Exceptions,
        std::iter::once(total)
            .chain(s.by_owner.values().map(|n| count(*n as i64)))
            .collect(),
    ));
    for (kind, wanted) in figures {
        let page = html(&input, kind);
        let pdf = report::render(&input, kind, Format::Pdf, &Options::default()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"), "{kind:?}");
        let text = squeeze(&pdf_text(&pdf));
        assert!(text.contains(&squeeze(kind.title())), "{kind:?}: title");
        assert!(text.contains(&s.snapshot_id), "{kind:?}: snapshot id");
        for f in wanted {
            assert!(page.contains(&f), "{kind:?}: {f} not in the HTML");
            assert!(
                text.contains(&squeeze(&f)),
                "{kind:?}: {f} not in the PDF text"
            );
        }
    }
}

#[test]
fn a_pdf_listing_stops_at_pdf_rows_and_says_how_many_more() {
    let input = input();
    let short = Options {
        pdf_rows: 25,
        ..Options::default()
    };
    let n = exceptions().len();
    assert!(n > 25);
    let audit = report::source(&input, Kind::Audit, Format::Pdf, &short).unwrap();
    assert!(
        audit.contains(
            &format!("{} more are in the snapshot", count((n - 25) as i64)).replace(',', "\\,")
        ),
        "the audit PDF says what it left out"
    );
    let full = report::source(&input, Kind::Audit, Format::Pdf, &Options::default()).unwrap();
    assert!(
        !full.contains("more are in the snapshot"),
        "nothing is left out by default"
    );
    // The appendix rows (each starts with the check name in small[...]) drop to 25.
    let rows = |s: &str| {
        s.split("Appendix")
            .nth(1)
            .unwrap()
            .matches("  small[")
            .count()
    };
    assert_eq!(rows(&audit), 25);
    assert_eq!(rows(&full), n);
    // The queue shares the budget among owners; each keeps at least its first 20 rows.
    let queue = report::source(&input, Kind::Exceptions, Format::Pdf, &short).unwrap();
    let owners = input.summary.by_owner.len();
    let listed = queue.matches("sev(").count();
    assert!(
        listed <= 25 + 20 * owners && listed < n,
        "{listed} rows listed"
    );
    assert!(
        queue.contains("oldest; "),
        "the queue says what it left out"
    );
    // The short PDF still compiles, and the HTML has its own, larger page.
    let pdf = report::render(&input, Kind::Exceptions, Format::Pdf, &short).unwrap();
    assert!(squeeze(&pdf_text(&pdf)).contains("more"));
    let html =
        String::from_utf8(report::render(&input, Kind::Exceptions, Format::Html, &short).unwrap())
            .unwrap();
    assert_eq!(attributes(&html, "data-exception").len(), n);
}

#[test]
fn given_the_plan_the_queue_says_per_exception_what_it_does_or_why_not() {
    let mut input = input();
    let plan = tally::apply::read_plan(&snapshot().join("plan.jsonl")).unwrap();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for a in &plan {
        let fix = match a {
            tally::plan::Action::NoAction { .. } => "held back".to_string(),
            a => a.kind().to_string(),
        };
        for f in a.fixes() {
            // `check:key` as the plan writes it -> `check key` as the queue marks its rows.
            let (check, key) = f.split_once(':').unwrap();
            expected.insert(format!("{check} {key}"), fix.clone());
        }
    }
    assert!(
        expected.values().any(|f| f == "held back"),
        "the scenario holds some back"
    );
    assert!(expected.values().any(|f| f == "post_order"));
    input.set_plan(&plan).unwrap();
    let page = html(&input, Kind::Exceptions);
    let rows = attributes(&page, "data-exception");
    let fixes = attributes(&page, "data-fix");
    assert_eq!(rows.len(), fixes.len());
    for (row, fix) in rows.iter().zip(&fixes) {
        let want = expected.get(row).map(String::as_str).unwrap_or("");
        assert_eq!(fix, want, "{row}");
    }
    // Without the plan, the queue can only say which checks tally plan acts on.
    let page = html(&self::input(), Kind::Exceptions);
    assert!(
        !attributes(&page, "data-fix")
            .iter()
            .any(|f| f == "held back")
    );
}

/// The penny: how far a workbook's number (an IEEE double) may be from the exact figure.
fn penny_close(cell: f64, exact: Decimal) -> bool {
    (Decimal::try_from(cell).unwrap() - exact).abs() < Decimal::new(5, 3)
}

#[test]
fn the_month_end_workbook_holds_summary_json_figures_as_numbers_and_dates() {
    use calamine::{Data, Reader, Xlsx};
    let input = input();
    let bytes = report::render(&input, Kind::MonthEnd, Format::Xlsx, &Options::default()).unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), ["Summary", "Orders", "Exceptions"]);

    // Summary: one row per month, market and currency of summary.json, to the penny.
    let summary = book.worksheet_range("Summary").unwrap();
    let rows: Vec<&[Data]> = summary.rows().skip(1).collect();
    assert_eq!(rows.len(), input.summary.periods.len());
    let summary_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot().join("summary.json")).unwrap())
            .unwrap();
    let periods = summary_json["periods"].as_array().unwrap();
    for (row, p) in rows.iter().zip(periods) {
        let Data::DateTime(month) = &row[0] else {
            panic!("the month is a date: {:?}", row[0]);
        };
        let month = month.as_datetime().unwrap();
        assert_eq!(
            month.format("%Y-%m").to_string(),
            p["month"].as_str().unwrap()
        );
        assert_eq!(row[1], Data::String(p["market"].as_str().unwrap().into()));
        let exact = |system: &str, field: &str| -> Decimal {
            p[system][field].as_str().unwrap().parse().unwrap()
        };
        for (col, system, field) in [
            (6, "centra", "net"),
            (7, "orderwise", "net"),
            (9, "centra", "vat"),
            (10, "orderwise", "vat"),
            (12, "centra", "gross"),
            (13, "orderwise", "gross"),
        ] {
            let Data::Float(v) = row[col] else {
                panic!("{system} {field} is a number: {:?}", row[col]);
            };
            assert!(
                penny_close(v, exact(system, field)),
                "{system} {field}: {v}"
            );
        }
        let Data::Float(d) = row[14] else {
            panic!("gross difference")
        };
        assert!(penny_close(
            d,
            exact("orderwise", "gross") - exact("centra", "gross")
        ));
        let parts: Vec<f64> = (15..18)
            .map(|c| match row[c] {
                Data::Float(v) => v,
                ref other => panic!("explained/tolerated/unexplained are numbers: {other:?}"),
            })
            .collect();
        assert!(penny_close(
            parts.iter().sum(),
            Decimal::try_from(d).unwrap()
        ));
    }

    // Orders: every order behind the differences; Exceptions: every exception, amounts numeric.
    let orders = book.worksheet_range("Orders").unwrap();
    let period_orders = tally::reconcile::read_period_orders(snapshot()).unwrap();
    assert_eq!(orders.rows().count() - 1, period_orders.len());
    let all = self::exceptions();
    let exceptions = book.worksheet_range("Exceptions").unwrap();
    assert_eq!(exceptions.rows().count() - 1, all.len());
    for (row, e) in exceptions.rows().skip(1).zip(&all) {
        assert_eq!(row[3], Data::String(e.key.clone()));
        match (e.amount, &row[11]) {
            (Some(a), Data::Float(v)) => assert!(penny_close(*v, a), "{}", e.key),
            (None, Data::Empty) => {}
            (a, cell) => panic!("{} amount {a:?} written as {cell:?}", e.key),
        }
        if e.occurred_at.is_some() {
            assert!(matches!(row[7], Data::DateTime(_)), "{:?}", row[7]);
        }
    }
}

#[test]
fn summary_json_times_every_shared_table_after_step_and_output() {
    let summary = &input().summary;
    // ...and says which engine they were timed on: this configuration sets no [engine], so the
    // default threads, DuckDB's version as it reports itself.
    assert_eq!(
        summary.engine.threads,
        tally::config::engine::default_threads()
    );
    assert_eq!(summary.engine.memory_limit, "3GB");
    assert!(
        summary.engine.duckdb.starts_with("v2."),
        "{:?}",
        summary.engine
    );
    let steps: Vec<&str> = summary.steps.iter().map(|s| s.step.as_str()).collect();
    // Every shared file and every after file, statement by statement: "queries/FILE: OBJECT".
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            (name.starts_with('_') && name.ends_with(".sql")).then(|| format!("queries/{name}"))
        })
        .collect();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries/after")).unwrap() {
        files.push(format!(
            "queries/after/{}",
            e.unwrap().file_name().to_string_lossy()
        ));
    }
    let mut expected: Vec<String> = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap();
        // Each statement a step of its own: named by the object it creates, else by its first
        // three words ("drop table exceptions").
        let created: Vec<String> =
            text.lines()
                .filter(|l| {
                    ["create ", "drop ", "alter "]
                        .iter()
                        .any(|w| l.to_lowercase().starts_with(w))
                })
                .map(|l| {
                    let words: Vec<&str> = l.split_whitespace().collect();
                    match words.iter().position(|w| {
                        ["table", "view", "macro"].contains(&w.to_lowercase().as_str())
                    }) {
                        Some(at) if words[0].eq_ignore_ascii_case("create") => {
                            format!("{file}: {}", words[at + 1].split('(').next().unwrap())
                        }
                        _ => format!("{file}: {}", words[..3].join(" ").trim_end_matches(';')),
                    }
                })
                .collect();
        assert!(!created.is_empty(), "{file} creates nothing");
        expected.extend(created);
    }
    assert!(
        expected.contains(&"queries/_views.sql: matched_orders".to_string()),
        "{expected:?}"
    );
    for out in [
        "exceptions.parquet",
        "exceptions.csv",
        "period_orders.parquet",
    ] {
        expected.push(format!("write {out}"));
    }
    for e in &expected {
        assert!(steps.contains(&e.as_str()), "{e} in {steps:?}");
    }
    assert_eq!(steps.len(), expected.len(), "{steps:?}");
}

#[test]
fn an_html_page_lists_its_share_of_rows_and_says_where_the_rest_are() {
    let input = input();
    let all = exceptions();
    let n = all.len();
    let page = |kind, html_rows| {
        let opts = Options {
            html_rows,
            ..Options::default()
        };
        String::from_utf8(report::render(&input, kind, Format::Html, &opts).unwrap()).unwrap()
    };
    let left_out = |page: &str| -> usize {
        attributes(page, "data-left-out")
            .iter()
            .map(|n| n.parse::<usize>().unwrap())
            .sum()
    };
    // The audit's appendix: the first 40 by check and key, and how many more.
    let audit = page(Kind::Audit, 40);
    let listed = attributes(&audit, "data-exception");
    let mut first: Vec<String> = all
        .iter()
        .map(|e| format!("{} {}", e.check, e.key))
        .collect();
    first.truncate(40);
    assert_eq!(
        listed, first,
        "the appendix is the first page of the file's order"
    );
    assert_eq!(left_out(&audit), n - 40);
    assert!(audit.contains("exceptions.csv"));
    // The queue: each owner's oldest, a prefix of what the whole queue lists for that owner.
    let full = page(Kind::Exceptions, usize::MAX);
    let short = page(Kind::Exceptions, 60);
    let rows = |p: &str| -> Vec<(String, String)> {
        attributes(p, "data-owner")
            .into_iter()
            .zip(attributes(p, "data-exception"))
            .collect()
    };
    let (full_rows, short_rows) = (rows(&full), rows(&short));
    assert_eq!(full_rows.len(), n);
    assert!(short_rows.len() < n, "{} of {n} listed", short_rows.len());
    assert_eq!(
        short_rows.len() + left_out(&short),
        n,
        "listed and left out add up"
    );
    for owner in input.summary.by_owner.keys() {
        let of = |rows: &[(String, String)]| -> Vec<String> {
            rows.iter()
                .filter(|(o, _)| o == owner)
                .map(|(_, e)| e.clone())
                .collect()
        };
        let (whole, page) = (of(&full_rows), of(&short_rows));
        assert!(!page.is_empty(), "{owner} keeps a share");
        assert_eq!(page, whole[..page.len()], "{owner}: the oldest first");
    }
    // The month-end: each line lists its share of the orders and counts the rest.
    let lines = report::month_end::build(&input, 5).unwrap();
    let mut cut = 0;
    for l in &lines {
        let listable: u64 = l
            .reasons
            .iter()
            .filter(|r| r.reason != "rounding")
            .map(|r| r.count)
            .sum();
        assert_eq!(l.orders.len() as u64 + l.left_out, listable);
        cut += usize::from(l.left_out > 0);
    }
    assert!(cut > 0, "a page of 5 orders cuts some line");
    let month_end = page(Kind::MonthEnd, 5);
    assert!(month_end.contains("are in the workbook"));
}
