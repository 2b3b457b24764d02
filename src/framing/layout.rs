//! Record layouts: which layout a byte stream uses, decided from the shape of its first
//! records ([`detect`]), or given and checked ([`check_forced`]).

use super::framer::zero_tail;
use crate::error::hex_excerpt;
use mpq_wire::{Cursor, Head};
use serde_json::json;

/// How records are laid out in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Concatenated MessagePack maps, one per record.
    Records,
    /// Fluentd event stream: concatenated `[time, record]` arrays.
    Events,
    /// Concatenated values that are not maps: one column `value`.
    Values,
    /// Fluent Bit: concatenated `[[time, metadata], record]` arrays.
    FluentBit,
    /// Fluentd forward protocol captures: each top-level value is a Message
    /// `[tag, time, record, opt?]`, a Forward `[tag, [[time, record], ...], opt?]` or a
    /// PackedForward `[tag, event-stream-as-bin-or-str, opt?]` entry (CompressedPackedForward
    /// entries are decompressed before framing, see [`crate::input`]).
    Forward,
    /// A Hadoop SequenceFile whose values are MessagePack records and whose keys are the
    /// `key` column (see [`super::seqfile`]).
    #[serde(rename = "seqfile")]
    SeqFile,
}

/// Every layout, in the order `--layout` lists them.
pub const LAYOUTS: [Layout; 6] =
    [Layout::Records, Layout::Events, Layout::FluentBit, Layout::Forward, Layout::Values, Layout::SeqFile];

impl Layout {
    /// The name used in `mpq schema` and options.
    pub fn name(&self) -> &'static str {
        match self {
            Layout::Records => "records",
            Layout::Events => "events",
            Layout::Values => "values",
            Layout::FluentBit => "fluentbit",
            Layout::Forward => "forward",
            Layout::SeqFile => "seqfile",
        }
    }

    /// Whether records carry an event time (the `time` column).
    pub fn has_time(&self) -> bool {
        matches!(self, Layout::Events | Layout::FluentBit | Layout::Forward)
    }

    /// Whether records carry a tag (the `tag` column).
    pub fn has_tag(&self) -> bool {
        *self == Layout::Forward
    }

    /// Whether records carry Fluent Bit metadata (the `metadata` column).
    pub fn has_metadata(&self) -> bool {
        *self == Layout::FluentBit
    }

    /// Whether one top-level value is one record, so a file can be split into byte ranges
    /// ([`super::split`]).
    pub fn splittable(&self) -> bool {
        matches!(self, Layout::Records | Layout::Events | Layout::SeqFile)
    }

    /// Whether records carry a key (the `key` column of a SequenceFile).
    pub fn has_key(&self) -> bool {
        *self == Layout::SeqFile
    }
}

impl std::str::FromStr for Layout {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        LAYOUTS.into_iter().find(|l| l.name() == s).ok_or_else(|| {
            let names: Vec<&str> = LAYOUTS.iter().map(|l| l.name()).collect();
            format!("unknown layout {s:?}: expected auto or one of {}", names.join(", "))
        })
    }
}

/// The layout detected for one input and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    /// The layout.
    pub layout: Layout,
    /// Why: what the first records looked like.
    pub evidence: String,
}

impl Detection {
    /// The detection as JSON, for `mpq schema --format json`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({"layout": self.layout.name(), "evidence": self.evidence})
    }
}

/// How many leading records detection looks at.
pub const DETECT_RECORDS: usize = 16;

/// Looks at the first records of `buf` and decides the layout: the shape most of the first
/// [`DETECT_RECORDS`] top-level values have.
pub fn detect(buf: &[u8], max_depth: usize) -> Detection {
    if super::seqfile::is_seqfile(buf) {
        let evidence = match super::seqfile::SeqHeader::parse(buf) {
            Ok(h) => h.describe(),
            Err((at, m)) => format!("a Hadoop SequenceFile whose header is damaged at byte {at}: {m}"),
        };
        return Detection { layout: Layout::SeqFile, evidence };
    }
    let tally = Tally::of(buf, max_depth, false);
    let (layout, n) = tally.decide();
    let seen = tally.seen;
    let evidence = match layout {
        _ if seen == 0 && zero_tail(buf, 0, &mut 0) => {
            "the input is all zero bytes (as a preallocated or crashed file leaves); assumed a plain stream of maps"
                .to_string()
        }
        _ if seen == 0 => "no complete record to look at; assumed a plain stream of maps".to_string(),
        Layout::Values => {
            let other = seen - tally.votes[..4].iter().sum::<usize>();
            format!("{other} of the first {seen} records are not maps, events or forward entries")
        }
        Layout::Events => format!("{n} of the first {seen} records are [time, map] arrays"),
        Layout::FluentBit => format!("{n} of the first {seen} records are [[time, metadata], map] arrays (Fluent Bit)"),
        Layout::Forward => format!("{n} of the first {seen} records are forward protocol entries [tag, ...]"),
        _ => format!("{n} of the first {seen} records are maps"),
    };
    Detection { layout, evidence }
}

/// The layout `forced` (from `--layout`), or the one detected.
pub fn detect_or(buf: &[u8], forced: Option<Layout>, max_depth: usize) -> Detection {
    match forced {
        Some(layout) => Detection { layout, evidence: "given by --layout".to_string() },
        None => detect(buf, max_depth),
    }
}

/// The layout [`detect_or`] gives, without its evidence: for a scan, which needs only the
/// layout, detection stops as soon as more than half of the [`DETECT_RECORDS`] records it
/// would look at share a shape (that shape wins whatever the others are), rather than
/// walking all of them (with thousands of small files, the scan's detection was about a
/// twentieth of the time).
pub fn layout_or(buf: &[u8], forced: Option<Layout>, max_depth: usize) -> Layout {
    match forced {
        Some(layout) => layout,
        None if super::seqfile::is_seqfile(buf) => Layout::SeqFile,
        None => Tally::of(buf, max_depth, true).decide().0,
    }
}

/// The shapes of the first records.
struct Tally {
    /// Records of each [`Shape`].
    votes: [usize; 5],
    /// Records looked at.
    seen: usize,
}

impl Tally {
    /// Classifies up to [`DETECT_RECORDS`] records from the start of `buf`, stopping at the
    /// first that cannot be skipped or at a zero-filled tail; with `until_decided`, also as
    /// soon as a shape has more than half of [`DETECT_RECORDS`].
    fn of(buf: &[u8], max_depth: usize, until_decided: bool) -> Tally {
        let mut cur = Cursor::new(buf);
        let mut tally = Tally { votes: [0; 5], seen: 0 };
        let mut nonzero_at = 0;
        while tally.seen < DETECT_RECORDS && !cur.is_empty() {
            let start = cur.pos();
            // A zero-filled tail is not records (nor is an input of nothing else).
            if zero_tail(buf, start, &mut nonzero_at) {
                break;
            }
            let shape = classify(&mut cur);
            cur = Cursor::at(buf, start);
            if cur.skip_value(max_depth).is_err() {
                break;
            }
            tally.votes[shape as usize] += 1;
            tally.seen += 1;
            if until_decided && !matches!(shape, Shape::Other) && tally.votes[shape as usize] * 2 > DETECT_RECORDS {
                break;
            }
        }
        tally
    }

    /// The layout the shapes seen give (a plain stream of maps when none was seen), with the
    /// records of the winning shape.
    fn decide(&self) -> (Layout, usize) {
        if self.seen == 0 {
            return (Layout::Records, 0);
        }
        let (best, n) = self
            .votes
            .iter()
            .enumerate()
            .take(4)
            .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
            .map(|(i, n)| (i, *n))
            .unwrap_or((0, 0));
        let layout = match best {
            _ if n * 2 <= self.seen => Layout::Values,
            0 => Layout::Records,
            1 => Layout::Events,
            2 => Layout::FluentBit,
            _ => Layout::Forward,
        };
        (layout, n)
    }
}

/// The shape of one top-level value; the discriminant indexes the votes of [`detect`].
#[derive(Clone, Copy)]
enum Shape {
    Map = 0,
    Event = 1,
    FluentBit = 2,
    Forward = 3,
    Other = 4,
}

/// Forcing `layout` on `buf`: an error when the first record does not have that layout's
/// shape, so a wrong `--layout` fails clearly instead of giving rows of NULLs.
pub fn check_forced(buf: &[u8], layout: Layout, max_depth: usize) -> Result<(), String> {
    // A first record that is not complete (or not well formed) is the framer's to report,
    // with its offsets, under the framing policy.
    if layout == Layout::SeqFile {
        return match super::seqfile::SeqHeader::parse(buf) {
            Ok(_) => Ok(()),
            Err((at, m)) => Err(format!(
                "the seqfile layout given by --layout needs a SequenceFile header; at byte {at}: {m} [{}]",
                hex_excerpt(buf, at)
            )),
        };
    }
    if buf.is_empty() || layout == Layout::Values || Cursor::new(buf).skip_value(max_depth).is_err() {
        return Ok(());
    }
    let want = match layout {
        Layout::Records => Shape::Map,
        Layout::Events => Shape::Event,
        Layout::FluentBit => Shape::FluentBit,
        _ => Shape::Forward,
    };
    let found = classify(&mut Cursor::new(buf));
    if found as usize == want as usize {
        return Ok(());
    }
    let detected = detect(buf, max_depth);
    Err(format!(
        "the first record at byte 0 does not fit the {} layout given by --layout ({}); detection says {}: {} [{}]",
        layout.name(),
        shape_wanted(layout),
        detected.layout.name(),
        detected.evidence,
        hex_excerpt(buf, 0)
    ))
}

/// What a record of `layout` looks like, for messages.
fn shape_wanted(layout: Layout) -> &'static str {
    match layout {
        Layout::Records => "a map",
        Layout::Events => "a [time, map] array",
        Layout::FluentBit => "a [[time, metadata], map] array",
        Layout::Forward => "a [tag, time, map], [tag, [events]] or [tag, packed events] array",
        Layout::Values => "any value",
        Layout::SeqFile => "a SequenceFile record",
    }
}

/// Whether a header can be an event time (integer or float seconds, EventTime, timestamp).
pub(crate) fn is_time_head(t: Head) -> bool {
    matches!(t, Head::Int(_) | Head::UInt(_) | Head::F32(_) | Head::F64(_) | Head::Ext(0 | -1, _))
}

fn classify(cur: &mut Cursor<'_>) -> Shape {
    classify_head(cur).unwrap_or(Shape::Other)
}

/// Whether the value at the cursor is a `[time, map]` event (the cursor moves past it or
/// stops inside).
pub(crate) fn is_event(cur: &mut Cursor<'_>) -> bool {
    if cur.read_head().ok() != Some(Head::Array(2)) {
        return false;
    }
    time_then_map(cur)
}

/// Whether a time value follows at the cursor, then a map header.
fn time_then_map(cur: &mut Cursor<'_>) -> bool {
    let Ok(t) = cur.read_head() else { return false };
    if !is_time_head(t) || cur.skip_rest(t, 0).is_err() {
        return false;
    }
    matches!(cur.read_head(), Ok(Head::Map(_)))
}

fn classify_head(cur: &mut Cursor<'_>) -> Option<Shape> {
    Some(match cur.read_head().ok()? {
        Head::Map(_) => Shape::Map,
        Head::Array(2) => match cur.peek()? {
            // [[time, metadata], record]
            0x92 => {
                cur.read_head().ok()?;
                let t = cur.read_head().ok()?;
                cur.skip_rest(t, 0).ok()?;
                let meta = cur.read_head().ok()?;
                cur.skip_rest(meta, 64).ok()?;
                let body = cur.read_head().ok()?;
                if is_time_head(t) && matches!(meta, Head::Map(_)) && matches!(body, Head::Map(_)) {
                    Shape::FluentBit
                } else {
                    Shape::Other
                }
            }
            b if mpq_wire::marker::is_str(b) => return Some(forward_entry(cur, 2)),
            _ => {
                if time_then_map(cur) {
                    Shape::Event
                } else {
                    Shape::Other
                }
            }
        },
        Head::Array(n @ 3..=4) => forward_entry(cur, n),
        _ => Shape::Other,
    })
}

/// Classifies an array of `n` elements whose first element is at the cursor as a forward
/// protocol entry: a str tag, then a time and a map (Message), an array of events
/// (Forward) or a bin/str event stream (PackedForward).
fn forward_entry(cur: &mut Cursor<'_>, n: u32) -> Shape {
    let Ok(Some(_tag)) = cur.read_str_bytes() else { return Shape::Other };
    let at = cur.pos();
    let ok = match cur.read_head() {
        Ok(Head::Array(0)) => n <= 3,
        Ok(Head::Array(_)) => n <= 3 && is_event(cur),
        Ok(Head::Bin(len) | Head::Str(len)) => {
            n <= 3 && {
                let payload = cur.payload_of(Head::Bin(len)).unwrap_or_default();
                // An empty stream, a compressed one (the option says so), or an event.
                payload.is_empty() || mpq_wire::marker::is_compressed(payload) || is_event(&mut Cursor::new(payload))
            }
        }
        Ok(_) => n >= 3 && time_then_map(&mut Cursor::at(cur.buf(), at)),
        Err(_) => false,
    };
    if ok { Shape::Forward } else { Shape::Other }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_records_events_values() {
        assert_eq!(detect(&[0x81, 0xa1, b'a', 0x01, 0x80], 128).layout, Layout::Records);
        let ev = [0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x81, 0xa1, b'a', 0x01];
        let d = detect(&ev, 128);
        assert_eq!(d.layout, Layout::Events);
        assert_eq!(d.evidence, "1 of the first 1 records are [time, map] arrays");
        assert_eq!(detect(&[0x01, 0x02, 0xa1, b'x'], 128).layout, Layout::Values);
        assert_eq!(detect(&[], 128).layout, Layout::Records);
    }

    proptest::proptest! {
        /// The layout a scan finds (stopping once a shape has a majority) is the one detection
        /// decides over all its records, for any run of records of mixed shapes, with a cut or
        /// zero-filled tail, at any depth limit.
        #[test]
        fn stopping_at_a_majority_decides_the_same(
            picks in proptest::collection::vec(0usize..8, 0..24),
            depth in proptest::sample::select(vec![1usize, 2, 3, 128]),
        ) {
            let event: &[u8] = &[0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x81, 0xa1, b'a', 0x01];
            let palette: [Vec<u8>; 8] = [
                vec![0x81, 0xa1, b'a', 0x01],
                event.to_vec(),
                [&[0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x80][..], &[0x81, 0xa1, b'a', 0x01]].concat(),
                [&[0x92, 0xa1, b't', 0x91][..], event].concat(),
                vec![0x01],
                vec![0xa1, b'x'],
                vec![0, 0, 0, 0],
                vec![0x82, 0xa1],
            ];
            let buf: Vec<u8> = picks.iter().flat_map(|&i| palette[i].clone()).collect();
            proptest::prop_assert_eq!(layout_or(&buf, None, depth), detect(&buf, depth).layout);
            proptest::prop_assert_eq!(layout_or(&buf, Some(Layout::Values), depth), Layout::Values);
        }
    }
}
