//! Replies that break the contract on purpose, so tests can show that each one ends in a clear
//! error naming the endpoint and what was wrong, and never in a snapshot.
//!
//! The sandbox corrupts one Centra orders page (`orderConnection`): the second, after a first page
//! was already written to the snapshot's temporary files; for a repeating cursor, the third, whose
//! `endCursor` points back to the first page's.

use std::fmt;

/// One way a reply can break the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The JSON stops half way, as a dropped connection behind a proxy leaves it.
    TruncatedJson,
    /// An order's `number` (an `Int!`) arrives as a boolean.
    WrongType,
    /// An order's `status` (an `OrderStatus!`) arrives as null.
    NullField,
    /// A proxy's HTML error page, with status 200.
    HtmlPage,
    /// Bytes that are not UTF-8 inside a string.
    InvalidUtf8,
    /// `hasNextPage` is true and `endCursor` points back to a page already read.
    RepeatingCursor,
}

impl Malformed {
    /// Every mode, for tests that try them all.
    pub const ALL: [Malformed; 6] = [
        Malformed::TruncatedJson,
        Malformed::WrongType,
        Malformed::NullField,
        Malformed::HtmlPage,
        Malformed::InvalidUtf8,
        Malformed::RepeatingCursor,
    ];

    /// Which orders page (1-based) this mode corrupts.
    pub fn page(self) -> u64 {
        match self {
            Malformed::RepeatingCursor => 3,
            _ => 2,
        }
    }

    /// Corrupts one orders page's JSON `body`; `first_cursor` is the `endCursor` the first orders
    /// page carried. Returns the content type and the bytes to send with status 200.
    pub fn corrupt(self, body: String, first_cursor: Option<&str>) -> (&'static str, Vec<u8>) {
        const JSON: &str = "application/json";
        match self {
            Malformed::TruncatedJson => (JSON, body.as_bytes()[..body.len() / 2].to_vec()),
            Malformed::WrongType => (JSON, replace_value(&body, "\"number\":", "true").into_bytes()),
            Malformed::NullField => (JSON, replace_value(&body, "\"status\":", "null").into_bytes()),
            Malformed::HtmlPage => (
                "text/html",
                b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
                    .to_vec(),
            ),
            Malformed::InvalidUtf8 => {
                let mut bytes = body.into_bytes();
                if let Some(at) = find(&bytes, b"\"productName\":\"") {
                    let at = at + b"\"productName\":\"".len();
                    bytes.splice(at..at, [0xff, 0xfe, 0xfd]);
                }
                (JSON, bytes)
            }
            Malformed::RepeatingCursor => {
                let cursor = first_cursor.unwrap_or_default();
                (
                    JSON,
                    replace_value(&body, "\"endCursor\":", &format!("\"{cursor}\"")).into_bytes(),
                )
            }
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::TruncatedJson => "truncated JSON",
            Malformed::WrongType => "a field of the wrong type",
            Malformed::NullField => "null where the contract says non-null",
            Malformed::HtmlPage => "an HTML error page with status 200",
            Malformed::InvalidUtf8 => "invalid UTF-8",
            Malformed::RepeatingCursor => "a cursor that repeats",
        })
    }
}

/// The `endCursor` of a GraphQL page, if it has one.
pub fn end_cursor(body: &str) -> Option<String> {
    let at = body.find("\"endCursor\":\"")? + "\"endCursor\":\"".len();
    let len = body[at..].find('"')?;
    Some(body[at..at + len].to_string())
}

/// `body` with the value after the first `field` (a scalar: a string, number, boolean or null)
/// replaced by `value`.
fn replace_value(body: &str, field: &str, value: &str) -> String {
    let Some(at) = body.find(field) else {
        return body.to_string();
    };
    let start = at + field.len();
    let rest = &body[start..];
    let len = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map_or(rest.len(), |i| i + 2)
    } else {
        rest.find([',', '}', ']']).unwrap_or(rest.len())
    };
    format!("{}{value}{}", &body[..start], &rest[len..])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_value_swaps_one_scalar() {
        let body = r#"{"a":{"number":101,"status":"SHIPPED"},"b":{"number":102}}"#;
        assert_eq!(
            replace_value(body, "\"number\":", "true"),
            r#"{"a":{"number":true,"status":"SHIPPED"},"b":{"number":102}}"#
        );
        assert_eq!(
            replace_value(body, "\"status\":", "null"),
            r#"{"a":{"number":101,"status":null},"b":{"number":102}}"#
        );
    }

    #[test]
    fn end_cursor_is_read_from_page_info() {
        let body = r#"{"pageInfo":{"hasNextPage":true,"endCursor":"b3JkZXI6MjAw"}}"#;
        assert_eq!(end_cursor(body).as_deref(), Some("b3JkZXI6MjAw"));
        assert_eq!(end_cursor("{}"), None);
    }
}
