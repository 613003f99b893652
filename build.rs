//! Embeds every `queries/*.sql` file in the binary, so `tally` runs from any directory and adding a
//! check is adding a file (and rebuilding).

use std::fmt::Write;

fn main() {
    println!("cargo:rerun-if-changed=queries");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("queries/ exists")
        .map(|e| e.expect("readable queries/").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Every `queries/*.sql` file: (file name, text).\npub const QUERY_FILES: &[(&str, &str)] = &[\n",
    );
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            f.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("queries.rs");
    std::fs::write(dest, out).unwrap();
}
