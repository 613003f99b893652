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
    let (mut start, mut quote, mut comment) = (0, None::<char>, false);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, comment, c) {
            (None, false, '-') if chars.peek().is_some_and(|&(_, n)| n == '-') => comment = true,
            (None, true, '\n') => comment = false,
            (None, false, '\'' | '"') => quote = Some(c),
            (Some(q), _, _) if c == q => quote = None,
            (None, false, ';') => {
                push(&mut out, &sql[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(&mut out, &sql[start..]);
    out
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
}
