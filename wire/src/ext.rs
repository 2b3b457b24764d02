//! Time values: the MessagePack timestamp extension (type -1; 32, 64 and 96-bit forms),
//! Fluentd's EventTime (ext type 0: big-endian u32 seconds and u32 nanoseconds), epoch
//! numbers, and RFC 3339 rendering. All results are nanoseconds since the Unix epoch in `i64`,
//! the range of Arrow's `Timestamp(Nanosecond)`.

use crate::cursor::Head;
use std::fmt;

/// The extension type of the standard MessagePack timestamp.
pub const TIMESTAMP_EXT: i8 = -1;
/// The extension type of Fluentd's EventTime.
pub const EVENT_TIME_EXT: i8 = 0;

/// Why ext data is not a usable time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// Not a timestamp (-1) or EventTime (0) ext, or a data length those types do not use.
    NotATime {
        /// The ext type.
        ext_type: i8,
        /// The data length.
        len: usize,
    },
    /// The nanoseconds field is 1,000,000,000 or more.
    BadNanos(u32),
    /// The instant is outside what `i64` nanoseconds since 1970 can hold (years 1677..2262).
    OutOfRange {
        /// Seconds since the epoch.
        seconds: i64,
    },
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::NotATime { ext_type, len } => write!(
                f,
                "expected a timestamp (ext -1 with 4, 8 or 12 bytes, or ext 0 with 8 bytes), found ext {ext_type} with {len} bytes"
            ),
            TimeError::BadNanos(n) => {
                write!(f, "expected nanoseconds below 1000000000, found {n}")
            }
            TimeError::OutOfRange { seconds } => write!(
                f,
                "expected a time between 1677 and 2262 (nanosecond range), found {seconds} seconds since 1970"
            ),
        }
    }
}

impl std::error::Error for TimeError {}

/// True if an ext of this type and length is a time this module decodes.
pub fn is_time_ext(ext_type: i8, len: usize) -> bool {
    matches!((ext_type, len), (TIMESTAMP_EXT, 4 | 8 | 12) | (EVENT_TIME_EXT, 8))
}

/// Splits a time ext into (seconds, nanoseconds).
pub fn ext_seconds_nanos(ext_type: i8, data: &[u8]) -> Result<(i64, u32), TimeError> {
    let be32 = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
    let (secs, nanos) = match (ext_type, data.len()) {
        (TIMESTAMP_EXT, 4) => (be32(data) as i64, 0),
        (TIMESTAMP_EXT, 8) => {
            let v = u64::from_be_bytes([data[0], data[1], data[2], data[3], data[4], data[5], data[6], data[7]]);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        (TIMESTAMP_EXT, 12) => {
            let s = i64::from_be_bytes([data[4], data[5], data[6], data[7], data[8], data[9], data[10], data[11]]);
            (s, be32(data))
        }
        (EVENT_TIME_EXT, 8) => (be32(data) as i64, be32(&data[4..])),
        (t, n) => {
            return Err(TimeError::NotATime { ext_type: t, len: n });
        }
    };
    if nanos >= 1_000_000_000 {
        return Err(TimeError::BadNanos(nanos));
    }
    Ok((secs, nanos))
}

/// Decodes a time ext to nanoseconds since the epoch.
pub fn ext_to_nanos(ext_type: i8, data: &[u8]) -> Result<i64, TimeError> {
    let (s, n) = ext_seconds_nanos(ext_type, data)?;
    seconds_nanos_to_nanos(s, n)
}

/// Combines seconds and nanoseconds, checking the `i64` nanosecond range.
pub fn seconds_nanos_to_nanos(seconds: i64, nanos: u32) -> Result<i64, TimeError> {
    seconds
        .checked_mul(1_000_000_000)
        .and_then(|v| v.checked_add(nanos as i64))
        .ok_or(TimeError::OutOfRange { seconds })
}

/// Epoch seconds as a float (Fluentd's float time) to nanoseconds: whole seconds exactly, the
/// fraction rounded to the nanosecond; `None` when not finite or out of range.
pub fn float_seconds_to_nanos(v: f64) -> Option<i64> {
    if !v.is_finite() {
        return None;
    }
    // Whole seconds and the fraction apart, so 1700000002.25 gives exactly .250000000.
    let secs = v.floor();
    if !(-9.3e9..9.3e9).contains(&secs) {
        return None;
    }
    let nanos = ((v - secs) * 1e9).round().min(999_999_999.0);
    seconds_nanos_to_nanos(secs as i64, nanos as u32).ok()
}

/// A time value to nanoseconds since the epoch: an ext (`payload` is its data; ext -1 and
/// EventTime decode, other types are an error), integer epoch seconds, or float epoch seconds.
/// `None` when the value is none of these; `Some(Err)` when it is one but does not decode or
/// fit. Shared by the reader's event times and `mp_get_ts`.
pub fn time_to_nanos(head: Head, payload: &[u8]) -> Option<Result<i64, String>> {
    Some(match head {
        Head::Ext(t, _) => ext_to_nanos(t, payload).map_err(|e| e.to_string()),
        Head::Int(s) => seconds_nanos_to_nanos(s, 0).map_err(|e| e.to_string()),
        Head::F64(v) => float_seconds_to_nanos(v).ok_or_else(|| format!("float {v} out of range")),
        Head::F32(v) => float_seconds_to_nanos(v as f64).ok_or_else(|| format!("float {v} out of range")),
        _ => return None,
    })
}

/// Renders nanoseconds since the epoch as RFC 3339 in UTC, with the fraction trimmed to 0, 3,
/// 6 or 9 digits: `2026-11-20T08:15:00.250Z`.
pub fn rfc3339(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000) as u32;
    rfc3339_parts(secs, frac)
}

/// Renders seconds and nanoseconds as RFC 3339 in UTC (works beyond the `i64` nanosecond
/// range, for timestamps that do not fit a typed column).
pub fn rfc3339_parts(secs: i64, frac: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
    if frac != 0 {
        let digits = format!("{frac:09}");
        let keep = if frac.is_multiple_of(1_000_000) {
            3
        } else if frac.is_multiple_of(1_000) {
            6
        } else {
            9
        };
        s.push('.');
        s.push_str(&digits[..keep]);
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp32() {
        assert_eq!(ext_to_nanos(-1, &[0, 0, 0, 1]), Ok(1_000_000_000));
    }

    #[test]
    fn timestamp64() {
        // nanos 5 in the upper 30 bits, seconds 7 in the lower 34.
        let v: u64 = (5u64 << 34) | 7;
        assert_eq!(ext_to_nanos(-1, &v.to_be_bytes()), Ok(7_000_000_005));
    }

    #[test]
    fn timestamp96_negative() {
        let mut d = 500u32.to_be_bytes().to_vec();
        d.extend_from_slice(&(-2i64).to_be_bytes());
        assert_eq!(ext_to_nanos(-1, &d), Ok(-2_000_000_000 + 500));
    }

    #[test]
    fn event_time() {
        let mut d = 1_700_000_000u32.to_be_bytes().to_vec();
        d.extend_from_slice(&123u32.to_be_bytes());
        assert_eq!(ext_to_nanos(0, &d), Ok(1_700_000_000_000_000_123));
    }

    #[test]
    fn bad_nanos_and_range() {
        let mut d = 1_000_000_000u32.to_be_bytes().to_vec();
        d.extend_from_slice(&0i64.to_be_bytes());
        assert_eq!(ext_to_nanos(-1, &d), Err(TimeError::BadNanos(1_000_000_000)));
        let mut d = 0u32.to_be_bytes().to_vec();
        d.extend_from_slice(&(i64::MAX / 2).to_be_bytes());
        assert!(matches!(ext_to_nanos(-1, &d), Err(TimeError::OutOfRange { .. })));
        assert!(matches!(ext_to_nanos(5, &d), Err(TimeError::NotATime { ext_type: 5, len: 12 })));
    }

    #[test]
    fn float_seconds() {
        assert_eq!(float_seconds_to_nanos(1_700_000_002.25), Some(1_700_000_002_250_000_000));
        assert_eq!(float_seconds_to_nanos(-0.5), Some(-500_000_000));
        assert_eq!(float_seconds_to_nanos(f64::NAN), None);
        assert_eq!(float_seconds_to_nanos(1e300), None);
    }

    #[test]
    fn rfc3339_rendering() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_250_000_000), "2023-11-14T22:13:20.250Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(rfc3339_parts(951_782_400, 1_000), "2000-02-29T00:00:00.000001Z");
    }
}
