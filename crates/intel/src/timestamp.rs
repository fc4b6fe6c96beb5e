//! STIX timestamps: RFC 3339, UTC, written with a `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses a STIX timestamp. STIX requires UTC with `Z`; an offset is refused.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    if !s.ends_with('Z') && !s.ends_with('z') {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.to_utc())
}

/// Nanosecond precision, fixed width: text order is time order, which the store
/// relies on to pick the newest version.
pub fn sortable(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// What STIX 2.1 writes for `created` and `modified`: milliseconds.
pub fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_utc_z() {
        assert!(parse("2017-05-31T21:32:03.807Z").is_some());
        assert!(parse("2017-05-31T21:32:03Z").is_some());
        assert!(parse("2017-05-31T21:32:03+01:00").is_none());
        assert!(parse("2022-101-27T13:49:54.326Z").is_none());
    }

    #[test]
    fn sortable_orders_like_time() {
        let a = parse("2017-05-31T21:32:03.8Z").map(sortable);
        let b = parse("2017-05-31T21:32:03.807Z").map(sortable);
        assert!(a < b, "{a:?} {b:?}");
        assert_eq!(a.as_deref().map(str::len), b.as_deref().map(str::len));
    }
}
