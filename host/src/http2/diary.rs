//! The push diary: what one connection's client already has, so it is not
//! pushed again (as h2o's and Apache's `H2PushDiarySize`).
//!
//! A path goes in when the host promises it, or when the client requests it
//! (GET or HEAD) on the connection. The diary holds at most `capacity`
//! entries and forgets the oldest first.

use std::collections::{HashSet, VecDeque};

/// Paths (with their authority) pushed or requested on one connection.
#[derive(Debug)]
pub struct PushDiary {
    capacity: usize,
    order: VecDeque<Box<str>>,
    seen: HashSet<Box<str>>,
}

impl PushDiary {
    /// A diary of at most `capacity` entries; zero records nothing.
    pub fn new(capacity: usize) -> Self {
        PushDiary {
            capacity,
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    fn key(authority: &str, path: &str) -> Box<str> {
        let mut key = String::with_capacity(authority.len() + path.len());
        key.push_str(&authority.to_ascii_lowercase());
        key.push_str(path);
        key.into()
    }

    /// Records `path` on `authority`; `false` if it was already there (the
    /// client has it: do not push it).
    pub fn insert(&mut self, authority: &str, path: &str) -> bool {
        if self.capacity == 0 {
            return true;
        }
        let key = Self::key(authority, path);
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.order.push_back(key.clone());
        self.seen.insert(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_recorded_once_per_authority() {
        let mut d = PushDiary::new(4);
        assert!(d.insert("a.test", "/x"));
        assert!(!d.insert("a.test", "/x"));
        assert!(!d.insert("A.TEST", "/x"), "authorities are case-insensitive");
        assert!(d.insert("b.test", "/x"));
        assert!(d.insert("a.test", "/x?v=2"), "the query is part of the path");
    }

    #[test]
    fn the_oldest_entry_is_forgotten_first() {
        let mut d = PushDiary::new(2);
        assert!(d.insert("a", "/1"));
        assert!(d.insert("a", "/2"));
        assert!(d.insert("a", "/3"));
        assert!(d.insert("a", "/1"), "/1 was forgotten");
        assert!(!d.insert("a", "/3"));
    }

    #[test]
    fn capacity_zero_turns_it_off() {
        let mut d = PushDiary::new(0);
        assert!(d.insert("a", "/1"));
        assert!(d.insert("a", "/1"));
    }
}
