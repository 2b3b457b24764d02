//! The zero-copy cursor: reads one MessagePack header at a time from a byte slice, checks
//! every length and count header against the bytes that remain, and skips whole values with a
//! bounded nesting depth.

use crate::skip::{size_from_first_byte, skip_at, skip_fast, skip_shallow};
use std::fmt;

/// The header of one MessagePack value: its family and, for containers and byte strings, its
/// length. Reading a header leaves the cursor at the first byte of the payload (the string
/// bytes, the first element, the ext data).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Head {
    /// `nil` (0xc0).
    Nil,
    /// `false` / `true`.
    Bool(bool),
    /// Any integer that fits in `i64` (fixints, uint8..64 up to `i64::MAX`, int8..64).
    Int(i64),
    /// An unsigned integer above `i64::MAX` (uint64 only).
    UInt(u64),
    /// float32.
    F32(f32),
    /// float64.
    F64(f64),
    /// A string of this many bytes (fixstr, str8/16/32); the bytes are not yet validated.
    Str(u32),
    /// A byte string of this many bytes (bin8/16/32).
    Bin(u32),
    /// An array of this many elements (fixarray, array16/32).
    Array(u32),
    /// A map of this many key/value pairs (fixmap, map16/32).
    Map(u32),
    /// An extension value: type and data length (fixext1..16, ext8/16/32).
    Ext(i8, u32),
}

impl Head {
    /// A short name of the value's family, as used in messages and `mp_typeof`.
    pub fn family(&self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "bool",
            Head::Int(_) | Head::UInt(_) => "int",
            Head::F32(_) | Head::F64(_) => "float",
            Head::Str(_) => "str",
            Head::Bin(_) => "bin",
            Head::Array(_) => "array",
            Head::Map(_) => "map",
            Head::Ext(-1, _) => "timestamp",
            Head::Ext(..) => "ext",
        }
    }
}

/// What went wrong while walking MessagePack bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireErrorKind {
    /// The input ended inside a header or payload.
    Truncated {
        /// Bytes the header or payload needs.
        needed: u64,
        /// Bytes that remain in the input.
        available: u64,
    },
    /// An array or map header claims more elements than the remaining bytes could hold.
    CountTooLarge {
        /// Elements (or pairs) claimed by the header.
        count: u64,
        /// Bytes that remain in the input.
        available: u64,
    },
    /// The byte 0xc1, which MessagePack reserves and never uses.
    Reserved,
    /// Containers nested deeper than the limit.
    TooDeep {
        /// The nesting limit in force.
        limit: usize,
    },
}

/// An error at a byte offset relative to the start of the slice the cursor reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    /// Offset of the failing byte.
    pub offset: usize,
    /// What was wrong there.
    pub kind: WireErrorKind,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WireErrorKind::Truncated { needed, available } => {
                write!(f, "expected {needed} more bytes, found only {available} before the end of input")
            }
            WireErrorKind::CountTooLarge { count, available } => write!(
                f,
                "expected a container that fits in the {available} remaining bytes, found a header claiming {count} elements"
            ),
            WireErrorKind::Reserved => {
                write!(f, "expected a MessagePack value, found reserved byte 0xc1")
            }
            WireErrorKind::TooDeep { limit } => {
                write!(f, "expected nesting of at most {limit} levels, found deeper nesting")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// Result of cursor operations.
pub type WireResult<T> = Result<T, WireError>;

/// A position in a byte slice. Every read is bounds-checked; nothing is copied.
#[derive(Debug, Clone, Copy)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// A cursor at `pos` in `buf` (clamped to the end).
    pub fn at(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos: pos.min(buf.len()) }
    }

    /// The current offset.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The whole underlying slice.
    #[inline]
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// Bytes that remain after the current offset.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when no bytes remain.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The next byte, without consuming it.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn truncated(&self, needed: usize) -> WireError {
        WireError {
            offset: self.pos,
            kind: WireErrorKind::Truncated { needed: needed as u64, available: self.remaining() as u64 },
        }
    }

    /// Consumes `n` bytes and returns them.
    #[inline]
    pub fn take(&mut self, n: usize) -> WireResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.truncated(n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> WireResult<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    #[inline]
    fn u8(&mut self) -> WireResult<u8> {
        Ok(self.array::<1>()?[0])
    }
    #[inline]
    fn u16(&mut self) -> WireResult<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    #[inline]
    fn u32(&mut self) -> WireResult<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    #[inline]
    fn u64(&mut self) -> WireResult<u64> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Checks that a payload of `len` bytes follows, so a length header can never make a
    /// caller allocate or read past the input.
    #[inline]
    fn payload(&self, len: u32, head_start: usize) -> WireResult<u32> {
        if len as usize > self.remaining() {
            return Err(WireError {
                offset: head_start,
                kind: WireErrorKind::Truncated { needed: len as u64, available: self.remaining() as u64 },
            });
        }
        Ok(len)
    }

    /// Checks that `count` elements of at least `min_bytes` bytes each can fit.
    #[inline]
    fn count(&self, count: u32, min_bytes: u64, head_start: usize) -> WireResult<u32> {
        if count as u64 * min_bytes > self.remaining() as u64 {
            return Err(WireError {
                offset: head_start,
                kind: WireErrorKind::CountTooLarge { count: count as u64, available: self.remaining() as u64 },
            });
        }
        Ok(count)
    }

    /// Reads the next header. For strings, bins and exts the payload is checked to be present
    /// but not consumed; for arrays and maps the count is checked against the remaining bytes.
    #[inline]
    pub fn read_head(&mut self) -> WireResult<Head> {
        let start = self.pos;
        let b = self.u8()?;
        let head = match b {
            0x00..=0x7f => Head::Int(b as i64),
            0x80..=0x8f => Head::Map(self.count((b & 0x0f) as u32, 2, start)?),
            0x90..=0x9f => Head::Array(self.count((b & 0x0f) as u32, 1, start)?),
            0xa0..=0xbf => Head::Str(self.payload((b & 0x1f) as u32, start)?),
            0xc0 => Head::Nil,
            0xc1 => {
                self.pos = start;
                return Err(WireError { offset: start, kind: WireErrorKind::Reserved });
            }
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(self.len8(start)?),
            0xc5 => Head::Bin(self.len16(start)?),
            0xc6 => Head::Bin(self.len32(start)?),
            0xc7 => {
                let n = self.u8()? as u32;
                let t = self.u8()? as i8;
                Head::Ext(t, self.payload(n, start)?)
            }
            0xc8 => {
                let n = self.u16()? as u32;
                let t = self.u8()? as i8;
                Head::Ext(t, self.payload(n, start)?)
            }
            0xc9 => {
                let n = self.u32()?;
                let t = self.u8()? as i8;
                Head::Ext(t, self.payload(n, start)?)
            }
            0xca => Head::F32(f32::from_bits(self.u32()?)),
            0xcb => Head::F64(f64::from_bits(self.u64()?)),
            0xcc => Head::Int(self.u8()? as i64),
            0xcd => Head::Int(self.u16()? as i64),
            0xce => Head::Int(self.u32()? as i64),
            0xcf => {
                let v = self.u64()?;
                if v > i64::MAX as u64 { Head::UInt(v) } else { Head::Int(v as i64) }
            }
            0xd0 => Head::Int(self.u8()? as i8 as i64),
            0xd1 => Head::Int(self.u16()? as i16 as i64),
            0xd2 => Head::Int(self.u32()? as i32 as i64),
            0xd3 => Head::Int(self.u64()? as i64),
            0xd4..=0xd8 => {
                let n = 1u32 << (b - 0xd4);
                let t = self.u8()? as i8;
                Head::Ext(t, self.payload(n, start)?)
            }
            0xd9 => Head::Str(self.len8(start)?),
            0xda => Head::Str(self.len16(start)?),
            0xdb => Head::Str(self.len32(start)?),
            0xdc => {
                let n = self.u16()? as u32;
                Head::Array(self.count(n, 1, start)?)
            }
            0xdd => {
                let n = self.u32()?;
                Head::Array(self.count(n, 1, start)?)
            }
            0xde => {
                let n = self.u16()? as u32;
                Head::Map(self.count(n, 2, start)?)
            }
            0xdf => {
                let n = self.u32()?;
                Head::Map(self.count(n, 2, start)?)
            }
            0xe0..=0xff => Head::Int(b as i8 as i64),
        };
        Ok(head)
    }

    fn len8(&mut self, start: usize) -> WireResult<u32> {
        let n = self.u8()? as u32;
        self.payload(n, start)
    }
    fn len16(&mut self, start: usize) -> WireResult<u32> {
        let n = self.u16()? as u32;
        self.payload(n, start)
    }
    fn len32(&mut self, start: usize) -> WireResult<u32> {
        let n = self.u32()?;
        self.payload(n, start)
    }

    /// Reads a string header and returns its bytes, or `None` (cursor unchanged) if the next
    /// value is not a string.
    #[inline]
    pub fn read_str_bytes(&mut self) -> WireResult<Option<&'a [u8]>> {
        // fixstr, the usual map key, without the general header decoding.
        if let Some(&b) = self.buf.get(self.pos)
            && b & 0xe0 == 0xa0
        {
            let (from, to) = (self.pos + 1, self.pos + 1 + (b & 0x1f) as usize);
            if let Some(s) = self.buf.get(from..to) {
                self.pos = to;
                return Ok(Some(s));
            }
        }
        let save = self.pos;
        match self.read_head()? {
            Head::Str(n) => Ok(Some(self.take(n as usize)?)),
            _ => {
                self.pos = save;
                Ok(None)
            }
        }
    }

    /// Consumes the payload that follows a header just read (string, bin or ext data; no-op
    /// for other heads, whose payload is their elements).
    #[inline]
    pub fn payload_of(&mut self, head: Head) -> WireResult<&'a [u8]> {
        match head {
            Head::Str(n) | Head::Bin(n) | Head::Ext(_, n) => self.take(n as usize),
            _ => Ok(&self.buf[self.pos..self.pos]),
        }
    }

    /// Skips one whole value, nesting at most `depth_left` containers deep. This is the hot
    /// loop of framing and of skipping unprojected fields, in three tiers: [`skip_fast`]
    /// (values with at most `depth_left` containers in all), then [`skip_shallow`] (values
    /// nested at most [`SHALLOW_DEPTH`] deep), then the checked recursive walk, which also
    /// says exactly what is wrong and where when a value cannot be skipped. Recursion is bounded by
    /// `depth_left`, which callers keep at or below [`MAX_DEPTH_LIMIT`].
    #[inline]
    pub fn skip_value(&mut self, depth_left: usize) -> WireResult<()> {
        // A value whose size its first byte tells (scalars, fixstr): no walk at all.
        if let Some(&b) = self.buf.get(self.pos)
            && let Some(n) = size_from_first_byte(b)
            && self.pos + n <= self.buf.len()
        {
            self.pos += n;
            return Ok(());
        }
        // str8, bin8 and ext8 (timestamps, longer strings): the size is in the next byte.
        if let Some(&[b, len]) = self.buf.get(self.pos..self.pos + 2).and_then(|h| <&[u8; 2]>::try_from(h).ok())
            && matches!(b, 0xc4 | 0xc7 | 0xd9)
        {
            let n = 2 + len as usize + usize::from(b == 0xc7);
            if self.pos + n <= self.buf.len() {
                self.pos += n;
                return Ok(());
            }
        }
        self.skip_value_walk(depth_left)
    }

    /// [`Cursor::skip_value`] past its first-byte shortcut.
    #[inline(never)]
    fn skip_value_walk(&mut self, depth_left: usize) -> WireResult<()> {
        if let Some(end) =
            skip_fast(self.buf, self.pos, depth_left).or_else(|| skip_shallow(self.buf, self.pos, depth_left))
        {
            self.pos = end;
            return Ok(());
        }
        self.skip_value_checked(depth_left)
    }

    /// [`Cursor::skip_value`] by recursion over [`Cursor::read_head`]: slower, and the
    /// source of the precise error of a value that cannot be skipped.
    pub fn skip_value_checked(&mut self, depth_left: usize) -> WireResult<()> {
        let head = self.read_head()?;
        self.skip_rest(head, depth_left)
    }

    /// Skips the rest of a value whose header was just read.
    pub fn skip_rest(&mut self, head: Head, depth_left: usize) -> WireResult<()> {
        match head {
            Head::Str(n) | Head::Bin(n) | Head::Ext(_, n) => {
                // `read_head` checked the payload is present.
                self.pos += n as usize;
            }
            Head::Array(n) => {
                let d = self.descend(depth_left)?;
                for _ in 0..n {
                    self.skip_value_checked(d)?;
                }
            }
            Head::Map(n) => {
                let d = self.descend(depth_left)?;
                for _ in 0..n {
                    self.skip_value_checked(d)?;
                    self.skip_value_checked(d)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    #[inline]
    fn descend(&self, depth_left: usize) -> WireResult<usize> {
        if depth_left == 0 {
            return Err(WireError { offset: self.pos, kind: WireErrorKind::TooDeep { limit: 0 } });
        }
        Ok(depth_left - 1)
    }

    /// Skips one whole value without recursion: it keeps a count of the values still to skip
    /// rather than a stack, so no nesting depth can exhaust the stack and no limit is needed.
    /// See [`skip_at`].
    #[inline]
    pub fn skip_flat(&mut self) -> WireResult<()> {
        self.pos = skip_at(self.buf, self.pos)?;
        Ok(())
    }

    /// Skips one value and returns the bytes it spans.
    pub fn value_bytes(&mut self, depth_left: usize) -> WireResult<&'a [u8]> {
        let start = self.pos;
        self.skip_value(depth_left)?;
        Ok(&self.buf[start..self.pos])
    }
}

/// The largest nesting limit a caller may configure: walks recurse once per level, so this
/// bounds native stack use (a few hundred bytes per level).
pub const MAX_DEPTH_LIMIT: usize = 1024;

/// The default nesting limit (DESIGN.md).
pub const DEFAULT_MAX_DEPTH: usize = 128;

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> WireResult<Head> {
        Cursor::new(bytes).read_head()
    }

    /// Every format family, hand-built, with the header it must read as.
    #[test]
    fn every_format_family() {
        let cases: Vec<(&str, Vec<u8>, Head)> = vec![
            ("positive fixint", vec![0x7f], Head::Int(127)),
            ("negative fixint", vec![0xe0], Head::Int(-32)),
            ("uint8", vec![0xcc, 0xff], Head::Int(255)),
            ("uint16", vec![0xcd, 0x01, 0x00], Head::Int(256)),
            ("uint32", vec![0xce, 0xff, 0xff, 0xff, 0xff], Head::Int(u32::MAX as i64)),
            ("uint64 in i64", vec![0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Head::Int(i64::MAX)),
            ("uint64 above i64", vec![0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0], Head::UInt(1 << 63)),
            ("int8", vec![0xd0, 0x80], Head::Int(-128)),
            ("int16", vec![0xd1, 0x80, 0x00], Head::Int(-32768)),
            ("int32", vec![0xd2, 0x80, 0, 0, 0], Head::Int(i32::MIN as i64)),
            ("int64", vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], Head::Int(i64::MIN)),
            ("float32", vec![0xca, 0x3f, 0xc0, 0, 0], Head::F32(1.5)),
            ("float64", vec![0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], Head::F64(1.5)),
            ("fixstr", vec![0xa2, b'h', b'i'], Head::Str(2)),
            ("str8", vec![0xd9, 1, b'x'], Head::Str(1)),
            ("str16", vec![0xda, 0, 1, b'x'], Head::Str(1)),
            ("str32", vec![0xdb, 0, 0, 0, 1, b'x'], Head::Str(1)),
            ("bin8", vec![0xc4, 1, 0], Head::Bin(1)),
            ("bin16", vec![0xc5, 0, 1, 0], Head::Bin(1)),
            ("bin32", vec![0xc6, 0, 0, 0, 1, 0], Head::Bin(1)),
            ("fixarray", vec![0x92, 1, 2], Head::Array(2)),
            ("array16", vec![0xdc, 0, 2, 1, 2], Head::Array(2)),
            ("array32", vec![0xdd, 0, 0, 0, 2, 1, 2], Head::Array(2)),
            ("fixmap", vec![0x81, 1, 2], Head::Map(1)),
            ("map16", vec![0xde, 0, 1, 1, 2], Head::Map(1)),
            ("map32", vec![0xdf, 0, 0, 0, 1, 1, 2], Head::Map(1)),
            ("fixext1", vec![0xd4, 5, 0], Head::Ext(5, 1)),
            ("fixext2", vec![0xd5, 5, 0, 0], Head::Ext(5, 2)),
            ("fixext4", vec![0xd6, 5, 0, 0, 0, 0], Head::Ext(5, 4)),
            ("fixext8", vec![0xd7, 5, 0, 0, 0, 0, 0, 0, 0, 0], Head::Ext(5, 8)),
            ("fixext16", [vec![0xd8, 5], vec![0; 16]].concat(), Head::Ext(5, 16)),
            ("ext8", vec![0xc7, 1, 0xfe, 0], Head::Ext(-2, 1)),
            ("ext16", vec![0xc8, 0, 1, 7, 0], Head::Ext(7, 1)),
            ("ext32", vec![0xc9, 0, 0, 0, 1, 7, 0], Head::Ext(7, 1)),
            ("timestamp32", vec![0xd6, 0xff, 0, 0, 0, 1], Head::Ext(-1, 4)),
            ("timestamp64", vec![0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1], Head::Ext(-1, 8)),
            ("timestamp96", [vec![0xc7, 12, 0xff], vec![0; 12]].concat(), Head::Ext(-1, 12)),
            ("EventTime", vec![0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 2], Head::Ext(0, 8)),
            ("nil", vec![0xc0], Head::Nil),
            ("false", vec![0xc2], Head::Bool(false)),
            ("true", vec![0xc3], Head::Bool(true)),
        ];
        for (name, bytes, want) in cases {
            assert_eq!(head(&bytes), Ok(want), "{name}");
            let mut c = Cursor::new(&bytes);
            c.skip_value(4).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.pos(), bytes.len(), "{name}: skip consumes exactly the value");
            assert_eq!(skip_shallow(&bytes, 0, 4), Some(bytes.len()), "{name}: shallow skip");
            assert_eq!(skip_fast(&bytes, 0, 4), Some(bytes.len()), "{name}: fast skip");
            let mut c = Cursor::new(&bytes);
            c.skip_flat().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.pos(), bytes.len(), "{name}: flat skip consumes exactly the value");
            if bytes.len() > 1 {
                assert!(Cursor::new(&bytes[..bytes.len() - 1]).skip_flat().is_err(), "{name}: cut short");
            }
        }
    }

    #[test]
    fn payloads_are_zero_copy_slices() {
        let bytes = [0xa3, b'a', b'b', b'c', 0xc0];
        let mut c = Cursor::new(&bytes);
        let h = c.read_head().expect("head");
        assert_eq!(c.payload_of(h).expect("payload"), b"abc");
        assert_eq!(c.read_head(), Ok(Head::Nil));
    }

    #[test]
    fn length_headers_are_checked_against_remaining_bytes() {
        // str32 claiming 4 GiB in a 9-byte input.
        let e = head(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a', b'b', b'c', b'd']).expect_err("too long");
        assert_eq!(e.offset, 0);
        assert_eq!(e.kind, WireErrorKind::Truncated { needed: u32::MAX as u64, available: 4 });
        // map32 claiming 2^32-1 pairs.
        let e = head(&[0xdf, 0xff, 0xff, 0xff, 0xff, 0x01]).expect_err("too many");
        assert_eq!(e.kind, WireErrorKind::CountTooLarge { count: u32::MAX as u64, available: 1 });
        // A header cut short.
        assert!(matches!(head(&[0xcd, 0x01]), Err(WireError { kind: WireErrorKind::Truncated { .. }, .. })));
        assert!(matches!(head(&[]), Err(WireError { offset: 0, .. })));
    }

    #[test]
    fn reserved_byte_and_depth() {
        assert_eq!(head(&[0xc1]), Err(WireError { offset: 0, kind: WireErrorKind::Reserved }));
        let deep = [vec![0x91u8; 10], vec![0xc0]].concat();
        assert!(Cursor::new(&deep).skip_value(10).is_ok());
        let e = Cursor::new(&deep).skip_value(9).expect_err("too deep");
        assert!(matches!(e.kind, WireErrorKind::TooDeep { .. }));
        // Deeper than the shallow walk tracks: the recursive walk takes over.
        let deeper = [vec![0x91u8; 100], vec![0xc0]].concat();
        assert_eq!(skip_shallow(&deeper, 0, 200), None);
        let mut c = Cursor::new(&deeper);
        c.skip_value(200).expect("deep but allowed");
        assert_eq!(c.pos(), deeper.len());
        assert!(Cursor::new(&deeper).skip_value(99).is_err());
        // Empty containers count as a level, as in the recursive walk.
        assert_eq!(skip_shallow(&[0x91, 0x90], 0, 1), None);
        assert_eq!(skip_shallow(&[0x91, 0x90], 0, 2), Some(2));
    }

    #[test]
    fn flat_skip_needs_no_depth_limit() {
        // 100,000 nested arrays, then a trailing value the skip must stop before.
        let deep = [vec![0x91u8; 100_000], vec![0xc0, 0x07]].concat();
        let mut c = Cursor::new(&deep);
        c.skip_flat().expect("deep value");
        assert_eq!(c.pos(), deep.len() - 1);
        // A map whose last value is missing.
        assert!(Cursor::new(&[0x82, 0xa1, b'a', 1, 0xa1, b'b']).skip_flat().is_err());
        // A huge count claimed by a 5-byte header is refused, not iterated.
        let e = Cursor::new(&[0xdd, 0xff, 0xff, 0xff, 0xff]).skip_flat().expect_err("count");
        assert!(matches!(e.kind, WireErrorKind::CountTooLarge { .. }));
    }

    proptest::proptest! {
        /// The fast walk and the checked walk agree on every input: same end, or both refuse.
        #[test]
        fn shallow_walk_agrees_with_checked_walk(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            depth in 0usize..6,
        ) {
            let checked = {
                let mut c = Cursor::new(&bytes);
                c.skip_value_checked(depth).map(|_| c.pos()).ok()
            };
            let fastest = skip_fast(&bytes, 0, depth);
            if let Some(end) = fastest {
                proptest::prop_assert_eq!(Some(end), checked);
            }
            let fast = skip_shallow(&bytes, 0, depth);
            if let Some(end) = fast {
                proptest::prop_assert_eq!(Some(end), checked);
            } else {
                let mut c = Cursor::new(&bytes);
                proptest::prop_assert_eq!(c.skip_value(depth).map(|_| c.pos()).ok(), checked);
            }
        }
    }

    #[test]
    fn error_messages_say_expected_and_found() {
        let e = head(&[0xc1]).expect_err("reserved");
        assert_eq!(e.to_string(), "expected a MessagePack value, found reserved byte 0xc1");
        let e = head(&[0xa5, b'a']).expect_err("short");
        assert_eq!(e.to_string(), "expected 5 more bytes, found only 1 before the end of input");
    }
}
