//! Charts as inline SVG, drawn here so a report needs no JavaScript, no network and no plotting
//! library: horizontal bars (drift by area, money at stake by market) and columns over time
//! (exceptions per day of the data window). The same SVG goes into the HTML and, through typst,
//! into the PDF. Every label from the data is XML-escaped. Lengths are `f64` pixels computed from
//! the figures; the figures printed beside the bars are formatted exactly by the caller.

use std::fmt::Write;

use chrono::NaiveDate;

/// One coloured piece of a bar.
#[derive(Debug, Clone)]
pub struct Segment {
    pub value: f64,
    pub colour: &'static str,
}

/// One labelled bar, made of stacked segments, with its figure printed at the end.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub segments: Vec<Segment>,
    pub value_text: String,
}

const WIDTH: f64 = 680.0;
const FONT: &str = "font-family=\"Libertinus Serif, Georgia, serif\"";

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

fn legend(out: &mut String, y: f64, items: &[(&str, &str)]) {
    let mut x = 0.0;
    for (name, colour) in items {
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{y}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            x + 14.0,
            y + 9.0,
            xml(name)
        );
        x += 24.0 + 6.5 * name.chars().count() as f64;
    }
}

/// Height of the title line every chart starts with.
const TITLE: f64 = 22.0;

fn open(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" {FONT} role="img"><title>{t}</title><rect width="{WIDTH}" height="{height}" fill="#ffffff"/><text x="0" y="14" font-size="14" font-weight="bold">{t}</text>"##,
        t = xml(title)
    );
}

/// The base line of a plot, with its top value and 0 written to the left.
fn y_axis(out: &mut String, left: f64, top: f64, base: f64, max: f64) {
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#888888"/><text x="{}" y="{}" font-size="11" text-anchor="end">{max}</text><text x="{}" y="{base}" font-size="11" text-anchor="end">0</text>"##,
        left - 4.0,
        top + 8.0,
        left - 4.0,
    );
}

/// Horizontal bars, longest scaled to the plot width; `legend` names the segment colours.
pub fn horizontal_bars(title: &str, bars: &[Bar], legend_items: &[(&str, &str)]) -> String {
    let label_w = 170.0;
    let value_w = 130.0;
    let row = 24.0;
    let top = TITLE + if legend_items.is_empty() { 4.0 } else { 24.0 };
    let height = top + row * bars.len().max(1) as f64 + 4.0;
    let mut out = String::new();
    open(&mut out, height, title);
    if !legend_items.is_empty() {
        legend(&mut out, TITLE + 4.0, legend_items);
    }
    let max = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.value).sum::<f64>())
        .fold(0.0, f64::max);
    let plot = WIDTH - label_w - value_w;
    if bars.is_empty() {
        let _ = write!(
            out,
            r#"<text x="0" y="{}" font-size="12">Nothing to show.</text>"#,
            top + 14.0
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            y + 15.0,
            xml(&shorten(&bar.label, 28))
        );
        let mut x = label_w;
        for s in &bar.segments {
            let w = if max > 0.0 { plot * s.value / max } else { 0.0 };
            // Drawn only when at least 0.1 px wide (the width is written with one decimal).
            if w >= 0.1 {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{}" width="{w:.1}" height="16" fill="{}"/>"#,
                    y + 3.0,
                    s.colour
                );
            }
            x += w;
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" font-size="12">{}</text>"#,
            x + 6.0,
            y + 15.0,
            xml(&bar.value_text)
        );
    }
    out.push_str("</svg>");
    out
}

/// Columns per day, stacked by segment, with the first day, last day and the tallest count marked.
pub fn columns_over_time(
    title: &str,
    days: &[(NaiveDate, Vec<Segment>)],
    legend_items: &[(&str, &str)],
) -> String {
    let height = 220.0;
    let (left, top, bottom) = (40.0, TITLE + 24.0, 24.0);
    let plot_h = height - top - bottom;
    let mut out = String::new();
    open(&mut out, height, title);
    legend(&mut out, TITLE + 4.0, legend_items);
    let max = days
        .iter()
        .map(|(_, s)| s.iter().map(|s| s.value).sum::<f64>())
        .fold(0.0, f64::max);
    let base = top + plot_h;
    y_axis(&mut out, left, top, base, max);
    if let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) {
        let span = (*last - *first).num_days().max(0) as f64 + 1.0;
        let col = (WIDTH - left) / span;
        for (day, segments) in days {
            let x = left + col * (*day - *first).num_days() as f64;
            let mut y = base;
            for s in segments {
                let h = if max > 0.0 {
                    plot_h * s.value / max
                } else {
                    0.0
                };
                // Drawn only when at least 0.1 px high (the height is written with one decimal).
                if h >= 0.1 {
                    y -= h;
                    let _ = write!(
                        out,
                        r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{}"/>"#,
                        (col - 1.0).max(0.5),
                        s.colour
                    );
                }
            }
        }
        let _ = write!(
            out,
            r#"<text x="{left}" y="{}" font-size="11">{first}</text><text x="{WIDTH}" y="{}" font-size="11" text-anchor="end">{last}</text>"#,
            height - 6.0,
            height - 6.0
        );
    } else {
        let _ = write!(
            out,
            r#"<text x="{left}" y="{}" font-size="12">No dated exceptions.</text>"#,
            top + 20.0
        );
    }
    out.push_str("</svg>");
    out
}

/// One line of a [`lines`] chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub values: Vec<f64>,
    pub colour: &'static str,
}

/// Lines over a sequence of runs (`x_labels`, oldest first): the queue's trend of open
/// exceptions per check.
pub fn lines(title: &str, x_labels: &[String], series: &[Series]) -> String {
    let height = 220.0;
    let (left, top, bottom) = (40.0, TITLE + 24.0, 24.0);
    let plot_h = height - top - bottom;
    let mut out = String::new();
    open(&mut out, height, title);
    let legend_items: Vec<(&str, &str)> = series
        .iter()
        .map(|s| (s.label.as_str(), s.colour))
        .collect();
    legend(&mut out, TITLE + 4.0, &legend_items);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let base = top + plot_h;
    y_axis(&mut out, left, top, base, max);
    let n = x_labels.len();
    if n < 2 {
        let _ = write!(
            out,
            r#"<text x="{left}" y="{}" font-size="12">The trend appears after the second run.</text>"#,
            top + 20.0
        );
    } else {
        let step = (WIDTH - left - 8.0) / (n - 1) as f64;
        for s in series {
            let points: Vec<String> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let y = if max > 0.0 {
                        base - plot_h * v / max
                    } else {
                        base
                    };
                    format!("{:.1},{:.1}", left + step * i as f64, y)
                })
                .collect();
            let _ = write!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                points.join(" "),
                s.colour
            );
        }
        let _ = write!(
            out,
            r#"<text x="{left}" y="{}" font-size="11">{}</text><text x="{WIDTH}" y="{}" font-size="11" text-anchor="end">{}</text>"#,
            height - 6.0,
            xml(&x_labels[0]),
            height - 6.0,
            xml(&x_labels[n - 1])
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale() {
        let bars = vec![
            Bar {
                label: "<script>alert(1)</script>".into(),
                segments: vec![Segment {
                    value: 10.0,
                    colour: "#000000",
                }],
                value_text: "£10.00".into(),
            },
            Bar {
                label: "B & Co".into(),
                segments: vec![Segment {
                    value: 5.0,
                    colour: "#000000",
                }],
                value_text: "£5.00".into(),
            },
        ];
        let svg = horizontal_bars("t", &bars, &[]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("B &amp; Co"));
        // The longer bar fills the plot (680 - 170 - 130 = 380), the other half of it.
        assert!(svg.contains(r#"width="380.0""#), "{svg}");
        assert!(svg.contains(r#"width="190.0""#), "{svg}");
    }

    #[test]
    fn slivers_too_thin_to_see_are_not_drawn() {
        // A zero-size rect is invalid SVG (typst's renderer warns about each one).
        let tiny = |v| Segment {
            value: v,
            colour: "#000000",
        };
        let bars = vec![Bar {
            label: "a".into(),
            segments: vec![tiny(1_000_000.0), tiny(0.01)],
            value_text: String::new(),
        }];
        let svg = horizontal_bars("t", &bars, &[]);
        assert!(!svg.contains(r#"width="0.0""#), "{svg}");
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let svg = columns_over_time("t", &[(day, vec![tiny(1_000_000.0), tiny(0.01)])], &[]);
        assert!(!svg.contains(r#"height="0.0""#), "{svg}");
    }

    #[test]
    fn trend_lines_scale_to_the_highest_point_and_escape_labels() {
        let svg = lines(
            "t",
            &["run 1".into(), "run 2".into(), "run <3>".into()],
            &[Series {
                label: "order.total_mismatch".into(),
                values: vec![4.0, 2.0, 0.0],
                colour: "#000000",
            }],
        );
        // Plot from y = 46 (top) to 196 (base): 4 sits on top, 2 halfway, 0 on the base.
        assert!(
            svg.contains(r#"points="40.0,46.0 356.0,121.0 672.0,196.0""#),
            "{svg}"
        );
        assert!(svg.contains("run &lt;3&gt;"));
        assert!(lines("t", &["run 1".into()], &[]).contains("after the second run"));
    }
}
