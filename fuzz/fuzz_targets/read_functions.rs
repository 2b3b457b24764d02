//! libFuzzer target: [`mpq_hostile::read_functions`] over each generated input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mpq_hostile::read_functions(data));
