//! The framer: where each record starts and ends. Framing walks each top-level value once (a
//! bounded skip-parse), so every record handed to inference or decoding is known to be
//! complete and within the nesting limit; what is wrong is a [`FrameError`] at exact offsets.

use super::layout::{Layout, is_time_head};
use super::seqfile::SeqFraming;
use crate::error::{Error, hex_excerpt};
use crate::problem::{Kind, Problem};
use mpq_wire::{Cursor, Head, WireError, WireErrorKind};

/// One framed record: byte offsets into the framed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Record {
    /// First byte of the record's value: the top-level value, or for events inside a
    /// forward entry, the `[time, record]` array.
    pub start: usize,
    /// One past the last byte of the record body.
    pub end: usize,
    /// First byte of the record body (the map; for events, the second array element).
    pub body: usize,
    /// For event layouts, the first byte of the time value.
    pub time: Option<usize>,
    /// For the forward layout, the first byte of the tag (a str).
    pub tag: Option<usize>,
    /// For Fluent Bit, the first byte of the metadata value.
    pub meta: Option<usize>,
    /// For SequenceFiles, the key's bytes (its serialization's length header stripped).
    pub key: Option<(usize, usize)>,
}

/// Where the framer is inside a forward entry whose events it is handing out one by one.
/// Plain data, so a scan can stop between batches and resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// First byte of the entry (the top-level array).
    pub start: usize,
    /// One past its last byte: where the next top-level value starts.
    pub end: usize,
    /// The tag's first byte.
    pub tag: usize,
    /// The next event.
    pub pos: usize,
    /// One past the last byte of the entry's events.
    pub events_end: usize,
}

impl Entry {
    /// The same entry with every offset `by` bytes lower (the stream dropped bytes before it).
    pub fn shifted_down(self, by: usize) -> Entry {
        Entry {
            start: self.start - by,
            end: self.end - by,
            tag: self.tag - by,
            pos: self.pos - by,
            events_end: self.events_end - by,
        }
    }
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
    /// What kind of problem.
    pub kind: Kind,
    /// The input ended inside the record (more bytes of a stream could complete it).
    pub truncated: bool,
}

impl FrameError {
    /// The error a wire read met inside record `record` (starting at `record_offset`).
    pub fn wire(record: u64, record_offset: usize, e: WireError) -> FrameError {
        let (kind, truncated) = match e.kind {
            WireErrorKind::Truncated { .. } => (Kind::Truncated, true),
            WireErrorKind::CountTooLarge { .. } => (Kind::LengthPastEnd, true),
            WireErrorKind::Reserved => (Kind::ReservedByte, false),
            WireErrorKind::TooDeep { .. } => (Kind::TooDeep, false),
        };
        FrameError { record, record_offset, offset: e.offset, message: e.to_string(), kind, truncated }
    }

    /// The problem, with the file name and a hex excerpt of `buf` (the bytes the offsets
    /// point into; an empty `buf` gives no excerpt).
    pub fn problem(self, path: &str, buf: &[u8]) -> Problem {
        Problem {
            path: path.to_string(),
            record: self.record,
            record_offset: self.record_offset as u64,
            offset: self.offset as u64,
            kind: self.kind,
            hex: hex_excerpt(buf, self.offset),
            message: self.message,
        }
    }

    /// Attaches the file name and a hex excerpt.
    pub fn into_error(self, path: &str, buf: &[u8]) -> Error {
        self.problem(path, buf).error()
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
    /// The forward entry being read, if any.
    entry: Option<Entry>,
    /// A non-zero byte is known to be here (see [`zero_tail`]).
    nonzero_at: usize,
    /// A SequenceFile's header, read from the start of the buffer (or what is wrong with it).
    seq: Option<Result<SeqFraming, (usize, String)>>,
}

impl<'a> Framer<'a> {
    /// A framer over `buf` starting at offset `pos`, numbering records from `first_record`.
    /// A SequenceFile's framer starts at its first record when `pos` is inside the header.
    pub fn new(buf: &'a [u8], pos: usize, layout: Layout, limits: FrameLimits, first_record: u64) -> Self {
        let seq = (layout == Layout::SeqFile).then(|| SeqFraming::of(buf));
        let pos = match &seq {
            Some(Ok(s)) => pos.max(s.data_start),
            _ => pos,
        };
        Framer { buf, pos, layout, limits, records: first_record, failed: false, entry: None, nonzero_at: 0, seq }
    }

    /// Resumes inside a forward entry (from [`Framer::entry`] of an earlier framer).
    pub fn resume(mut self, entry: Option<Entry>) -> Self {
        if let Some(e) = entry {
            self.pos = e.end;
        }
        self.entry = entry;
        self
    }

    /// The forward entry whose events are being read, if the framer stopped inside one.
    pub fn entry(&self) -> Option<Entry> {
        self.entry
    }

    /// The offset of the next record (inside a forward entry, of its next event).
    pub fn pos(&self) -> usize {
        self.entry.map_or(self.pos, |e| e.pos)
    }

    fn wire_error(&self, start: usize, e: WireError) -> FrameError {
        let mut err = FrameError::wire(self.records, start, e);
        if err.kind == Kind::TooDeep {
            err.message = format!("expected nesting of at most {} levels, found deeper nesting", self.limits.max_depth);
        }
        err
    }

    fn error(&self, start: usize, offset: usize, kind: Kind, message: String) -> FrameError {
        FrameError { record: self.records, record_offset: start, offset, message, kind, truncated: false }
    }

    /// Frames the top-level value at `start`: a record, or (forward layout) an entry whose
    /// events follow. Returns the record, if any, and where the next top-level value starts.
    fn frame_one(&mut self, start: usize) -> Result<(Option<Record>, usize), FrameError> {
        // In a layout of maps or arrays a zero byte is never a record; when the rest of the
        // input is zero bytes, it is the tail a preallocated or crashed file leaves.
        if self.layout != Layout::Values && zero_tail(self.buf, start, &mut self.nonzero_at) {
            let msg = format!(
                "expected a record, found a zero-filled tail of {} bytes (as a preallocated or crashed file leaves)",
                self.buf.len() - start
            );
            return Err(self.error(start, start, Kind::ZeroTail, msg));
        }
        let mut cur = Cursor::at(self.buf, start);
        let depth = self.limits.max_depth;
        let wire = |e| self.wire_error(start, e);
        let (rec, next) = match self.layout {
            Layout::Records | Layout::Values => {
                cur.skip_value(depth).map_err(wire)?;
                (Some(Record { start, end: cur.pos(), body: start, ..Record::default() }), cur.pos())
            }
            Layout::Events => {
                let rec = self.frame_event(self.buf, start)?;
                (Some(rec), rec.end)
            }
            Layout::FluentBit => {
                let head = cur.read_head().map_err(wire)?;
                let header = if head == Head::Array(2) { cur.read_head().map_err(wire)? } else { head };
                if head != Head::Array(2) || header != Head::Array(2) {
                    let found =
                        if head == Head::Array(2) { format!("[{}, ...]", describe(header)) } else { describe(head) };
                    let msg = format!("expected a [[time, metadata], record] array (fluentbit layout), found {found}");
                    return Err(self.error(start, start, Kind::Layout, msg));
                }
                let time = cur.pos();
                cur.skip_value(depth.saturating_sub(2)).map_err(wire)?;
                let meta = cur.pos();
                cur.skip_value(depth.saturating_sub(2)).map_err(wire)?;
                let body = cur.pos();
                cur.skip_value(depth.saturating_sub(1)).map_err(wire)?;
                let rec =
                    Record { start, end: cur.pos(), body, time: Some(time), meta: Some(meta), ..Record::default() };
                (Some(rec), rec.end)
            }
            Layout::Forward => self.frame_entry(start)?,
            Layout::SeqFile => match &self.seq {
                Some(Ok(seq)) => seq.frame(self.buf, start, depth, self.records)?,
                Some(Err((at, m))) => return Err(self.error(0, *at, Kind::Layout, m.clone())),
                None => unreachable!("a SequenceFile framer reads its header when made"),
            },
        };
        let size = rec.map_or(next - start, |r| r.end - r.start);
        if size > self.limits.max_record_bytes {
            let msg = format!(
                "expected a record of at most {} bytes, found one of {size} bytes",
                self.limits.max_record_bytes
            );
            return Err(self.error(start, start, Kind::TooLarge, msg));
        }
        Ok((rec, next))
    }

    /// Frames a `[time, record]` event at `start` of `buf` (the whole input, or a forward
    /// entry's events cut at their end).
    fn frame_event(&self, buf: &[u8], start: usize) -> Result<Record, FrameError> {
        let mut cur = Cursor::at(buf, start);
        let depth = self.limits.max_depth;
        let head = cur.read_head().map_err(|e| self.wire_error(start, e))?;
        if head != Head::Array(2) {
            let msg = format!("expected a [time, record] array (events layout), found {}", describe(head));
            return Err(self.error(start, start, Kind::Layout, msg));
        }
        let time = cur.pos();
        cur.skip_value(depth).map_err(|e| self.wire_error(start, e))?;
        let body = cur.pos();
        cur.skip_value(depth.saturating_sub(1)).map_err(|e| self.wire_error(start, e))?;
        Ok(Record { start, end: cur.pos(), body, time: Some(time), ..Record::default() })
    }

    /// Frames a forward protocol entry at `start`. A Message is one record; a Forward or
    /// PackedForward entry becomes [`Framer::entry`], whose events the iterator hands out.
    fn frame_entry(&mut self, start: usize) -> Result<(Option<Record>, usize), FrameError> {
        // One walk over the entry: its elements each skipped once (within the depth limit, one
        // level below the entry), checking it is complete.
        let inner = self.limits.max_depth.saturating_sub(1);
        let wire = |e| self.wire_error(start, e);
        let mut cur = Cursor::at(self.buf, start);
        let n = match cur.read_head().map_err(wire)? {
            Head::Array(n @ 2..=4) => n,
            head => {
                let msg =
                    format!("expected a forward protocol entry [tag, ...] (forward layout), found {}", describe(head));
                return Err(self.error(start, start, Kind::Layout, msg));
            }
        };
        let tag = cur.pos();
        if !matches!(cur.read_str_bytes(), Ok(Some(_))) {
            let head = Cursor::at(self.buf, tag).read_head().map_err(wire)?;
            let msg = format!("expected a str tag as the first element of a forward entry, found {}", describe(head));
            return Err(self.error(start, tag, Kind::Layout, msg));
        }
        let second = cur.pos();
        let head = cur.read_head().map_err(wire)?;
        let (events, message) = match head {
            Head::Array(_) if n <= 3 => {
                let events = cur.pos();
                cur = Cursor::at(self.buf, second);
                cur.skip_value(inner).map_err(wire)?;
                (events, None)
            }
            Head::Bin(_) | Head::Str(_) if n <= 3 => {
                let payload = cur.pos();
                cur.payload_of(head).map_err(wire)?;
                (payload, None)
            }
            t if n >= 3 && is_time_head(t) => {
                cur.skip_rest(t, 0).map_err(wire)?;
                let body = cur.pos();
                cur.skip_value(inner).map_err(wire)?;
                (
                    body,
                    Some(Record {
                        start,
                        end: cur.pos(),
                        body,
                        time: Some(second),
                        tag: Some(tag),
                        ..Record::default()
                    }),
                )
            }
            head => {
                let msg = format!(
                    "expected an event time, an array of events or packed events after the tag of a forward entry of {n} elements, found {}",
                    describe(head)
                );
                return Err(self.error(start, second, Kind::Layout, msg));
            }
        };
        let events_end = cur.pos();
        // The option map, if the entry has one.
        for _ in if message.is_some() { 3 } else { 2 }..n {
            cur.skip_value(inner).map_err(wire)?;
        }
        let end = cur.pos();
        if message.is_some() {
            return Ok((message, end));
        }
        if let Some(c) = compressed_option(&self.buf[events_end..end]) {
            let msg = format!(
                "expected packed events, found a CompressedPackedForward entry ({c}) that was not \
                 decompressed first (see mpq::input::fluentd::expand_forward)"
            );
            return Err(self.error(start, events, Kind::Layout, msg));
        }
        self.entry = Some(Entry { start, end, tag, pos: events, events_end });
        Ok((None, end))
    }

    /// The next event of the current forward entry, or `None` when it has no more.
    fn next_in_entry(&mut self) -> Option<Result<Record, FrameError>> {
        let e = self.entry?;
        if e.pos >= e.events_end {
            self.entry = None;
            return None;
        }
        match self.frame_event(&self.buf[..e.events_end], e.pos) {
            Ok(rec) => {
                self.entry = Some(Entry { pos: rec.end, ..e });
                Some(Ok(Record { tag: Some(e.tag), ..rec }))
            }
            // The entry is complete, so more input cannot help.
            Err(err) => Some(Err(FrameError { truncated: false, ..err })),
        }
    }
}

/// Whether every byte of `buf` from `start` on is zero (and there is at least one). `nonzero_at`
/// remembers the first non-zero byte found, so asking again for earlier offsets costs nothing
/// and a run of zero values followed by data is scanned once, not once per value.
pub fn zero_tail(buf: &[u8], start: usize, nonzero_at: &mut usize) -> bool {
    if buf.get(start) != Some(&0) || start < *nonzero_at {
        return false;
    }
    match buf[start..].iter().position(|&b| b != 0) {
        Some(i) => {
            *nonzero_at = start + i;
            false
        }
        None => true,
    }
}

/// The compression a forward entry's option map names (`{"compressed": "gzip"}`), if any.
pub fn compressed_option(opt: &[u8]) -> Option<String> {
    let mut cur = Cursor::new(opt);
    let Ok(Head::Map(n)) = cur.read_head() else { return None };
    for _ in 0..n {
        let key = cur.read_str_bytes().ok()??;
        if key == b"compressed" {
            let v = cur.read_str_bytes().ok()??;
            return Some(String::from_utf8_lossy(v).into_owned());
        }
        cur.skip_value(8).ok()?;
    }
    None
}

/// A short description of a header for messages.
pub fn describe(head: Head) -> String {
    match head {
        Head::Array(n) => format!("an array of {n} elements"),
        Head::Map(n) => format!("a map of {n} pairs"),
        Head::Str(n) => format!("a str of {n} bytes"),
        Head::Bin(n) => format!("a bin of {n} bytes"),
        Head::Ext(t, n) => format!("an ext of type {t} with {n} bytes"),
        other => {
            let family = other.family();
            let article = if family.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
            format!("{article} {family}")
        }
    }
}

impl Iterator for Framer<'_> {
    type Item = Result<Record, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            let framed = match self.next_in_entry() {
                Some(r) => r,
                None if self.pos >= self.buf.len() => return None,
                None => match self.frame_one(self.pos) {
                    Ok((rec, next)) => {
                        self.pos = next;
                        match rec {
                            Some(r) => Ok(r),
                            None => continue,
                        }
                    }
                    Err(e) => Err(e),
                },
            };
            return Some(match framed {
                Ok(rec) => {
                    // Saturating: a split scan's later ranges count from UNKNOWN_RECORD.
                    self.records = self.records.saturating_add(1);
                    Ok(rec)
                }
                Err(e) => {
                    self.failed = true;
                    Err(e)
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: FrameLimits = FrameLimits { max_depth: 128, max_record_bytes: 1 << 20 };

    #[test]
    fn frames_events() {
        let ev = [0x92, 0x01, 0x80, 0x92, 0x02, 0x80];
        let recs: Vec<_> = Framer::new(&ev, 0, Layout::Events, LIMITS, 0).collect::<Result<_, _>>().expect("ok");
        assert_eq!(recs[1], Record { start: 3, end: 6, body: 5, time: Some(4), ..Record::default() });
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
