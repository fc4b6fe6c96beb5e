//! Blocklists a DNS server or an IDS takes: an RPZ zone (BIND, Unbound), a hosts
//! file, Suricata rules.
//!
//! The WannaCry kill-switch domains are never blocked: the worm stops when they
//! resolve and answer, so a block (NXDOMAIN) re-arms it. They get a sinkhole answer
//! instead, with the reason beside it.

use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The kill-switch domains of WannaCry and its first variants.
pub const KILL_SWITCH_DOMAINS: &[&str] = &[
    "ayylmaotjhsstasdfasdfasdfasdfasdfasdfasdf.com",
    "ifferfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "iuqssfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
    "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
];

/// Where kill-switch names point by default: an address the organisation runs a
/// web server on, so the worm's check succeeds. RFC 5737 TEST-NET until set.
pub const DEFAULT_SINKHOLE: &str = "192.0.2.1";

/// One thing to block.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Blocked {
    Domain(String),
    Ip(std::net::IpAddr),
}

impl Blocked {
    /// A domain or an address; None for anything that is neither.
    pub fn parse(value: &str) -> Option<Blocked> {
        let v = value.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Ok(ip) = v.parse() {
            return Some(Blocked::Ip(ip));
        }
        let ok = !v.is_empty()
            && v.len() <= 253
            && v.contains('.')
            && v.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && !l.starts_with('-')
            });
        ok.then_some(Blocked::Domain(v))
    }
}

pub fn is_kill_switch(domain: &str) -> bool {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    KILL_SWITCH_DOMAINS.iter().any(|k| *k == d || d.ends_with(&format!(".{k}")))
}

/// The set to export, sorted and without repeats.
#[derive(Debug, Clone, Default)]
pub struct Blocklist {
    pub items: BTreeSet<Blocked>,
    pub sinkhole: Option<std::net::Ipv4Addr>,
}

impl Blocklist {
    fn sinkhole(&self) -> String {
        self.sinkhole.map_or(DEFAULT_SINKHOLE.to_string(), |s| s.to_string())
    }

    fn domains(&self) -> impl Iterator<Item = &str> {
        self.items.iter().filter_map(|b| match b {
            Blocked::Domain(d) => Some(d.as_str()),
            Blocked::Ip(_) => None,
        })
    }

    fn ips(&self) -> impl Iterator<Item = &std::net::IpAddr> {
        self.items.iter().filter_map(|b| match b {
            Blocked::Ip(ip) => Some(ip),
            Blocked::Domain(_) => None,
        })
    }

    /// A response policy zone. `serial` should grow with each export.
    pub fn rpz(&self, origin: &str, serial: u32) -> String {
        let origin = origin.trim_end_matches('.');
        let mut z = String::new();
        let _ = writeln!(z, "; takedown blocklist as a response policy zone (RPZ) for BIND / Unbound");
        let _ = writeln!(z, "$TTL 300");
        let _ = writeln!(z, "$ORIGIN {origin}.");
        let _ = writeln!(z, "@ IN SOA localhost. hostmaster.localhost. ( {serial} 3600 600 86400 300 )");
        let _ = writeln!(z, "@ IN NS localhost.");
        for d in self.domains() {
            if is_kill_switch(d) {
                let _ = writeln!(
                    z,
                    "; {d}: WannaCry kill switch, never blocked (NXDOMAIN re-arms the worm); sinkholed so that it resolves"
                );
                let _ = writeln!(z, "{d} IN A {}", self.sinkhole());
            } else {
                let _ = writeln!(z, "{d} IN CNAME .");
                let _ = writeln!(z, "*.{d} IN CNAME .");
            }
        }
        for ip in self.ips() {
            // rpz-ip triggers: the address reversed, prefixed with its length.
            let owner = match ip {
                std::net::IpAddr::V4(v4) => {
                    let o = v4.octets();
                    format!("32.{}.{}.{}.{}.rpz-ip", o[3], o[2], o[1], o[0])
                }
                std::net::IpAddr::V6(v6) => {
                    let groups: Vec<String> = v6.segments().iter().rev().map(|s| format!("{s:x}")).collect();
                    format!("128.{}.rpz-ip", groups.join("."))
                }
            };
            let _ = writeln!(z, "{owner} IN CNAME .");
        }
        z
    }

    /// A hosts file: blocked names to 0.0.0.0, kill-switch names to the sinkhole.
    pub fn hosts(&self) -> String {
        let mut h = String::from("# takedown blocklist (hosts format)\n");
        for d in self.domains() {
            if is_kill_switch(d) {
                let _ = writeln!(h, "# {d}: WannaCry kill switch, never blocked; it must resolve and answer");
                let _ = writeln!(h, "{} {d}", self.sinkhole());
            } else {
                let _ = writeln!(h, "0.0.0.0 {d}");
            }
        }
        h
    }

    /// Suricata rules: DNS queries for blocked names and traffic to blocked
    /// addresses are dropped; kill-switch lookups are only alerted on (an infected
    /// host is asking), never dropped.
    pub fn suricata(&self, first_sid: u32) -> String {
        let mut r = String::from("# takedown blocklist as Suricata rules\n");
        let mut sid = first_sid;
        for d in self.domains() {
            if is_kill_switch(d) {
                let _ = writeln!(r, "# {d}: WannaCry kill switch, never dropped (blocking re-arms the worm)");
                let _ = writeln!(
                    r,
                    "alert dns any any -> any any (msg:\"takedown WannaCry kill-switch lookup {d}\"; dns.query; content:\"{d}\"; nocase; endswith; sid:{sid}; rev:1;)"
                );
            } else {
                let _ = writeln!(
                    r,
                    "drop dns any any -> any any (msg:\"takedown blocked domain {d}\"; dns.query; content:\"{d}\"; nocase; endswith; sid:{sid}; rev:1;)"
                );
            }
            sid += 1;
        }
        for ip in self.ips() {
            let _ =
                writeln!(r, "drop ip any any -> {ip} any (msg:\"takedown blocked address {ip}\"; sid:{sid}; rev:1;)");
            sid += 1;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Blocklist {
        let mut b = Blocklist::default();
        for v in ["evil.example", "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com", "203.0.113.9"] {
            b.items.insert(Blocked::parse(v).expect("valid"));
        }
        b
    }

    #[test]
    fn kill_switch_is_sinkholed_never_blocked() {
        let z = list().rpz("rpz.takedown", 1);
        assert!(z.contains("www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com IN A 192.0.2.1"));
        assert!(!z.contains("iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com IN CNAME ."));
        assert!(z.contains("evil.example IN CNAME ."));
        assert!(z.contains("32.9.113.0.203.rpz-ip IN CNAME ."));
        let h = list().hosts();
        assert!(h.contains("0.0.0.0 evil.example") && h.contains("192.0.2.1 www.iuqerfsodp9"));
        let s = list().suricata(9_000_000);
        assert!(s.contains("alert dns") && s.contains("drop ip any any -> 203.0.113.9"));
        assert!(!s.contains("drop dns any any -> any any (msg:\"takedown blocked domain www.iuqerf"));
    }

    #[test]
    fn bad_values_are_not_blocked() {
        assert!(Blocked::parse("not a domain").is_none());
        assert!(Blocked::parse("localhost").is_none());
        assert!(Blocked::parse("a\nb.com").is_none());
    }
}
