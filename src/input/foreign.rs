//! Other formats' files: detection never makes records out of a container it does not
//! understand. [`TableFormat`] names the formats a table's files can have by their names; a
//! MessagePack table refuses a file named as another one. A file that starts with the magic
//! bytes of a Parquet, Avro, ORC or Arrow IPC file is refused with a message naming the format
//! (and, for the formats mpq reads as tables, how to read it), unless `--layout` says how to
//! read it. (SequenceFiles are read: see [`crate::framing::seqfile`].)

use datafusion::datasource::file_format::file_compression_type::FileCompressionType;

/// What a table's files are, by their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// MessagePack records (any name that is not one of the others).
    Msgpack,
    /// Parquet (`.parquet`).
    Parquet,
    /// CSV with a header line (`.csv`; `.tsv` with tabs), optionally compressed.
    Csv {
        /// The field delimiter.
        delimiter: u8,
    },
    /// Newline-delimited JSON (`.json`, `.ndjson`, `.jsonl`), optionally compressed.
    Json,
    /// Arrow IPC files (`.arrow`, `.ipc`, `.feather`).
    Arrow,
}

/// Extensions of the formats other than MessagePack, and whether they may carry a compression
/// suffix.
const EXTENSIONS: [(&str, TableFormat, bool); 9] = [
    ("parquet", TableFormat::Parquet, false),
    ("csv", TableFormat::Csv { delimiter: b',' }, true),
    ("tsv", TableFormat::Csv { delimiter: b'\t' }, true),
    ("json", TableFormat::Json, true),
    ("ndjson", TableFormat::Json, true),
    ("jsonl", TableFormat::Json, true),
    ("arrow", TableFormat::Arrow, false),
    ("ipc", TableFormat::Arrow, false),
    ("feather", TableFormat::Arrow, false),
];

/// Compression suffixes DataFusion reads CSV and JSON through.
const COMPRESSIONS: [(&str, FileCompressionType); 4] = [
    ("gz", FileCompressionType::GZIP),
    ("zst", FileCompressionType::ZSTD),
    ("bz2", FileCompressionType::BZIP2),
    ("xz", FileCompressionType::XZ),
];

/// What a file's name says it is ([`TableFormat::of_name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The format.
    pub format: TableFormat,
    /// The full extension that lists such files (`.csv.gz`).
    pub ext: String,
    /// The compression of CSV and NDJSON files.
    pub compression: FileCompressionType,
}

/// `name` without its extension `ext` (`.` and `ext` at its end), if it has it.
fn dotted<'a>(name: &'a str, ext: &str) -> Option<&'a str> {
    name.strip_suffix(ext)?.strip_suffix('.')
}

impl TableFormat {
    /// The format a file name says, with its full extension (`.csv.gz`) and compression.
    pub fn of_name(name: &str) -> Option<Named> {
        let given = name.rsplit('/').next().unwrap_or(name);
        let name = given.to_ascii_lowercase();
        // The extension as the name spells it: listings match it case-sensitively.
        let spelled = |ext: String| given[given.len() - ext.len()..].to_string();
        let (stem, compression) = match COMPRESSIONS.iter().find_map(|(c, t)| Some((dotted(&name, c)?, (*c, *t)))) {
            Some((stem, c)) => (stem, Some(c)),
            None => (name.as_str(), None),
        };
        let (ext, format, compressible) = EXTENSIONS.iter().find(|(e, ..)| dotted(stem, e).is_some())?;
        let format = *format;
        match compression {
            None => {
                Some(Named { format, ext: spelled(format!(".{ext}")), compression: FileCompressionType::UNCOMPRESSED })
            }
            Some((c, compression)) if *compressible => {
                Some(Named { format, ext: spelled(format!(".{ext}.{c}")), compression })
            }
            Some(_) => None,
        }
    }

    /// The format's name in messages.
    pub fn name(&self) -> &'static str {
        match self {
            TableFormat::Msgpack => "MessagePack",
            TableFormat::Parquet => "Parquet",
            TableFormat::Csv { delimiter: b'\t' } => "TSV",
            TableFormat::Csv { .. } => "CSV",
            TableFormat::Json => "NDJSON",
            TableFormat::Arrow => "Arrow IPC",
        }
    }
}

/// A format recognised by its magic bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    /// What the file is, for messages ("a Parquet file", ...).
    pub what: String,
    /// What to do instead.
    pub hint: &'static str,
}

/// The format `head` (the first bytes of an input) starts with, if it is a known other one.
pub fn foreign_format(head: &[u8]) -> Option<Foreign> {
    let table_hint = "mpq reads it as a table by its extension (.parquet, .arrow)";
    let (what, hint) = if head.starts_with(b"PAR1") {
        ("a Parquet file".to_string(), table_hint)
    } else if head.starts_with(b"ARROW1") {
        ("an Arrow IPC file".to_string(), table_hint)
    } else if head.starts_with(b"Obj\x01") {
        ("an Avro object container file".to_string(), "mpq does not read Avro")
    } else if head.starts_with(b"ORC") {
        ("an ORC file".to_string(), "mpq does not read ORC")
    } else {
        return None;
    };
    Some(Foreign { what, hint })
}

impl Foreign {
    /// The refusal for input `path`.
    pub fn message(&self, path: &str) -> String {
        format!(
            "{path}: its first bytes say it is {}, not MessagePack records; {} (--layout reads it as MessagePack anyway)",
            self.what, self.hint
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_name_the_format() {
        let f = foreign_format(b"PAR1\x15\x00").expect("parquet");
        assert_eq!(f.what, "a Parquet file");
        assert!(foreign_format(b"Obj\x01").is_some() && foreign_format(b"ORC\x0a").is_some());
        assert!(foreign_format(b"ARROW1\x00\x00").is_some());
        assert!(foreign_format(b"\x81\xa1a\x01").is_none());
        assert!(foreign_format(b"").is_none() && foreign_format(b"SEQ\x06").is_none(), "SequenceFiles are read");
        assert!(f.message("x").starts_with("x: its first bytes say it is a Parquet file"));
    }

    #[test]
    fn names_say_formats() {
        let named = TableFormat::of_name("dir/Users.CSV.gz").expect("csv");
        assert_eq!((named.format, named.ext.as_str()), (TableFormat::Csv { delimiter: b',' }, ".CSV.gz"));
        assert_eq!(named.compression, FileCompressionType::GZIP);
        assert_eq!(TableFormat::of_name("a.tsv").map(|n| n.format), Some(TableFormat::Csv { delimiter: b'\t' }));
        assert_eq!(TableFormat::of_name("a.jsonl").map(|n| n.format), Some(TableFormat::Json));
        assert_eq!(TableFormat::of_name("a.feather").map(|n| n.format), Some(TableFormat::Arrow));
        assert!(TableFormat::of_name("a.parquet.gz").is_none(), "Parquet compresses inside");
        assert!(TableFormat::of_name("logs.msgpack.gz").is_none() && TableFormat::of_name("part-00000").is_none());
    }
}
