//! What one MessagePack value converts to, read from its bytes: the rules behind the typed
//! getters, casts and comparisons. Every function returns `None` when the value does not
//! convert or cannot be read; none of them builds a value tree.
//!
//! | to | from |
//! |---|---|
//! | int | an integer within `i64`; a float with no fraction within `i64`; a string holding a decimal integer |
//! | float | any integer or float; a string holding a number |
//! | bool | a bool; the strings `true` / `false` (any case) |
//! | str | a string of valid UTF-8 |
//! | text | a string's text; a number's or bool's decimal text; a timestamp's RFC 3339 text; JSON for anything else (nil gives `None`) |
//! | bin | a bin's or a string's bytes |
//! | timestamp | ext -1 (32/64/96-bit); Fluentd EventTime (ext 0, 8 bytes); integer or float epoch seconds |

use crate::path::{Seg, lookup};
use mpq_wire::ext::{is_time_ext, time_to_nanos};
use mpq_wire::json::write_json;
use mpq_wire::marker::{is_array, is_map};
use mpq_wire::{Cursor, DEFAULT_MAX_DEPTH, Head};

/// Reads the header of a value and leaves the cursor at its payload.
#[inline]
fn head(v: &[u8]) -> Option<(Head, Cursor<'_>)> {
    let mut c = Cursor::new(v);
    let h = c.read_head().ok()?;
    Some((h, c))
}

/// The payload of a string, bin or ext value.
#[inline]
fn payload<'a>(h: Head, mut c: Cursor<'a>) -> Option<&'a [u8]> {
    c.payload_of(h).ok()
}

/// The value as `i64`.
#[inline]
pub fn as_int(v: &[u8]) -> Option<i64> {
    match head(v)? {
        (Head::Int(i), _) => Some(i),
        (Head::F64(f), _) => float_to_int(f),
        (Head::F32(f), _) => float_to_int(f as f64),
        (h @ Head::Str(_), c) => std::str::from_utf8(payload(h, c)?).ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn float_to_int(f: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, which is out of range, hence the strict bound.
    (f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
}

/// The value as `f64`.
#[inline]
pub fn as_float(v: &[u8]) -> Option<f64> {
    match head(v)? {
        (Head::Int(i), _) => Some(i as f64),
        (Head::UInt(u), _) => Some(u as f64),
        (Head::F64(f), _) => Some(f),
        (Head::F32(f), _) => Some(f as f64),
        (h @ Head::Str(_), c) => std::str::from_utf8(payload(h, c)?).ok()?.trim().parse().ok(),
        _ => None,
    }
}

/// The value as a boolean.
#[inline]
pub fn as_bool(v: &[u8]) -> Option<bool> {
    match head(v)? {
        (Head::Bool(b), _) => Some(b),
        (h @ Head::Str(_), c) => {
            let s = payload(h, c)?;
            if s.eq_ignore_ascii_case(b"true") {
                Some(true)
            } else if s.eq_ignore_ascii_case(b"false") {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The text of a string value (valid UTF-8 only).
#[inline]
pub fn as_str(v: &[u8]) -> Option<&str> {
    match head(v)? {
        (h @ Head::Str(_), c) => std::str::from_utf8(payload(h, c)?).ok(),
        _ => None,
    }
}

/// The bytes of a bin or string value.
#[inline]
pub fn as_bin(v: &[u8]) -> Option<&[u8]> {
    match head(v)? {
        (h @ (Head::Bin(_) | Head::Str(_)), c) => payload(h, c),
        _ => None,
    }
}

/// The value as nanoseconds since the Unix epoch.
#[inline]
pub fn as_nanos(v: &[u8]) -> Option<i64> {
    let (h, c) = head(v)?;
    time_to_nanos(h, payload(h, c)?)?.ok()
}

/// Writes the value's text into `out` (cleared first): a string's text, a number's or bool's
/// decimal text, a timestamp's RFC 3339 text, JSON for anything else. `false` for nil and unreadable values.
pub fn write_text(v: &[u8], out: &mut String) -> bool {
    out.clear();
    match head(v) {
        None | Some((Head::Nil, _)) => false,
        Some((h @ Head::Str(_), c)) => match payload(h, c).map(std::str::from_utf8) {
            Some(Ok(s)) => {
                out.push_str(s);
                true
            }
            // Invalid UTF-8: its JSON form (base64), like every other non-text value.
            _ => json_into(v, out),
        },
        Some((Head::Ext(t, n), _)) if is_time_ext(t, n as usize) => {
            // A timestamp's text is its RFC 3339 form, without the JSON quotes.
            let ok = json_into(v, out) && out.starts_with('"');
            if ok {
                out.pop();
                out.remove(0);
            }
            ok
        }
        Some((Head::F64(f), _)) if !f.is_finite() => non_finite(f, out),
        Some((Head::F32(f), _)) if !f.is_finite() => non_finite(f as f64, out),
        Some(_) => json_into(v, out),
    }
}

fn non_finite(f: f64, out: &mut String) -> bool {
    out.push_str(if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "inf"
    } else {
        "-inf"
    });
    true
}

/// Writes the value as JSON into `out` (cleared first); `false` when unreadable.
pub fn json_into(v: &[u8], out: &mut String) -> bool {
    out.clear();
    write_json(&mut Cursor::new(v), out, DEFAULT_MAX_DEPTH).is_ok()
}

/// `nil`, `bool`, `int`, `float`, `str`, `bin`, `array`, `map`, `ext` or `timestamp` (ext -1).
#[inline]
pub fn type_name(v: &[u8]) -> Option<&'static str> {
    Some(head(v)?.0.family())
}

/// Elements of an array, distinct keys of a map (a duplicate key counts once: the last one
/// wins; a map cut short counts the pairs its header claims), characters of a string (bytes
/// when it is not valid UTF-8), bytes of a bin or ext.
pub fn length(v: &[u8]) -> Option<i64> {
    match head(v)? {
        (Head::Map(n), _) if n > 1 => {
            let mut distinct = 0;
            Some(for_each_distinct_key(v, |_| distinct += 1).map_or(n as i64, |()| distinct))
        }
        (Head::Array(n) | Head::Map(n) | Head::Bin(n) | Head::Ext(_, n), _) => Some(n as i64),
        (h @ Head::Str(_), c) => {
            let s = payload(h, c)?;
            Some(match std::str::from_utf8(s) {
                Ok(s) => s.chars().count() as i64,
                Err(_) => s.len() as i64,
            })
        }
        _ => None,
    }
}

/// The type number of an ext value (timestamps included).
#[inline]
pub fn ext_type(v: &[u8]) -> Option<i64> {
    match head(v)? {
        (Head::Ext(t, _), _) => Some(t as i64),
        _ => None,
    }
}

/// The data bytes of an ext value.
#[inline]
pub fn ext_data(v: &[u8]) -> Option<&[u8]> {
    match head(v)? {
        (h @ Head::Ext(..), c) => payload(h, c),
        _ => None,
    }
}

/// A map key as lookups tell keys apart: a string by its bytes, an integer by its value,
/// anything else by its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum KeyId<'a> {
    Str(&'a [u8]),
    Int(i128),
    Other(&'a [u8]),
}

#[inline]
fn key_id(key: &[u8]) -> KeyId<'_> {
    // The common key, a short string: no header to parse.
    if let Some(&b @ 0xa0..=0xbf) = key.first() {
        return KeyId::Str(&key[1..key.len().min(1 + (b & 0x1f) as usize)]);
    }
    match head(key) {
        Some((h @ Head::Str(_), c)) => payload(h, c).map_or(KeyId::Other(key), KeyId::Str),
        Some((Head::Int(i), _)) => KeyId::Int(i as i128),
        Some((Head::UInt(u), _)) => KeyId::Int(u as i128),
        _ => KeyId::Other(key),
    }
}

/// Maps with at most this many pairs find duplicates by comparing with each earlier key, kept
/// on the stack (no hashing, no allocation for the common small record).
const SCAN_KEYS: usize = 16;

/// Calls `f` with the bytes of each distinct key of the map `v`, in the order keys first
/// appear: a duplicate key is one key (whose value is the last one's, as lookups find it).
/// `None` when the value is not a readable map.
pub fn for_each_distinct_key<'a>(v: &'a [u8], mut f: impl FnMut(&'a [u8])) -> Option<()> {
    let (Head::Map(n), mut c) = head(v)? else { return None };
    let mut few = [KeyId::Int(0); SCAN_KEYS];
    let mut many: std::collections::HashSet<KeyId<'a>> = std::collections::HashSet::new();
    for i in 0..n as usize {
        let start = c.pos();
        c.skip_flat().ok()?;
        let key = &v[start..c.pos()];
        let new = if n < 2 {
            true
        } else if (n as usize) <= SCAN_KEYS {
            let id = key_id(key);
            few[i] = id;
            !few[..i].contains(&id)
        } else {
            many.insert(key_id(key))
        };
        if new {
            f(key);
        }
        c.skip_flat().ok()?;
    }
    Some(())
}

/// Calls `f` with the text of each distinct key of a map (string keys as they are, other keys
/// as JSON, as `mp_to_json` writes them), in the order keys first appear (see
/// [`for_each_distinct_key`]); `None` when the value is not a readable map.
pub fn for_each_key(v: &[u8], mut f: impl FnMut(&str)) -> Option<()> {
    let mut text = String::new();
    let mut readable = true;
    for_each_distinct_key(v, |key| match as_str(key) {
        Some(s) => f(s),
        None if json_into(key, &mut text) => f(text.trim_matches('"')),
        None => readable = false,
    })?;
    readable.then_some(())
}

/// Calls `f` with the bytes of each element of an array; `None` when the value is not a
/// readable array.
pub fn for_each_element<'a>(v: &'a [u8], mut f: impl FnMut(&'a [u8])) -> Option<()> {
    let (Head::Array(n), mut c) = head(v)? else { return None };
    for _ in 0..n {
        let start = c.pos();
        c.skip_flat().ok()?;
        f(&v[start..c.pos()]);
    }
    Some(())
}

/// True when the map `v` has the key `seg`, or (for an array) one of its string elements
/// equals the segment's text, as PostgreSQL's `?` does for jsonb; `None` when unreadable.
pub fn has_key(v: &[u8], seg: &Seg) -> Option<bool> {
    match *v.first()? {
        // A map is looked into as the getters do.
        b if is_map(b) => lookup(v, std::slice::from_ref(seg)).ok().map(|f| f.is_some()),
        b if is_array(b) => {
            let mut hit = false;
            for_each_element(v, |e| hit |= as_str(e).map(str::as_bytes) == Some(seg.text()))?;
            Some(hit)
        }
        _ => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_wire::write::*;

    fn mp(f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    fn text(v: &[u8]) -> Option<String> {
        let mut s = String::new();
        write_text(v, &mut s).then_some(s)
    }

    /// One row per format family: what each conversion gives.
    #[test]
    fn every_family_converts_as_documented() {
        let str_ = |s: &str| mp(|o| write_str(o, s.as_bytes()));
        let ts = mp(|o| write_timestamp(o, 1_700_000_000, 250_000_000));
        let event_time = [0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 5];
        let ext = mp(|o| write_ext(o, 7, b"ab"));
        // (name, bytes, int, float, bool, str, text)
        type Case<'a> = (&'a str, Vec<u8>, Option<i64>, Option<f64>, Option<bool>, Option<&'a str>, Option<&'a str>);
        let cases: Vec<Case> = vec![
            ("nil", vec![0xc0], None, None, None, None, None),
            ("true", vec![0xc3], None, None, Some(true), None, Some("true")),
            ("fixint", vec![0x05], Some(5), Some(5.0), None, None, Some("5")),
            ("negative", mp(|o| write_int(o, -300)), Some(-300), Some(-300.0), None, None, Some("-300")),
            (
                "uint64",
                mp(|o| write_uint(o, u64::MAX)),
                None,
                Some(u64::MAX as f64),
                None,
                None,
                Some("18446744073709551615"),
            ),
            ("float whole", mp(|o| write_f64(o, 3.0)), Some(3), Some(3.0), None, None, Some("3.0")),
            ("float", mp(|o| write_f64(o, 2.5)), None, Some(2.5), None, None, Some("2.5")),
            ("float32", mp(|o| write_f32(o, 0.5)), None, Some(0.5), None, None, Some("0.5")),
            ("nan", mp(|o| write_f64(o, f64::NAN)), None, None, None, None, Some("NaN")),
            ("str", str_("hi"), None, None, None, Some("hi"), Some("hi")),
            ("numeric str", str_(" 42 "), Some(42), Some(42.0), None, Some(" 42 "), Some(" 42 ")),
            ("bool str", str_("TRUE"), None, None, Some(true), Some("TRUE"), Some("TRUE")),
            ("invalid utf-8", vec![0xa2, 0xff, 0xfe], None, None, None, None, Some("\"//4=\"")),
            ("bin", mp(|o| write_bin(o, b"\x01\x02")), None, None, None, None, Some("\"AQI=\"")),
            ("array", vec![0x92, 1, 0xc0], None, None, None, None, Some("[1,null]")),
            ("map int key", vec![0x81, 0x01, 0xa1, b'x'], None, None, None, None, Some("{\"1\":\"x\"}")),
            ("timestamp", ts.clone(), None, None, None, None, Some("2023-11-14T22:13:20.250Z")),
            ("ext", ext.clone(), None, None, None, None, Some("{\"ext\":7,\"data\":\"YWI=\"}")),
            ("truncated", vec![0xa5, b'a'], None, None, None, None, None),
            ("reserved", vec![0xc1], None, None, None, None, None),
            ("empty", vec![], None, None, None, None, None),
        ];
        for (name, v, int, float, boolean, s, t) in cases {
            assert_eq!(as_int(&v), int, "{name}: int");
            assert_eq!(as_float(&v).filter(|f| !f.is_nan()), float, "{name}: float");
            assert_eq!(as_bool(&v), boolean, "{name}: bool");
            assert_eq!(as_str(&v), s, "{name}: str");
            assert_eq!(text(&v).as_deref(), t, "{name}: text");
        }
        assert_eq!(as_nanos(&ts), Some(1_700_000_000_250_000_000));
        assert_eq!(as_nanos(&event_time), Some(1_700_000_000_000_000_005));
        assert_eq!(as_nanos(&[0x05]), Some(5_000_000_000));
        assert_eq!(as_nanos(&mp(|o| write_f64(o, 1.5))), Some(1_500_000_000));
        assert_eq!(as_nanos(&mp(|o| write_int(o, i64::MAX))), None, "past Arrow's range");
        assert_eq!(as_nanos(&str_("2026-01-01")), None);
        assert_eq!(type_name(&ts), Some("timestamp"));
        assert_eq!(type_name(&event_time), Some("ext"));
        assert_eq!(ext_type(&ts), Some(-1));
        assert_eq!(ext_data(&ext), Some(&b"ab"[..]));
        assert_eq!(ext_type(&[0x01]), None);
        assert_eq!(as_bin(&str_("ab")), Some(&b"ab"[..]));
        assert_eq!(length(&str_("ünï")), Some(3));
        assert_eq!(length(&[0x92, 1, 2]), Some(2));
        assert_eq!(length(&[0x01]), None);
    }

    #[test]
    fn keys_and_elements() {
        let v = [0x83, 0xa1, b'a', 1, 0x07, 2, 0xc3, 3];
        let mut keys = Vec::new();
        assert_eq!(for_each_key(&v, |k| keys.push(k.to_string())), Some(()));
        assert_eq!(keys, ["a", "7", "true"]);
        // {"a": 1, 7: 2, "a": 3, "7": 4}: "a" once; the int key 7 and the string "7" differ.
        let dup = [0x84, 0xa1, b'a', 1, 0x07, 2, 0xa1, b'a', 3, 0xa1, b'7', 4];
        keys.clear();
        assert_eq!(for_each_key(&dup, |k| keys.push(k.to_string())), Some(()));
        assert_eq!(keys, ["a", "7", "7"]);
        assert_eq!(length(&dup), Some(3));
        assert_eq!(has_key(&v, &Seg::key(b"a")), Some(true));
        assert_eq!(has_key(&v, &Seg::key(b"7")), Some(true));
        assert_eq!(has_key(&v, &Seg::key(b"b")), Some(false));
        let arr = [0x92, 0xa1, b'x', 0x01];
        assert_eq!(has_key(&arr, &Seg::key(b"x")), Some(true));
        assert_eq!(has_key(&arr, &Seg::index(1)), Some(false));
        let mut n = 0;
        assert_eq!(for_each_element(&arr, |_| n += 1), Some(()));
        assert_eq!(n, 2);
        assert_eq!(for_each_key(&arr, |_| ()), None);
        assert_eq!(for_each_element(&[0x92, 0x01], |_| ()), None, "truncated");
    }
}
