//! Helpers shared by the integration tests.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real `mpq` binary, run from the repository root.
pub fn mpq() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("mpq").expect("binary");
    c.current_dir(root());
    c
}

/// A path under the repository root, as a string.
pub fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

/// Compares `actual` with the golden file `testdata/expected/NAME`; with `UPDATE_EXPECTED=1`
/// the file is (re)written instead.
pub fn check_golden(name: &str, actual: &str) {
    let file = root().join("testdata/expected").join(name);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&file, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("missing golden file {}", file.display()));
    assert_eq!(actual, expected, "output differs from {}", file.display());
}

/// Batches as an aligned table.
pub fn table(batches: &[RecordBatch]) -> String {
    format!("{}\n", pretty_format_batches(batches).expect("pretty"))
}

/// Writes MessagePack records built with rmp's encoder from a closure.
pub fn mp(build: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = Vec::new();
    build(&mut v);
    v
}

/// `{"k": <int>}` repeated for each value.
pub fn int_records(key: &str, values: &[i64]) -> Vec<u8> {
    mp(|w| {
        for v in values {
            rmp::encode::write_map_len(w, 1).expect("vec");
            rmp::encode::write_str(w, key).expect("vec");
            rmp::encode::write_sint(w, *v).expect("vec");
        }
    })
}
