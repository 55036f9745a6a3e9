//! Working inside a lab's namespaces from one thread: netlink sockets opened inside a
//! namespace (setns there, open, setns home: a socket stays where it was born), namespace
//! fds for veth peers, and sysctls read and written from inside.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

use nix::sched::{setns, CloneFlags};

use crate::nl::{Netlink, Socket};

/// The namespace nsctl started in, and the runtime all sockets share.
pub struct Places {
    pub nl: Netlink,
    home: OwnedFd,
    host: Socket,
    lost: std::cell::Cell<bool>,
}

const LOST: &str = "stopping before anything else is changed; run the command again to converge";

/// `/proc/sys` path of a key.
pub fn sysctl_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// A sysctl as this thread's namespace sees it.
pub fn read_sysctl(key: &str) -> std::io::Result<String> {
    std::fs::read_to_string(sysctl_path(key)).map(|s| s.trim().to_string())
}

pub use super::error::Fail;

/// The calling thread's own network namespace, to come back to. A helper thread must use
/// /proc/thread-self: /proc/self is the main thread's.
pub fn thread_home() -> Result<OwnedFd, Fail> {
    File::open("/proc/thread-self/ns/net")
        .map(Into::into)
        .map_err(|e| {
            format!(
                "cannot open this thread's network namespace: {}",
                crate::error::io_errstr(&e)
            )
        })
}

impl Places {
    pub fn new() -> Result<Places, Fail> {
        let home = thread_home()?;
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
        Ok(Places {
            nl,
            home,
            host,
            lost: std::cell::Cell::new(false),
        })
    }

    pub fn host(&self) -> &Socket {
        &self.host
    }

    /// Run `f` with this thread inside netns `name`, then come back. If the thread cannot
    /// come back, every later step would act on the wrong namespace: the error says so and
    /// [`Places::lost`] is set, which stops the run at once.
    pub fn inside<T>(&self, name: &str, f: impl FnOnce() -> T) -> Result<T, Fail> {
        if self.lost.get() {
            return Err(LOST.into());
        }
        let fd = open_netns(name)?;
        setns(fd.as_fd(), CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("cannot enter netns \"{name}\": {}", crate::error::errstr(e)))?;
        let out = f();
        if let Err(e) = setns(self.home.as_fd(), CloneFlags::CLONE_NEWNET) {
            self.lost.set(true);
            return Err(format!(
                "cannot return to the original network namespace after entering \"{name}\": {}; {LOST}",
                crate::error::errstr(e)
            ));
        }
        Ok(out)
    }

    /// Whether the thread is stranded in another namespace (see [`Places::inside`]).
    pub fn lost(&self) -> bool {
        self.lost.get()
    }

    /// A netlink socket that lives in netns `name` (None: the host's).
    pub fn socket(&self, at: &Option<String>) -> Result<Socket, Fail> {
        match at {
            None => Ok(self.host.clone()),
            Some(n) => {
                let s = self.inside(n, || self.nl.open(true))?;
                s.map_err(|e| {
                    format!(
                        "cannot open a netlink socket in netns \"{n}\": {}",
                        crate::error::io_errstr(&e)
                    )
                })
            }
        }
    }

    /// Read a sysctl (`net.ipv4.ip_forward`) as seen from `at`.
    pub fn sysctl_get(&self, at: &Option<String>, key: &str) -> Result<String, Fail> {
        let r = match at {
            None => read_sysctl(key),
            Some(n) => self.inside(n, || read_sysctl(key))?,
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
pub fn netns_cookie_here() -> Result<Option<u64>, nix::errno::Errno> {
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

/// An fd for /run/netns/NAME.
pub fn open_netns(name: &str) -> Result<OwnedFd, Fail> {
    let path = crate::netns::run_path(name.as_bytes());
    crate::netns::open_ns_file(&path, false)
        .map(Into::into)
        .map_err(|e| {
            format!(
                "cannot open netns \"{name}\": {}",
                crate::error::io_errstr(&e)
            )
        })
}
