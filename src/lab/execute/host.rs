//! The host's actions: sysctls held in the shared register (`shares.rs`), under its lock,
//! and the NAT table.

use super::{io, Exec};
use crate::lab::journal::Owned;
use crate::lab::places::Fail;
use crate::lab::shares::{self, Take};

impl Exec<'_> {
    pub(super) fn remove_nat(&mut self) -> Result<(), Fail> {
        let lab = &self.lab.name;
        self.k.nat_remove(lab)?;
        self.j.forget(&Owned::NftTable {
            family: "ip".into(),
            name: crate::lab::nat::table_name(lab),
        });
        Ok(())
    }

    pub(super) fn release(&mut self, key: &str) -> Result<(), Fail> {
        let lab = self.lab.name.clone();
        let _g = self.k.shares_lock().map_err(io)?;
        let mut s = self.k.shares_load().map_err(io)?;
        let restore = if s.contains_key(key) {
            shares::release(&mut s, &lab, key)
        } else {
            // A host sysctl journaled before the register knew it: this lab's own old value.
            self.j.objects.iter().find_map(|o| match o {
                Owned::Sysctl {
                    netns: None,
                    key: k,
                    old,
                } if k == key => Some(old.clone()),
                _ => None,
            })
        };
        self.k.shares_save(&s).map_err(io)?;
        if let Some(old) = restore {
            self.k.sysctl_set(&None, key, &old)?;
        }
        self.forget_sysctl(&None, key);
        Ok(())
    }

    pub(super) fn hold(&mut self, key: &str, value: &str, write: bool) -> Result<(), Fail> {
        let lab = self.lab.name.clone();
        let _g = self.k.shares_lock().map_err(io)?;
        let mut s = self.k.shares_load().map_err(io)?;
        let now = self.k.sysctl_get(&None, key)?;
        if let Take::Conflict { value: v, labs } = shares::take(&s, &lab, key, value, Some(&now)) {
            return Err(format!(
                "host sysctl {key} is held at {v} by lab {}, and this lab wants {value}",
                labs.join(", ")
            ));
        }
        shares::hold(&mut s, &lab, key, value, &now);
        // The register knows the old value before the new one is written.
        self.k.shares_save(&s).map_err(io)?;
        if write || now != value {
            self.k.sysctl_set(&None, key, value)?;
        }
        Ok(())
    }
}
