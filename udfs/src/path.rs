//! Paths into MessagePack values and the skip-parse lookup that follows them.
//!
//! Path syntax (one string argument may hold a whole path): segments separated by `.`,
//! `[N]` for an array element (negative counts from the end), `["key"]` or `['key']` for a key
//! with any characters, and `"key"` for a quoted segment; `\` escapes a quote or a backslash
//! inside quotes. A leading `$` (as in `$.user.id`) is allowed and means the value itself.
//! Examples: `user.geo.country`, `tags[0]`, `"a.b".c`, `attrs["k.1"]`, `$`.
//!
//! Matching: on a map, a segment matches a string key equal to its text, or an integer key
//! equal to its number; when a key occurs twice the last one wins, as in the reader. On an
//! array, a segment that is an integer selects an element.

use mpq_wire::{Cursor, Head};

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

    /// The key text (an index's decimal digits).
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// An index segment (also matches an integer map key, or a string key of its digits).
    pub fn index(i: i64) -> Self {
        Seg { text: i.to_string().into_bytes().into(), int: Some(i) }
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

/// The bytes could not be read (truncated, reserved byte, a length past the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

/// Follows `path` into `value`; the bytes of the value found, or `None` when a step is missing
/// or the bytes cannot be read.
#[inline]
pub fn find<'a>(value: &'a [u8], path: &[Seg]) -> Option<&'a [u8]> {
    lookup(value, path).ok().flatten()
}

/// Follows `path` into `value`, telling a missing step (`Ok(None)`) from bytes that cannot be
/// read (`Err`).
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

#[inline]
fn step<'a>(v: &'a [u8], seg: &Seg) -> Result<Option<&'a [u8]>, Unreadable> {
    let mut c = Cursor::new(v);
    match c.read_head().map_err(|_| Unreadable)? {
        Head::Map(n) => {
            let mut found = None;
            for _ in 0..n {
                let hit = key_matches(&mut c, seg).ok_or(Unreadable)?;
                let start = c.pos();
                c.skip_flat().map_err(|_| Unreadable)?;
                if hit {
                    found = Some(start..c.pos());
                }
            }
            Ok(found.map(|r| &v[r]))
        }
        Head::Array(n) => {
            let Some(i) = seg.int else { return Ok(None) };
            let idx = if i < 0 { n as i64 + i } else { i };
            if idx < 0 || idx >= n as i64 {
                return Ok(None);
            }
            for _ in 0..idx {
                c.skip_flat().map_err(|_| Unreadable)?;
            }
            let start = c.pos();
            c.skip_flat().map_err(|_| Unreadable)?;
            Ok(Some(&v[start..c.pos()]))
        }
        _ => Ok(None),
    }
}

/// Consumes one map key and says whether it matches `seg`; `None` when unreadable.
#[inline]
fn key_matches(c: &mut Cursor<'_>, seg: &Seg) -> Option<bool> {
    let start = c.pos();
    let b = c.peek()?;
    if (0xa0..=0xbf).contains(&b) {
        let n = (b & 0x1f) as usize;
        let s = c.take(1 + n).ok()?;
        return Some(&s[1..] == &*seg.text);
    }
    match c.read_head().ok()? {
        Head::Str(n) => Some(c.take(n as usize).ok()? == &*seg.text),
        Head::Int(i) => Some(seg.int == Some(i)),
        _ => {
            *c = Cursor::at(c.buf(), start);
            c.skip_flat().ok()?;
            Some(false)
        }
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
        // {"a": {"b": [10, 20, 30]}, 7: "seven", "a": {"b": [1]}} : the second "a" wins.
        let v = [
            0x83, 0xa1, b'a', 0x81, 0xa1, b'b', 0x93, 10, 20, 30, 0x07, 0xa5, b's', b'e', b'v', b'e', b'n', 0xa1, b'a',
            0x81, 0xa1, b'b', 0x91, 1,
        ];
        assert_eq!(find(&v, &p("a.b[0]")), Some(&[1u8][..]));
        assert_eq!(find(&v, &p("a.b[-1]")), Some(&[1u8][..]));
        assert_eq!(find(&v, &p("a.b[1]")), None);
        assert_eq!(find(&v, &p("7")), Some(&[0xa5, b's', b'e', b'v', b'e', b'n'][..]));
        assert_eq!(find(&v, &[Seg::index(7)]), Some(&[0xa5, b's', b'e', b'v', b'e', b'n'][..]));
        assert_eq!(find(&v, &p("missing")), None);
        assert_eq!(find(&v, &p("$")), Some(&v[..]));
        // Cut short: unreadable, so nothing is found, and nothing panics.
        for cut in 0..v.len() {
            let _ = find(&v[..cut], &p("a.b[0]"));
        }
        assert_eq!(find(&v[..v.len() - 1], &p("a.b[0]")), None);
        assert_eq!(lookup(&v[..v.len() - 1], &p("a.b[0]")), Err(Unreadable));
        assert_eq!(lookup(&v, &p("zz")), Ok(None));
    }
}
