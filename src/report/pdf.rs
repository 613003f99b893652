//! PDF without a browser: the Typst source a `.typ` template renders to is compiled in process by
//! typst and written by typst-pdf. The fonts are the ones typst-assets embeds in the binary
//! (Libertinus Serif, New Computer Modern, DejaVu Sans Mono), so a report looks the same on every
//! machine and nothing is read from the system or downloaded. The source may read no files.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

/// The standard library and the embedded fonts, loaded once per process.
struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static SHARED: LazyLock<Shared> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Shared {
        library: LazyHash::new(Library::default()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// One document to compile: its source and nothing else.
struct Document {
    source: Source,
}

impl World for Document {
    fn library(&self) -> &LazyHash<Library> {
        &SHARED.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &SHARED.book
    }
    fn main(&self) -> FileId {
        self.source.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.source.id() {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.source.id() {
            Ok(Bytes::from_string(self.source.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        SHARED.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        // Reports are dated by their snapshot, never by the clock.
        None
    }
}

/// Compiles Typst source to PDF bytes; the error lists typst's messages with the source line.
pub fn compile(source: &str) -> Result<Vec<u8>, String> {
    let document = Document {
        source: Source::detached(source),
    };
    let paged = typst::compile::<PagedDocument>(&document)
        .output
        .map_err(|errors| describe(&document, &errors))?;
    let pdf = typst_pdf::pdf(&paged, &typst_pdf::PdfOptions::default())
        .map_err(|errors| describe(&document, &errors));
    // typst memoizes layout work for the next compilation of a similar document; tally compiles
    // each report once, so the cache would only hold memory (and make a second render look
    // faster than a first).
    typst::comemo::evict(0);
    pdf
}

fn describe(document: &Document, errors: &[SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| {
            let line = document
                .range(e.span)
                .and_then(|r| document.source.lines().byte_to_line(r.start))
                .map(|l| format!("line {}: ", l + 1))
                .unwrap_or_default();
            format!("{line}{}", e.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Escapes text for Typst markup: every character that is not a letter, digit or space gets a
/// backslash, which Typst reads as "this character, literally". Line breaks become spaces. So a
/// product name like `*Sale* #exit() <b>` prints as written and cannot run code or change style.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        if c.is_alphanumeric() || c == ' ' {
            out.push(c);
        } else if c.is_whitespace() {
            out.push(' ');
        } else {
            out.push('\\');
            out.push(c);
        }
    }
}

/// A Typst string literal holding `text` exactly, for code positions (an inline SVG chart).
pub fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_compiles_to_itself() {
        let hostile = "*Sale* _x_ #exit() $x^2$ <b>bold</b> [link](x) // comment \\u{41} @ref = - + / ~ ` \" ' ]";
        let mut body = String::from("#set page(width: 20cm, height: auto)\n");
        escape(hostile, &mut body);
        let pdf = compile(&body).expect("escaped text always compiles");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn a_typst_error_names_the_line() {
        let err = compile("ok\n#nonsense(").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }
}
