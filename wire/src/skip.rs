//! The skips: stepping over whole values without reading them, as fast as the bytes allow.
//! Table-driven walks by first byte ([`skip_at`] with a count instead of a stack,
//! [`skip_fast`] and [`skip_shallow`] for the common shapes), and sizes that the first byte
//! alone tells. [`crate::Cursor::skip_value`] tries them in turn before its checked walk,
//! which says exactly what is wrong where they only give up.

use crate::cursor::{Cursor, Head, WireError, WireErrorKind, WireResult};

/// How [`skip_at`] treats each first byte: a whole value of that many bytes (1..=18), or one
/// of the classes below.
const FIXSTR: u8 = 0x80;
const FIXMAP: u8 = 0x81;
const FIXARRAY: u8 = 0x82;
const GENERAL: u8 = 0xff;

const fn skip_class(b: u8) -> u8 {
    match b {
        0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => 1,
        0x80..=0x8f => FIXMAP,
        0x90..=0x9f => FIXARRAY,
        0xa0..=0xbf => FIXSTR,
        0xcc | 0xd0 => 2,
        0xcd | 0xd1 => 3,
        0xca | 0xce | 0xd2 => 5,
        0xcb | 0xcf | 0xd3 => 9,
        0xd4 => 3,
        0xd5 => 4,
        0xd6 => 6,
        0xd7 => 10,
        0xd8 => 18,
        _ => GENERAL,
    }
}

static SKIP_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = skip_class(i as u8);
        i += 1;
    }
    t
};

/// The whole size of a value from its first byte, for the formats whose size that byte tells
/// (fixint, nil, bools, fixed-width numbers, fixext, fixstr); `None` for the rest.
#[inline]
pub fn size_from_first_byte(b: u8) -> Option<usize> {
    match SKIP_CLASS[b as usize] {
        FIXSTR => Some(1 + (b & 0x1f) as usize),
        FIXMAP | FIXARRAY | GENERAL => None,
        size => Some(size as usize),
    }
}

/// Skips the value at `pos` in `buf` and returns the offset after it, without recursion (a
/// count of values still to skip, not a stack). Fixed-size formats, fixstr, fixmap and
/// fixarray are sized from a table of their first byte; the rest goes through
/// [`Cursor::read_head`], which checks lengths and counts against the remaining bytes. A value
/// cut short is a `Truncated` error at the offset where the input ran out.
#[inline]
pub fn skip_at(buf: &[u8], mut pos: usize) -> WireResult<usize> {
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let Some(&b) = buf.get(pos) else {
            return Err(WireError {
                offset: buf.len(),
                kind: WireErrorKind::Truncated { needed: (pos + 1 - buf.len()) as u64, available: 0 },
            });
        };
        match SKIP_CLASS[b as usize] {
            FIXSTR => pos += 1 + (b & 0x1f) as usize,
            FIXMAP => {
                pos += 1;
                pending += 2 * (b & 0x0f) as u64;
            }
            FIXARRAY => {
                pos += 1;
                pending += (b & 0x0f) as u64;
            }
            GENERAL => {
                let mut c = Cursor::at(buf, pos);
                match c.read_head()? {
                    // `read_head` checked the payload is present.
                    Head::Str(n) | Head::Bin(n) | Head::Ext(_, n) => pos = c.pos() + n as usize,
                    Head::Array(n) => {
                        pos = c.pos();
                        pending += n as u64;
                    }
                    Head::Map(n) => {
                        pos = c.pos();
                        pending += 2 * n as u64;
                    }
                    _ => pos = c.pos(),
                }
            }
            size => pos += size as usize,
        }
    }
    // Fixed sizes and fixstr lengths are added unchecked (only first bytes are ever read
    // through `get`), so the end is checked once here.
    if pos > buf.len() {
        return Err(WireError {
            offset: buf.len(),
            kind: WireErrorKind::Truncated { needed: (pos - buf.len()) as u64, available: 0 },
        });
    }
    Ok(pos)
}

/// How [`skip_fast`] steps over a value by its first byte: bytes to advance (0: read the
/// header), values it contains, and whether it is a container.
#[derive(Clone, Copy)]
struct Step {
    advance: u8,
    children: u8,
    container: u8,
}

static STEPS: [Step; 256] = {
    let mut t = [Step { advance: 0, children: 0, container: 0 }; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match SKIP_CLASS[i] {
            FIXSTR => Step { advance: 1 + (b & 0x1f), children: 0, container: 0 },
            FIXMAP => Step { advance: 1, children: 2 * (b & 0x0f), container: 1 },
            FIXARRAY => Step { advance: 1, children: b & 0x0f, container: 1 },
            GENERAL => Step { advance: 0, children: 0, container: 0 },
            size => Step { advance: size, children: 0, container: 0 },
        };
        i += 1;
    }
    t
};

/// Reads a big-endian length of `N` bytes at `at`.
#[inline]
fn be_len<const N: usize>(buf: &[u8], at: usize) -> Option<u64> {
    let s = buf.get(at..at + N)?;
    Some(s.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
}

/// Skips the value at `pos` if it is complete and holds at most `depth_left` containers in
/// all (so it cannot nest deeper), and returns the offset after it; `None` otherwise. The
/// fastest walk: a count of values still to skip and a table of first bytes, with no branch
/// on the value's family except for the formats whose size is in a length header.
#[inline]
pub fn skip_fast(buf: &[u8], mut pos: usize, depth_left: usize) -> Option<usize> {
    let mut pending: u64 = 1;
    let mut containers: u64 = 0;
    while pending > 0 {
        let (next, children, container) = step_value(buf, pos)?;
        pos = next;
        pending = pending - 1 + children;
        containers += container as u64;
    }
    (pos <= buf.len() && containers <= depth_left as u64).then_some(pos)
}

/// One step of a walk over the header of the value at `pos`: the offset after the header
/// (after the whole value for scalars, strings, bins and exts), the number of values the
/// value contains (elements, or keys and values), and whether it is a container. Lengths
/// are added unchecked, so the offset can pass the end of `buf`: a walk checks its end once.
/// `None` at the end of `buf`, for a header cut short, or for 0xc1. Counts need no check: a
/// walk that follows them consumes at least a byte per value and stops at the end.
#[inline(always)]
pub fn step_value(buf: &[u8], pos: usize) -> Option<(usize, u64, bool)> {
    let b = *buf.get(pos)?;
    let step = STEPS[b as usize];
    if step.advance != 0 {
        return Some((pos + step.advance as usize, step.children as u64, step.container != 0));
    }
    let scalar = |size: u64| Some((pos + size as usize, 0, false));
    match b {
        0xc4 | 0xd9 => scalar(2 + be_len::<1>(buf, pos + 1)?),
        0xc5 | 0xda => scalar(3 + be_len::<2>(buf, pos + 1)?),
        0xc6 | 0xdb => scalar(5 + be_len::<4>(buf, pos + 1)?),
        0xc7 => scalar(3 + be_len::<1>(buf, pos + 1)?),
        0xc8 => scalar(4 + be_len::<2>(buf, pos + 1)?),
        0xc9 => scalar(6 + be_len::<4>(buf, pos + 1)?),
        0xdc..=0xdf => {
            let (n, header) =
                if b & 1 == 0 { (be_len::<2>(buf, pos + 1)?, 3) } else { (be_len::<4>(buf, pos + 1)?, 5) };
            Some((pos + header, if b >= 0xde { 2 * n } else { n }, true))
        }
        // 0xc1, reserved.
        _ => None,
    }
}

/// The deepest nesting [`skip_shallow`] tracks itself; deeper values take the recursive walk.
pub const SHALLOW_DEPTH: usize = 32;

/// Skips the value at `pos` if it is complete and nested at most `depth_left` (and at most
/// [`SHALLOW_DEPTH`]) containers deep, and returns the offset after it; `None` otherwise, with
/// no reason given (see [`Cursor::skip_value`]). It walks with a table of first bytes and a
/// small stack of counts, one entry per open container, so it neither recurses nor re-reads
/// a byte. Every step consumes at least one byte, so no count header can make it loop longer
/// than the input is long.
#[inline]
pub fn skip_shallow(buf: &[u8], mut pos: usize, depth_left: usize) -> Option<usize> {
    let limit = depth_left.min(SHALLOW_DEPTH);
    let mut stack = [0u64; SHALLOW_DEPTH];
    let mut depth = 0usize;
    // Values still to skip in the innermost open container (or at the top).
    let mut left: u64 = 1;
    loop {
        let b = *buf.get(pos)?;
        left -= 1;
        let opened: u64 = match SKIP_CLASS[b as usize] {
            FIXSTR => {
                pos += 1 + (b & 0x1f) as usize;
                u64::MAX
            }
            FIXMAP => {
                pos += 1;
                2 * (b & 0x0f) as u64
            }
            FIXARRAY => {
                pos += 1;
                (b & 0x0f) as u64
            }
            GENERAL => {
                let mut c = Cursor::at(buf, pos);
                let head = c.read_head().ok()?;
                pos = c.pos();
                match head {
                    Head::Str(n) | Head::Bin(n) | Head::Ext(_, n) => {
                        pos += n as usize;
                        u64::MAX
                    }
                    Head::Array(n) => n as u64,
                    Head::Map(n) => 2 * n as u64,
                    _ => u64::MAX,
                }
            }
            size => {
                pos += size as usize;
                u64::MAX
            }
        };
        if opened != u64::MAX {
            // A container, empty or not, needs a level of nesting (as in the recursive walk).
            if depth >= limit {
                return None;
            }
            if opened > 0 {
                stack[depth] = left;
                depth += 1;
                left = opened;
                continue;
            }
        }
        while left == 0 {
            if depth == 0 {
                // Sizes from first bytes were added unchecked: check the end once.
                return (pos <= buf.len()).then_some(pos);
            }
            depth -= 1;
            left = stack[depth];
        }
    }
}
