//! Counting records on interleaved lanes: the `count(*)` path, where no value is decoded and
//! the structural walk is all the work.
//!
//! Walking MessagePack is a chain of dependent loads (each value's first byte says where the
//! next one starts), so one walk is bound by memory latency, not by the core's width. Walking
//! several independent parts of the bytes in lockstep, one value of each in turn, lets the
//! core overlap them. [`count_records`] cuts a span into [`LANES`] lanes at guessed record
//! boundaries, walks them together, and checks every guess: each lane must end exactly where
//! the next one starts. Any surprise (a guess that does not hold, a record that is not a map,
//! too large or too deep, damage) gives `None`, and the caller frames the span the ordinary
//! way, which reports each case as it should.

use super::FrameLimits;
use mpq_wire::Cursor;

/// Lanes walked together.
pub const LANES: usize = 4;

/// Bytes a lane should have at least; shorter spans are walked on one lane.
const MIN_LANE_BYTES: usize = 256 << 10;

#[derive(Debug, Clone, Copy, Default)]
struct Lane {
    /// Offset of the next byte to read.
    pos: usize,
    /// Records starting before this offset belong to the lane.
    end: usize,
    /// Values left to skip in the current record (0: between records).
    pending: u64,
    /// Containers opened in the current record (a bound on its nesting).
    containers: u64,
    /// Where the current record started.
    start: usize,
    /// Records completed.
    count: u64,
    done: bool,
}

/// Records of a guessed chain passed over before its boundary is taken.
const SETTLE: usize = 4;

/// A guessed record boundary near `at` (plain-record layout): the start of the
/// [`SETTLE`]+1-th record of the first chain of well-shaped records found there. A chain
/// that starts inside a record (at a nested map, say, that is followed by the record's last
/// map) falls into step with the true records within a record or two, so a boundary a few
/// records on is right almost always; whatever remains wrong, the lane before catches. This
/// is much cheaper than [`crate::framing::split::find_boundary`], which a wrong guess would cost a
/// whole split scan, but here costs only the fallback for one segment.
fn guess(buf: &[u8], at: usize, limits: FrameLimits) -> Option<usize> {
    let start = crate::framing::split::probe_boundary(buf, at, crate::framing::Layout::Records, limits)?;
    let mut cur = Cursor::at(buf, start);
    for _ in 0..SETTLE {
        cur.skip_value(limits.max_depth).ok()?;
    }
    Some(cur.pos())
}

/// Counts the plain-record-layout records that start in `from..to` (`from` a true record
/// start) and returns the count and the offset of the first record at or after `to` (or the
/// end of `buf`); `None` when anything is unusual (see the module docs).
pub fn count_records(buf: &[u8], from: usize, to: usize, limits: FrameLimits) -> Option<(u64, usize)> {
    let to = to.min(buf.len());
    let lanes = if to - from >= LANES * MIN_LANE_BYTES { LANES } else { 1 };
    let mut starts = [from; LANES];
    for (l, s) in starts.iter_mut().enumerate().take(lanes).skip(1) {
        *s = guess(buf, from + (to - from) * l / lanes, limits)?;
    }
    if starts[..lanes].windows(2).any(|w| w[0] >= w[1] || w[1] >= to) {
        return None;
    }
    let mut ls = [Lane::default(); LANES];
    for l in 0..lanes {
        let end = if l + 1 < lanes { starts[l + 1] } else { to };
        ls[l] = Lane { pos: starts[l], end, ..Lane::default() };
    }
    if lanes == LANES {
        walk_four(buf, &mut ls, limits)?;
    }
    let mut active = lanes;
    while active > 0 {
        active = 0;
        for lane in ls[..lanes].iter_mut() {
            if lane.done {
                continue;
            }
            if !step(buf, lane, limits)? {
                lane.done = true;
                continue;
            }
            active += 1;
        }
    }
    // Each lane must have stopped exactly where the next one started.
    for l in 0..lanes - 1 {
        if ls[l].pos != starts[l + 1] {
            return None;
        }
    }
    Some((ls[..lanes].iter().map(|l| l.count).sum(), ls[lanes - 1].pos))
}

/// Steps all four lanes in turn while none has reached its end, with every lane's state in
/// locals (registers), so the four walks overlap in the core; the generic loop finishes (a
/// lane that has just ended is stepped there again, and reports the end again).
#[inline(never)]
fn walk_four(buf: &[u8], ls: &mut [Lane; LANES], limits: FrameLimits) -> Option<()> {
    let [mut a, mut b, mut c, mut d] = *ls;
    // `step` inlines here, so each lane's state stays in registers.
    macro_rules! step {
        ($l:ident) => {
            if !step(buf, &mut $l, limits)? {
                break;
            }
        };
    }
    loop {
        step!(a);
        step!(b);
        step!(c);
        step!(d);
    }
    *ls = [a, b, c, d];
    Some(())
}

/// One value of a lane: `Some(true)` to go on, `Some(false)` when the lane is finished,
/// `None` on anything unusual.
#[inline(always)]
fn step(buf: &[u8], lane: &mut Lane, limits: FrameLimits) -> Option<bool> {
    if lane.pending == 0 {
        if lane.pos >= lane.end || lane.pos >= buf.len() {
            return Some(false);
        }
        // A record that is not a map is a record error: the ordinary path reports it.
        if !mpq_wire::marker::is_map(buf[lane.pos]) {
            return None;
        }
        lane.start = lane.pos;
        lane.pending = 1;
        lane.containers = 0;
    }
    let (pos, children, container) = mpq_wire::skip::step_value(buf, lane.pos)?;
    lane.pos = pos;
    lane.pending = lane.pending - 1 + children;
    lane.containers += container as u64;
    if lane.pending == 0 {
        if lane.pos > buf.len()
            || lane.containers > limits.max_depth as u64
            || lane.pos - lane.start > limits.max_record_bytes
        {
            return None;
        }
        lane.count += 1;
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::{Framer, Layout};
    use crate::generate::{Spec, to_vecs};

    const LIMITS: FrameLimits = FrameLimits { max_depth: 128, max_record_bytes: 64 << 20 };

    #[test]
    fn counts_what_framing_counts() {
        let (buf, _) = to_vecs(&Spec { records: 20_000, seed: 8, events: false, mixed: false, wide: false });
        assert!(buf.len() > LANES * MIN_LANE_BYTES);
        for (from, to) in [(0, buf.len()), (0, buf.len() / 3), (0, 100)] {
            let mut framer = Framer::new(&buf, from, Layout::Records, LIMITS, 0);
            let mut n = 0;
            while framer.pos() < to {
                framer.next().expect("record").expect("frames");
                n += 1;
            }
            assert_eq!(count_records(&buf, from, to, LIMITS), Some((n, framer.pos())), "{from}..{to}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_framing() {
        let (mut buf, _) = to_vecs(&Spec { records: 20_000, seed: 8, events: false, mixed: false, wide: false });
        let tight = FrameLimits { max_depth: 2, ..LIMITS };
        assert_eq!(count_records(&buf, 0, buf.len(), tight), None, "too deep");
        let len = buf.len();
        buf.truncate(len - 3);
        assert_eq!(count_records(&buf, 0, buf.len(), LIMITS), None, "truncated");
        buf[len / 2] = 0xc1;
        assert_eq!(count_records(&buf, 0, len / 4, LIMITS).map(|_| ()), Some(()), "damage outside the span");
    }
}
