//! The bare structural walk that queries are measured against (`benches/peers/run.sh`): each
//! file memory-mapped, cut into one range per core at the boundaries a split scan would find,
//! each range framed on its own thread, decoding nothing. Prints records, bytes and seconds.
//!
//! Usage: `cargo run --release --example walk -- [--threads N] FILES...`

use mpq::MsgpackReadOptions;
use mpq::framing::{Framer, detect, split::cut_points};
use mpq::input::source::{MmapPolicy, file_bytes};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        cores = args.get(i + 1).ok_or("--threads takes a number")?.parse()?;
        args.drain(i..i + 2);
    }
    if args.is_empty() {
        return Err("usage: walk [--threads N] FILES...".into());
    }
    let start = Instant::now();
    let (records, bytes) = walk(&args, cores)?;
    println!("records {records} bytes {bytes} seconds {:.3}", start.elapsed().as_secs_f64());
    Ok(())
}

/// Records and bytes of `paths`, each walked on `cores` threads.
fn walk(paths: &[String], cores: usize) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let opts = MsgpackReadOptions::default();
    let limits = opts.limits();
    let (mut records, mut bytes) = (0u64, 0u64);
    for path in paths {
        let file = file_bytes(Path::new(path), MmapPolicy::Always)?;
        let buf: &[u8] = &file.bytes;
        let layout = detect(buf, opts.max_depth).layout;
        // Values cannot be split: one range walks them all.
        let cuts = cut_points(buf, cores.max(1), layout, limits).unwrap_or_else(|| vec![0, buf.len()]);
        let counts: Vec<Result<u64, String>> = std::thread::scope(|s| {
            let walks: Vec<_> = cuts
                .windows(2)
                .map(|w| {
                    let (from, to) = (w[0], w[1].max(w[0]));
                    s.spawn(move || {
                        let mut framer = Framer::new(buf, from, layout, limits, 0);
                        let mut n = 0u64;
                        while framer.pos() < to {
                            match framer.next() {
                                Some(Ok(_)) => n += 1,
                                Some(Err(e)) => return Err(e.into_error(path, buf).to_string()),
                                None => break,
                            }
                        }
                        Ok(n)
                    })
                })
                .collect();
            walks.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a walk panicked".into()))).collect()
        });
        for c in counts {
            records += c?;
        }
        bytes += buf.len() as u64;
    }
    Ok((records, bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn walks_every_record_once_on_any_number_of_cores() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("big.msgpack");
        let spec = mpq::generate::Spec { records: 60_000, seed: 2, events: false, mixed: false, wide: false };
        let bytes = mpq::generate::to_vecs(&spec).0;
        std::fs::write(&file, &bytes).expect("write");
        let path = vec![file.to_str().expect("utf8").to_string()];
        for cores in [1, 3] {
            assert_eq!(super::walk(&path, cores).expect("walk"), (60_000, bytes.len() as u64), "{cores} cores");
        }
    }
}
