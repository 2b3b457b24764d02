//! Tables from what a user names: input arguments (files, directories, globs, `s3://` URLs,
//! `-` for standard input) expanded, registered as the table `t`, and also reachable under an
//! alias (the single file's stem, or the files' shared directory name). A table is MessagePack
//! unless its files' names say another format DataFusion reads ([`TableFormat`]: Parquet, CSV,
//! NDJSON, Arrow IPC), so MessagePack tables join reference data.

use crate::datasource::{SessionContextExt, ensure_store, is_hidden_name, register_stream};
use crate::error::{Error, Result};
use crate::infer::TableInference;
pub use crate::input::foreign::{Named, TableFormat};
use crate::options::MsgpackReadOptions;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::arrow::ArrowFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::context::DataFilePaths;
use datafusion::prelude::SessionContext;
use std::path::Path;
use std::sync::Arc;

/// The format of the expanded inputs `files` and the extension that lists them: by the
/// files' names ([`TableFormat::of_name`]), and for a local directory by the names of the
/// files in it (hidden names left out): a directory whose first file is MessagePack is a
/// MessagePack table (any file in it named as another format is then refused by the reader),
/// else all its files must be of that format. Inputs whose names say different formats are an
/// error naming two of them; `--ext` (`ext` not empty) or `--layout` (`layout_given`) means
/// MessagePack.
pub fn inputs_format(files: &[String], ext: &str, layout_given: bool) -> Result<Named> {
    let msgpack =
        Named { format: TableFormat::Msgpack, ext: ext.to_string(), compression: FileCompressionType::UNCOMPRESSED };
    if !ext.is_empty() || layout_given || files.iter().any(|f| f == STDIN) {
        return Ok(msgpack);
    }
    let mut names = Vec::new();
    for f in files {
        if f.ends_with('/') && !f.contains("://") {
            let mut first = Vec::new();
            local_files(Path::new(f), &mut first, 1);
            if first.iter().all(|n| TableFormat::of_name(n).is_none()) {
                names.extend(first);
            } else {
                local_files(Path::new(f), &mut names, MAX_LISTED);
            }
        } else {
            names.push(f.clone());
        }
    }
    let Some(first) = names.first() else { return Ok(msgpack) };
    let want = TableFormat::of_name(first);
    let what = |n: &Option<Named>| n.as_ref().map_or("MessagePack", |n| n.format.name());
    if let Some(other) = names.iter().find(|n| TableFormat::of_name(n) != want) {
        return Err(Error::Input(format!(
            "one table holds files of one format, but {first} is {} and {other} is {} (by their names); \
             name each as its own table (--table NAME=PATH), or give --ext to read only MessagePack files",
            what(&want),
            what(&TableFormat::of_name(other))
        )));
    }
    Ok(want.unwrap_or(msgpack))
}

/// The most files of a directory looked at to decide its format.
const MAX_LISTED: usize = 1_000_000;

/// The DataFusion format that reads `format` (MessagePack has its own, [`crate::MsgpackFormat`]).
fn file_format(format: TableFormat, compression: FileCompressionType) -> Option<Arc<dyn FileFormat>> {
    Some(match format {
        TableFormat::Msgpack => return None,
        TableFormat::Parquet => Arc::new(ParquetFormat::default()),
        TableFormat::Csv { delimiter } => Arc::new(
            CsvFormat::default()
                .with_has_header(true)
                .with_delimiter(delimiter)
                .with_file_compression_type(compression),
        ),
        TableFormat::Json => Arc::new(JsonFormat::default().with_file_compression_type(compression)),
        TableFormat::Arrow => Arc::new(ArrowFormat),
    })
}
/// The visible files under a local directory (at most `max`), in no particular order.
fn local_files(dir: &Path, out: &mut Vec<String>, max: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(|e| e.ok()) {
        if out.len() >= max {
            return;
        }
        let name = e.file_name();
        if is_hidden_name(&name.to_string_lossy()) {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => local_files(&e.path(), out, max),
            Ok(_) => out.push(e.path().display().to_string()),
            Err(_) => {}
        }
    }
}

/// Registers the expanded inputs `files` as table `name`, in the format their names say
/// ([`inputs_format`]): MessagePack through [`SessionContextExt::register_msgpack`],
/// other formats through DataFusion's own readers (schema inferred by them; Hive-style
/// directories under one directory give partition columns, as for MessagePack).
///
/// ```
/// use mpq::MsgpackReadOptions;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let opts = MsgpackReadOptions::default();
/// let ctx = mpq::session::session(&opts, 0).unwrap();
/// mpq::tables::register_table(&ctx, "logs", &["testdata/logs.msgpack".to_string()], &opts).await.unwrap();
/// mpq::tables::register_table(&ctx, "s", &["testdata/formats/services.csv".to_string()], &opts).await.unwrap();
/// let sql = "SELECT DISTINCT team FROM logs JOIN s ON logs.service = s.service";
/// let rows: usize = ctx.sql(sql).await.unwrap().collect().await.unwrap().iter().map(|b| b.num_rows()).sum();
/// assert_eq!(rows, 6);
/// # });
/// ```
pub async fn register_table(
    ctx: &SessionContext,
    name: &str,
    files: &[String],
    opts: &MsgpackReadOptions,
) -> Result<()> {
    let Named { format, ext, compression } = inputs_format(files, &opts.file_extension, opts.layout.is_some())?;
    let Some(file_format) = file_format(format, compression) else {
        ctx.register_msgpack(name, files.to_vec(), opts.clone()).await?;
        return Ok(());
    };
    let urls: Vec<ListingTableUrl> = files.to_vec().to_urls()?;
    for url in &urls {
        ensure_store(&ctx.runtime_env(), url)?;
    }
    let state = ctx.state();
    let mut listing = ListingOptions::new(file_format).with_file_extension(ext);
    if let [url] = urls.as_slice()
        && url.is_collection()
    {
        let parts = listing.infer_partitions(&state, url).await?;
        listing = listing.with_table_partition_cols(
            parts.into_iter().map(|n| (n, datafusion::arrow::datatypes::DataType::Utf8)).collect(),
        );
    }
    let config =
        ListingTableConfig::new_with_multi_paths(urls).with_listing_options(listing).infer_schema(&state).await?;
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// Expands one input argument: globs (also quoted ones) to the files they match; directories
/// to `dir/` (listed recursively by the table); anything else as it is. Names that start with
/// `_` or `.` are hidden ([`crate::datasource::is_hidden_name`]): a wildcard does not match
/// them (a pattern that spells the `_` or `.` does), as a directory's listing leaves them out.
pub fn expand_input(arg: &str) -> Result<Vec<String>> {
    if arg.contains("://") || arg == STDIN {
        return Ok(vec![arg.to_string()]);
    }
    if arg.contains(['*', '?', '[']) {
        let mut out = Vec::new();
        let bad = |e: String| Error::Input(format!("{arg}: {e}"));
        let matches =
            glob::glob_with(arg, glob::MatchOptions { require_literal_leading_dot: true, ..Default::default() });
        for p in matches.map_err(|e| bad(format!("not a glob: {e}")))? {
            let p = p.map_err(|e| bad(e.to_string()))?;
            if p.is_file() && !hidden_by_wildcard(arg, &p) {
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

/// Whether a wildcard of `pattern` matched a hidden name in `path` (one the pattern does not
/// spell out): components are compared position by position, or only the last ones when a
/// `**` made the counts differ.
fn hidden_by_wildcard(pattern: &str, path: &Path) -> bool {
    let pat: Vec<String> = Path::new(pattern).components().map(|c| c.as_os_str().to_string_lossy().into()).collect();
    let got: Vec<String> = path.components().map(|c| c.as_os_str().to_string_lossy().into()).collect();
    let literal = pat.iter().take_while(|c| !c.contains(['*', '?', '['])).count();
    got.iter().enumerate().skip(literal).any(|(i, name)| {
        let spelled =
            if pat.len() == got.len() { pat.get(i) } else { (i + 1 == got.len()).then(|| pat.last()).flatten() };
        crate::datasource::is_hidden_name(name)
            && !spelled.is_some_and(|p| p.starts_with(name.chars().next().unwrap_or('_')))
    })
}

/// The bytes of the input files (directories walked without hidden names, keeping files with
/// `ext` when set), for progress and summaries; object-store inputs count 0.
pub fn input_bytes(files: &[String], ext: &str) -> u64 {
    fn walk(p: &Path, ext: &str) -> u64 {
        match std::fs::metadata(p) {
            // Hidden names are not inputs of a directory (see `datasource::Visible`).
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|entries| {
                    entries
                        .filter_map(|e| e.ok())
                        .filter(|e| !is_hidden_name(&e.file_name().to_string_lossy()))
                        .map(|e| walk(&e.path(), ext))
                        .sum()
                })
                .unwrap_or(0),
            Ok(m) if ext.is_empty() || p.to_str().is_some_and(|s| s.ends_with(ext)) => m.len(),
            _ => 0,
        }
    }
    files.iter().filter(|f| !f.contains("://")).map(|f| walk(Path::new(f), ext)).sum()
}

/// The input argument that means standard input.
pub const STDIN: &str = "-";

/// Registers the expanded inputs as the table `t` ([`register_table`]), and under its alias
/// ([`table_alias`]).
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
    register_table(ctx, "t", files, opts).await?;
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
        let hidden = |pattern: &str, path: &str| hidden_by_wildcard(pattern, Path::new(path));
        assert!(hidden("out/*", "out/_SUCCESS"));
        assert!(hidden("out/*", "out/.part-0.crc"));
        assert!(!hidden("out/*", "out/part-0"));
        assert!(!hidden("out/_*", "out/_SUCCESS"), "spelled out");
        assert!(!hidden("_out/*", "_out/part-0"), "a literal directory");
        assert!(hidden("out/**/part-*", "out/_temporary/0/part-1"));
        assert!(!hidden("out/**/part-*", "out/dt=1/part-1"));
        assert_eq!(expand_input("-").expect("stdin"), ["-"]);
    }
}
