//! `mp_to_json(v)`: a MessagePack value as JSON text (bin as base64, timestamps as RFC 3339,
//! other ext as `{"ext": type, "data": base64}`, non-string keys stringified).

use crate::common::ValueToText;

fn to_json(bytes: &[u8]) -> Option<String> {
    mpq_wire::json::to_json(bytes, mpq_wire::DEFAULT_MAX_DEPTH).ok()
}

/// The `mp_to_json` function.
pub fn mp_to_json() -> ValueToText {
    ValueToText::new("mp_to_json", to_json)
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_and_nulls_unreadable_bytes() {
        assert_eq!(super::to_json(&[0x81, 0xa1, b'a', 0x01]).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(super::to_json(&[0xc1]), None);
    }
}
