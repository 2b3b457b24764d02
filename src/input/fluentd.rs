//! Fluentd's own files and captures: buffer chunk names (`.b<id>` staged, `.q<id>` queued),
//! their `.meta` sidecars (tag and record count), and forward protocol captures whose
//! CompressedPackedForward entries are expanded before framing.

use super::compression::{COMPRESSIONS, Compression, Decompressed, decompress};
use crate::framing::{Layout, compressed_option, layout_or};
use crate::options::MsgpackReadOptions;
use mpq_wire::{Cursor, Head};

/// What a Fluentd buffer chunk's `.meta` sidecar says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkMeta {
    /// The chunk's tag (`tag`).
    pub tag: Option<String>,
    /// How many records Fluentd says the chunk holds (`s`).
    pub records: Option<u64>,
}

/// The header Fluentd writes before a sidecar's map (0xc1 never starts a MessagePack value).
pub const META_HEADER: [u8; 2] = [0xc1, 0x00];

/// Parses a `.meta` sidecar: `C1 00`, a big-endian u32 length, then a map (older Fluentd
/// versions write the map alone).
pub fn parse_meta(bytes: &[u8]) -> std::result::Result<ChunkMeta, String> {
    let map = match bytes.strip_prefix(&META_HEADER[..]) {
        Some(rest) => {
            let len = rest.get(..4).ok_or("the sidecar ends inside its length header")?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            rest.get(4..4 + len).ok_or_else(|| format!("the sidecar claims {len} bytes of metadata, but has fewer"))?
        }
        None => bytes,
    };
    let mut cur = Cursor::new(map);
    let n = match cur.read_head() {
        Ok(Head::Map(n)) => n,
        _ => return Err("the sidecar does not hold a map".into()),
    };
    let mut meta = ChunkMeta::default();
    let err = |e: mpq_wire::WireError| format!("the sidecar's map is damaged: {e}");
    for _ in 0..n {
        let key = cur.read_str_bytes().map_err(err)?;
        match key {
            Some(b"tag") if cur.peek().is_some_and(mpq_wire::marker::is_str) => {
                let tag = cur.read_str_bytes().map_err(err)?.unwrap_or_default();
                meta.tag = Some(String::from_utf8_lossy(tag).into_owned());
            }
            Some(b"s") => match cur.read_head().map_err(err)? {
                Head::UInt(n) => meta.records = Some(n),
                Head::Int(n) => meta.records = u64::try_from(n).ok(),
                head => cur.skip_rest(head, 16).map_err(err)?,
            },
            _ => cur.skip_value(16).map_err(err)?,
        }
    }
    Ok(meta)
}

/// Whether a file name is a Fluentd file-buffer chunk (`<prefix>.b<hex id><suffix>` staged,
/// `.q` queued), which may have a `.meta` sidecar at its path plus `.meta`.
pub fn is_chunk_name(name: &str) -> bool {
    chunk_state(name).is_some()
}

/// Whether a file name is a staged buffer chunk (`.b<hex id>`), which Fluentd is still
/// appending to: it is read, never memory-mapped, under `--mmap auto`.
pub fn is_staged_chunk_name(name: &str) -> bool {
    chunk_state(name) == Some(b'b')
}

/// `b` (staged) or `q` (queued) for a buffer chunk's file name.
fn chunk_state(name: &str) -> Option<u8> {
    if name.ends_with(".meta") {
        return None;
    }
    name.match_indices('.').find_map(|(i, _)| {
        let rest = &name.as_bytes()[i + 1..];
        let state = *rest.first()?;
        let id = rest[1..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        (matches!(state, b'b' | b'q') && id >= 16).then_some(state)
    })
}

/// Whether a file is a buffer chunk's sidecar: it is read for its chunk, and is itself an
/// input with no records.
pub fn is_sidecar(name: &str, bytes: &[u8]) -> bool {
    is_sidecar_name(name) && bytes.starts_with(&META_HEADER)
}

/// Whether a file name is that of a buffer chunk's sidecar (`<chunk name>.meta`).
pub fn is_sidecar_name(name: &str) -> bool {
    name.strip_suffix(".meta").is_some_and(is_chunk_name)
}

/// [`expand_forward`] when `buf` has (or the options force) the forward layout, with the
/// options' limits; `None` otherwise or when there is nothing to expand.
pub fn expand_if_forward(buf: &[u8], opts: &MsgpackReadOptions) -> Option<std::result::Result<Vec<u8>, String>> {
    // In a small input the search for compressed entries' key comes first: it takes less than
    // detecting the layout, which walks up to 16 records (most of a small file, whose layout
    // inference and the scan detect again). Not in a large one: the search would bring every
    // page of a mapped file into memory.
    if buf.len() <= SEARCH_FIRST_BYTES && !may_hold_compressed_entries(buf) {
        return None;
    }
    if layout_or(buf, opts.layout, opts.max_depth) != Layout::Forward {
        return None;
    }
    expand_forward(buf, opts.max_depth, opts.max_decompressed_bytes)
}

/// Inputs up to this size are searched for compressed entries before their layout is detected.
const SEARCH_FIRST_BYTES: usize = 256 << 10;

/// Every compressed entry's option names the key "compressed": without those bytes anywhere
/// (a search at memory speed), there is nothing to expand and no walk is needed.
fn may_hold_compressed_entries(buf: &[u8]) -> bool {
    memchr::memmem::find(buf, b"compressed").is_some()
}

/// A forward capture with its CompressedPackedForward entries decompressed: each becomes a
/// PackedForward entry `[tag, bin]` holding its events. `None` when there is nothing to
/// expand (the input is used as it is). Values that do not frame are copied as they are, for
/// the framer to report.
pub fn expand_forward(buf: &[u8], max_depth: usize, limit: u64) -> Option<std::result::Result<Vec<u8>, String>> {
    if !may_hold_compressed_entries(buf) {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    let mut pos = 0;
    let mut copied = 0;
    while pos < buf.len() {
        let start = pos;
        let mut cur = Cursor::at(buf, pos);
        if cur.skip_value(max_depth).is_err() {
            break;
        }
        pos = cur.pos();
        let Some((tag, payload, compression)) = compressed_entry(&buf[start..pos]) else { continue };
        let out = out.get_or_insert_with(|| Vec::with_capacity(buf.len().saturating_mul(4)));
        out.extend_from_slice(&buf[copied..start]);
        copied = pos;
        let Some(c) = Compression::named(&compression) else {
            return Some(Err(format!(
                "byte {start}: a CompressedPackedForward entry uses {compression:?} compression; only {COMPRESSIONS} are read"
            )));
        };
        let budget = limit.saturating_sub(out.len() as u64);
        let events = match decompress(payload, c, budget) {
            Ok(Decompressed { bytes, damage: None }) => bytes,
            Ok(Decompressed { damage: Some(d), .. }) => return Some(Err(format!("byte {start}: {d}"))),
            Err(e) => return Some(Err(format!("byte {start}: {e}"))),
        };
        mpq_wire::write::write_array_header(out, 2);
        mpq_wire::write::write_str(out, tag);
        mpq_wire::write::write_bin(out, &events);
    }
    let mut out = out?;
    out.extend_from_slice(&buf[copied..]);
    Some(Ok(out))
}

/// The tag, compressed payload and compression name of a CompressedPackedForward entry.
fn compressed_entry(entry: &[u8]) -> Option<(&[u8], &[u8], String)> {
    let mut cur = Cursor::new(entry);
    if cur.read_head().ok()? != Head::Array(3) {
        return None;
    }
    let tag = cur.read_str_bytes().ok()??;
    let payload = match cur.read_head().ok()? {
        h @ (Head::Bin(_) | Head::Str(_)) => cur.payload_of(h).ok()?,
        _ => return None,
    };
    let compression = compressed_option(&entry[cur.pos()..])?;
    Some((tag, payload, compression))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_wire::write::{write_array_header, write_bin, write_int, write_map_header, write_str};

    #[test]
    fn sidecars_with_and_without_header() {
        let mut map = Vec::new();
        write_map_header(&mut map, 4);
        write_str(&mut map, b"timekey");
        mpq_wire::write::write_nil(&mut map);
        write_str(&mut map, b"tag");
        write_str(&mut map, b"app.web");
        write_str(&mut map, b"id");
        write_bin(&mut map, &[1; 16]);
        write_str(&mut map, b"s");
        write_int(&mut map, 42);
        let want = ChunkMeta { tag: Some("app.web".into()), records: Some(42) };
        assert_eq!(parse_meta(&map), Ok(want.clone()));
        let mut with = META_HEADER.to_vec();
        with.extend((map.len() as u32).to_be_bytes());
        with.extend(&map);
        assert_eq!(parse_meta(&with), Ok(want));
        assert!(parse_meta(&with[..8]).is_err());
        let name = "buffer.b5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6.log";
        assert!(is_chunk_name(name) && is_chunk_name("buffer.q5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6.log"));
        assert!(!is_chunk_name("buffer.log") && !is_chunk_name("app.backup.log"));
        assert!(is_staged_chunk_name("out.b5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6.buf"));
        assert!(!is_staged_chunk_name("buffer.q5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f7.log"));
        assert!(is_sidecar(&format!("{name}.meta"), &with) && !is_sidecar(&format!("{name}.meta"), &map));
    }

    #[test]
    fn compressed_packed_forward_is_expanded() {
        let mut events = Vec::new();
        for t in [1, 2] {
            write_array_header(&mut events, 2);
            write_int(&mut events, t);
            write_map_header(&mut events, 1);
            write_str(&mut events, b"a");
            write_int(&mut events, t);
        }
        let mut entry = Vec::new();
        write_array_header(&mut entry, 3);
        write_str(&mut entry, b"tag.x");
        write_bin(&mut entry, &super::super::compression::tests::gzip(&events));
        write_map_header(&mut entry, 1);
        write_str(&mut entry, b"compressed");
        write_str(&mut entry, b"gzip");
        let out = expand_forward(&entry, 128, 1 << 20).expect("expanded").expect("ok");
        let mut want = Vec::new();
        write_array_header(&mut want, 2);
        write_str(&mut want, b"tag.x");
        write_bin(&mut want, &events);
        assert_eq!(out, want);
        // Nothing compressed: nothing to do.
        assert!(expand_forward(&want, 128, 1 << 20).is_none());
    }
}
