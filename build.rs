//! Embeds every `queries/*.sql` and `queries/after/*.sql` file in the binary, so `tally` runs from
//! any directory and adding a check is adding a file (and rebuilding).

use std::fmt::Write;
use std::path::Path;

/// `pub const NAME: &[(&str, &str)]` holding (file name, text) of every `.sql` file in `dir`
/// (`rel`, relative to the package). The generated code names each file from the package root
/// at compile time, not by an absolute path, so a second checkout sharing the target directory
/// never compiles the first one's queries.
fn embed(out: &mut String, name: &str, doc: &str, dir: &Path, rel: &str) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    writeln!(out, "/// {doc}\npub const {name}: &[(&str, &str)] = &[").unwrap();
    for f in files {
        let file = f.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(
            out,
            "    ({file:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {:?}))),",
            format!("/{rel}/{file}")
        )
        .unwrap();
    }
    out.push_str("];\n");
}

fn main() {
    println!("cargo:rerun-if-changed=queries");
    println!("cargo:rerun-if-changed=queries/after");
    // The manifest directory of this build, not of the one that compiled this script.
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let queries = Path::new(&root).join("queries");
    let mut out = String::new();
    embed(
        &mut out,
        "QUERY_FILES",
        "Every `queries/*.sql` file: (file name, text).",
        &queries,
        "queries",
    );
    embed(
        &mut out,
        "AFTER_FILES",
        "Every `queries/after/*.sql` file: (file name, text), run once the checks have run.",
        &queries.join("after"),
        "queries/after",
    );
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("queries.rs");
    std::fs::write(dest, out).unwrap();
}
