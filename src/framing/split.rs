//! Record boundaries at arbitrary byte offsets, so one large file can be scanned by several
//! cores at once (DESIGN.md, "Parallelism").
//!
//! MessagePack has no sync markers: whether a byte starts a record depends on every byte
//! before it. [`find_boundary`] decides where the first record at or after an offset starts
//! without walking the file from its beginning. It starts a chain of records at every
//! plausible byte of a window before the offset (a map header for plain records, `[` of two
//! for events), follows each chain record by record, and keeps the chains in which every
//! record frames cleanly and has the layout's shape. Chains started at true boundaries all
//! meet the offset at the same boundary; a chain started inside a record either breaks or
//! falls into step with the true ones (a nested map that ends its record, for example, is
//! followed by the next true record). The boundary most chains reach wins, if it wins
//! clearly; otherwise the window grows, and past [`MAX_WINDOW`] the file is walked from its
//! start, which is exact.
//!
//! A guess is still a guess, so a split scan verifies it: the range before a split walks on
//! from its own (verified) start past its end and checks that the first record it reaches
//! there is where the next range started (see [`crate::reader::SliceBatches::range`]).

use super::{FrameLimits, Framer, Layout};
use mpq_wire::{Cursor, Head};

/// The first window before an offset in which chains start.
pub const FIRST_WINDOW: usize = 64 << 10;
/// The largest window; past it the file is walked from its start.
pub const MAX_WINDOW: usize = 16 << 20;
/// Chains that must agree on the winning boundary (unless the window reaches the file start,
/// where the chain from offset 0 is the truth).
const MIN_VOTES: usize = 8;

/// Whether a record can start with this byte in `layout` (`None`: any byte can, so no
/// boundary can be found by looking).
fn plausible(layout: Layout) -> Option<fn(u8) -> bool> {
    match layout {
        Layout::Records => Some(mpq_wire::marker::is_map),
        Layout::Events => Some(|b| b == 0x92),
        // Any byte can start a value; a forward entry or a Fluent Bit record holds arrays
        // that look like the events of other layouts.
        // SequenceFiles split at their sync markers ([`seq_boundary`]), not by looking.
        Layout::Values | Layout::FluentBit | Layout::Forward | Layout::SeqFile => None,
    }
}

/// Whether a framed record has the layout's shape beyond its first byte: a map that is empty
/// or whose first key is a string (plain records), or `[time, map]` (events).
fn well_shaped(buf: &[u8], start: usize, layout: Layout) -> bool {
    let mut cur = Cursor::at(buf, start);
    match layout {
        Layout::Records => match cur.read_head() {
            Ok(Head::Map(0)) => true,
            Ok(Head::Map(_)) => matches!(cur.read_str_bytes(), Ok(Some(_))),
            _ => false,
        },
        Layout::Events => super::layout::is_event(&mut cur),
        Layout::Values | Layout::FluentBit | Layout::Forward | Layout::SeqFile => false,
    }
}

/// Where the first record at or after `from` starts in `buf` (`buf.len()` when none does),
/// or `None` when `buf` cannot be split (layouts other than records and events, see
/// [`Layout::splittable`]). Deterministic: every caller asking about the same offset gets the same answer.
pub fn find_boundary(buf: &[u8], from: usize, layout: Layout, limits: FrameLimits) -> Option<usize> {
    if layout == Layout::SeqFile {
        return seq_boundary(buf, from);
    }
    let plausible = plausible(layout)?;
    if from == 0 || from >= buf.len() {
        return Some(from.min(buf.len()));
    }
    let mut window = FIRST_WINDOW;
    loop {
        let lo = from.saturating_sub(window);
        if lo == 0 {
            return Some(walk_from_start(buf, from, layout, limits));
        }
        if let Some(b) = vote(buf, lo, from, layout, limits, plausible) {
            return Some(b);
        }
        if window >= MAX_WINDOW {
            return Some(walk_from_start(buf, from, layout, limits));
        }
        window *= 4;
    }
}

/// A SequenceFile's boundary at or after `from`: its start for offset 0, else the first sync
/// marker escape at or after `from` (records after a sync marker belong to the range the
/// marker starts in, as Hadoop splits them); exact, no guess. `None` when the header cannot be
/// read.
fn seq_boundary(buf: &[u8], from: usize) -> Option<usize> {
    if from == 0 {
        return Some(0);
    }
    let header = super::seqfile::SeqHeader::parse(buf).ok()?;
    Some(header.next_sync(buf, from))
}

/// Where `n` ranges of `buf` start, plus its end: the boundaries [`find_boundary`] finds at
/// `k/n` of the length (so the scans of a split file, the walk baseline and split inference
/// cut alike); `None` when `buf` cannot be split.
pub fn cut_points(buf: &[u8], n: usize, layout: Layout, limits: FrameLimits) -> Option<Vec<usize>> {
    let n = n.max(1);
    let mut cuts = (0..n).map(|k| find_boundary(buf, buf.len() * k / n, layout, limits)).collect::<Option<Vec<_>>>()?;
    cuts.push(buf.len());
    Some(cuts)
}

/// The exact answer: frame from offset 0 to the first record at or after `from` (or the first
/// framing error, after which no boundary is known: `buf.len()`).
fn walk_from_start(buf: &[u8], from: usize, layout: Layout, limits: FrameLimits) -> usize {
    let mut framer = Framer::new(buf, 0, layout, limits, 0);
    while framer.pos() < from {
        match framer.next() {
            Some(Ok(_)) => {}
            _ => return buf.len(),
        }
    }
    framer.pos()
}

/// How far past a probe offset [`probe_boundary`] looks.
const PROBE_WINDOW: usize = 64 * 1024;
/// Consecutive well-shaped records that confirm a probe boundary.
const PROBE_CONFIRM: usize = 8;
/// The bytes those records must fit in.
const PROBE_CONFIRM_BYTES: usize = 1 << 20;

/// A cheap guess at a record boundary at or after `from`, for inference's probes: the first
/// position where [`PROBE_CONFIRM`] well-shaped records in a row (or all up to the end)
/// frame cleanly. It can start at a nested map that ends its record (so probes skip their
/// first record), and it steers inference only, never decoding: scans use
/// [`find_boundary`].
pub fn probe_boundary(buf: &[u8], from: usize, layout: Layout, limits: FrameLimits) -> Option<usize> {
    if layout == Layout::SeqFile {
        return seq_boundary(buf, from).filter(|&b| b < buf.len());
    }
    let plausible = plausible(layout)?;
    let to = (from + PROBE_WINDOW).min(buf.len());
    (from..to).find(|&p| plausible(buf[p]) && confirms(buf, p, layout, limits))
}

fn confirms(buf: &[u8], p: usize, layout: Layout, limits: FrameLimits) -> bool {
    // Confirm inside a window: a false start can meet a bogus count header that still fits
    // the rest of a large file, and walking it would cost a pass over the file.
    let end = (p + PROBE_CONFIRM_BYTES).min(buf.len());
    let window = &buf[..end];
    let mut framer = Framer::new(window, p, layout, limits, 0);
    let mut n = 0;
    for rec in framer.by_ref().take(PROBE_CONFIRM) {
        match rec {
            Ok(rec) if well_shaped(window, rec.start, layout) => n += 1,
            _ => return false,
        }
    }
    n == PROBE_CONFIRM || (n > 0 && framer.pos() == buf.len())
}

/// The end of the record at `x` if it has the layout's shape all through its top level: a map
/// whose keys are all strings (plain records), or `[time, such a map]` (events); `None` as
/// soon as anything does not fit. A false start inside a record usually fails at its first
/// key or two, before walking far. Records whose top-level keys are not strings never vote,
/// so a file of them is split by walking from its start (exact, but slower).
fn shaped_record(buf: &[u8], x: usize, layout: Layout, limits: FrameLimits) -> Option<usize> {
    let mut cur = Cursor::at(buf, x);
    let mut depth = limits.max_depth.checked_sub(1)?;
    if layout == Layout::Events {
        if cur.read_head().ok()? != Head::Array(2) {
            return None;
        }
        let time = cur.read_head().ok()?;
        if !super::layout::is_time_head(time) {
            return None;
        }
        cur.payload_of(time).ok()?;
        depth = depth.checked_sub(1)?;
    }
    let Head::Map(n) = cur.read_head().ok()? else { return None };
    for _ in 0..n {
        cur.read_str_bytes().ok()??;
        cur.skip_value(depth).ok()?;
    }
    (cur.pos() - x <= limits.max_record_bytes).then_some(cur.pos())
}

/// A chain that broke (a record that does not frame or has the wrong shape).
const DEAD: usize = usize::MAX;

/// Chains from every plausible byte in `lo..from`; the boundary at or after `from` that most
/// of them reach, if it has at least [`MIN_VOTES`] and twice as many as any other.
fn vote(buf: &[u8], lo: usize, from: usize, layout: Layout, limits: FrameLimits, ok: fn(u8) -> bool) -> Option<usize> {
    // reach[x - lo]: the first boundary at or after `from` of the chain started at x.
    let mut reach = vec![DEAD; from - lo];
    // Records are framed within a window as far past `from` as before it: a false start can
    // read a count header that would walk the rest of a large file, record after record.
    let buf = &buf[..buf.len().min(from + (from - lo))];
    for x in (lo..from).rev() {
        if !ok(buf[x]) {
            continue;
        }
        let Some(end) = shaped_record(buf, x, layout, limits) else { continue };
        reach[x - lo] = if end >= from { end } else { reach[end - lo] };
    }
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for &r in reach.iter().filter(|&&r| r != DEAD) {
        match counts.iter_mut().find(|(b, _)| *b == r) {
            Some((_, n)) => *n += 1,
            None => counts.push((r, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    match counts.as_slice() {
        [(b, n), rest @ ..] if *n >= MIN_VOTES && rest.first().is_none_or(|(_, m)| *n >= 2 * m) => Some(*b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Spec, to_vecs};

    const LIMITS: FrameLimits = FrameLimits { max_depth: 128, max_record_bytes: 64 << 20 };

    fn starts(buf: &[u8], layout: Layout) -> Vec<usize> {
        Framer::new(buf, 0, layout, LIMITS, 0).map(|r| r.expect("frames").start).collect()
    }

    /// Every offset of a generated file (with nested maps that end their records, bins, and
    /// late keys) finds exactly the first true record start at or after it.
    #[test]
    fn finds_the_true_boundary_at_every_offset() {
        for events in [false, true] {
            let (buf, _) = to_vecs(&Spec { records: 3000, seed: 5, events, mixed: false, wide: false });
            let layout = if events { Layout::Events } else { Layout::Records };
            let truth = starts(&buf, layout);
            let mut next = 0;
            for from in (0..buf.len()).step_by(2903) {
                while next < truth.len() && truth[next] < from {
                    next += 1;
                }
                let want = truth.get(next).copied().unwrap_or(buf.len());
                assert_eq!(find_boundary(&buf, from, layout, LIMITS), Some(want), "events={events} from={from}");
            }
        }
    }

    #[test]
    fn values_cannot_be_split_and_ends_are_ends() {
        assert_eq!(find_boundary(&[1, 2, 3], 1, Layout::Values, LIMITS), None);
        let (buf, _) = to_vecs(&Spec { records: 10, seed: 1, events: false, mixed: false, wide: false });
        assert_eq!(find_boundary(&buf, 0, Layout::Records, LIMITS), Some(0));
        assert_eq!(find_boundary(&buf, buf.len() + 5, Layout::Records, LIMITS), Some(buf.len()));
    }
}
