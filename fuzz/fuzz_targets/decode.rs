//! libFuzzer target: [`mpq_hostile::decode`] over each generated input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mpq_hostile::decode(data));
