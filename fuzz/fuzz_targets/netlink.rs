//! Fuzz target `netlink`: see nsctl::fuzzing::netlink for what it drives and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nsctl::fuzzing::netlink(data));
