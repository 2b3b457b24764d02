//! Tables from what a user names: input arguments (files, directories, globs, `s3://` URLs,
//! `-` for standard input) expanded, registered as the table `t`, and also reachable under an
//! alias (the single file's stem, or the files' shared directory name).

use crate::datasource::{SessionContextExt, register_stream};
use crate::error::{Error, Result};
use crate::infer::TableInference;
use crate::options::MsgpackReadOptions;
use datafusion::prelude::SessionContext;
use std::path::Path;

/// Expands one input argument: globs (also quoted ones) to the files they match; directories
/// to `dir/` (listed recursively by the table); anything else as it is.
pub fn expand_input(arg: &str) -> Result<Vec<String>> {
    if arg.contains("://") || arg == STDIN {
        return Ok(vec![arg.to_string()]);
    }
    if arg.contains(['*', '?', '[']) {
        let mut out = Vec::new();
        let bad = |e: String| Error::Input(format!("{arg}: {e}"));
        for p in glob::glob(arg).map_err(|e| bad(format!("not a glob: {e}")))? {
            let p = p.map_err(|e| bad(e.to_string()))?;
            if p.is_file() {
                out.push(p.display().to_string());
            }
        }
        if out.is_empty() {
            return Err(Error::Input(format!("{arg}: no files match")));
        }
        return Ok(out);
    }
    let p = Path::new(arg);
    if !p.exists() {
        return Err(Error::Input(format!("{arg}: no such file or directory")));
    }
    if p.is_dir() && !arg.ends_with('/') {
        return Ok(vec![format!("{arg}/")]);
    }
    Ok(vec![arg.to_string()])
}

/// The bytes of the input files (directories walked, keeping files with `ext` when set),
/// for progress and summaries; object-store inputs count 0.
pub fn input_bytes(files: &[String], ext: &str) -> u64 {
    fn walk(p: &Path, ext: &str) -> u64 {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|entries| entries.filter_map(|e| e.ok()).map(|e| walk(&e.path(), ext)).sum())
                .unwrap_or(0),
            Ok(m) if ext.is_empty() || p.to_str().is_some_and(|s| s.ends_with(ext)) => m.len(),
            _ => 0,
        }
    }
    files.iter().filter(|f| !f.contains("://")).map(|f| walk(Path::new(f), ext)).sum()
}

/// The input argument that means standard input.
pub const STDIN: &str = "-";

/// Registers the expanded inputs as the table `t`, and under its alias ([`table_alias`]).
/// Standard input (`-`) is a stream table read once, whose inference is returned.
pub async fn register_inputs(
    ctx: &SessionContext,
    files: &[String],
    opts: &MsgpackReadOptions,
) -> Result<Option<TableInference>> {
    if files.iter().any(|f| f == STDIN) {
        if files.len() > 1 {
            return Err(Error::Input("standard input (-) is read alone, not together with files".into()));
        }
        return Ok(Some(register_stream(ctx, "t", "<stdin>", std::io::stdin(), opts)?));
    }
    ctx.register_msgpack("t", files.to_vec(), opts.clone()).await?;
    if let Some(alias) = table_alias(files) {
        let t = ctx.table_provider("t").await?;
        ctx.register_table(alias.as_str(), t)?;
    }
    Ok(None)
}

/// Every argument expanded ([`expand_input`]), in order.
pub fn expand_all(args: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for a in args {
        out.extend(expand_input(a)?);
    }
    Ok(out)
}

/// A plain SQL identifier: letters, digits and `_`, not starting with a digit.
fn plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The extra name of the `t` table: the single file's stem, or the shared directory's name.
pub fn table_alias(files: &[String]) -> Option<String> {
    let name = if files.len() == 1 && !files[0].ends_with('/') {
        Path::new(&files[0]).file_stem()?.to_str()?.split('.').next()?.to_string()
    } else {
        let dirs: Vec<_> = files
            .iter()
            .map(|f| {
                let p = Path::new(f.trim_end_matches('/'));
                if f.ends_with('/') { p.to_path_buf() } else { p.parent().map(Path::to_path_buf).unwrap_or_default() }
            })
            .collect();
        let first = dirs.first()?;
        if dirs.iter().any(|d| d != first) {
            return None;
        }
        let abs = std::path::absolute(first).ok()?;
        abs.file_name()?.to_str()?.to_string()
    };
    (plain_identifier(&name) && name != "t").then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_plain_identifiers_other_than_t() {
        assert_eq!(table_alias(&["testdata/logs.msgpack".into()]).as_deref(), Some("logs"));
        assert_eq!(table_alias(&["a/x.msgpack".into(), "a/y.msgpack".into()]).as_deref(), Some("a"));
        assert_eq!(table_alias(&["a/x.msgpack".into(), "b/y.msgpack".into()]), None);
        assert_eq!(table_alias(&["t.msgpack".into()]), None);
        assert_eq!(table_alias(&["2024-01.msgpack".into()]), None);
        assert!(expand_input("no/such/file").is_err());
        assert_eq!(expand_input("-").expect("stdin"), ["-"]);
    }
}
