//! What can be wrong with input, as data: a [`Problem`] names the file, the record, the byte
//! offsets, what was expected and found, and a hex excerpt. Scans hand every problem to the
//! [`crate::report::ScanReport`], which counts it, keeps the first messages, enforces
//! `--max-errors` and writes it to the `--rejects` file as one JSON line.
//!
//! Two classes (DESIGN.md, "Errors, limits and policies"): a framing problem loses the record
//! boundary, so the rest of the input is dropped or the scan fails (`--framing`); a record
//! problem leaves the boundary intact, so the record is kept with the bad part NULL, dropped,
//! or fails the scan (`--on-error`).

/// The record number of a record found in a later range of a split scan: how many records
/// precede it is not known (nobody counted them), so messages name it by its byte offset only.
pub const UNKNOWN_RECORD: u64 = u64::MAX;

/// "record N", or "a record" when the number is not known.
fn which(record: u64) -> String {
    if record == UNKNOWN_RECORD { "a record".to_string() } else { format!("record {record}") }
}

/// The kind of a problem, as the `kind` field of a rejects line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The input ended inside a value.
    Truncated,
    /// A length or count header claims more than the bytes that remain.
    LengthPastEnd,
    /// The byte 0xc1, which MessagePack never uses.
    ReservedByte,
    /// Nesting deeper than the limit.
    TooDeep,
    /// A record larger than the limit.
    TooLarge,
    /// A top-level value that does not fit the layout.
    Layout,
    /// The rest of the input is zero bytes (a preallocated or crashed file).
    ZeroTail,
    /// Reading the input failed part way (a damaged compressed stream, a failing pipe).
    ReadFailed,
    /// A record that is not a map (in a layout of maps).
    NotAMap,
    /// An event time that cannot be read or is out of range.
    BadTime,
    /// A tag that is not a UTF-8 string.
    BadTag,
    /// A SequenceFile `Text` key that is not UTF-8.
    BadKey,
}

impl Kind {
    /// The name in rejects lines.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Truncated => "truncated",
            Kind::LengthPastEnd => "length_past_end",
            Kind::ReservedByte => "reserved_byte",
            Kind::TooDeep => "too_deep",
            Kind::TooLarge => "too_large",
            Kind::Layout => "layout",
            Kind::ZeroTail => "zero_tail",
            Kind::ReadFailed => "read_failed",
            Kind::NotAMap => "not_a_map",
            Kind::BadTime => "bad_time",
            Kind::BadTag => "bad_tag",
            Kind::BadKey => "bad_key",
        }
    }

    /// Whether the record boundary is lost (a framing problem), rather than one record's
    /// content being wrong.
    pub fn is_framing(self) -> bool {
        !matches!(self, Kind::NotAMap | Kind::BadTime | Kind::BadTag | Kind::BadKey)
    }
}

/// What was done about a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The scan stopped with an error.
    Failed,
    /// The record was kept, its bad part NULL (`--on-error null`).
    Nulled,
    /// The record was left out (`--on-error drop`).
    Dropped,
    /// Everything from the record on was left out (`--framing truncate`): bytes `from..to`.
    Truncated {
        /// First byte left out.
        from: u64,
        /// One past the last byte left out (the input's length when known).
        to: u64,
    },
}

impl Action {
    /// The name in rejects lines.
    pub fn name(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Nulled => "nulled",
            Action::Dropped => "dropped",
            Action::Truncated { .. } => "truncated",
        }
    }
}

/// One problem in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (or `<memory>`, `<stream>`, `-`).
    pub path: String,
    /// Record number from 0 ([`UNKNOWN_RECORD`] in a split scan's later ranges).
    pub record: u64,
    /// Byte offset where the record starts.
    pub record_offset: u64,
    /// Byte offset of the failing byte.
    pub offset: u64,
    /// What kind of problem.
    pub kind: Kind,
    /// What was expected and what was found.
    pub message: String,
    /// Hex bytes around the failing byte, the failing one in brackets.
    pub hex: String,
}

impl Problem {
    /// The problem and what was done about it as one rejects line: JSON with the fields in
    /// a fixed order (file, record, record_offset, offset, kind, message, hex, action, and
    /// dropped_bytes for a truncation), no newline.
    pub fn rejects_line(&self, action: Action) -> String {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        let record = if self.record == UNKNOWN_RECORD { "null".to_string() } else { self.record.to_string() };
        let mut line = format!(
            r#"{{"file":{},"record":{record},"record_offset":{},"offset":{},"kind":"{}","message":{},"hex":"{}","action":"{}""#,
            text(&self.path),
            self.record_offset,
            self.offset,
            self.kind.name(),
            text(&self.message),
            self.hex,
            action.name()
        );
        if let Action::Truncated { from, to } = action {
            line.push_str(&format!(r#","dropped_bytes":[{from},{to}]"#));
        }
        line.push('}');
        line
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let class = if self.kind.is_framing() { "framing" } else { "record" };
        write!(
            f,
            "{}: {} at byte {}: {class} error at byte {}: {} [{}]",
            self.path,
            which(self.record),
            self.record_offset,
            self.offset,
            self.message,
            self.hex
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_line_has_every_field() {
        let p = Problem {
            path: "a.msgpack".into(),
            record: 3,
            record_offset: 40,
            offset: 42,
            kind: Kind::ReservedByte,
            message: "expected a MessagePack value, found reserved byte 0xc1".into(),
            hex: "81 a1 [c1]".into(),
        };
        assert_eq!(
            p.rejects_line(Action::Truncated { from: 40, to: 50 }),
            r#"{"file":"a.msgpack","record":3,"record_offset":40,"offset":42,"kind":"reserved_byte","message":"expected a MessagePack value, found reserved byte 0xc1","hex":"81 a1 [c1]","action":"truncated","dropped_bytes":[40,50]}"#
        );
        let unknown = Problem { record: UNKNOWN_RECORD, kind: Kind::NotAMap, ..p };
        assert!(unknown.rejects_line(Action::Nulled).contains(r#""record":null"#));
        assert_eq!(
            unknown.to_string(),
            "a.msgpack: a record at byte 40: record error at byte 42: expected a MessagePack value, found reserved byte 0xc1 [81 a1 [c1]]"
        );
    }
}
