//! The state one nsctl process carries from command to command (and from batch line to batch
//! line): the global options, the netlink sockets, and ip's nsid cache.

use crate::nl::{Netlink, NlError, Socket};

/// Global options that the netns verbs read.
#[derive(Debug, Default, Clone)]
pub struct Opts {
    pub json: bool,
    pub pretty: bool,
    pub all: bool,
    pub force: bool,
    /// `-br`: one line per link or address list.
    pub brief: bool,
    /// `-4`, `-6`, `-family inet|inet6`.
    pub family: Option<netlink_packet_route::AddressFamily>,
    /// How many times `-s` was given.
    pub stats: u8,
    /// `-h`, `-iec`.
    pub human: bool,
    pub iec: bool,
    /// The first option given that ip's link, addr and route honour and nsctl does not
    /// (`-details`, `-oneline`, ...): refused by those objects.
    pub unimplemented: Option<&'static str>,
}

/// The result of looking up one name's nsid: `None` when the file could not be opened
/// (ip skips those silently), else the kernel's answer.
pub type Lookup = Option<Result<i32, NlError>>;

pub struct Ctx {
    pub opts: Opts,
    /// Inside `-batch`: exec forks, and the main socket has no strict checking (as in ip).
    pub batch: bool,
    nl: Option<Netlink>,
    main: Option<Socket>,
    nsh: Option<Socket>,
    /// A blocking socket for `show`'s dumps (see [`crate::nl::names`] for why not `main`).
    dumper: Option<crate::nl::sync::Dumper>,
    /// ip's name <-> nsid cache (`netns_map_init`), built once per process.
    pub cache: Vec<(Vec<u8>, i32)>,
    pub cache_done: bool,
}

/// Which of ip's two sockets a request goes on.
#[derive(Clone, Copy)]
pub enum Sock {
    /// `rth`: strict checking outside batch mode; dumps and `set`.
    Main,
    /// `rtnsh`: per-name GETNSID and `list-id nsid N`.
    Nsid,
}

impl Ctx {
    pub fn new(opts: Opts) -> Ctx {
        Ctx {
            opts,
            batch: false,
            nl: None,
            main: None,
            nsh: None,
            dumper: None,
            cache: Vec::new(),
            cache_done: false,
        }
    }

    /// The runtime and the requested socket, opened on first use in the current netns.
    pub fn sock(&mut self, which: Sock) -> Result<(&Netlink, &Socket), crate::error::Exit> {
        if self.nl.is_none() {
            match Netlink::new() {
                Ok(nl) => self.nl = Some(nl),
                Err(_) => {
                    crate::output::err(b"Cannot open rtnetlink\n");
                    return Err(crate::error::Exit(1));
                }
            }
        }
        let nl = self.nl.as_ref().expect("runtime was just created");
        let strict = !self.batch;
        let slot = match which {
            Sock::Main => &mut self.main,
            Sock::Nsid => &mut self.nsh,
        };
        if slot.is_none() {
            match nl.open(matches!(which, Sock::Main) && strict) {
                Ok(s) => *slot = Some(s),
                Err(_) => {
                    crate::output::err(b"Cannot open rtnetlink\n");
                    return Err(crate::error::Exit(1));
                }
            }
        }
        Ok((nl, slot.as_ref().expect("socket was just opened")))
    }

    /// The blocking dump socket, opened on first use in the current namespace, with the main
    /// socket's strictness.
    pub fn dumper(&mut self) -> Result<&crate::nl::sync::Dumper, crate::error::Exit> {
        if self.dumper.is_none() {
            match crate::nl::sync::Dumper::open_with(!self.batch) {
                Ok(d) => self.dumper = Some(d),
                Err(_) => {
                    crate::output::err(b"Cannot open rtnetlink\n");
                    return Err(crate::error::Exit(1));
                }
            }
        }
        Ok(self.dumper.as_ref().expect("dumper was just opened"))
    }

    /// Look up the nsid of the namespace file for `name` (no message printed here).
    pub fn lookup(&mut self, name: &[u8]) -> Result<Lookup, crate::error::Exit> {
        let path = crate::netns::lookup_path(name);
        let Ok(file) = crate::netns::open_ns_file(&path, false) else {
            return Ok(None);
        };
        let (nl, sock) = self.sock(Sock::Nsid)?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        Ok(Some(crate::nl::nsid::of_fd(nl, sock, fd)))
    }
}
