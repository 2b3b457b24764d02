//! Record layouts and framing: which layout a byte stream uses, and where each record starts
//! and ends. Framing walks each top-level value once (a bounded skip-parse), so every record
//! handed to inference or decoding is known to be complete and within the nesting limit.

use crate::error::{Error, hex_excerpt};
use mpq_wire::{Cursor, Head, WireError, WireErrorKind};
use serde_json::json;

/// How records are laid out in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Concatenated MessagePack maps, one per record.
    Records,
    /// Fluentd event stream: concatenated `[time, record]` arrays.
    Events,
    /// Concatenated values that are not maps: one column `value`.
    Values,
}

impl Layout {
    /// The name used in `mpq schema` and options.
    pub fn name(&self) -> &'static str {
        match self {
            Layout::Records => "records",
            Layout::Events => "events",
            Layout::Values => "values",
        }
    }
}

/// The layout detected for one input and the evidence for it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Looks at the first records of `buf` and decides the layout.
pub fn detect(buf: &[u8], max_depth: usize) -> Detection {
    let mut cur = Cursor::new(buf);
    let (mut maps, mut events, mut seen) = (0usize, 0usize, 0usize);
    while seen < DETECT_RECORDS && !cur.is_empty() {
        let start = cur.pos();
        match classify(&mut cur) {
            Some(Shape::Map) => maps += 1,
            Some(Shape::Event) => events += 1,
            Some(Shape::Other) => {}
            None => break,
        }
        cur = Cursor::at(buf, start);
        if cur.skip_value(max_depth).is_err() {
            break;
        }
        seen += 1;
    }
    let (layout, evidence) = if seen == 0 {
        (Layout::Records, "no complete record to look at; assumed a plain stream of maps".to_string())
    } else if events > 0 && events >= maps && events * 2 > seen {
        (Layout::Events, format!("{events} of the first {seen} records are [time, map] arrays"))
    } else if maps * 2 > seen || (maps > 0 && events == 0 && maps == seen) {
        (Layout::Records, format!("{maps} of the first {seen} records are maps"))
    } else {
        (
            Layout::Values,
            format!("{} of the first {seen} records are neither maps nor [time, map] arrays", seen - maps - events),
        )
    };
    Detection { layout, evidence }
}

enum Shape {
    Map,
    Event,
    Other,
}

/// Whether a header can be an event time (integer or float seconds, EventTime, timestamp).
pub(crate) fn is_time_head(t: Head) -> bool {
    matches!(t, Head::Int(_) | Head::UInt(_) | Head::F32(_) | Head::F64(_) | Head::Ext(0 | -1, _))
}

fn classify(cur: &mut Cursor<'_>) -> Option<Shape> {
    match cur.read_head().ok()? {
        Head::Map(_) => Some(Shape::Map),
        Head::Array(2) => {
            let t = cur.read_head().ok()?;
            cur.skip_rest(t, 0).ok()?;
            let is_time = is_time_head(t);
            let body = cur.read_head().ok()?;
            Some(if is_time && matches!(body, Head::Map(_)) { Shape::Event } else { Shape::Other })
        }
        _ => Some(Shape::Other),
    }
}

/// Whether the value at the cursor is an event, `[time, map]`.
pub(crate) fn is_event(cur: &mut Cursor<'_>) -> bool {
    matches!(classify(cur), Some(Shape::Event))
}

/// One framed record: byte offsets into the framed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// First byte of the top-level value.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// First byte of the record body (the map; for events, the second array element).
    pub body: usize,
    /// For events, the first byte of the time value.
    pub time: Option<usize>,
}

/// What the framer found wrong; turned into [`Error::Framing`] with the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// Record number, from 0.
    pub record: u64,
    /// Offset where the record starts.
    pub record_offset: usize,
    /// Offset of the failing byte.
    pub offset: usize,
    /// What was expected and what was found.
    pub message: String,
    /// The input ended inside the record (more bytes of a stream could complete it).
    pub truncated: bool,
}

impl FrameError {
    /// Attaches the file name and a hex excerpt.
    pub fn into_error(self, path: &str, buf: &[u8]) -> Error {
        Error::Framing {
            path: path.to_string(),
            record: self.record,
            record_offset: self.record_offset as u64,
            offset: self.offset as u64,
            hex: hex_excerpt(buf, self.offset),
            message: self.message,
        }
    }
}

/// Limits that bound framing.
#[derive(Debug, Clone, Copy)]
pub struct FrameLimits {
    /// Deepest nesting allowed (capped at [`mpq_wire::MAX_DEPTH_LIMIT`]).
    pub max_depth: usize,
    /// Largest record in bytes.
    pub max_record_bytes: usize,
}

/// Walks a buffer record by record.
#[derive(Debug, Clone)]
pub struct Framer<'a> {
    buf: &'a [u8],
    pos: usize,
    layout: Layout,
    limits: FrameLimits,
    /// Number of records framed so far.
    pub records: u64,
    failed: bool,
}

impl<'a> Framer<'a> {
    /// A framer over `buf` starting at offset `pos`, numbering records from `first_record`.
    pub fn new(buf: &'a [u8], pos: usize, layout: Layout, limits: FrameLimits, first_record: u64) -> Self {
        Framer { buf, pos, layout, limits, records: first_record, failed: false }
    }

    /// The offset of the next record.
    pub fn pos(&self) -> usize {
        self.pos
    }

    fn wire_error(&self, start: usize, e: WireError) -> FrameError {
        let truncated = matches!(e.kind, WireErrorKind::Truncated { .. } | WireErrorKind::CountTooLarge { .. });
        let message = match e.kind {
            WireErrorKind::TooDeep { .. } => {
                format!("expected nesting of at most {} levels, found deeper nesting", self.limits.max_depth)
            }
            _ => e.to_string(),
        };
        FrameError { record: self.records, record_offset: start, offset: e.offset, message, truncated }
    }

    fn frame_one(&self, start: usize) -> Result<Record, FrameError> {
        let mut cur = Cursor::at(self.buf, start);
        let depth = self.limits.max_depth;
        let rec = match self.layout {
            Layout::Records | Layout::Values => {
                cur.skip_value(depth).map_err(|e| self.wire_error(start, e))?;
                Record { start, end: cur.pos(), body: start, time: None }
            }
            Layout::Events => {
                let head = cur.read_head().map_err(|e| self.wire_error(start, e))?;
                if head != Head::Array(2) {
                    return Err(FrameError {
                        record: self.records,
                        record_offset: start,
                        offset: start,
                        message: format!("expected a [time, record] array (events layout), found {}", describe(head)),
                        truncated: false,
                    });
                }
                let time = cur.pos();
                cur.skip_value(depth).map_err(|e| self.wire_error(start, e))?;
                let body = cur.pos();
                cur.skip_value(depth.saturating_sub(1)).map_err(|e| self.wire_error(start, e))?;
                Record { start, end: cur.pos(), body, time: Some(time) }
            }
        };
        if rec.end - rec.start > self.limits.max_record_bytes {
            return Err(FrameError {
                record: self.records,
                record_offset: start,
                offset: start,
                message: format!(
                    "expected a record of at most {} bytes, found one of {} bytes",
                    self.limits.max_record_bytes,
                    rec.end - rec.start
                ),
                truncated: false,
            });
        }
        Ok(rec)
    }
}

/// A short description of a header for messages.
pub fn describe(head: Head) -> String {
    match head {
        Head::Array(n) => format!("an array of {n} elements"),
        Head::Map(n) => format!("a map of {n} pairs"),
        Head::Str(n) => format!("a str of {n} bytes"),
        Head::Bin(n) => format!("a bin of {n} bytes"),
        Head::Ext(t, n) => format!("an ext of type {t} with {n} bytes"),
        other => format!("a {}", other.family()),
    }
}

impl Iterator for Framer<'_> {
    type Item = Result<Record, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        match self.frame_one(self.pos) {
            Ok(rec) => {
                self.pos = rec.end;
                // Saturating: a split scan's later ranges count from UNKNOWN_RECORD.
                self.records = self.records.saturating_add(1);
                Some(Ok(rec))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: FrameLimits = FrameLimits { max_depth: 128, max_record_bytes: 1 << 20 };

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

    #[test]
    fn frames_events() {
        let ev = [0x92, 0x01, 0x80, 0x92, 0x02, 0x80];
        let recs: Vec<_> = Framer::new(&ev, 0, Layout::Events, LIMITS, 0).collect::<Result<_, _>>().expect("ok");
        assert_eq!(recs[1], Record { start: 3, end: 6, body: 5, time: Some(4) });
    }

    #[test]
    fn truncated_tail_is_a_framing_error_at_the_right_offset() {
        let buf = [0x81, 0xa1, b'a', 0x01, 0x81, 0xa1, b'b'];
        let mut f = Framer::new(&buf, 0, Layout::Records, LIMITS, 0);
        assert!(f.next().expect("one").is_ok());
        let e = f.next().expect("two").expect_err("truncated");
        assert_eq!((e.record, e.record_offset, e.offset), (1, 4, 7));
        assert_eq!(e.message, "expected 1 more bytes, found only 0 before the end of input");
        assert!(f.next().is_none());
        let err = e.into_error("x.msgpack", &buf);
        assert_eq!(
            err.to_string(),
            "x.msgpack: record 1 at byte 4: framing error at byte 7: expected 1 more bytes, found only 0 before the end of input [81 a1 61 01 81 a1 62 <end of input>]"
        );
    }

    #[test]
    fn depth_limit() {
        let mut buf = vec![0x91u8; 200];
        buf.push(0xc0);
        let e = Framer::new(&buf, 0, Layout::Records, LIMITS, 0).next().expect("one").expect_err("deep");
        assert_eq!(e.message, "expected nesting of at most 128 levels, found deeper nesting");
    }
}
