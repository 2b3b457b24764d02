//! The type lattice of DESIGN.md: a [`Node`] records what MessagePack values were seen at one
//! place in the data (with counts), nodes merge across records and files, and
//! [`Node::resolve`] turns a node into an Arrow type, with the reason whenever it falls back to
//! the variant type.

use crate::keys::{SlotTable, find_ahead};
use crate::variant::variant_field;
use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use mpq_wire::ext::is_time_ext;
use mpq_wire::{Cursor, Head, WireError, WireErrorKind, WireResult};
use std::sync::Arc;

/// How many values of each MessagePack family were seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// nil values.
    pub nil: u64,
    /// bools.
    pub bool: u64,
    /// integers within `i64`.
    pub int: u64,
    /// integers above `i64::MAX`.
    pub big_uint: u64,
    /// floats (32 and 64-bit).
    pub float: u64,
    /// strings with valid UTF-8.
    pub str: u64,
    /// strings with invalid UTF-8.
    pub str_invalid: u64,
    /// bins.
    pub bin: u64,
    /// timestamp (-1) and EventTime (0) exts that decode to a nanosecond time.
    pub timestamp: u64,
    /// other exts, and time exts that do not decode (bad nanoseconds, out of range).
    pub ext: u64,
    /// arrays.
    pub array: u64,
    /// maps.
    pub map: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.nil += o.nil;
        self.bool += o.bool;
        self.int += o.int;
        self.big_uint += o.big_uint;
        self.float += o.float;
        self.str += o.str;
        self.str_invalid += o.str_invalid;
        self.bin += o.bin;
        self.timestamp += o.timestamp;
        self.ext += o.ext;
        self.array += o.array;
        self.map += o.map;
    }

    /// The non-zero counts as (MessagePack type name, count), nil last.
    pub fn seen(&self) -> Vec<(&'static str, u64)> {
        [
            ("bool", self.bool),
            ("int", self.int),
            ("uint64", self.big_uint),
            ("float", self.float),
            ("str", self.str),
            ("str(invalid utf-8)", self.str_invalid),
            ("bin", self.bin),
            ("timestamp", self.timestamp),
            ("ext", self.ext),
            ("array", self.array),
            ("map", self.map),
            ("nil", self.nil),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    }

    /// Values that are not nil.
    pub fn non_nil(&self) -> u64 {
        self.bool
            + self.int
            + self.big_uint
            + self.float
            + self.str
            + self.str_invalid
            + self.bin
            + self.timestamp
            + self.ext
            + self.array
            + self.map
    }
}

/// Options that shape resolution.
#[derive(Debug, Clone, Copy)]
pub struct LatticeOptions {
    /// A map with more distinct string keys than this (across the sample) is a dictionary and
    /// becomes `Map<Utf8, _>` rather than a struct.
    pub max_struct_fields: usize,
}

impl Default for LatticeOptions {
    fn default() -> Self {
        LatticeOptions { max_struct_fields: crate::options::DEFAULT_MAX_STRUCT_FIELDS }
    }
}

/// What was seen at one place in the data.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "Stored")]
pub struct Node {
    /// Counts per family.
    pub counts: Counts,
    /// A negative integer was seen.
    pub negative: bool,
    /// An integer beyond ±2^53 (not exact as a double) was seen.
    pub beyond_f64: bool,
    /// Merged element node of arrays.
    pub elem: Option<Box<Node>>,
    /// Struct fields of maps with string keys, in first-seen order.
    pub fields: Vec<(String, Node)>,
    /// Field slots by key bytes (looked up before a key is checked as UTF-8: a key found is
    /// valid, as every stored name is).
    #[serde(skip)]
    index: Index,
    /// The field after the last one a key matched: records repeat their key order, so the
    /// next key is usually this one, found by one comparison.
    #[serde(skip)]
    hint: usize,
    /// Merged value node once the map was judged a dictionary.
    pub dict: Option<Box<Node>>,
    /// Distinct keys when the map became a dictionary (a lower bound afterwards).
    pub dict_keys: usize,
    /// Keys that were not valid UTF-8 strings.
    pub nonstr_keys: u64,
    /// Times a key holding this node was present (for fields; nil included).
    pub present: u64,
}

/// A node as stored (the columnar cache keeps inferences): without its key index, which
/// [`From<Stored>`] rebuilds.
#[derive(serde::Deserialize)]
struct Stored {
    counts: Counts,
    negative: bool,
    beyond_f64: bool,
    elem: Option<Box<Node>>,
    fields: Vec<(String, Node)>,
    dict: Option<Box<Node>>,
    dict_keys: usize,
    nonstr_keys: u64,
    present: u64,
}

impl From<Stored> for Node {
    fn from(s: Stored) -> Node {
        let index = index_of(&s.fields);
        let Stored { counts, negative, beyond_f64, elem, fields, dict, dict_keys, nonstr_keys, present } = s;
        Node { counts, negative, beyond_f64, elem, fields, index, hint: 0, dict, dict_keys, nonstr_keys, present }
    }
}

/// A copy without the key indexes, which are rebuilt where a copy is looked up in (see
/// [`Node::compact`]): inference copies a run's lattices before each chunk of records it
/// observes unframed, to undo the chunk should a record in it be unusual, which is rare;
/// for thousands of small files the copied indexes were most of that copy's cost.
impl Clone for Node {
    fn clone(&self) -> Node {
        Node {
            counts: self.counts.clone(),
            negative: self.negative,
            beyond_f64: self.beyond_f64,
            elem: self.elem.clone(),
            fields: self.fields.clone(),
            index: Index::default(),
            hint: self.hint,
            dict: self.dict.clone(),
            dict_keys: self.dict_keys,
            nonstr_keys: self.nonstr_keys,
            present: self.present,
        }
    }
}

/// A node's key index: the slot of each field by its name's bytes.
type Index = SlotTable;

/// The index of `fields` (slot `i` is `fields[i]`).
fn index_of(fields: &[(String, Node)]) -> Index {
    SlotTable::new(fields.len(), |i| fields[i].0.as_bytes())
}

const F64_EXACT: i64 = 1 << 53;

/// A string's bytes (a value or a key) are valid UTF-8.
#[inline]
fn is_text(bytes: &[u8]) -> bool {
    bytes.is_ascii() || simdutf8::basic::from_utf8(bytes).is_ok()
}

/// The levels left inside a container at `at` entered with `depth_left` levels.
fn descend(depth_left: usize, at: usize) -> WireResult<usize> {
    depth_left.checked_sub(1).ok_or(WireError { offset: at, kind: WireErrorKind::TooDeep { limit: 0 } })
}

impl Node {
    /// Observes the value at the cursor (consuming it), nesting at most `depth_left` levels:
    /// a container entered with no level left is a `TooDeep` error, exactly as
    /// [`Cursor::skip_value`] counts, so observing a record frames it (the observation of a
    /// value that fails is incomplete).
    pub fn observe(&mut self, cur: &mut Cursor<'_>, depth_left: usize, opts: &LatticeOptions) -> WireResult<()> {
        let at = cur.pos();
        // The most common scalars without decoding a header in general (a call that is not
        // inlined); a value cut short takes the general way, which says how.
        if let Some(b) = cur.peek() {
            let c = &mut self.counts;
            let fast = match b {
                0x00..=0x7f => Some((&mut c.int, 1)),
                0xa0..=0xbf => Some((&mut c.str, 1 + (b & 0x1f) as usize)),
                0xc0 => Some((&mut c.nil, 1)),
                0xc2 | 0xc3 => Some((&mut c.bool, 1)),
                0xcb => Some((&mut c.float, 9)),
                // Unsigned integers below 2^32: not negative, exact as doubles.
                0xcc => Some((&mut c.int, 2)),
                0xcd => Some((&mut c.int, 3)),
                0xce => Some((&mut c.int, 5)),
                _ => None,
            };
            if let Some((counted, size)) = fast
                && let Ok(value) = cur.take(size)
            {
                if b & 0xe0 == 0xa0 && !is_text(&value[1..]) {
                    c.str_invalid += 1;
                } else {
                    *counted += 1;
                }
                return Ok(());
            }
        }
        let head = cur.read_head()?;
        let c = &mut self.counts;
        match head {
            Head::Nil => c.nil += 1,
            Head::Bool(_) => c.bool += 1,
            Head::Int(v) => {
                c.int += 1;
                self.negative |= v < 0;
                self.beyond_f64 |= !(-F64_EXACT..=F64_EXACT).contains(&v);
            }
            Head::UInt(_) => {
                c.big_uint += 1;
                self.beyond_f64 = true;
            }
            Head::F32(_) | Head::F64(_) => c.float += 1,
            Head::Str(_) => {
                if is_text(cur.payload_of(head)?) {
                    c.str += 1;
                } else {
                    c.str_invalid += 1;
                }
            }
            Head::Bin(_) => {
                c.bin += 1;
                cur.payload_of(head)?;
            }
            Head::Ext(t, _) => {
                let data = cur.payload_of(head)?;
                if is_time_ext(t, data.len()) && mpq_wire::ext::ext_to_nanos(t, data).is_ok() {
                    c.timestamp += 1;
                } else {
                    c.ext += 1;
                }
            }
            Head::Array(n) => {
                c.array += 1;
                let d = descend(depth_left, at)?;
                let elem = self.elem.get_or_insert_with(Default::default);
                for _ in 0..n {
                    elem.observe(cur, d, opts)?;
                }
            }
            Head::Map(n) => {
                c.map += 1;
                let d = descend(depth_left, at)?;
                for _ in 0..n {
                    self.observe_pair(cur, d, opts)?;
                }
            }
        }
        Ok(())
    }

    fn observe_pair(&mut self, cur: &mut Cursor<'_>, d: usize, opts: &LatticeOptions) -> WireResult<()> {
        let bytes = cur.read_str_bytes()?;
        // The fields at the hint and a few after it first (records leave optional keys out),
        // compared before the key is checked as UTF-8 and hashed.
        if let Some(i) = bytes.and_then(|k| find_ahead(&self.fields, self.hint, k, |(name, _)| name.as_bytes())) {
            // The stored name is valid UTF-8, so the key is.
            let node = &mut self.fields[i].1;
            self.hint = i + 1;
            node.present += 1;
            return node.observe(cur, d, opts);
        }
        let Some(key) = bytes else {
            // A key that is not a string is still at the cursor.
            self.nonstr_keys += 1;
            cur.skip_value(d)?;
            return cur.skip_value(d);
        };
        if let Some(dict) = self.dict.as_mut() {
            if !is_text(key) {
                self.nonstr_keys += 1;
                return cur.skip_value(d);
            }
            // Every pair counts, before and after the map became a dictionary, so the count
            // does not depend on where that happened (nor on how the input was split).
            dict.present += 1;
            return dict.observe(cur, d, opts);
        }
        self.ensure_index();
        let i = match self.slot(key) {
            Some(i) => i,
            None if !is_text(key) => {
                self.nonstr_keys += 1;
                return cur.skip_value(d);
            }
            None => {
                if self.fields.len() >= opts.max_struct_fields {
                    self.become_dict();
                    let dict = self.dict.get_or_insert_with(Default::default);
                    dict.present += 1;
                    return dict.observe(cur, d, opts);
                }
                // Checked as UTF-8 just above.
                self.push_field(String::from_utf8_lossy(key).into_owned(), Node::default())
            }
        };
        self.hint = i + 1;
        let node = &mut self.fields[i].1;
        node.present += 1;
        node.observe(cur, d, opts)
    }

    /// Frees the key indexes of this node and the nodes below it, for a node that is only
    /// merged from from now on (a file's inference, kept until its table's merge and in the
    /// inference cache: with thousands of small files the indexes were much of the memory).
    /// A node whose index is missing rebuilds it when it is looked up in again.
    pub fn compact(&mut self) {
        self.index = Default::default();
        self.fields.shrink_to_fit();
        for (k, n) in &mut self.fields {
            k.shrink_to_fit();
            n.compact();
        }
        for n in self.elem.iter_mut().chain(self.dict.iter_mut()) {
            n.compact();
        }
    }

    /// Rebuilds the key index where [`Node::compact`] freed it.
    fn ensure_index(&mut self) {
        if self.index.len() != self.fields.len() {
            self.index = index_of(&self.fields);
        }
    }

    /// The field named `key` (the index is complete: see [`Node::ensure_index`]).
    fn slot(&self, key: &[u8]) -> Option<usize> {
        self.index.find(key, |i| self.fields[i].0.as_bytes())
    }

    /// Adds a field no other has the name of; returns its slot.
    fn push_field(&mut self, name: String, node: Node) -> usize {
        self.fields.push((name, node));
        let fields = &self.fields;
        self.index.insert(fields.len() - 1, |i| fields[i].0.as_bytes());
        fields.len() - 1
    }

    fn become_dict(&mut self) {
        let mut dict = Node::default();
        self.dict_keys = self.fields.len() + 1;
        for (_, n) in self.fields.drain(..) {
            dict.merge(&n);
        }
        self.index = Index::default();
        self.dict = Some(Box::new(dict));
    }

    /// Merges what another node saw into this one.
    pub fn merge(&mut self, o: &Node) {
        self.counts.add(&o.counts);
        self.negative |= o.negative;
        self.beyond_f64 |= o.beyond_f64;
        self.nonstr_keys += o.nonstr_keys;
        self.present += o.present;
        if let Some(e) = &o.elem {
            self.elem.get_or_insert_with(Default::default).merge(e);
        }
        if o.dict.is_some() {
            if self.dict.is_none() {
                self.become_dict();
            }
            self.dict_keys = self.dict_keys.max(o.dict_keys);
        }
        if let Some(dict) = self.dict.as_mut() {
            if let Some(od) = &o.dict {
                dict.merge(od);
            }
            for (_, n) in &o.fields {
                dict.merge(n);
            }
            return;
        }
        self.ensure_index();
        for (k, n) in &o.fields {
            match self.slot(k.as_bytes()) {
                Some(i) => self.fields[i].1.merge(n),
                None => {
                    self.push_field(k.clone(), n.clone());
                }
            }
        }
    }

    /// Makes every map seen with more than `max` distinct keys in all a dictionary, as the
    /// inference of one input does when it meets the key after the `max`th: inputs inferred
    /// apart and merged (thousands of small files, each with a few of the keys) stay within
    /// the bound too.
    pub fn cap_fields(&mut self, max: usize) {
        if self.dict.is_none() && self.fields.len() > max {
            self.become_dict();
        }
        for (_, n) in &mut self.fields {
            n.cap_fields(max);
        }
        for n in self.elem.iter_mut().chain(self.dict.iter_mut()) {
            n.cap_fields(max);
        }
    }

    /// Rebuilds the key index after fields were removed (see [`Node::remove_field`]).
    pub fn remove_field(&mut self, name: &str) -> Option<Node> {
        self.ensure_index();
        let i = self.slot(name.as_bytes())?;
        let (_, n) = self.fields.remove(i);
        self.index = index_of(&self.fields);
        Some(n)
    }

    /// The Arrow type this node resolves to, and why it is variant when it is.
    pub fn resolve(&self) -> (DataType, Option<String>) {
        let c = &self.counts;
        let families: Vec<(&str, u64)> = c.seen().into_iter().filter(|(k, _)| *k != "nil").collect();
        if families.is_empty() {
            return (DataType::Null, None);
        }
        let only = |names: &[&str]| families.iter().all(|(k, _)| names.contains(k));
        let variant = |why: String| (crate::variant::variant_type(), Some(why));
        if c.ext > 0 {
            return variant(format!("ext values that are not timestamps ({})", c.ext));
        }
        if only(&["bool"]) {
            return (DataType::Boolean, None);
        }
        if only(&["int", "uint64"]) {
            return match (c.big_uint > 0, self.negative) {
                (true, true) => (DataType::Decimal128(20, 0), None),
                (true, false) => (DataType::UInt64, None),
                _ => (DataType::Int64, None),
            };
        }
        if only(&["int", "uint64", "float"]) {
            if self.beyond_f64 && c.int + c.big_uint > 0 {
                return variant("integers beyond 2^53 mixed with floats would lose precision as Float64".into());
            }
            return (DataType::Float64, None);
        }
        if only(&["str"]) {
            return (DataType::Utf8, None);
        }
        if only(&["str", "str(invalid utf-8)", "bin"]) {
            return (DataType::Binary, None);
        }
        if only(&["timestamp"]) {
            return (DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), None);
        }
        if only(&["array"]) {
            let elem = self.elem.as_deref().cloned().unwrap_or_default();
            let f = elem.field("item");
            return (DataType::List(Arc::new(f)), None);
        }
        if only(&["map"]) {
            if self.nonstr_keys > 0 {
                return variant(format!("maps with {} keys that are not UTF-8 strings", self.nonstr_keys));
            }
            if let Some(dict) = &self.dict {
                let entries = Fields::from(vec![Field::new("key", DataType::Utf8, false), dict.field("value")]);
                let f = Field::new("entries", DataType::Struct(entries), false);
                return (DataType::Map(Arc::new(f), false), None);
            }
            if self.fields.is_empty() {
                return variant("only empty maps seen".into());
            }
            let fields: Fields = self.fields.iter().map(|(k, n)| n.field(k)).collect();
            return (DataType::Struct(fields), None);
        }
        let list: Vec<String> = families.iter().map(|(k, n)| format!("{k} ({n})")).collect();
        variant(format!("conflicting types: {}", list.join(", ")))
    }

    /// The nullable Arrow field for this node under `name` (variant fields carry the
    /// extension metadata).
    pub fn field(&self, name: &str) -> Field {
        match self.resolve() {
            (_, Some(_)) => variant_field(name),
            (dt, None) => Field::new(name, dt, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(values: &[&[u8]]) -> (DataType, Option<String>) {
        let mut n = Node::default();
        for v in values {
            n.observe(&mut Cursor::new(v), 16, &LatticeOptions::default()).expect("valid");
        }
        n.resolve()
    }

    /// The scalars counted without decoding a header in general count as the same values in
    /// their longer encodings do, end where they end, and a value cut short fails as skipping
    /// it fails.
    #[test]
    fn short_headers_count_as_long_ones() {
        let f64_one = [0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0];
        let pairs: [(&[u8], &[u8]); 9] = [
            (&[0x05], &[0xd3, 0, 0, 0, 0, 0, 0, 0, 5]),
            (&[0xcc, 0xff], &[0xd1, 0, 0xff]),
            (&[0xcd, 0xff, 0xff], &[0xd2, 0, 0, 0xff, 0xff]),
            (&[0xce, 0xff, 0xff, 0xff, 0xff], &[0xd3, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            (&[0xa2, b'h', b'i'], &[0xd9, 2, b'h', b'i']),
            (&[0xa2, 0xc3, 0x28], &[0xd9, 2, 0xc3, 0x28]),
            (&[0xc0], &[0xc0]),
            (&[0xc2], &[0xc3]),
            (&f64_one, &[0xca, 0x3f, 0x80, 0, 0]),
        ];
        for (short, long) in pairs {
            let (mut a, mut b) = (Node::default(), Node::default());
            let mut cur = Cursor::new(short);
            a.observe(&mut cur, 16, &LatticeOptions::default()).expect("valid");
            assert_eq!(cur.pos(), short.len());
            b.observe(&mut Cursor::new(long), 16, &LatticeOptions::default()).expect("valid");
            assert_eq!((a.counts, a.negative, a.beyond_f64), (b.counts, b.negative, b.beyond_f64), "{short:x?}");
        }
        for cut in [&[0xa3, b'a'][..], &[0xcd, 0], &[0xcb, 0, 0], &[0xce]] {
            let observed = Node::default().observe(&mut Cursor::new(cut), 16, &LatticeOptions::default());
            assert_eq!(observed.err(), Cursor::new(cut).skip_value(16).err(), "{cut:x?}");
        }
    }

    #[test]
    fn scalars() {
        assert_eq!(infer(&[&[0xc0]]).0, DataType::Null);
        assert_eq!(infer(&[&[0xc3], &[0xc0]]).0, DataType::Boolean);
        assert_eq!(infer(&[&[0x01], &[0xd0, 0x80]]).0, DataType::Int64);
        let big = [0xcf, 0xff, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(infer(&[&[0x01], &big]).0, DataType::UInt64);
        assert_eq!(infer(&[&[0xff], &big]).0, DataType::Decimal128(20, 0));
        assert_eq!(infer(&[&[0x01], &[0xca, 0, 0, 0, 0]]).0, DataType::Float64);
        assert!(infer(&[&big, &[0xca, 0, 0, 0, 0]]).1.is_some());
        assert_eq!(infer(&[&[0xa1, b'a']]).0, DataType::Utf8);
        assert_eq!(infer(&[&[0xa1, b'a'], &[0xa1, 0xff]]).0, DataType::Binary);
        assert_eq!(infer(&[&[0xc4, 0]]).0, DataType::Binary);
        assert_eq!(
            infer(&[&[0xd6, 0xff, 0, 0, 0, 1]]).0,
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        );
    }

    /// Keys that are not valid UTF-8 strings, or not strings, are counted and their pairs
    /// passed over whole, and the observation ends where the map ends (it used to skip one
    /// value too many after an invalid UTF-8 key).
    #[test]
    fn keys_that_are_not_names_are_skipped_exactly() {
        // {"\x80s": 1, 7: 2, "b": 3} then a fixint after the map.
        let buf = [0x83, 0xa2, 0x80, b's', 0x01, 0x07, 0x02, 0xa1, b'b', 0x03, 0x05];
        let mut n = Node::default();
        let mut cur = Cursor::new(&buf);
        n.observe(&mut cur, 16, &LatticeOptions::default()).expect("valid");
        assert_eq!(cur.pos(), buf.len() - 1);
        assert_eq!(n.nonstr_keys, 2);
        let names: Vec<&str> = n.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["b"]);
        assert_eq!(n.fields[0].1.counts.int, 1);
        // The same once the map is a dictionary (one field at most: "b" makes it one).
        let buf = [0x84, 0xa1, b'a', 0x01, 0xa1, b'b', 0x02, 0xa2, 0x80, b's', 0x03, 0x07, 0x04, 0x05];
        let mut n = Node::default();
        let mut cur = Cursor::new(&buf);
        n.observe(&mut cur, 16, &LatticeOptions { max_struct_fields: 1 }).expect("valid");
        assert_eq!(cur.pos(), buf.len() - 1);
        assert_eq!((n.nonstr_keys, n.dict_keys), (2, 2));
        assert_eq!(n.dict.as_ref().map(|d| (d.present, d.counts.int)), Some((2, 2)));
        // A container entered with no level left is refused, as skipping refuses it.
        let nested = [0x81, 0xa1, b'a', 0x91, 0x01];
        assert!(Node::default().observe(&mut Cursor::new(&nested), 1, &LatticeOptions::default()).is_err());
        assert!(Cursor::new(&nested).skip_value(1).is_err());
        assert!(Node::default().observe(&mut Cursor::new(&nested), 2, &LatticeOptions::default()).is_ok());
        assert!(Cursor::new(&nested).skip_value(2).is_ok());
    }

    #[test]
    fn conflicts_are_variant_with_reason() {
        let (dt, why) = infer(&[&[0x01], &[0xa1, b'a'], &[0x02]]);
        assert_eq!(dt, DataType::Binary);
        assert_eq!(why.as_deref(), Some("conflicting types: int (2), str (1)"));
        assert_eq!(infer(&[&[0xd4, 5, 0]]).1.as_deref(), Some("ext values that are not timestamps (1)"));
    }

    #[test]
    fn structs_lists_and_dicts() {
        // {"a": 1, "b": [1.5]} then {"b": [], "c": "x"}
        let r1 = [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x91, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0];
        let r2 = [0x82, 0xa1, b'b', 0x90, 0xa1, b'c', 0xa1, b'x'];
        let (dt, _) = infer(&[&r1, &r2]);
        let DataType::Struct(fields) = dt else { panic!("struct expected") };
        let names: Vec<_> = fields.iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(fields[1].data_type(), &DataType::List(Arc::new(Field::new("item", DataType::Float64, true))));
        let mut n = Node::default();
        let opts = LatticeOptions { max_struct_fields: 2 };
        let r3 = [0x83, 0xa1, b'x', 0x01, 0xa1, b'y', 0x02, 0xa1, b'z', 0x03];
        n.observe(&mut Cursor::new(&r3), 16, &opts).expect("valid");
        assert!(matches!(n.resolve().0, DataType::Map(_, false)));
        assert_eq!(n.dict_keys, 3);
    }

    #[test]
    fn merged_maps_past_the_field_bound_become_dictionaries() {
        let opts = LatticeOptions { max_struct_fields: 3 };
        let node = |bytes: &[u8]| {
            let mut n = Node::default();
            n.observe(&mut Cursor::new(bytes), 8, &opts).expect("observe");
            n
        };
        // {"a": 1, "b": 2} and {"c": 3, "d": {"x": 1, "y": 2}}: four keys in all.
        let mut merged = node(b"\x82\xa1a\x01\xa1b\x02");
        merged.merge(&node(b"\x82\xa1c\x03\xa1d\x82\xa1x\x01\xa1y\x02"));
        assert_eq!(merged.fields.len(), 4, "merging alone does not apply the bound");
        merged.cap_fields(3);
        assert!(merged.fields.is_empty() && merged.dict.is_some(), "past the bound: a dictionary");
        let mut small = node(b"\x82\xa1a\x01\xa1b\x02");
        small.cap_fields(3);
        assert_eq!(small.fields.len(), 2, "within the bound: still a struct");
    }

    #[test]
    fn merge_keeps_first_seen_order() {
        let mut a = Node::default();
        let mut b = Node::default();
        let opts = LatticeOptions::default();
        a.observe(&mut Cursor::new(&[0x81, 0xa1, b'z', 0x01]), 8, &opts).expect("ok");
        b.observe(&mut Cursor::new(&[0x82, 0xa1, b'a', 0x01, 0xa1, b'z', 0xa1, b'q']), 8, &opts).expect("ok");
        a.merge(&b);
        let names: Vec<_> = a.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["z", "a"]);
        assert!(a.fields[0].1.resolve().1.is_some());
    }
}
