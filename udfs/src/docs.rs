//! The documentation of every function, through DataFusion's [`Documentation`], so the CLI
//! (`mpq functions`), `SHOW FUNCTIONS` and library users can list and describe them.

use crate::functions::Kind;
use datafusion::logical_expr::{DocSection, Documentation};

/// The documentation section of this crate's functions.
pub const SECTION: DocSection = DocSection {
    include: true,
    label: "MessagePack Functions",
    description: Some("Read, convert and build MessagePack values (mpq variant columns or any Binary column)."),
};

const VALUE: &str = "A MessagePack value: a variant column (`_record`, `_extra`, a mixed-type field), the \
                     result of another mp_ function, or any Binary column of MessagePack bytes.";
const PATH: &str = "Optional keys or paths, followed in order. A string is a path (`user.geo.country`, \
                    `tags[0]`, `\"a.b\".c`, `attrs['k.1']`); an integer is an array index (negative counts \
                    from the end) or an integer map key.";

/// The documentation of a value-reading function.
pub fn value_fn(kind: Kind) -> Documentation {
    let (description, syntax, example) = match kind {
        Kind::Get => (
            "The value at the path, as MessagePack bytes (a variant). A missing key gives NULL; a nil value gives \
             the nil value (so `mp_typeof` can tell the two apart). With no path, the value itself.",
            "mp_get(value[, key_or_path, ...])",
            "SELECT mp_get(_record, 'user', 'geo') FROM t",
        ),
        Kind::Str => (
            "The text of the string at the path; NULL when it is not a string of valid UTF-8.",
            "mp_get_str(value[, key_or_path, ...])",
            "SELECT mp_get_str(_record, 'user.geo.country') AS country, count(*) FROM t GROUP BY 1",
        ),
        Kind::Text => (
            "The value at the path as text: a string's text, a number's or bool's decimal text, a timestamp's \
             RFC 3339 text, JSON for anything else; NULL for nil. What `->>` and `CAST(... AS VARCHAR)` give.",
            "mp_get_text(value[, key_or_path, ...])",
            "SELECT mp_get_text(_record, 'code') FROM t",
        ),
        Kind::Int => (
            "The value at the path as Int64: integers within Int64, floats with no fraction, strings holding a \
             decimal integer; NULL otherwise.",
            "mp_get_int(value[, key_or_path, ...])",
            "SELECT mp_get_int(_record, 'user', 'id') FROM t",
        ),
        Kind::Float => (
            "The value at the path as Float64: any integer or float, strings holding a number; NULL otherwise.",
            "mp_get_float(value[, key_or_path, ...])",
            "SELECT avg(mp_get_float(_record, 'latency_ms')) FROM t",
        ),
        Kind::Bool => (
            "The value at the path as Boolean: a bool, or the strings 'true' / 'false' (any case); NULL otherwise.",
            "mp_get_bool(value[, key_or_path, ...])",
            "SELECT count(*) FROM t WHERE mp_get_bool(_record, 'flag')",
        ),
        Kind::Bin => (
            "The bytes of the bin (or string) at the path; NULL otherwise.",
            "mp_get_bin(value[, key_or_path, ...])",
            "SELECT length(mp_get_bin(_record, 'payload')) FROM t",
        ),
        Kind::Ts => (
            "The value at the path as Timestamp(ns, UTC): timestamp ext -1 (32/64/96-bit), Fluentd EventTime \
             (ext 0), or integer or float epoch seconds; NULL otherwise or outside the nanosecond range.",
            "mp_get_ts(value[, key_or_path, ...])",
            "SELECT max(mp_get_ts(_record, 'seen_at')) FROM t",
        ),
        Kind::Json => (
            "The value at the path as JSON text (see mp_to_json); 'null' for nil, NULL when missing.",
            "mp_get_json(value[, key_or_path, ...])",
            "SELECT mp_get_json(_record, 'user') FROM t",
        ),
        Kind::ToJson => (
            "The value as JSON text. nil is null; integers are exact (also beyond Int64); floats are shortest \
             round-trip, NaN and infinities null; strings of invalid UTF-8 and bin are base64 strings; \
             timestamps (ext -1, EventTime ext 0) are RFC 3339 strings; other ext values are \
             {\"ext\": type, \"data\": base64}; non-string map keys are written as their JSON text.",
            "mp_to_json(value[, key_or_path, ...])",
            "SELECT mp_to_json(_extra) FROM t WHERE _extra IS NOT NULL",
        ),
        Kind::Array => (
            "The elements of the array at the path, as a list of variants (so `unnest` works); NULL when not an \
             array.",
            "mp_get_array(value[, key_or_path, ...])",
            "SELECT unnest(mp_get_array(_record, 'tags')) AS tag FROM t",
        ),
        Kind::TypeOf => (
            "The family of the value at the path: nil, bool, int, float, str, bin, array, map, ext or timestamp \
             (ext -1); NULL when missing.",
            "mp_typeof(value[, key_or_path, ...])",
            "SELECT mp_typeof(value) AS type, count(*) FROM t GROUP BY 1",
        ),
        Kind::Len => (
            "Elements of an array, pairs of a map, characters of a string (bytes if not valid UTF-8), bytes of a \
             bin or ext; NULL for other values.",
            "mp_len(value[, key_or_path, ...])",
            "SELECT mp_len(_record, 'tags') FROM t",
        ),
        Kind::Keys => (
            "The keys of the map at the path as a list of strings (non-string keys as their JSON text); NULL when \
             not a map.",
            "mp_keys(value[, key_or_path, ...])",
            "SELECT unnest(mp_keys(_extra)) AS key, count(*) FROM t GROUP BY 1",
        ),
        Kind::Contains => (
            "Whether the map reached by all but the last argument has the last key (for an array: a string \
             element equal to it, as PostgreSQL's `?`). NULL only when the value is NULL. `value ? 'key'` is \
             the operator form.",
            "mp_contains(value, [key_or_path, ...,] key)",
            "SELECT count(*) FROM t WHERE mp_contains(_record, 'user', 'geo')",
        ),
        Kind::ExtType => (
            "The type number of the ext value at the path (-1 for timestamps); NULL when not an ext.",
            "mp_ext_type(value[, key_or_path, ...])",
            "SELECT mp_ext_type(value) FROM t",
        ),
        Kind::ExtData => (
            "The data bytes of the ext value at the path; NULL when not an ext.",
            "mp_ext_data(value[, key_or_path, ...])",
            "SELECT mp_ext_data(value) FROM t WHERE mp_ext_type(value) = 7",
        ),
    };
    let b = Documentation::builder(SECTION, description, syntax)
        .with_sql_example(format!("```sql\n{example}\n```"))
        .with_argument("value", VALUE);
    let b = if kind == Kind::Contains {
        b.with_argument("key", "The key to look for; any arguments before it are a path to the map.")
    } else {
        b.with_argument("key_or_path", PATH)
    };
    b.build()
}

/// The documentation of `mp_pack`.
pub fn pack() -> Documentation {
    Documentation::builder(
        SECTION,
        "Any SQL value as MessagePack (a variant): NULL is NULL at the top and nil inside; booleans, integers, \
         floats, strings, binaries as such; timestamps and dates as timestamp ext -1; lists as arrays; structs \
         and maps as maps; variant values embedded as they are; other types (decimals, intervals, ...) as their \
         text.",
        "mp_pack(value)",
    )
    .with_sql_example("```sql\nSELECT mp_pack(named_struct('id', 1, 'tags', make_array('a', 'b')))\n```")
    .with_argument("value", "Any SQL value.")
    .build()
}

/// The documentation of `mp_from_json`.
pub fn from_json() -> Documentation {
    Documentation::builder(
        SECTION,
        "JSON text as MessagePack (a variant): null, booleans, integers (as the smallest int), other numbers \
         (as float64), strings, arrays and objects (keys in their order). NULL when the text is not JSON. \
         mp_from_json(mp_to_json(v)) gives back v for every value JSON can represent.",
        "mp_from_json(text)",
    )
    .with_sql_example("```sql\nSELECT mp_get_int(mp_from_json('{\"a\": [1, 2]}'), 'a[1]')\n```")
    .with_argument("text", "JSON text.")
    .build()
}
