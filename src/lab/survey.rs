//! Reading many namespaces at once: each helper thread enters namespaces in turn (setns moves
//! only the calling thread), reads a cookie, sysctls and three dumps over a blocking socket
//! born there, and goes home through /proc/thread-self (in a helper, /proc/self is the main
//! thread's). The main thread never leaves its namespace, and a helper that cannot go home
//! just ends, with an error. No async runtime is involved.

use std::os::fd::{AsFd, OwnedFd};

use nix::sched::{setns, CloneFlags};

use super::observed::{read_place, Families, NsObs, PlaceObs};
use super::places::{netns_cookie_here, open_netns, read_sysctl, thread_home, Fail};

/// One namespace to read.
pub struct Job {
    pub name: String,
    /// Sysctls to read there.
    pub keys: Vec<String>,
    pub fam: Families,
    /// Read its links, addresses and routes (not needed for one about to be deleted).
    pub deep: bool,
}

/// What was found: nothing (no such name), an empty file, or a namespace and its contents.
pub struct Found {
    pub name: String,
    pub ns: Option<NsObs>,
    pub place: Option<PlaceObs>,
}

/// A failure to read namespace `name`'s contents, named by the namespace (the fake
/// machine of observe_fake.rs words its failures the same way).
pub fn in_netns(name: &str, m: &str) -> Fail {
    format!("netns {name}: {m}")
}

fn one(home: &OwnedFd, job: &Job) -> Result<Found, Fail> {
    let name = &job.name;
    let mut found = Found {
        name: name.clone(),
        ns: None,
        place: None,
    };
    match crate::netns::ns_inode(name.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => {
            return Err(format!(
                "cannot open netns \"{name}\": {}",
                crate::error::io_errstr(&e)
            ))
        }
        Ok(None) => {
            found.ns = Some(NsObs::Unbound);
            return Ok(found);
        }
        Ok(Some(_)) => {}
    }
    let fd = open_netns(name)?;
    setns(fd.as_fd(), CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("cannot enter netns \"{name}\": {}", crate::error::errstr(e)))?;
    let dumper = job.deep.then(crate::nl::sync::Dumper::open);
    let cookie = netns_cookie_here();
    let sysctls: Vec<(String, String)> = job
        .keys
        .iter()
        .filter_map(|k| read_sysctl(k).ok().map(|v| (k.clone(), v)))
        .collect();
    setns(home.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| {
        format!(
            "a reader thread cannot return to the original network namespace after entering \"{name}\": {}; nothing was changed",
            crate::error::errstr(e)
        )
    })?;
    let cookie = cookie.map_err(|e| {
        format!(
            "cannot read the cookie of netns \"{name}\": {}",
            crate::error::errstr(e)
        )
    })?;
    found.ns = Some(NsObs::Bound { cookie });
    let mut place = match dumper {
        None => PlaceObs::default(),
        Some(d) => {
            let d = d.map_err(|e| {
                format!(
                    "cannot open a netlink socket in netns \"{name}\": {}",
                    crate::error::io_errstr(&e)
                )
            })?;
            read_place(&d, job.fam).map_err(|m| in_netns(name, &m))?
        }
    };
    place.sysctls = sysctls.into_iter().collect();
    found.place = job.deep.then_some(place);
    Ok(found)
}

fn worker(jobs: &[Job]) -> Result<Vec<Found>, Fail> {
    let home = thread_home()?;
    jobs.iter().map(|j| one(&home, j)).collect()
}

/// Read every job's namespace, on up to four helper threads.
pub fn survey(jobs: Vec<Job>) -> Result<Vec<Found>, Fail> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The work is waiting on the kernel more than computing: a few more threads than cores
    // still help, and more than four do not (measured on a 1,000-namespace lab).
    let n = cpus.clamp(2, 4).min(jobs.len().div_ceil(32)).max(1);
    let size = jobs.len().div_ceil(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(size)
            .map(|chunk| s.spawn(move || worker(chunk)))
            .collect();
        let mut out = Vec::with_capacity(jobs.len());
        for h in handles {
            let part = h
                .join()
                .map_err(|_| "a namespace reader thread failed".to_string())??;
            out.extend(part);
        }
        Ok(out)
    })
}
