//! Framing: where each record of a byte stream starts and ends, in one place.
//!
//! - [`layout`]: which layout the stream uses (detected from its first records, or given).
//! - [`framer`]: the [`Framer`], which walks records one by one and reports what it cannot
//!   frame as a [`FrameError`] at exact offsets. It is the reference every faster path falls
//!   back to.
//! - [`split`]: record boundaries at any byte offset, so one file can be scanned by several
//!   cores.
//! - [`seqfile`]: Hadoop SequenceFiles: the header, records framed in place, sync markers.
//! - [`lanes`]: counting records on interleaved lanes (`count(*)`).
//!
//! Framing reads bytes only: it depends on `mpq-wire`, the error types and nothing else of the
//! reader. Decoding and inference have faster paths that frame a record as a side effect of
//! their own walk (decode-while-framing, observe-while-framing); each gives up on anything
//! unusual and hands the same records to the framer, which reports them exactly.

pub mod framer;
pub mod lanes;
pub mod layout;
pub mod seqfile;
pub mod split;

pub use framer::{Entry, FrameError, FrameLimits, Framer, Record, compressed_option, describe, zero_tail};
pub use layout::{DETECT_RECORDS, Detection, LAYOUTS, Layout, check_forced, detect, detect_or, layout_or};
