//! Fuzz target `parsers`: see nsctl::fuzzing::parsers for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nsctl::fuzzing::parsers(data));
