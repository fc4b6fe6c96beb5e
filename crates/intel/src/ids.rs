//! Deterministic STIX ids for what takedown writes itself, so that importing the
//! same IOC twice gives the same object (and the store sees it as unchanged).

use uuid::Uuid;

/// takedown's UUIDv5 namespace.
const NAMESPACE: Uuid = Uuid::from_u128(0x9c0dd17d_3dc2_480f_ac71_9e6eb909995d);

/// `TYPE--UUID` derived from `key`: the bits of UUIDv5(namespace, key), written as
/// a version-4 UUID because STIX 2.1 asks SDOs and SROs for v4 ids (v5 is for
/// observables, whose ids have their own derivation rules).
pub fn stable_id(type_: &str, key: &str) -> String {
    let v5 = Uuid::new_v5(&NAMESPACE, format!("{type_}:{key}").as_bytes());
    format!("{type_}--{}", uuid::Builder::from_random_bytes(v5.into_bytes()).into_uuid())
}

/// A fresh random id for things that happen once (bundles, sightings).
pub fn random_id(type_: &str) -> String {
    format!("{type_}--{}", Uuid::new_v4())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_stable_and_version_4() {
        let a = stable_id("indicator", "x");
        assert_eq!(a, stable_id("indicator", "x"));
        assert_ne!(a, stable_id("indicator", "y"));
        let uuid = Uuid::parse_str(a.trim_start_matches("indicator--")).ok();
        assert_eq!(uuid.map(|u| u.get_version_num()), Some(4));
    }
}
