//! Fuzz target `lab`: see nsctl::fuzzing::lab for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nsctl::fuzzing::lab(data));
