//! Fuzz target `batch`: see nsctl::fuzzing::batch for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nsctl::fuzzing::batch(data));
