//! A shared SQL file (`queries/_views.sql`, `queries/after/*.sql`) split into its statements, so
//! each shared table and each after-step is run and timed on its own: `summary.json` then says
//! which table a slow reconcile spends its time on, not only which file.

/// One statement of a file, and what to call it in timings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// The object it creates (`matched_orders`), else its first words.
    pub name: String,
    pub sql: &'a str,
}

/// The statements of `sql`, split at semicolons outside string literals, quoted names and `--`
/// comments; statements that are only comments and blanks are dropped.
pub fn split(sql: &str) -> Vec<Statement<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c, kind) in lex(sql) {
        if c == ';' && kind == Lexeme::Code {
            push(&mut out, &sql[start..=i]);
            start = i + 1;
        }
    }
    push(&mut out, &sql[start..]);
    out
}

/// What a character of SQL is part of. [`split`] cuts only at a `;` of code, and [`needed`] reads
/// names everywhere but in comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lexeme {
    Code,
    /// A string literal or a quoted name, its quotes included.
    Quoted,
    /// A `--` comment, up to (not including) the end of its line.
    Comment,
}

/// Each character of `sql` with its byte offset and what it is part of.
fn lex(sql: &str) -> impl Iterator<Item = (usize, char, Lexeme)> + '_ {
    let (mut quote, mut comment) = (None::<char>, false);
    let mut chars = sql.char_indices().peekable();
    std::iter::from_fn(move || {
        let (i, c) = chars.next()?;
        let was_quoted = quote.is_some();
        match (quote, comment, c) {
            (None, false, '-') if chars.peek().is_some_and(|&(_, n)| n == '-') => comment = true,
            (None, true, '\n') => comment = false,
            (None, false, '\'' | '"') => quote = Some(c),
            (Some(q), _, _) if c == q => quote = None,
            _ => {}
        }
        let kind = match (comment, was_quoted || quote.is_some()) {
            (true, _) => Lexeme::Comment,
            (false, true) => Lexeme::Quoted,
            (false, false) => Lexeme::Code,
        };
        Some((i, c, kind))
    })
}

fn push<'a>(out: &mut Vec<Statement<'a>>, sql: &'a str) {
    let code: Vec<&str> = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .flat_map(str::split_whitespace)
        .collect();
    if code.is_empty() || code == [";"] {
        return;
    }
    let lower: Vec<String> = code.iter().map(|w| w.to_lowercase()).collect();
    let created = lower
        .iter()
        .position(|w| matches!(w.as_str(), "table" | "view" | "macro"))
        .filter(|_| lower.first().is_some_and(|w| w == "create"))
        .and_then(|i| code.get(i + 1));
    let name = match created {
        Some(object) => object
            .split(['(', ';'])
            .next()
            .unwrap_or_default()
            .to_string(),
        None => code
            .iter()
            .take(3)
            .map(|w| w.trim_end_matches(';'))
            .collect::<Vec<_>>()
            .join(" "),
    };
    out.push(Statement { name, sql });
}

/// Which of the shared `statements` (in file order, each reading only earlier ones) are needed to
/// run `uses` (the SQL of some checks): those `uses` names, and those the needed ones name in turn.
/// A partial run computes only these, so measuring four order checks does not also build the stock
/// tables. A name is matched as a whole word outside comments, so a false match can only add a
/// statement, never drop one a query reads. A `drop table x` (a helper table freed once the
/// statements reading it have run) is needed where the statement creating `x` is.
pub fn needed(statements: &[Statement<'_>], uses: &[&str]) -> Vec<bool> {
    let mut needed = vec![false; statements.len()];
    let roots: Vec<String> = uses.iter().map(|sql| code(sql)).collect();
    for (i, s) in statements.iter().enumerate() {
        needed[i] = roots.iter().any(|r| names(r, &s.name));
    }
    for j in (0..statements.len()).rev() {
        if !needed[j] {
            continue;
        }
        let body = code(statements[j].sql);
        for i in 0..j {
            needed[i] = needed[i] || names(&body, &statements[i].name);
        }
    }
    for (j, s) in statements.iter().enumerate() {
        if let Some(dropped) = s.drops() {
            needed[j] = statements[..j]
                .iter()
                .zip(&needed)
                .any(|(made, &n)| n && made.name.eq_ignore_ascii_case(dropped));
        }
    }
    needed
}

impl Statement<'_> {
    /// The table or view a `drop table x` / `drop view x` statement drops.
    fn drops(&self) -> Option<&str> {
        let mut words = self.name.split(' ');
        let verb = words.next()?;
        let kind = words.next()?;
        (verb.eq_ignore_ascii_case("drop")
            && (kind.eq_ignore_ascii_case("table") || kind.eq_ignore_ascii_case("view")))
        .then(|| words.next())
        .flatten()
    }
}

/// `sql` lower-cased, without its `--` comments (a `--` inside a string literal is kept).
fn code(sql: &str) -> String {
    lex(sql)
        .filter(|&(_, _, kind)| kind != Lexeme::Comment)
        .flat_map(|(_, c, _)| c.to_lowercase())
        .collect()
}

/// Whether `code` (lower-cased) holds `name` as a whole identifier.
fn names(code: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(&name).any(|(at, _)| {
        !code[..at].chars().next_back().is_some_and(word)
            && !code[at + name.len()..].chars().next().is_some_and(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_semicolons_outside_strings_and_comments() {
        let sql = "-- a header; with a semicolon\ncreate macro m(x) as x;\n\
                   create table t as select 'a;b' as \"c;d\" -- end; of line\nfrom x;\n\
                   CREATE OR REPLACE VIEW v AS SELECT 1;\n-- only a comment;\n";
        let got = split(sql);
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["m", "t", "v"]);
        assert!(got[1].sql.contains("'a;b' as \"c;d\""), "{}", got[1].sql);
        assert!(got[1].sql.trim_end().ends_with("from x;"), "{}", got[1].sql);
    }

    #[test]
    fn a_statement_that_creates_nothing_is_named_by_its_first_words() {
        let got = split("insert into t select 1;\nupdate t set a = 2;\ndrop table x;");
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["insert into t", "update t set", "drop table x"]);
    }

    #[test]
    fn every_shared_file_splits_into_statements_that_create_something() {
        let files =
            super::super::catalogue::shared_views().chain(super::super::catalogue::after_checks());
        for (file, sql) in files {
            let statements = split(sql);
            assert!(!statements.is_empty(), "{file}");
            let joined: String = statements.iter().map(|s| s.sql).collect();
            assert_eq!(
                joined.trim(),
                sql.trim().trim_end_matches(|c: char| c != ';').trim(),
                "{file}"
            );
        }
    }

    #[test]
    fn needed_follows_names_back_through_the_statements_and_ignores_comments() {
        let sql = "create table a as select 1 as x;\n\
                   create table ab as select 2 as x;\n\
                   -- b reads a, not ab; c is only mentioned here\n\
                   create view b as select * from a; -- c\n\
                   create table c as select * from ab;\n\
                   create macro m(x) as x + 1;\n\
                   drop table ab;";
        let statements = split(sql);
        let got = |uses: &[&str]| -> Vec<&str> {
            needed(&statements, uses)
                .iter()
                .zip(&statements)
                .filter(|(n, _)| **n)
                .map(|(_, s)| s.name.as_str())
                .collect()
        };
        assert_eq!(got(&["select * from B"]), ["a", "b"]);
        assert_eq!(
            got(&["select m(x) from c"]),
            ["ab", "c", "m", "drop table ab"]
        );
        assert_eq!(got(&["select 1 -- from c"]), Vec::<&str>::new());
        assert_eq!(
            got(&["select 'a--' from b", "select * from c"]),
            ["a", "ab", "b", "c", "drop table ab"]
        );
    }

    #[test]
    fn the_order_money_checks_need_matched_orders_and_not_the_line_or_stock_tables() {
        let (_, views) = super::super::catalogue::shared_views()
            .next()
            .expect("queries/_views.sql");
        let statements = split(views);
        let checks = super::super::checks().unwrap();
        let uses: Vec<&str> = checks
            .iter()
            .filter(|c| c.name == "order.total_mismatch" || c.name == "order.tax_mismatch")
            .map(|c| c.sql.as_str())
            .collect();
        assert_eq!(uses.len(), 2);
        let chosen: Vec<&str> = needed(&statements, &uses)
            .iter()
            .zip(&statements)
            .filter(|(n, _)| **n)
            .map(|(_, s)| s.name.as_str())
            .collect();
        for name in [
            "matched_orders",
            "disagreeing_orders",
            "money_differences",
            "centra_order_figures",
        ] {
            assert!(chosen.contains(&name), "{name} missing from {chosen:?}");
        }
        for name in [
            "suspect_orders",
            "live_orders",
            "stock_positions",
            "sku_names",
            "shipment_quantities",
        ] {
            assert!(!chosen.contains(&name), "{name} in {chosen:?}");
        }
    }
}
