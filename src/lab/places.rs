//! Working inside a lab's namespaces from one thread: netlink sockets opened inside a
//! namespace (setns there, open, setns home: a socket stays where it was born), namespace
//! fds for veth peers, and sysctls read and written from inside.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use nix::sched::{setns, CloneFlags};

use crate::nl::{Netlink, Socket};

/// The namespace nsctl started in, and the runtime all sockets share.
pub struct Places {
    pub nl: Netlink,
    home: OwnedFd,
    host: Socket,
}

/// A failure in nsctl's own words: what failed and why.
pub type Fail = String;

impl Places {
    pub fn new() -> Result<Places, Fail> {
        let home: OwnedFd = File::open("/proc/thread-self/ns/net")
            .map_err(|e| {
                format!(
                    "cannot open this thread's network namespace: {}",
                    crate::error::io_errstr(&e)
                )
            })?
            .into();
        let nl = Netlink::new().map_err(|e| {
            format!(
                "cannot start the netlink runtime: {}",
                crate::error::io_errstr(&e)
            )
        })?;
        let host = nl.open(true).map_err(|e| {
            format!(
                "cannot open a netlink socket: {}",
                crate::error::io_errstr(&e)
            )
        })?;
        Ok(Places { nl, home, host })
    }

    pub fn host(&self) -> &Socket {
        &self.host
    }

    /// Run `f` with this thread inside netns `name`, then come back.
    pub fn inside<T>(&self, name: &str, f: impl FnOnce() -> T) -> Result<T, Fail> {
        let fd = open_netns(name)?;
        setns(fd.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("cannot enter netns \"{name}\": {}", crate::error::errstr(e)))?;
        let out = f();
        if let Err(e) = setns(self.home.as_fd(), CloneFlags::CLONE_NEWNET) {
            // Every later step (and any rollback) would act on the wrong namespace: stop here.
            let m = format!(
                "nsctl: cannot return to the original network namespace after entering \"{name}\": {}; stopping; run the command again to converge\n",
                crate::error::errstr(e)
            );
            crate::output::err(m.as_bytes());
            std::process::exit(1);
        }
        Ok(out)
    }

    /// A netlink socket that lives in netns `name` (None: the host's).
    pub fn socket(&self, at: &Option<String>) -> Result<Option<Socket>, Fail> {
        match at {
            None => Ok(None),
            Some(n) => {
                let s = self.inside(n, || self.nl.open(true))?;
                s.map(Some).map_err(|e| {
                    format!(
                        "cannot open a netlink socket in netns \"{n}\": {}",
                        crate::error::io_errstr(&e)
                    )
                })
            }
        }
    }

    /// The kernel's cookie for netns `name` (SO_NETNS_COOKIE, Linux 5.14+): a 64-bit number no
    /// other namespace is ever given, unlike its inode, which the kernel hands out again once
    /// a namespace is freed. Ok(None) on a kernel without it.
    pub fn netns_cookie(&self, name: &str) -> Result<Option<u64>, Fail> {
        self.inside(name, netns_cookie_here)?.map_err(|e| {
            format!(
                "cannot read the cookie of netns \"{name}\": {}",
                crate::error::errstr(e)
            )
        })
    }

    /// The cookie of what is behind the name `name` now: Ok(None) when there is no namespace
    /// there to mistake (no such name, or the empty file of an interrupted add) or the kernel
    /// has no cookies; an error when it cannot be told.
    pub fn cookie_now(&self, name: &str) -> Result<Option<u64>, Fail> {
        match crate::netns::ns_inode(name.as_bytes()) {
            Ok(Some(_)) => self.netns_cookie(name),
            Ok(None) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "cannot open netns \"{name}\": {}",
                crate::error::io_errstr(&e)
            )),
        }
    }

    /// A netlink socket inside netns `name`, and that namespace's cookie, from one visit.
    pub fn socket_and_cookie(&self, name: &str) -> Result<(Socket, Option<u64>), Fail> {
        let (s, c) = self.inside(name, || (self.nl.open(true), netns_cookie_here()))?;
        let s = s.map_err(|e| {
            format!(
                "cannot open a netlink socket in netns \"{name}\": {}",
                crate::error::io_errstr(&e)
            )
        })?;
        Ok((s, c.ok().flatten()))
    }

    /// Read a sysctl (`net.ipv4.ip_forward`) as seen from `at`.
    pub fn sysctl_get(&self, at: &Option<String>, key: &str) -> Result<String, Fail> {
        let path = sysctl_path(key);
        let read = || std::fs::read_to_string(&path).map(|s| s.trim().to_string());
        let r = match at {
            None => read(),
            Some(n) => self.inside(n, read)?,
        };
        r.map_err(|e| format!("cannot read sysctl {key}: {}", crate::error::io_errstr(&e)))
    }

    pub fn sysctl_set(&self, at: &Option<String>, key: &str, value: &str) -> Result<(), Fail> {
        let path = sysctl_path(key);
        let write = || std::fs::write(&path, value);
        let r = match at {
            None => write(),
            Some(n) => self.inside(n, write)?,
        };
        r.map_err(|e| {
            format!(
                "cannot set sysctl {key}={value}: {}",
                crate::error::io_errstr(&e)
            )
        })
    }
}

/// The cookie of the calling thread's network namespace, read from a throw-away socket.
fn netns_cookie_here() -> Result<Option<u64>, nix::errno::Errno> {
    use nix::errno::Errno;
    // SAFETY: socket() takes no pointers; the fd it returns is owned below.
    let fd = Errno::result(unsafe {
        libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)
    })?;
    // SAFETY: `fd` was just returned by socket() and is owned by nothing else.
    let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut cookie: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `cookie`, which has that size.
    let rc = unsafe {
        libc::getsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            libc::SOL_SOCKET,
            libc::SO_NETNS_COOKIE,
            (&mut cookie as *mut u64).cast(),
            &mut len,
        )
    };
    match Errno::result(rc) {
        Ok(_) => Ok(Some(cookie)),
        Err(Errno::ENOPROTOOPT) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn sysctl_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// An fd for /run/netns/NAME.
pub fn open_netns(name: &str) -> Result<OwnedFd, Fail> {
    let path = crate::netns::run_path(name.as_bytes());
    File::open(std::ffi::OsStr::from_bytes(&path))
        .map(Into::into)
        .map_err(|e| {
            format!(
                "cannot open netns \"{name}\": {}",
                crate::error::io_errstr(&e)
            )
        })
}
