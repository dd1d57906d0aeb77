//! Rebuilds this crate when the web UI's build output changes, so the binary
//! embeds the `webui/dist` of the moment (src/ui.rs).
//!
//! rust-embed reads `webui/dist` when this crate compiles and tracks the files it
//! embedded, but not files that appear later. So: with `dist` built, cargo watches
//! it (a directory is scanned for any change); without it, cargo watches `webui/`,
//! which changes when `make webui` creates `dist` — instead of naming the missing
//! folder, which would make cargo rebuild this crate on every build.
use std::path::Path;

fn main() {
    let webui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../webui");
    let dist = webui.join("dist");
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
    } else {
        println!("cargo:rerun-if-changed={}", webui.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
