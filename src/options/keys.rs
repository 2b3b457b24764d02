//! The one list of read settings by name: each key's `OPTIONS (...)` name, its CLI flag, its
//! default as text and its help. `CREATE EXTERNAL TABLE ... OPTIONS (...)` (through
//! [`MsgpackReadOptions::set`]) and the CLI's flags (through [`MsgpackReadOptions::set_flag`],
//! their help and defaults taken from here) parse values with the same code.

use super::MsgpackReadOptions;
use crate::error::{Error, Result};

/// One setting: how `OPTIONS (...)` and the command line name it, its default and its help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionKey {
    /// The key in `OPTIONS (...)` (`'format.'` may stand before it).
    pub key: &'static str,
    /// The command-line flag, without its dashes.
    pub flag: &'static str,
    /// The default, as the text a user would write ("" where the default is "not set").
    pub default: &'static str,
    /// One line of help.
    pub help: &'static str,
}

/// `infer_rows`.
pub const INFER_ROWS: OptionKey = OptionKey {
    key: "infer_rows",
    flag: "infer-rows",
    default: "1000",
    help: "Records per file schema inference reads: a number (plus the probes spread through each file), or `all`",
};
/// `infer_probes`.
pub const INFER_PROBES: OptionKey = OptionKey {
    key: "infer_probes",
    flag: "infer-probes",
    default: "8",
    help: "Probes of 100 records spread through each file that inference reads besides the first records \
           (ignored with `--infer-rows all`)",
};
/// `with_record`.
pub const WITH_RECORD: OptionKey = OptionKey {
    key: "with_record",
    flag: "with-record",
    default: "false",
    help: "Add the `_record` column: each whole record as a variant (`mpq query` adds it by itself when the SQL \
           names `_record`)",
};
/// `with_corrupt_record`.
pub const WITH_CORRUPT_RECORD: OptionKey = OptionKey {
    key: "with_corrupt_record",
    flag: "corrupt-record",
    default: "false",
    help: "Add the `_corrupt_record` column: the raw bytes of each record that had a record error (NULL for the \
           others; `mpq query` adds it by itself when the SQL names it)",
};
/// `framing`.
pub const FRAMING: OptionKey = OptionKey {
    key: "framing",
    flag: "framing",
    default: "truncate",
    help: "On a lost record boundary (truncated record, length past the end, 0xc1, depth or size limit, a value \
           that does not fit the layout, a zero-filled tail): `truncate` keeps the records before it and reports \
           the dropped bytes, `fail` stops. Default: `truncate`, but `fail` for `convert`",
};
/// `on_error`.
pub const ON_ERROR: OptionKey = OptionKey {
    key: "on_error",
    flag: "on-error",
    default: "null",
    help: "On a record whose content is wrong (not a map, a bad event time, a tag that is not text): `null` keeps \
           it with the bad part NULL, `drop` leaves it out, `fail` stops. Default: `null`, but `fail` for `convert`",
};
/// `max_errors`.
pub const MAX_ERRORS: OptionKey = OptionKey {
    key: "max_errors",
    flag: "max-errors",
    default: "",
    help: "Stop with an error once more than N problems (record errors and truncations) were met. Default: no bound",
};
/// `max_depth`.
pub const MAX_DEPTH: OptionKey = OptionKey {
    key: "max_depth",
    flag: "max-depth",
    default: "128",
    help: "Deepest nesting of arrays and maps allowed (at most 1024); deeper is a framing error",
};
/// `max_record_bytes`.
pub const MAX_RECORD_BYTES: OptionKey = OptionKey {
    key: "max_record_bytes",
    flag: "max-record-bytes",
    default: "67108864",
    help: "Largest record in bytes; larger is a framing error",
};
/// `mmap`.
pub const MMAP: OptionKey = OptionKey {
    key: "mmap",
    flag: "mmap",
    default: "auto",
    help: "Memory-map files: `auto` (not files still being written, nor files under 256 KiB, which are cheaper to \
           read), `always`, `never`. Pages a scan has passed are released, so memory does not grow with the file",
};
/// `max_struct_fields`.
pub const MAX_STRUCT_FIELDS: OptionKey = OptionKey {
    key: "max_struct_fields",
    flag: "max-struct-fields",
    default: "256",
    help: "Maps with more distinct keys than this become Map columns instead of structs",
};
/// `file_extension`.
pub const FILE_EXTENSION: OptionKey = OptionKey {
    key: "file_extension",
    flag: "ext",
    default: "",
    help: "Only read files with this extension from directories (e.g. `.msgpack`); default all",
};
/// `layout`.
pub const LAYOUT: OptionKey = OptionKey {
    key: "layout",
    flag: "layout",
    default: "auto",
    help: "The layout of every input: `auto` (detected per input from its first records), `records`, `events`, \
           `fluentbit`, `forward` or `values`. A forced layout that the first record does not have is an error",
};
/// `max_decompressed_bytes`.
pub const MAX_DECOMPRESSED_BYTES: OptionKey = OptionKey {
    key: "max_decompressed_bytes",
    flag: "max-decompressed-bytes",
    default: "8589934592",
    help: "The most bytes of a compressed input held in memory decompressed: by inference over every record \
           (`--infer-rows all`) and by a forward capture's compressed entries. Scans decompress as they read",
};
/// `filter_pushdown`.
pub const FILTER_PUSHDOWN: OptionKey = OptionKey {
    key: "filter_pushdown",
    flag: "filter-pushdown",
    default: "true",
    help: "Scans apply the filters DataFusion offers them, decoding the other columns only for the rows that pass \
           (off: a filter runs after the scan)",
};

/// Every setting, in the order help lists them.
pub const KEYS: [OptionKey; 15] = [
    INFER_ROWS,
    INFER_PROBES,
    WITH_RECORD,
    WITH_CORRUPT_RECORD,
    FRAMING,
    ON_ERROR,
    MAX_ERRORS,
    MAX_DEPTH,
    MAX_RECORD_BYTES,
    MMAP,
    MAX_STRUCT_FIELDS,
    FILE_EXTENSION,
    LAYOUT,
    MAX_DECOMPRESSED_BYTES,
    FILTER_PUSHDOWN,
];

/// The setting named `key` in `OPTIONS (...)` (`'format.'` may stand before it).
pub fn by_key(key: &str) -> Option<&'static OptionKey> {
    let key = key.strip_prefix("format.").unwrap_or(key);
    KEYS.iter().find(|k| k.key == key)
}

/// The setting whose command-line flag is `flag` (without dashes).
pub fn by_flag(flag: &str) -> Option<&'static OptionKey> {
    KEYS.iter().find(|k| k.flag == flag)
}

impl MsgpackReadOptions {
    /// Sets the option `key` (as `OPTIONS (...)` names it) from its text; an error names the key
    /// and says what it takes.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let bare = key.strip_prefix("format.").unwrap_or(key);
        let k = by_key(bare).ok_or_else(|| Error::Options(format!("unknown msgpack option {bare:?}")))?;
        self.apply(k, value, &format!("msgpack option {}", k.key))
    }

    /// Sets the option behind the command-line flag `flag` (without dashes) from its text; an
    /// error names the flag.
    pub fn set_flag(&mut self, flag: &str, value: &str) -> Result<()> {
        let k = by_flag(flag).ok_or_else(|| Error::Internal(format!("no read option has the flag --{flag}")))?;
        self.apply(k, value, &format!("--{}", k.flag))
    }

    /// Options from `key = value` pairs (later pairs win), validated.
    pub fn with_pairs<'a>(mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        for (k, v) in pairs {
            self.set(k, v)?;
        }
        self.validate()?;
        Ok(self)
    }

    fn apply(&mut self, k: &OptionKey, v: &str, name: &str) -> Result<()> {
        let takes = |what: &str| Error::Options(format!("{name} takes {what}, not {v:?}"));
        let num = || v.parse::<u64>().map_err(|_| takes("a number"));
        let size = || num().and_then(|n| usize::try_from(n).map_err(|_| takes("a smaller number")));
        let flag = || match v {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(takes("true or false")),
        };
        let o = self.clone();
        *self = match k.key {
            "infer_rows" if v == "all" => o.infer_all(),
            "infer_rows" => o.infer_rows(v.parse().map_err(|_| takes("a number or all"))?),
            "infer_probes" => o.infer_probes(size()?),
            "with_record" => o.with_record(flag()?),
            "with_corrupt_record" => o.with_corrupt_record(flag()?),
            "framing" => o.framing(v.parse().map_err(|_| takes("fail or truncate"))?),
            "on_error" => o.on_error(v.parse().map_err(|_| takes("fail, null or drop"))?),
            "max_errors" if v.is_empty() => o.max_errors(None),
            "max_errors" => o.max_errors(Some(num()?)),
            "max_depth" => o.max_depth(size()?),
            "max_record_bytes" => o.max_record_bytes(size()?),
            "mmap" => o.mmap(v.parse().map_err(|_| takes("auto, always or never"))?),
            "max_struct_fields" => o.max_struct_fields(size()?),
            "file_extension" => o.file_extension(v),
            "layout" if v == "auto" => o.layout(None),
            "layout" => o.layout(Some(v.parse().map_err(Error::Options)?)),
            "max_decompressed_bytes" => o.max_decompressed_bytes(num()?),
            "filter_pushdown" => o.filter_pushdown(flag()?),
            other => return Err(Error::Internal(format!("the read option {other} has no parser"))),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_the_default() {
        let mut o = MsgpackReadOptions::default();
        for k in KEYS {
            o.set(k.key, k.default).unwrap_or_else(|e| panic!("{}: {e}", k.key));
        }
        assert_eq!(o, MsgpackReadOptions::default());
    }

    #[test]
    fn keys_and_flags_parse_alike() {
        let mut a = MsgpackReadOptions::default();
        let mut b = MsgpackReadOptions::default();
        for (k, v) in [(LAYOUT, "events"), (MAX_ERRORS, "3"), (INFER_ROWS, "all"), (FILE_EXTENSION, ".mp")] {
            a.set(&format!("format.{}", k.key), v).expect("key");
            b.set_flag(k.flag, v).expect("flag");
        }
        assert_eq!(a, b);
        assert_ne!(a, MsgpackReadOptions::default());
    }

    #[test]
    fn errors_name_the_key_or_the_flag() {
        let mut o = MsgpackReadOptions::default();
        assert_eq!(
            o.set("max_depth", "x").expect_err("bad").to_string(),
            "invalid option: msgpack option max_depth takes a number, not \"x\""
        );
        assert_eq!(
            o.set_flag("infer-rows", "some").expect_err("bad").to_string(),
            "invalid option: --infer-rows takes a number or all, not \"some\""
        );
        assert_eq!(o.set("nope", "1").expect_err("bad").to_string(), "invalid option: unknown msgpack option \"nope\"");
    }

    #[test]
    fn options_round_trip_through_serialization() {
        let o = MsgpackReadOptions::default()
            .infer_rows(7)
            .layout(Some(crate::framing::Layout::FluentBit))
            .max_errors(Some(9))
            .on_error(super::super::OnError::Drop)
            .mmap(super::super::MmapPolicy::Never)
            .file_extension(".mp")
            .threads(3);
        let text = serde_json::to_string(&o).expect("serialize");
        let back: MsgpackReadOptions = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, o, "{text}");
        let all = MsgpackReadOptions::default().infer_all();
        assert_eq!(
            serde_json::from_str::<MsgpackReadOptions>(&serde_json::to_string(&all).expect("s")).expect("d"),
            all
        );
        // Missing fields take their defaults (an older sender).
        assert_eq!(serde_json::from_str::<MsgpackReadOptions>("{}").expect("d"), MsgpackReadOptions::default());
    }
}
