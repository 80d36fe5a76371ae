//! New identifiers. Ids are opaque strings on the wire; new ones are UUIDv7, which sort by
//! creation time (so "newest first" and index locality come for free) and need no counter.
#![deny(missing_docs)]

/// A fresh, globally unique id such as `0193b2f4-6a1c-7c3e-9d2b-5f0e4a1b2c3d`.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// True when `text` has the shape of an id this system issued (any UUID, any case).
pub fn looks_like_id(text: &str) -> bool {
    uuid::Uuid::try_parse(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_unique_and_time_ordered() {
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(ids.first() <= ids.last());
    }

    #[test]
    fn issued_ids_are_recognised_and_junk_is_not() {
        assert!(looks_like_id(&new_id()));
        assert!(!looks_like_id("42"));
        assert!(!looks_like_id("not-an-id"));
    }
}
