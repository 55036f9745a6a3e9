//! Fuzz target `cli`: see nsctl::fuzzing::cli for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nsctl::fuzzing::cli(data));
