fn main() {
    // Link settings for a Node addon; the core alone (no `node` feature) needs none.
    if std::env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }
}
