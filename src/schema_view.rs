//! `mpq schema`: the inferred schema as a readable tree or JSON, with per field the
//! MessagePack types seen (with counts), nil and missing counts, and why a field became variant
//! or went to `_extra`.

use crate::infer::lattice::Node;
use crate::infer::{EXTRA_COLUMN, RECORD_COLUMN, Role, Sample, TIME_COLUMN, TableInference, VALUE_COLUMN};
use crate::options::MsgpackReadOptions;
use crate::report::ReportData;
use crate::variant::is_variant;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Value, json};
use std::fmt::Write;

/// Everything `mpq schema` shows.
pub struct SchemaView {
    files: Vec<Value>,
    sample: String,
    columns: Vec<Column>,
    extra: Option<Value>,
    extra_text: Vec<String>,
}

struct Column {
    name: String,
    ty: String,
    seen: Vec<(&'static str, u64)>,
    missing: Option<u64>,
    note: Option<String>,
    children: Vec<Column>,
}

/// A readable name of a field's type (`variant`, `List<Utf8>`, `Struct`, ...).
pub fn type_name(f: &Field) -> String {
    if is_variant(f) {
        return "variant".into();
    }
    match f.data_type() {
        DataType::List(e) => format!("List<{}>", type_name(e)),
        DataType::Struct(_) => "Struct".into(),
        DataType::Map(e, _) => match e.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("Map<{}, {}>", type_name(&kv[0]), type_name(&kv[1]))
            }
            _ => "Map".into(),
        },
        DataType::Timestamp(_, Some(tz)) => format!("Timestamp(ns, {tz})"),
        dt => format!("{dt}"),
    }
}

fn column(name: &str, node: &Node, parent_maps: Option<u64>) -> Column {
    let field = node.field(name);
    let (_, why) = node.resolve();
    let mut children = Vec::new();
    let mut note = why.map(|w| format!("variant because: {w}"));
    if note.is_none() {
        if let Some(d) = &node.dict {
            note = Some(format!(
                "a dictionary, not a record: more than {} distinct keys",
                node.dict_keys.saturating_sub(1)
            ));
            children.push(column("value", d, None));
        } else if matches!(field.data_type(), DataType::Struct(_)) {
            children = node.fields.iter().map(|(k, n)| column(k, n, Some(node.counts.map))).collect();
        } else if let (DataType::List(_), Some(e)) = (field.data_type(), &node.elem) {
            children.push(column("item", e, None));
        }
    }
    Column {
        name: name.to_string(),
        ty: type_name(&field),
        seen: node.counts.seen(),
        missing: parent_maps.map(|m| m.saturating_sub(node.present)),
        note,
        children,
    }
}

/// A column that only has a type and a note.
fn plain(name: &str, ty: &str, note: &str) -> Column {
    Column { name: name.into(), ty: ty.into(), seen: vec![], missing: None, note: Some(note.into()), children: vec![] }
}

impl SchemaView {
    /// Builds the view from inference and, when a full scan ran, its report and schema.
    pub fn new(t: &TableInference, opts: &MsgpackReadOptions, scan: Option<&(ReportData, Schema)>) -> Self {
        let files = t
            .files
            .iter()
            .map(|(p, f)| {
                json!({
                    "path": relative(p),
                    "layout": f.detection.layout.name(),
                    "evidence": f.detection.evidence,
                    "records_sampled": f.records,
                    "whole_file_sampled": f.complete,
                    "records_not_maps": f.not_maps,
                    "problem": f.problem,
                })
            })
            .collect();
        let sample = match opts.sample {
            Sample::All => "every record".to_string(),
            Sample::Records { head, probes, probe_records } => {
                format!("first {head} records + {probes} probes of {probe_records} records per file")
            }
        };
        let schema = opts.schema_of(t);
        let maps = t.maps();
        let mut columns = Vec::new();
        for f in schema.fields() {
            let name = f.name().as_str();
            let col = match Role::of(f) {
                Role::EventTime => t.time.as_ref().map(|n| {
                    let mut c = column(TIME_COLUMN, n, None);
                    c.ty = type_name(f);
                    c.note = Some("event time of the layout's events".into());
                    c
                }),
                Role::Value => t.values.as_ref().map(|n| {
                    let mut c = column(VALUE_COLUMN, n, None);
                    c.note = Some(format!("each top-level value (not maps); {}", c.note.unwrap_or_default()));
                    c
                }),
                Role::Tag => Some(plain(
                    name,
                    "Utf8",
                    "the tag: of forward protocol entries, or of a buffer chunk per its .meta sidecar",
                )),
                Role::Metadata => Some(plain(name, "variant", "Fluent Bit metadata ([[time, metadata], record])")),
                Role::RowKey => Some(plain(
                    name,
                    &type_name(f),
                    "the key of each SequenceFile record (Utf8 for Text keys, Binary for BytesWritable)",
                )),
                Role::Extra => Some(Column {
                    name: EXTRA_COLUMN.into(),
                    ty: "variant".into(),
                    seen: vec![],
                    missing: None,
                    note: Some("a map of the key/value pairs that did not fit the columns above".into()),
                    children: vec![],
                }),
                Role::Record => Some(Column {
                    name: RECORD_COLUMN.into(),
                    ty: "variant".into(),
                    seen: vec![],
                    missing: None,
                    note: Some(if t.root.dict.is_some() {
                        format!(
                            "the whole record: records are dictionaries with more than {} distinct keys",
                            t.root.dict_keys.saturating_sub(1)
                        )
                    } else {
                        "the whole record".into()
                    }),
                    children: vec![],
                }),
                Role::Corrupt => Some(plain(
                    name,
                    "variant",
                    "the raw bytes of each record that had a record error (NULL for the others)",
                )),
                Role::Key => t.root.fields.iter().find(|(k, _)| k == name).map(|(k, n)| column(k, n, Some(maps))),
            };
            columns.extend(col);
        }
        for p in &t.partitions {
            columns.push(plain(p, "Utf8", "Hive partition column, from directory names (name=value)"));
        }
        let mut extra_text = Vec::new();
        let mut keys = Vec::new();
        for (k, n) in &t.shadowed {
            let why = format!("name reserved for the {k} column; every {k} key is kept in _extra");
            extra_text.push(format!("{k}: seen {} times in the sample; {why}", n.present));
            keys.push(json!({"key": k, "sampled": n.present, "reason": why}));
        }
        let extra = scan.map(|(r, scanned)| {
            for (k, n) in &r.extra_keys {
                let why = match scanned.field_with_name(k) {
                    Ok(f) if t.shadowed.iter().all(|(s, _)| s != k) => {
                        format!("value did not fit the {} column (or a part of it)", type_name(f))
                    }
                    Ok(_) => "name reserved for a column of mpq".to_string(),
                    Err(_) => "key not seen in the sample".to_string(),
                };
                extra_text.push(format!("{k}: {n} pairs in the full scan; {why}"));
                keys.push(json!({"key": k, "pairs": n, "reason": why}));
            }
            if r.value_spills > 0 {
                extra_text.push(format!("value: {} top-level values did not fit the value column", r.value_spills));
            }
            json!({
                "records_scanned": r.records,
                "pairs": r.extra_pairs(),
                "keys": keys,
                "duplicate_keys": r.duplicate_keys,
                "record_errors": r.record_errors,
                "dropped_records": r.dropped_records,
                "framing_problems": r.framing,
            })
        });
        SchemaView { files, sample, columns, extra, extra_text }
    }

    /// The readable tree.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "sample: {}", self.sample);
        for f in &self.files {
            let _ = writeln!(
                s,
                "file {}: layout {} ({}); {} records sampled{}",
                f["path"].as_str().unwrap_or_default(),
                f["layout"].as_str().unwrap_or_default(),
                f["evidence"].as_str().unwrap_or_default(),
                f["records_sampled"],
                if f["whole_file_sampled"] == true { " (whole file)" } else { "" }
            );
            if let Some(p) = f["problem"].as_str() {
                let _ = writeln!(s, "  problem: {p}");
            }
        }
        let _ = writeln!(s, "columns:");
        for c in &self.columns {
            write_column(&mut s, c, 1);
        }
        match &self.extra {
            Some(e) => {
                let _ = writeln!(s, "_extra: {} pairs in a full scan of {} records", e["pairs"], e["records_scanned"]);
                if e["duplicate_keys"].as_u64().unwrap_or(0) > 0 {
                    let _ = writeln!(s, "  {} duplicate keys (the last one is kept)", e["duplicate_keys"]);
                }
                if e["record_errors"].as_u64().unwrap_or(0) > 0 {
                    let _ = writeln!(s, "  {} record errors", e["record_errors"]);
                }
                if e["dropped_records"].as_u64().unwrap_or(0) > 0 {
                    let _ = writeln!(s, "  {} records dropped for record errors", e["dropped_records"]);
                }
            }
            None => {
                let _ = writeln!(s, "_extra: not counted (--sample-only)");
            }
        }
        for line in &self.extra_text {
            let _ = writeln!(s, "  {line}");
        }
        s
    }

    /// The JSON document.
    pub fn json(&self) -> Value {
        json!({
            "sample": self.sample,
            "files": self.files,
            "columns": self.columns.iter().map(column_json).collect::<Vec<_>>(),
            "extra": self.extra,
        })
    }
}

/// A path below the working directory, relative to it (as the user typed it).
fn relative(p: &str) -> String {
    let cwd = std::env::current_dir().map(|d| format!("{}/", d.display())).unwrap_or_default();
    p.strip_prefix(&cwd).unwrap_or(p).to_string()
}

fn seen_text(seen: &[(&str, u64)]) -> String {
    seen.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

fn write_column(s: &mut String, c: &Column, depth: usize) {
    let pad = "  ".repeat(depth);
    let mut facts = seen_text(&c.seen);
    if let Some(m) = c.missing.filter(|m| *m > 0) {
        if !facts.is_empty() {
            facts.push_str("; ");
        }
        let _ = write!(facts, "missing {m}");
    }
    let _ = write!(s, "{pad}{}: {}", c.name, c.ty);
    if !facts.is_empty() {
        let _ = write!(s, "  [{facts}]");
    }
    if let Some(n) = &c.note {
        let _ = write!(s, "  {n}");
    }
    s.push('\n');
    for ch in &c.children {
        write_column(s, ch, depth + 1);
    }
}

fn column_json(c: &Column) -> Value {
    let seen: serde_json::Map<String, Value> = c.seen.iter().map(|(k, n)| (k.to_string(), json!(n))).collect();
    json!({
        "name": c.name,
        "type": c.ty,
        "msgpack_types": seen,
        "missing": c.missing,
        "note": c.note,
        "children": c.children.iter().map(column_json).collect::<Vec<_>>(),
    })
}
