//! Memory budgets: the linear memory of all live instances together, for
//! the whole process (`--memory-budget-mb`) and optionally per tenant
//! (`memory_budget_mb` in `[tenant.limits]`). An instance reserves from its
//! budgets as its memory grows and gives everything back when its store is
//! dropped; a growth past a budget fails like one past the per-instance cap.
//! The process's budget also counts memory no instance holds ([`Outside`]):
//! the pages the instance pool keeps warm between instances; when they are
//! what stands in a growth's way, they are given back to the kernel first.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Memory a budget counts that no instance holds, and can give back.
pub trait Outside: Send + Sync {
    /// Bytes resident now.
    fn resident(&self) -> usize;
    /// Gives them back to the kernel; how many bytes.
    fn release(&self) -> usize;
}

/// A pool of linear-memory bytes shared by instances.
pub struct Budget {
    /// What this budget is, for the log (e.g. "the process's memory budget").
    pub name: String,
    limit: usize,
    used: AtomicUsize,
    outside: Option<Box<dyn Outside>>,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("name", &self.name)
            .field("limit", &self.limit)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(name: impl Into<String>, limit: usize) -> Arc<Self> {
        Arc::new(Budget {
            name: name.into(),
            limit,
            used: AtomicUsize::new(0),
            outside: None,
        })
    }

    /// A budget of `limit` bytes that counts `outside` too.
    pub fn counting(name: impl Into<String>, limit: usize, outside: Box<dyn Outside>) -> Arc<Self> {
        Arc::new(Budget {
            name: name.into(),
            limit,
            used: AtomicUsize::new(0),
            outside: Some(outside),
        })
    }

    /// The budget's size in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes reserved right now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// Reserves `bytes` if they fit beside what is reserved and what is
    /// resident outside; if only the outside is in the way, that is given
    /// back first.
    fn try_take(&self, bytes: usize) -> bool {
        let fits = |outside: usize| {
            self.used
                .try_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                    let after = used.checked_add(bytes)?;
                    (after.checked_add(outside)? <= self.limit).then_some(after)
                })
                .is_ok()
        };
        match &self.outside {
            None => fits(0),
            Some(outside) => fits(outside.resident()) || (outside.release() > 0 && fits(outside.resident())),
        }
    }

    fn give_back(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }
}

/// What one instance has reserved from its budgets; released on drop.
#[derive(Debug, Default)]
pub struct Reservation {
    budgets: Vec<Arc<Budget>>,
    held: usize,
}

impl Reservation {
    /// A reservation against every one of `budgets`.
    pub fn new(budgets: Vec<Arc<Budget>>) -> Self {
        Reservation { budgets, held: 0 }
    }

    /// Reserves `bytes` more from every budget, or from none; on failure
    /// names the budget that was full.
    pub fn grow(&mut self, bytes: usize) -> Result<(), Arc<Budget>> {
        for (i, budget) in self.budgets.iter().enumerate() {
            if !budget.try_take(bytes) {
                for taken in &self.budgets[..i] {
                    taken.give_back(bytes);
                }
                return Err(budget.clone());
            }
        }
        self.held += bytes;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        for budget in &self.budgets {
            budget.give_back(self.held);
        }
    }
}

/// The default process budget: half the machine's memory (`MemTotal` in
/// /proc/meminfo), or 4 GiB where that cannot be read.
pub fn default_process_budget() -> usize {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024 / 2)
        })
        .unwrap_or(4 << 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_budgets_and_release_on_drop() {
        let process = Budget::new("process", 100);
        let tenant = Budget::new("tenant", 60);
        let mut a = Reservation::new(vec![process.clone(), tenant.clone()]);
        let mut b = Reservation::new(vec![process.clone()]);
        a.grow(50).unwrap();
        assert_eq!(a.grow(20).unwrap_err().name, "tenant");
        assert_eq!(process.used(), 50, "a failed growth takes nothing");
        b.grow(50).unwrap();
        assert_eq!(b.grow(1).unwrap_err().name, "process");
        drop(a);
        assert_eq!((process.used(), tenant.used()), (50, 0));
        drop(b);
        assert_eq!(process.used(), 0);
    }

    /// Pages resident outside: 30 of 100, given back on `release`.
    struct Warm(AtomicUsize);

    impl Outside for Arc<Warm> {
        fn resident(&self) -> usize {
            self.0.load(Ordering::Acquire)
        }
        fn release(&self) -> usize {
            self.0.swap(0, Ordering::AcqRel)
        }
    }

    #[test]
    fn what_is_resident_outside_counts_and_is_given_back_when_in_the_way() {
        let warm = Arc::new(Warm(AtomicUsize::new(30)));
        let process = Budget::counting("process", 100, Box::new(warm.clone()));
        let mut a = Reservation::new(vec![process.clone()]);
        a.grow(60).unwrap();
        assert_eq!(warm.resident(), 30, "60 + 30 fit: nothing given back");
        a.grow(20).unwrap();
        assert_eq!(warm.resident(), 0, "60 + 20 + 30 did not fit: the warm pages went");
        assert_eq!(a.grow(30).unwrap_err().name, "process");
        warm.0.store(20, Ordering::Release);
        drop(a);
        let mut b = Reservation::new(vec![process.clone()]);
        assert!(b.grow(80).is_ok(), "20 warm + 80 fit");
        assert!(b.grow(1).is_ok(), "the warm pages go for it");
        assert_eq!(warm.resident(), 0);
        assert_eq!(b.grow(20).unwrap_err().name, "process");
    }
}
