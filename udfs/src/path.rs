//! Paths into MessagePack values and the skip-parse lookup that follows them.
//!
//! Path syntax (one string argument may hold a whole path): segments separated by `.`,
//! `[N]` for an array element (negative counts from the end), `["key"]` or `['key']` for a key
//! with any characters, and `"key"` for a quoted segment; `\` escapes a quote or a backslash
//! inside quotes. A leading `$` (as in `$.user.id`) is allowed and means the value itself.
//! Examples: `user.geo.country`, `tags[0]`, `"a.b".c`, `attrs["k.1"]`, `$`.
//!
//! Matching: on a map, a segment matches a string key equal to its text, or an integer key
//! equal to its number. On an array, a segment that is an integer selects an element.
//!
//! Duplicate keys: the last one wins, as in the reader's columns (DESIGN.md), msgpack-python,
//! the Ruby gem, Jackson and PostgreSQL's `json`, so `t.user.id` and
//! `mp_get_int(_record, 'user', 'id')` agree on every record. A lookup therefore reads each
//! map on its path to the map's end (keys compared, values skipped), not only up to the first
//! match: about 0.6x the rows per second of stopping there (README, Performance). A value
//! found before a corrupt tail of its map is still returned (no later key can be read to
//! override it).

use mpq_wire::{Cursor, Head, size_from_first_byte, skip_at};

/// One step of a path: the key text and, when the text is an integer, its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    text: Box<[u8]>,
    int: Option<i64>,
}

impl Seg {
    /// A key segment.
    pub fn key(text: &[u8]) -> Self {
        let int = std::str::from_utf8(text).ok().and_then(|s| s.parse::<i64>().ok());
        Seg { text: text.into(), int }
    }

    #[inline]
    fn matches(&self, buf: &[u8], at: usize, len: usize) -> bool {
        buf[at..at + len] == *self.text
    }

    /// The key text (an index's decimal digits).
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// An index segment (also matches an integer map key, or a string key of its digits).
    pub fn index(i: i64) -> Self {
        Seg { int: Some(i), ..Seg::key(i.to_string().as_bytes()) }
    }
}

/// A path that could not be parsed: what was expected, at which character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// The path text.
    pub path: String,
    /// Character offset of the problem.
    pub at: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid path '{}': expected {} at character {}", self.path, self.expected, self.at)
    }
}

/// Parses a path string into segments, appending to `out`.
pub fn parse_path(path: &str, out: &mut Vec<Seg>) -> Result<(), PathError> {
    let err = |at: usize, expected: &'static str| PathError { path: path.to_string(), at, expected };
    let b = path.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        return Err(err(0, "a key (use '$' for the value itself)"));
    }
    if b[0] == b'$' && (b.len() == 1 || b[1] == b'.' || b[1] == b'[') {
        i = 1;
        if b.get(1) == Some(&b'.') {
            i = 2;
        }
    }
    let mut first = true;
    while i < b.len() {
        if !first && b[i] != b'[' {
            if b[i] != b'.' {
                return Err(err(i, "'.' or '['"));
            }
            i += 1;
        }
        first = false;
        match b.get(i) {
            None => return Err(err(i, "a key after '.'")),
            Some(b'[') => {
                i += 1;
                match b.get(i) {
                    Some(q @ (b'"' | b'\'')) => {
                        let (key, next) = quoted(b, i + 1, *q).ok_or_else(|| err(i, "a closing quote"))?;
                        out.push(Seg::key(&key));
                        i = next;
                    }
                    _ => {
                        let start = i;
                        while i < b.len() && b[i] != b']' {
                            i += 1;
                        }
                        let n = path[start..i].trim().parse::<i64>().map_err(|_| err(start, "an integer index"))?;
                        out.push(Seg::index(n));
                    }
                }
                if b.get(i) != Some(&b']') {
                    return Err(err(i, "']'"));
                }
                i += 1;
            }
            Some(q @ b'"') => {
                let (key, next) = quoted(b, i + 1, *q).ok_or_else(|| err(i, "a closing quote"))?;
                out.push(Seg::key(&key));
                i = next;
            }
            Some(_) => {
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if i == start {
                    return Err(err(i, "a key"));
                }
                out.push(Seg::key(&b[start..i]));
            }
        }
    }
    Ok(())
}

/// Reads a quoted key starting after the opening quote; returns it and the offset after the
/// closing quote.
fn quoted(b: &[u8], mut i: usize, q: u8) -> Option<(Vec<u8>, usize)> {
    let mut key = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                key.push(b[i + 1]);
                i += 2;
            }
            c if c == q => return Some((key, i + 1)),
            c => {
                key.push(c);
                i += 1;
            }
        }
    }
    None
}

/// Writes `key` as a path of exactly that one key: as it is when it needs no quoting, else in
/// `["..."]`.
pub fn quote_key(key: &str) -> String {
    let plain = !key.is_empty()
        && !key.starts_with('$')
        && !key.starts_with('"')
        && !key.bytes().any(|c| matches!(c, b'.' | b'[' | b']' | b'\\'));
    if plain {
        return key.to_string();
    }
    let mut s = String::with_capacity(key.len() + 4);
    s.push_str("[\"");
    for c in key.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push_str("\"]");
    s
}

/// Exactly the one value that `bytes` starts with; `None` when it cannot be read.
#[inline]
pub fn value_extent(bytes: &[u8]) -> Option<&[u8]> {
    skip_at(bytes, 0).ok().map(|end| &bytes[..end])
}

/// The bytes could not be read (truncated, reserved byte, a length past the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

/// Follows `path` into `value`: the bytes from the start of the value found (they run on past
/// its end; [`value_extent`] trims them), or `None` when a step is missing or the bytes on the
/// way cannot be read.
#[inline]
pub fn find<'a>(value: &'a [u8], path: &[Seg]) -> Option<&'a [u8]> {
    lookup(value, path).ok().flatten()
}

/// Follows `path` into `value`, telling a missing step (`Ok(None)`) from bytes that cannot be
/// read (`Err`); the bytes found run on past the value, as with [`find`].
#[inline]
pub fn lookup<'a>(value: &'a [u8], path: &[Seg]) -> Result<Option<&'a [u8]>, Unreadable> {
    let mut cur = value;
    for seg in path {
        match step(cur, seg)? {
            Some(v) => cur = v,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

/// One step: the value under `seg` in the map (or array) `v`. Works on offsets into `v`
/// with the table-driven [`skip_at`]; this is the hot loop of every getter.
#[inline]
fn step<'a>(v: &'a [u8], seg: &Seg) -> Result<Option<&'a [u8]>, Unreadable> {
    let &b = v.first().ok_or(Unreadable)?;
    let (n, mut pos, map) = match b {
        0x80..=0x8f => ((b & 0x0f) as u32, 1, true),
        0x90..=0x9f => ((b & 0x0f) as u32, 1, false),
        _ => {
            let mut c = Cursor::new(v);
            match c.read_head().map_err(|_| Unreadable)? {
                Head::Map(n) => (n, c.pos(), true),
                Head::Array(n) => (n, c.pos(), false),
                _ => return Ok(None),
            }
        }
    };
    if map {
        return last_match(v, pos, n, seg).map(|found| found.map(|at| &v[at..]));
    }
    let Some(i) = seg.int else { return Ok(None) };
    let idx = if i < 0 { n as i64 + i } else { i };
    if idx < 0 || idx >= n as i64 {
        return Ok(None);
    }
    for _ in 0..idx {
        pos = skip(v, pos)?;
    }
    Ok(Some(&v[pos..]))
}

/// Where the value of the last key matching `seg` starts, among the `n` pairs of the map at
/// `pos` of `v` (the last duplicate wins). Bytes that cannot be read end the search: with a
/// match before them it is the answer, without one they are [`Unreadable`].
#[inline]
fn last_match(v: &[u8], mut pos: usize, n: u32, seg: &Seg) -> Result<Option<usize>, Unreadable> {
    let mut found = None;
    let settle = |found: Option<usize>| found.map(Some).ok_or(Unreadable);
    for _ in 0..n {
        let Ok((hit, value)) = key_at(v, pos, seg) else { return settle(found) };
        if hit {
            found = Some(value);
        }
        match skip(v, value) {
            Ok(next) => pos = next,
            Err(_) => return settle(found),
        }
    }
    Ok(found)
}

/// The end of the value at `pos`: scalars and short strings sized from their first byte,
/// the rest walked.
#[inline]
fn skip(v: &[u8], pos: usize) -> Result<usize, Unreadable> {
    match v.get(pos).and_then(|b| size_from_first_byte(*b)) {
        Some(n) if pos + n <= v.len() => return Ok(pos + n),
        _ => {}
    }
    // str8, bin8 and ext8 (longer strings, timestamps): the size is in the next byte. Reading
    // a map to its end for the last duplicate key skips many of these.
    if let (Some(&b), Some(&len)) = (v.get(pos), v.get(pos + 1))
        && matches!(b, 0xc4 | 0xc7 | 0xd9)
    {
        let end = pos + 2 + len as usize + usize::from(b == 0xc7);
        if end <= v.len() {
            return Ok(end);
        }
    }
    skip_at(v, pos).map_err(|_| Unreadable)
}

/// Reads the map key at `pos`: whether it matches `seg`, and where its value starts.
#[inline]
fn key_at(v: &[u8], pos: usize, seg: &Seg) -> Result<(bool, usize), Unreadable> {
    let &b = v.get(pos).ok_or(Unreadable)?;
    if (0xa0..=0xbf).contains(&b) {
        let len = (b & 0x1f) as usize;
        let end = pos + 1 + len;
        if end > v.len() {
            return Err(Unreadable);
        }
        return Ok((seg.matches(v, pos + 1, len), end));
    }
    let mut c = Cursor::at(v, pos);
    match c.read_head().map_err(|_| Unreadable)? {
        Head::Str(n) => {
            let key = c.take(n as usize).map_err(|_| Unreadable)?;
            Ok((key == &*seg.text, c.pos()))
        }
        Head::Int(i) => Ok((seg.int == Some(i), c.pos())),
        _ => Ok((false, skip_at(v, pos).map_err(|_| Unreadable)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<Seg> {
        let mut v = Vec::new();
        parse_path(s, &mut v).unwrap_or_else(|e| panic!("{e}"));
        v
    }

    #[test]
    fn path_syntax() {
        assert_eq!(p("user.geo.country"), vec![Seg::key(b"user"), Seg::key(b"geo"), Seg::key(b"country")]);
        assert_eq!(p("tags[0]"), vec![Seg::key(b"tags"), Seg::index(0)]);
        assert_eq!(p("tags[-1]"), vec![Seg::key(b"tags"), Seg::index(-1)]);
        assert_eq!(p("\"a.b\".c"), vec![Seg::key(b"a.b"), Seg::key(b"c")]);
        assert_eq!(p("attrs['k.1']"), vec![Seg::key(b"attrs"), Seg::key(b"k.1")]);
        assert_eq!(p("[\"x\\\"y\"]"), vec![Seg::key(b"x\"y")]);
        assert_eq!(p("$"), vec![]);
        assert_eq!(p("$.a[1]"), vec![Seg::key(b"a"), Seg::index(1)]);
        assert_eq!(p("$a"), vec![Seg::key(b"$a")]);
        assert_eq!(p("a.1"), vec![Seg::key(b"a"), Seg::index(1)]);
        for bad in ["", "a..b", "a.", ".a", "a[x]", "a[1", "\"open", "a[1]b"] {
            let mut v = Vec::new();
            assert!(parse_path(bad, &mut v).is_err(), "{bad:?} should not parse");
        }
        let mut v = Vec::new();
        assert_eq!(
            parse_path("a..b", &mut v).expect_err("bad").to_string(),
            "invalid path 'a..b': expected a key at character 2"
        );
    }

    #[test]
    fn quoting_round_trips() {
        for k in ["plain", "a.b", "", "$x", "x\"y", "[0]", "back\\slash", "ünï"] {
            assert_eq!(p(&quote_key(k)), vec![Seg::key(k.as_bytes())], "{k:?}");
        }
        assert_eq!(quote_key("code"), "code");
    }

    #[test]
    fn lookup_follows_maps_and_arrays() {
        // {"a": {"b": [10, 20, 30]}, 7: "seven", "a": {"b": [1]}}: the last "a" wins.
        let v = [
            0x83, 0xa1, b'a', 0x81, 0xa1, b'b', 0x93, 10, 20, 30, 0x07, 0xa5, b's', b'e', b'v', b'e', b'n', 0xa1, b'a',
            0x81, 0xa1, b'b', 0x91, 1,
        ];
        let get = |path: &[Seg]| find(&v, path).and_then(value_extent);
        assert_eq!(get(&p("a.b[0]")), Some(&[1u8][..]));
        assert_eq!(get(&p("a.b[-1]")), Some(&[1u8][..]));
        assert_eq!(get(&p("a.b[1]")), None);
        assert_eq!(get(&p("7")), Some(&[0xa5, b's', b'e', b'v', b'e', b'n'][..]));
        assert_eq!(get(&[Seg::index(7)]), Some(&[0xa5, b's', b'e', b'v', b'e', b'n'][..]));
        assert_eq!(get(&p("missing")), None);
        assert_eq!(get(&p("$")), Some(&v[..]));
        // Cut short: nothing panics; a key before the cut is still found, one after is not.
        for cut in 0..v.len() {
            let _ = find(&v[..cut], &p("a.b[0]")).and_then(value_extent);
        }
        assert_eq!(find(&v[..10], &p("a.b[0]")).and_then(value_extent), Some(&[10u8][..]));
        // Cut inside the second "a": the last "a" cannot be read, so nothing is found...
        assert_eq!(find(&v[..20], &p("a.b[0]")).and_then(value_extent), None);
        // ...but cut before it, the first "a" is the last one there is.
        assert_eq!(find(&v[..17], &p("a.b[0]")).and_then(value_extent), Some(&[10u8][..]));
        assert_eq!(lookup(&v[..9], &p("zz")), Err(Unreadable));
        assert_eq!(lookup(&v, &p("zz")), Ok(None));
    }

    #[test]
    fn the_last_duplicate_wins_however_it_is_encoded() {
        let get = |v: &[u8], path: &str| find(v, &p(path)).and_then(value_extent).map(<[u8]>::to_vec);
        // {"a": 1, "x": "a", "a" (str 8): 2}: the text "a" occurs again as a value and as a key.
        let v = [0x83, 0xa1, b'a', 1, 0xa1, b'x', 0xa1, b'a', 0xd9, 1, b'a', 2];
        assert_eq!(get(&v, "a"), Some(vec![2]));
        // {"a": 1, "x": "a"}: the text occurs again, but not as a key.
        assert_eq!(
            get(&v[..8].iter().map(|&b| if b == 0x83 { 0x82 } else { b }).collect::<Vec<_>>(), "a"),
            Some(vec![1])
        );
        // {"b": {"a": 1}, "a": 2}: after the inner match the text occurs in the outer map only.
        let nested = [0x82, 0xa1, b'b', 0x81, 0xa1, b'a', 1, 0xa1, b'a', 2];
        assert_eq!(get(&nested, "b.a"), Some(vec![1]));
        assert_eq!(get(&nested, "a"), Some(vec![2]));
        // {7: 1, 7 (int 8): 2} and the string "7": integer keys are compared by value.
        let ints = [0x83, 0x07, 1, 0xd0, 0x07, 2, 0xa1, b'7', 3];
        assert_eq!(get(&ints, "7"), Some(vec![3]));
        assert_eq!(
            get(&ints[..6].iter().map(|&b| if b == 0x83 { 0x82 } else { b }).collect::<Vec<_>>(), "7"),
            Some(vec![2])
        );
    }
}
