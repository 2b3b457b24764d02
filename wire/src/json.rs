//! Renders MessagePack values as JSON text, without building a value tree.
//!
//! Mapping (documented in the README): nil `null`; bool; integers exactly (also above
//! `i64::MAX`); floats in shortest round-trip form (whole floats with `.0`; exponent form from
//! 1e16 and below 1e-5), NaN and infinities as `null`; valid UTF-8 strings as JSON strings; bin, and
//! strings with invalid UTF-8, as base64 strings; timestamps (ext -1 and EventTime ext 0) as
//! RFC 3339 strings; other ext values as `{"ext": type, "data": "<base64>"}`; maps as objects,
//! with non-string keys rendered as JSON and used as the key text; arrays as arrays.
//!
//! A non-string key inside the JSON text of a non-string key is written as the base64 of its
//! MessagePack bytes rather than as escaped JSON: each level of keys within keys would escape
//! the level below once more, doubling its backslashes, so a few hundred bytes of nested keys
//! would render as gigabytes (found by fuzzing).

use crate::cursor::{Cursor, Head, WireResult};
use crate::ext::{ext_seconds_nanos, is_time_ext, rfc3339_parts};
use std::fmt::Write;

/// Renders the value at the cursor as JSON, appending to `out`; nesting is bounded by
/// `depth_left`.
pub fn write_json(cur: &mut Cursor<'_>, out: &mut String, depth_left: usize) -> WireResult<()> {
    write_value(cur, out, depth_left, false)
}

/// [`write_json`]; `in_key`: the value is (inside) a non-string map key being rendered.
fn write_value(cur: &mut Cursor<'_>, out: &mut String, depth_left: usize, in_key: bool) -> WireResult<()> {
    let head = cur.read_head()?;
    match head {
        Head::Nil => out.push_str("null"),
        Head::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Head::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Head::UInt(v) => {
            let _ = write!(out, "{v}");
        }
        Head::F32(v) => write_float(out, v as f64),
        Head::F64(v) => write_float(out, v),
        Head::Str(_) => {
            let bytes = cur.payload_of(head)?;
            match simple_utf8(bytes) {
                Some(s) => write_json_str(out, s),
                None => write_base64_str(out, bytes),
            }
        }
        Head::Bin(_) => {
            let bytes = cur.payload_of(head)?;
            write_base64_str(out, bytes);
        }
        Head::Ext(t, _) => {
            let data = cur.payload_of(head)?;
            match is_time_ext(t, data.len()).then(|| ext_seconds_nanos(t, data)) {
                Some(Ok((s, n))) => {
                    out.push('"');
                    out.push_str(&rfc3339_parts(s, n));
                    out.push('"');
                }
                _ => {
                    let _ = write!(out, "{{\"ext\":{t},\"data\":");
                    write_base64_str(out, data);
                    out.push('}');
                }
            }
        }
        Head::Array(n) => {
            let d = depth_left.checked_sub(1).ok_or_else(|| too_deep(cur))?;
            out.push('[');
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                write_value(cur, out, d, in_key)?;
            }
            out.push(']');
        }
        Head::Map(n) => {
            let d = depth_left.checked_sub(1).ok_or_else(|| too_deep(cur))?;
            out.push('{');
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                write_key(cur, out, d, in_key)?;
                out.push(':');
                write_value(cur, out, d, in_key)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn too_deep(cur: &Cursor<'_>) -> crate::cursor::WireError {
    crate::cursor::WireError { offset: cur.pos(), kind: crate::cursor::WireErrorKind::TooDeep { limit: 0 } }
}

/// A map key: strings as they are, anything else rendered as JSON and quoted (inside such a
/// key, as the base64 of its bytes: see the module docs).
fn write_key(cur: &mut Cursor<'_>, out: &mut String, depth_left: usize, in_key: bool) -> WireResult<()> {
    if let Some(bytes) = cur.read_str_bytes()? {
        if let Some(s) = simple_utf8(bytes) {
            write_json_str(out, s);
            return Ok(());
        }
        write_base64_str(out, bytes);
        return Ok(());
    }
    if in_key {
        let bytes = cur.value_bytes(depth_left)?;
        write_base64_str(out, bytes);
        return Ok(());
    }
    let mut key = String::new();
    write_value(cur, &mut key, depth_left, true)?;
    if key.starts_with('"') {
        out.push_str(&key);
    } else {
        write_json_str(out, &key);
    }
    Ok(())
}

/// Renders a whole value to a new string.
pub fn to_json(bytes: &[u8], depth_limit: usize) -> WireResult<String> {
    let mut out = String::with_capacity(bytes.len().min(1 << 16) * 2);
    write_json(&mut Cursor::new(bytes), &mut out, depth_limit)?;
    Ok(out)
}

fn simple_utf8(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

fn write_float(out: &mut String, v: f64) {
    if v.is_finite() {
        if v == v.trunc() && v.abs() < 1e16 {
            let _ = write!(out, "{v:.1}");
        } else if v == v.trunc() || v.abs() < 1e-5 {
            // Exponent form keeps large whole floats floats when the JSON is read back (plain
            // digits would read as an integer), and tiny ones short: 1e17, 9.19e-99.
            let _ = write!(out, "{v:e}");
        } else {
            let _ = write!(out, "{v}");
        }
    } else {
        out.push_str("null");
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(esc);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends standard base64 (with padding) of `data` to `out`.
pub fn base64_into(out: &mut String, data: &[u8]) {
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(B64[(n >> shift & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

fn write_base64_str(out: &mut String, data: &[u8]) {
    out.push('"');
    base64_into(out, data);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(bytes: &[u8]) -> String {
        to_json(bytes, 16).expect("valid")
    }

    #[test]
    fn scalars() {
        assert_eq!(j(&[0xc0]), "null");
        assert_eq!(j(&[0xc3]), "true");
        assert_eq!(j(&[0xff]), "-1");
        assert_eq!(j(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), "18446744073709551615");
        assert_eq!(j(&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), "1.5");
        assert_eq!(j(&[0xca, 0x40, 0x00, 0x00, 0x00]), "2.0");
        assert_eq!(j(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), "null");
    }

    #[test]
    fn strings_and_bins() {
        assert_eq!(j(&[0xa3, b'a', b'"', b'\n']), r#""a\"\n""#);
        assert_eq!(j(&[0xa1, 0x01]), r#""\u0001""#);
        assert_eq!(j(&[0xc4, 3, b'a', b'b', b'c']), r#""YWJj""#);
        assert_eq!(j(&[0xa2, 0xff, 0xfe]), r#""//4=""#);
        assert_eq!(j(&[0xc4, 1, b'a']), r#""YQ==""#);
    }

    #[test]
    fn containers_and_exts() {
        // {"a": [1, nil], 1: true}
        assert_eq!(j(&[0x82, 0xa1, b'a', 0x92, 0x01, 0xc0, 0x01, 0xc3]), r#"{"a":[1,null],"1":true}"#);
        assert_eq!(j(&[0xd6, 0xff, 0, 0, 0, 0]), r#""1970-01-01T00:00:00Z""#);
        assert_eq!(j(&[0xd4, 0x05, 0x07]), r#"{"ext":5,"data":"Bw=="}"#);
    }

    #[test]
    fn keys_within_keys_render_in_linear_size() {
        // {{"x": 1}: "v"}: a map key is rendered as JSON text.
        assert_eq!(j(&[0x81, 0x81, 0xa1, b'x', 0x01, 0xa1, b'v']), r#"{"{\"x\":1}":"v"}"#);
        // {{{1: 2}: 3}: 4}: the key within the key is the base64 of its bytes.
        assert_eq!(j(&[0x81, 0x81, 0x81, 0x01, 0x02, 0x03, 0x04]), r#"{"{\"gQEC\":3}":4}"#);
        // 60 levels of maps as keys (a fuzzer's find): once 2^60 bytes, now about 4 per byte.
        let mut deep = vec![0x81u8; 60];
        deep.push(0xc0);
        deep.extend(std::iter::repeat_n(0xc0, 60));
        let text = to_json(&deep, 128).expect("valid");
        assert!(text.len() < 4 * deep.len(), "{} bytes", text.len());
    }

    #[test]
    fn depth_is_bounded() {
        let deep = vec![0x91u8; 100];
        assert!(to_json(&deep, 10).is_err());
    }
}
