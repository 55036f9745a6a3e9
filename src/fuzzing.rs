//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer) and for the
//! property test in `cargo test`: each takes arbitrary bytes, drives one of nsctl's parsers
//! or decoders, and checks what must hold of whatever it accepts. None may panic.
//! They act on nothing: the option parser's `-n` does not enter a namespace under
//! `cfg(fuzzing)` or `cfg(test)`, and batch lines are read and split, not run.

/// ip's global options and the walk over the command tree (the first word, then the verb
/// of an object), on argv split at NUL bytes.
pub fn cli(data: &[u8]) {
    let args: Vec<Vec<u8>> = data.split(|&b| b == 0).map(|w| w.to_vec()).collect();
    if let Ok(p) = crate::cli::parse(&args) {
        if let Some(c) = p.rest.first().and_then(|w| crate::tree::top(w)) {
            if let Some(v) = p.rest.get(1) {
                let _ = crate::tree::walk(c, v, None);
            }
        }
    }
}

/// The batch line reader (comments, `\` continuations, NUL, the length cap) and the word
/// splitter (quotes, the word limit).
pub fn batch(data: &[u8]) {
    let mut r = crate::batch::LineReader::new(data);
    let mut lines = 0;
    while let Ok(line) = r.read_line() {
        lines += 1;
        assert!(!line.contains(&0), "a NUL survived the reader");
        assert!(line.len() <= crate::batch::MAX_LINE);
        if let Ok(words) = crate::batch::split_words(&line) {
            assert!(words.len() < 512);
        }
        assert!(r.lineno >= lines);
    }
}

/// The lab file: syntax and schema pass, then every check. Whatever is accepted holds no
/// control character and no invalid name. The journal parser too.
pub fn lab(data: &[u8]) {
    use crate::lab::{file, journal, spec, validate};
    let _ = journal::Journal::parse("fuzz", data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = file::line_col(data, data.len() / 2);
    let (problems, syntax) = file::precheck(text);
    if syntax {
        assert!(!problems.is_empty());
        return;
    }
    let Ok(f) = file::parse(text) else {
        return;
    };
    let Ok((f, instances)) = crate::lab::generate::expand(f) else {
        return;
    };
    let Ok(lab) = validate::build_generated(f, &instances, "fuzz", false) else {
        return;
    };
    for ns in &lab.namespaces {
        assert!(file::clean(&ns.name) && crate::netns::is_valid_name(ns.name.as_bytes()));
        for (k, v) in &ns.sysctls {
            assert!(spec::valid_sysctl_key(k) && file::clean(v));
        }
    }
    for i in lab.bridges.iter().chain(lab.veths.iter().flatten()) {
        assert!(file::clean(&i.name) && crate::wiring::valid_ifname(i.name.as_bytes()));
        assert!(i.addrs.iter().all(|a| a.addr.is_some()));
    }
    for (_, out) in &lab.nat {
        assert!(out.as_deref().is_none_or(file::clean));
    }
    // The plan of a lab against nothing observed is pure too.
    let mut obs = crate::lab::observe::Observed::default();
    obs.places.insert(None, Default::default());
    if let Ok(j) = journal::Journal::parse(
        &lab.name,
        format!("{{\"lab\":\"{}\",\"objects\":[]}}", lab.name).as_bytes(),
    ) {
        let _ = crate::lab::plan::plan(&lab, &obs, &j, crate::lab::plan::Opts { adopt: false });
        // Each machine's share of a lab across hosts: its tunnels' VNIs are the file's, each
        // once, and its plan is pure too.
        for m in 0..lab.machines.len() as u16 {
            let share = crate::lab::machines::share(&lab, m);
            let mut vnis = std::collections::HashSet::new();
            for t in &share.tunnels {
                let tun = t
                    .tunnel
                    .as_deref()
                    .expect("a share's tunnel ends carry a tunnel");
                assert!(lab.vnis.iter().any(|(_, v)| *v == tun.vni));
                assert!(vnis.insert(tun.vni) && tun.local != tun.remote);
            }
            let _ =
                crate::lab::plan::plan(&share, &obs, &j, crate::lab::plan::Opts { adopt: false });
        }
    }
}

/// The address, prefix, MAC and route-spec parsers.
pub fn parsers(data: &[u8]) {
    if let Some(p) = crate::wiring::prefix::parse(data) {
        let max = if p.addr.is_some_and(|a| a.is_ipv6()) {
            128
        } else {
            32
        };
        assert!(p.len <= max);
    }
    if let Some(mac) = crate::wiring::link::parse_lladdr(data) {
        assert!(!mac.is_empty());
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(r) = crate::lab::spec::RouteSpec::parse(s) {
            assert!(r.via.is_some() || r.dev.is_some());
            // Its text (what the journal keeps) parses back to the same route.
            let again = crate::lab::spec::RouteSpec::parse(&r.to_string()).ok();
            let same = again.is_some_and(|a| {
                (a.dst.addr, a.dst.len, a.via, &a.dev) == (r.dst.addr, r.dst.len, r.via, &r.dev)
            });
            assert!(same, "{r:?} does not parse back from {r}");
        }
    }
}

/// Netlink dump datagrams, as the kernel would send them: framing, then the decoders that
/// `show` and a lab's observation use.
pub fn netlink(data: &[u8]) {
    use netlink_packet_route::RouteNetlinkMessage;
    let mut out = Vec::new();
    let _ = crate::nl::sync::frames(data, 0, &mut |m, raw| out.push((m, raw)));
    let _ = crate::nl::sync::walk(data, 0, &mut |m| {
        let _ = crate::wiring::show::decode_link(m);
        let _ = crate::lab::observe::link_obs(m);
        let _ = crate::nl::qdisc::parse(m);
        Ok(())
    });
    let mut seen = crate::lab::observe::PlaceObs::default();
    for (m, raw) in out {
        match m {
            RouteNetlinkMessage::NewLink(_) => {
                let _ = raw;
            }
            RouteNetlinkMessage::NewAddress(a) => {
                crate::lab::observe::parse_addrs(vec![a], &mut seen)
            }
            RouteNetlinkMessage::NewRoute(r) => {
                crate::lab::observe::parse_routes(vec![r], &mut seen)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! The fuzz targets' functions on a few thousand inputs from a fixed seed: seeds from
    //! `fuzz/corpus`, mutated (bytes flipped, inserted, removed, spliced).

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut v: Vec<Vec<u8>> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| std::fs::read(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        assert!(!v.is_empty(), "no seeds in {}", dir.display());
        v
    }

    fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut d = seeds[rng.below(seeds.len())].clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(d.len() + 1);
            match rng.below(5) {
                0 if !d.is_empty() => {
                    let i = at.min(d.len() - 1);
                    d[i] ^= 1 << rng.below(8);
                }
                1 => d.insert(at, rng.next() as u8),
                2 if at < d.len() => {
                    d.remove(at);
                }
                3 => {
                    let other = &seeds[rng.below(seeds.len())];
                    let from = rng.below(other.len() + 1);
                    let to = (from + rng.below(32)).min(other.len());
                    d.splice(at..at, other[from..to].iter().copied());
                }
                _ => {
                    let special = [0u8, b'\n', b'\\', b'"', b'\'', b'#', b'/', b'.', 0xff];
                    d.insert(at, special[rng.below(special.len())]);
                }
            }
        }
        d
    }

    fn drive(target: &str, f: fn(&[u8]), n: usize) {
        let seeds = seeds(target);
        let mut rng = Rng(0x6e73_6374_6c21 ^ target.len() as u64);
        for s in &seeds {
            f(s);
        }
        for _ in 0..n {
            f(&mutate(&mut rng, &seeds));
        }
        crate::output::take_captured();
    }

    #[test]
    fn cli() {
        drive("cli", super::cli, 3000);
    }

    #[test]
    fn batch() {
        drive("batch", super::batch, 3000);
    }

    #[test]
    fn lab() {
        drive("lab", super::lab, 3000);
    }

    #[test]
    fn parsers() {
        drive("parsers", super::parsers, 3000);
    }

    #[test]
    fn netlink() {
        drive("netlink", super::netlink, 3000);
    }
}
