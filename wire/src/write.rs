//! Writes MessagePack values in their smallest encoding (the form other encoders produce by
//! default, so values that round-trip through JSON come back byte for byte).

/// Appends `nil`.
pub fn write_nil(out: &mut Vec<u8>) {
    out.push(0xc0);
}

/// Appends a boolean.
pub fn write_bool(out: &mut Vec<u8>, v: bool) {
    out.push(if v { 0xc3 } else { 0xc2 });
}

/// Appends a signed integer in its smallest encoding (non-negative values as unsigned).
pub fn write_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        write_uint(out, v as u64);
    } else if v >= -32 {
        out.push(v as i8 as u8);
    } else if v >= i8::MIN as i64 {
        out.extend_from_slice(&[0xd0, v as i8 as u8]);
    } else if v >= i16::MIN as i64 {
        out.push(0xd1);
        out.extend_from_slice(&(v as i16).to_be_bytes());
    } else if v >= i32::MIN as i64 {
        out.push(0xd2);
        out.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends an unsigned integer in its smallest encoding.
pub fn write_uint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
    } else if v <= u8::MAX as u64 {
        out.extend_from_slice(&[0xcc, v as u8]);
    } else if v <= u16::MAX as u64 {
        out.push(0xcd);
        out.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= u32::MAX as u64 {
        out.push(0xce);
        out.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Appends a float32.
pub fn write_f32(out: &mut Vec<u8>, v: f32) {
    out.push(0xca);
    out.extend_from_slice(&v.to_bits().to_be_bytes());
}

/// Appends a float64.
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    out.push(0xcb);
    out.extend_from_slice(&v.to_bits().to_be_bytes());
}

/// Appends a string (the bytes as given; callers pass UTF-8).
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= u8::MAX as usize {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= u16::MAX as usize {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// Appends a byte string.
pub fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n <= u8::MAX as usize {
        out.extend_from_slice(&[0xc4, n as u8]);
    } else if n <= u16::MAX as usize {
        out.push(0xc5);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(b);
}

/// The bytes of an array header for `n` elements.
pub fn array_header(n: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    container_header(&mut out, n, 0x90, 0xdc);
    out
}

/// The bytes of a map header for `n` pairs.
pub fn map_header(n: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    write_map_header(&mut out, n);
    out
}

/// Appends an array header for `n` elements.
pub fn write_array_header(out: &mut Vec<u8>, n: u32) {
    container_header(out, n, 0x90, 0xdc);
}

/// Appends a map header for `n` pairs.
pub fn write_map_header(out: &mut Vec<u8>, n: u32) {
    container_header(out, n, 0x80, 0xde);
}

fn container_header(out: &mut Vec<u8>, n: u32, fix: u8, marker16: u8) {
    if n < 16 {
        out.push(fix | n as u8);
    } else if n <= u16::MAX as u32 {
        out.push(marker16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(marker16 + 1);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends an ext value.
pub fn write_ext(out: &mut Vec<u8>, ext_type: i8, data: &[u8]) {
    let n = data.len();
    match n {
        1 => out.push(0xd4),
        2 => out.push(0xd5),
        4 => out.push(0xd6),
        8 => out.push(0xd7),
        16 => out.push(0xd8),
        _ if n <= u8::MAX as usize => out.extend_from_slice(&[0xc7, n as u8]),
        _ if n <= u16::MAX as usize => {
            out.push(0xc8);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0xc9);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    out.push(ext_type as u8);
    out.extend_from_slice(data);
}

/// Appends a timestamp (ext -1) in the smallest of its 32, 64 and 96-bit forms.
pub fn write_timestamp(out: &mut Vec<u8>, seconds: i64, nanos: u32) {
    if nanos == 0 && (0..=u32::MAX as i64).contains(&seconds) {
        write_ext(out, -1, &(seconds as u32).to_be_bytes());
    } else if (0..1i64 << 34).contains(&seconds) {
        write_ext(out, -1, &(((nanos as u64) << 34) | seconds as u64).to_be_bytes());
    } else {
        let mut data = [0u8; 12];
        data[..4].copy_from_slice(&nanos.to_be_bytes());
        data[4..].copy_from_slice(&seconds.to_be_bytes());
        write_ext(out, -1, &data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::{Cursor, Head};
    use crate::ext::ext_seconds_nanos;

    fn head_of(f: impl Fn(&mut Vec<u8>)) -> (Vec<u8>, Head) {
        let mut out = Vec::new();
        f(&mut out);
        let mut c = Cursor::new(&out);
        let h = c.read_head().expect("readable");
        c.skip_rest(h, 4).expect("whole");
        assert_eq!(c.pos(), out.len(), "exactly one value");
        (out, h)
    }

    #[test]
    fn integers_take_the_smallest_form_and_read_back() {
        for (v, len) in [(0i64, 1), (127, 1), (128, 2), (-32, 1), (-33, 2), (-129, 3), (65536, 5), (i64::MIN, 9)] {
            let (bytes, h) = head_of(|o| write_int(o, v));
            assert_eq!(h, Head::Int(v));
            assert_eq!(bytes.len(), len, "{v}");
        }
        assert_eq!(head_of(|o| write_uint(o, u64::MAX)).1, Head::UInt(u64::MAX));
    }

    #[test]
    fn lengths_pick_their_marker() {
        for n in [0usize, 31, 32, 255, 256, 65535, 65536] {
            let s = vec![b'x'; n];
            assert_eq!(head_of(|o| write_str(o, &s)).1, Head::Str(n as u32));
            assert_eq!(head_of(|o| write_bin(o, &s)).1, Head::Bin(n as u32));
            assert_eq!(head_of(|o| write_ext(o, 9, &s)).1, Head::Ext(9, n as u32));
        }
        for n in [0u32, 15, 16, 65535, 65536] {
            let mut a = array_header(n);
            a.extend(std::iter::repeat_n(0xc0, n as usize));
            assert_eq!(Cursor::new(&a).read_head(), Ok(Head::Array(n)));
            let mut m = map_header(n);
            m.extend(std::iter::repeat_n(0xc0, 2 * n as usize));
            assert_eq!(Cursor::new(&m).read_head(), Ok(Head::Map(n)));
        }
    }

    #[test]
    fn timestamps_read_back() {
        for (s, n) in [(0i64, 0u32), (1_700_000_000, 0), (1_700_000_000, 5), (-1, 999_999_999), (1i64 << 40, 1)] {
            let (bytes, h) = head_of(|o| write_timestamp(o, s, n));
            let Head::Ext(-1, len) = h else { panic!("not a timestamp") };
            assert_eq!(ext_seconds_nanos(-1, &bytes[bytes.len() - len as usize..]), Ok((s, n)));
        }
    }
}
