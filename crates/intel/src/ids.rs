//! Deterministic STIX ids for what takedown writes itself, so that importing the
//! same IOC twice gives the same object (and the store sees it as unchanged).

use uuid::Uuid;

/// takedown's UUIDv5 namespace.
const NAMESPACE: Uuid = Uuid::from_u128(0x9c0dd17d_3dc2_480f_ac71_9e6eb909995d);

/// `TYPE--UUIDv5(namespace, key)`.
pub fn stable_id(type_: &str, key: &str) -> String {
    format!("{type_}--{}", Uuid::new_v5(&NAMESPACE, format!("{type_}:{key}").as_bytes()))
}

/// A fresh random id for things that happen once (bundles, sightings).
pub fn random_id(type_: &str) -> String {
    format!("{type_}--{}", Uuid::new_v4())
}
