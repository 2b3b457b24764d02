//! `mp_typeof(v)`: `nil`, `bool`, `int`, `float`, `str`, `bin`, `array`, `map`, `ext` or
//! `timestamp` (ext -1).

use crate::common::ValueToText;
use mpq_wire::{Cursor, Head};

fn type_of(bytes: &[u8]) -> Option<String> {
    let head = Cursor::new(bytes).read_head().ok()?;
    Some(match head {
        Head::Ext(-1, _) => "timestamp".to_string(),
        h => h.family().to_string(),
    })
}

/// The `mp_typeof` function.
pub fn mp_typeof() -> ValueToText {
    ValueToText::new("mp_typeof", type_of)
}

#[cfg(test)]
mod tests {
    #[test]
    fn families() {
        assert_eq!(super::type_of(&[0xc0]).as_deref(), Some("nil"));
        assert_eq!(super::type_of(&[0xd6, 0xff, 0, 0, 0, 0]).as_deref(), Some("timestamp"));
        assert_eq!(super::type_of(&[0xd4, 0x05, 0]).as_deref(), Some("ext"));
        assert_eq!(super::type_of(&[0x92, 1, 2]).as_deref(), Some("array"));
        assert_eq!(super::type_of(&[]), None);
    }
}
