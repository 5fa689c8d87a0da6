//! Rebuilds the crate when a file of the web console changes (rust-embed embeds the folder
//! at compile time; a new file would otherwise go unnoticed).

fn main() {
    println!("cargo:rerun-if-changed=console");
}
