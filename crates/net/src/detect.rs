//! The detectors that look at one SMB connection: the MS17-010 probe and its
//! answer, EternalBlue, EternalRomance, EternalChampion and DoublePulsar. They
//! keep a little state per connection (trees, open transactions, requests that
//! wait for an answer), all of it bounded.

use crate::smb1::{self, Message};
use crate::smb2::{self, Smb2};
use crate::verdict::{Evidence, Hosts, Role};
use std::collections::BTreeMap;

/// Tables looked up on every SMB message: foldhash, not SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::net::IpAddr;

/// Requests waiting for an answer, trees and transactions remembered per
/// connection; beyond this the oldest knowledge is dropped.
pub const MAX_TRACKED_PER_CONNECTION: usize = 1024;
/// NT Transact data beyond what a 16-bit Trans2 count can describe: the
/// EternalBlue FEA list is sent this way, to be continued by Trans2 Secondary.
pub const EB_MIN_NT_TRANS_TOTAL_DATA: u32 = 0x1_0000;
/// DoublePulsar answers with the request's Multiplex ID plus this.
pub const DOUBLEPULSAR_MID_DELTA: u16 = 0x10;

/// Where evidence goes and what names it.
#[derive(Debug)]
pub struct Sink<'a> {
    pub file: &'a str,
    pub hosts: &'a mut Hosts,
}

impl Sink<'_> {
    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        host: IpAddr,
        role: Option<Role>,
        detector: &str,
        summary: String,
        packets: Vec<u64>,
        peer: IpAddr,
        fields: &[(&str, String)],
    ) {
        self.hosts.add(
            host,
            Evidence {
                role,
                detector: detector.to_string(),
                summary,
                file: self.file.to_string(),
                packets,
                peer: Some(peer),
                fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>(),
            },
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    Trans,
    Trans2,
    NtTrans,
}

#[derive(Debug, Clone, Copy)]
struct OpenTrans {
    packet: u64,
    complete: bool,
}

/// A bounded map: when full, it is emptied (old requests rarely get answers).
fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, k: K, v: V) {
    if map.len() >= MAX_TRACKED_PER_CONNECTION {
        map.clear();
    }
    map.insert(k, v);
}

/// State of one SMB connection.
#[derive(Debug)]
pub struct SmbConnection {
    client: IpAddr,
    server: IpAddr,
    /// Share names by TID, and Tree Connect requests by MID.
    trees: HashMap<u16, String>,
    tree_requests: HashMap<u16, String>,
    /// PeekNamedPipe FID 0 probes by MID.
    probes: HashMap<u16, u64>,
    /// DoublePulsar requests by MID: packet, opcode.
    doublepulsar: HashMap<u16, (u64, u8)>,
    transactions: HashMap<(u16, u16, Family), OpenTrans>,
    /// EternalBlue continuations already reported on this connection.
    eb_secondaries: u64,
    eb_seen: bool,
    eb_answer_reported: bool,
    /// Out-of-bounds secondaries already reported on this connection.
    oob_reported: u64,
    pub smb1_messages: u64,
    pub smb2_messages: u64,
}

impl SmbConnection {
    pub fn new(client: IpAddr, server: IpAddr) -> Self {
        SmbConnection {
            client,
            server,
            trees: HashMap::default(),
            tree_requests: HashMap::default(),
            probes: HashMap::default(),
            doublepulsar: HashMap::default(),
            transactions: HashMap::default(),
            eb_secondaries: 0,
            eb_seen: false,
            eb_answer_reported: false,
            oob_reported: 0,
            smb1_messages: 0,
            smb2_messages: 0,
        }
    }

    /// One SMB message (the body of a NetBIOS session message).
    pub fn message(&mut self, from_client: bool, body: &[u8], packet: u64, sink: &mut Sink<'_>) {
        if let Some(m) = smb1::parse(body) {
            if self.smb1_messages == 0 && self.smb2_messages == 0 {
                sink.hosts.seen(self.client);
                sink.hosts.seen(self.server);
            }
            self.smb1_messages += 1;
            if from_client {
                self.request(&m, packet, sink);
            } else {
                self.reply(&m, packet, sink);
            }
        } else if let Some(m) = smb2::parse(body) {
            if self.smb1_messages == 0 && self.smb2_messages == 0 {
                sink.hosts.seen(self.client);
                sink.hosts.seen(self.server);
            }
            self.smb2_messages += 1;
            if let Smb2::NegotiateResponse { dialect } = m {
                let name = smb2::dialect_name(dialect);
                sink.report(
                    self.server,
                    None,
                    "smb_dialect",
                    format!("speaks SMB {name}"),
                    vec![packet],
                    self.client,
                    &[("dialect", name.clone())],
                );
            }
        }
    }

    fn share(&self, tid: u16) -> Option<&str> {
        self.trees.get(&tid).map(String::as_str)
    }

    fn request(&mut self, m: &Message<'_>, packet: u64, sink: &mut Sink<'_>) {
        let h = m.header;
        match h.command {
            smb1::COM_NEGOTIATE => {}
            smb1::COM_TREE_CONNECT_ANDX => {
                if let Some(path) = smb1::tree_connect_path(m) {
                    bounded_insert(&mut self.tree_requests, h.mid, smb1::share_name(&path));
                }
            }
            smb1::COM_TRANSACTION => {
                let Some(t) = smb1::trans_request(m) else { return };
                let share = self.share(h.tid).map(str::to_string);
                // The MS17-010 check: PeekNamedPipe on FID 0 of IPC$. An unpatched
                // server answers STATUS_INSUFF_SERVER_RESOURCES (FID 0 is never
                // valid; the patched code says so).
                let on_ipc = share.as_deref().is_none_or(|s| s == "IPC$");
                if t.setup.first() == Some(&smb1::TRANS_PEEK_NMPIPE) && t.setup.get(1) == Some(&0) && on_ipc {
                    bounded_insert(&mut self.probes, h.mid, packet);
                    sink.report(
                        self.client,
                        Some(Role::Attacker),
                        "ms17_010_probe",
                        "sent the MS17-010 check: PeekNamedPipe on FID 0 of IPC$".into(),
                        vec![packet],
                        self.server,
                        &[
                            ("command", "SMB_COM_TRANSACTION".into()),
                            ("subcommand", "TRANS_PEEK_NMPIPE (0x0023)".into()),
                            ("fid", "0".into()),
                            ("share", share.unwrap_or_else(|| "unknown (tree connect not in capture)".into())),
                            ("mid", h.mid.to_string()),
                        ],
                    );
                }
                self.open(h.tid, h.mid, Family::Trans, packet, t.complete());
            }
            smb1::COM_TRANSACTION2 => {
                let Some(t) = smb1::trans_request(m) else { return };
                if t.setup.first() == Some(&smb1::TRANS2_SESSION_SETUP) {
                    let op = smb1::doublepulsar_opcode(t.timeout);
                    bounded_insert(&mut self.doublepulsar, h.mid, (packet, op));
                    let name = smb1::doublepulsar_opcode_name(op);
                    sink.report(
                        self.client,
                        Some(Role::Attacker),
                        "doublepulsar_command",
                        format!("sent a DoublePulsar {name} (Trans2 SESSION_SETUP)"),
                        vec![packet],
                        self.server,
                        &[
                            ("subcommand", "TRANS2_SESSION_SETUP (0x000e)".into()),
                            ("timeout", format!("0x{:08x}", t.timeout)),
                            ("opcode", format!("0x{op:02x} ({name})")),
                            ("mid", h.mid.to_string()),
                        ],
                    );
                }
                self.open(h.tid, h.mid, Family::Trans2, packet, t.complete());
            }
            smb1::COM_NT_TRANSACT => {
                let Some(t) = smb1::nt_trans_request(m) else { return };
                if t.total_data >= EB_MIN_NT_TRANS_TOTAL_DATA {
                    self.eb_seen = true;
                    let fields = [
                        ("command", "SMB_COM_NT_TRANSACT".to_string()),
                        ("total_data_count", t.total_data.to_string()),
                        ("data_count", t.data_count.to_string()),
                        ("function", t.function.to_string()),
                        ("mid", h.mid.to_string()),
                    ];
                    let summary =
                        format!("NT Transact with {} bytes of total data (EternalBlue FEA list)", t.total_data);
                    sink.report(
                        self.client,
                        Some(Role::Attacker),
                        "eternalblue",
                        format!("sent {summary}"),
                        vec![packet],
                        self.server,
                        &fields,
                    );
                    sink.report(
                        self.server,
                        Some(Role::Exploited),
                        "eternalblue",
                        format!("received {summary}"),
                        vec![packet],
                        self.client,
                        &fields,
                    );
                }
                self.open(h.tid, h.mid, Family::NtTrans, packet, t.complete());
            }
            smb1::COM_TRANSACTION2_SECONDARY => {
                let Some(s) = smb1::secondary_request(m) else { return };
                let own = self.transactions.contains_key(&(h.tid, h.mid, Family::Trans2));
                let nt = self.transactions.get(&(h.tid, h.mid, Family::NtTrans)).copied();
                // EternalBlue's bug: an NT Transact continued by Trans2 Secondary
                // requests, so the server sizes the FEA list with a 16-bit count.
                if let (false, Some(nt)) = (own, nt) {
                    self.eb_secondaries += 1;
                    if self.eb_secondaries == 1 {
                        let fields = [
                            ("command", "SMB_COM_TRANSACTION2_SECONDARY".to_string()),
                            ("continues", format!("SMB_COM_NT_TRANSACT in packet {}", nt.packet)),
                            ("data_count", s.data_count.to_string()),
                            ("data_displacement", s.data_displacement.to_string()),
                            ("mid", h.mid.to_string()),
                        ];
                        let summary = "Trans2 Secondary continuing an NT Transact (EternalBlue)".to_string();
                        sink.report(
                            self.client,
                            Some(Role::Attacker),
                            "eternalblue",
                            format!("sent {summary}"),
                            vec![nt.packet, packet],
                            self.server,
                            &fields,
                        );
                        sink.report(
                            self.server,
                            Some(Role::Exploited),
                            "eternalblue",
                            format!("received {summary}"),
                            vec![nt.packet, packet],
                            self.client,
                            &fields,
                        );
                    }
                } else if !own && s.out_of_bounds() {
                    // The NT Transact may be before the start of the capture.
                    self.out_of_bounds("eternalblue", "Trans2 Secondary", &s, h.mid, packet, sink);
                }
            }
            smb1::COM_TRANSACTION_SECONDARY | smb1::COM_NT_TRANSACT_SECONDARY => {
                let Some(s) = smb1::secondary_request(m) else { return };
                let family = if h.command == smb1::COM_TRANSACTION_SECONDARY { Family::Trans } else { Family::NtTrans };
                let primary = self.transactions.get(&(h.tid, h.mid, family)).copied();
                let what = if family == Family::Trans { "Trans Secondary" } else { "NT Trans Secondary" };
                match primary {
                    // A secondary for a transaction that was complete already, or
                    // that raced its primary in the same packet: EternalChampion.
                    Some(p) if p.complete || p.packet == packet => {
                        self.out_of_bounds("eternalchampion", what, &s, h.mid, packet, sink)
                    }
                    _ if s.out_of_bounds() => self.out_of_bounds("eternalromance", what, &s, h.mid, packet, sink),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, tid: u16, mid: u16, family: Family, packet: u64, complete: bool) {
        bounded_insert(&mut self.transactions, (tid, mid, family), OpenTrans { packet, complete });
    }

    fn out_of_bounds(
        &mut self,
        detector: &str,
        what: &str,
        s: &smb1::SecondaryRequest,
        mid: u16,
        packet: u64,
        sink: &mut Sink<'_>,
    ) {
        self.oob_reported += 1;
        if self.oob_reported > 4 {
            return;
        }
        let fields = [
            ("command", what.to_string()),
            ("total_data_count", s.total_data.to_string()),
            ("data_count", s.data_count.to_string()),
            ("data_displacement", s.data_displacement.to_string()),
            ("total_parameter_count", s.total_param.to_string()),
            ("parameter_count", s.param_count.to_string()),
            ("parameter_displacement", s.param_displacement.to_string()),
            ("mid", mid.to_string()),
        ];
        let summary = if detector == "eternalchampion" {
            format!("{what} for a transaction already complete or sent in the same packet (race)")
        } else {
            format!(
                "{what} writing outside its transaction (data {}+{} of {})",
                s.data_displacement, s.data_count, s.total_data
            )
        };
        sink.report(
            self.client,
            Some(Role::Attacker),
            detector,
            format!("sent {summary}"),
            vec![packet],
            self.server,
            &fields,
        );
        sink.report(
            self.server,
            Some(Role::Exploited),
            detector,
            format!("received {summary}"),
            vec![packet],
            self.client,
            &fields,
        );
    }

    fn reply(&mut self, m: &Message<'_>, packet: u64, sink: &mut Sink<'_>) {
        let h = m.header;
        match h.command {
            smb1::COM_NEGOTIATE if h.status == smb1::STATUS_SUCCESS => {
                sink.report(
                    self.server,
                    None,
                    "smb_dialect",
                    "speaks SMB1".into(),
                    vec![packet],
                    self.client,
                    &[("dialect", "SMB1 (NT LM 0.12)".into())],
                );
            }
            smb1::COM_TREE_CONNECT_ANDX => {
                if let Some(share) = self.tree_requests.remove(&h.mid) {
                    if h.status == smb1::STATUS_SUCCESS {
                        if self.trees.len() >= MAX_TRACKED_PER_CONNECTION {
                            self.trees.clear();
                        }
                        self.trees.insert(h.tid, share);
                    }
                }
            }
            smb1::COM_TRANSACTION => {
                let Some(probe) = self.probes.remove(&h.mid) else { return };
                let fields = [("status", smb1::status_name(h.status)), ("mid", h.mid.to_string())];
                let (role, summary) = match h.status {
                    smb1::STATUS_INSUFF_SERVER_RESOURCES => (
                        Role::Vulnerable,
                        "answered the MS17-010 check as an unpatched system (STATUS_INSUFF_SERVER_RESOURCES)",
                    ),
                    smb1::STATUS_INVALID_HANDLE | smb1::STATUS_ACCESS_DENIED => {
                        (Role::Patched, "answered the MS17-010 check as a patched system")
                    }
                    _ => return,
                };
                sink.report(
                    self.server,
                    Some(role),
                    "ms17_010_probe",
                    summary.into(),
                    vec![probe, packet],
                    self.client,
                    &fields,
                );
            }
            smb1::COM_TRANSACTION2 => {
                let wanted = h.mid.wrapping_sub(DOUBLEPULSAR_MID_DELTA);
                if h.status == smb1::STATUS_NOT_IMPLEMENTED {
                    if let Some((req, op)) = self.doublepulsar.remove(&wanted) {
                        let fields = [
                            ("status", smb1::status_name(h.status)),
                            ("request_mid", wanted.to_string()),
                            ("reply_mid", format!("{} (0x{:x})", h.mid, h.mid)),
                            ("opcode", format!("0x{op:02x} ({})", smb1::doublepulsar_opcode_name(op))),
                            ("signature", h.signature.iter().map(|b| format!("{b:02x}")).collect()),
                        ];
                        sink.report(
                            self.server,
                            Some(Role::Implanted),
                            "doublepulsar_reply",
                            format!(
                                "answered DoublePulsar with Multiplex ID {} = request + 0x10: the implant is installed",
                                h.mid
                            ),
                            vec![req, packet],
                            self.client,
                            &fields,
                        );
                        return;
                    }
                }
                self.doublepulsar.remove(&h.mid);
            }
            _ => {}
        }
        if self.eb_seen && h.status == smb1::STATUS_INVALID_PARAMETER && !self.eb_answer_reported {
            // The overflowed FEA list makes the server fail the request: the
            // exploit reached the vulnerable code.
            self.eb_answer_reported = true;
            sink.report(
                self.server,
                Some(Role::Exploited),
                "eternalblue",
                "answered the EternalBlue transaction with STATUS_INVALID_PARAMETER".into(),
                vec![packet],
                self.client,
                &[("status", smb1::status_name(h.status)), ("mid", h.mid.to_string())],
            );
        }
    }
}
