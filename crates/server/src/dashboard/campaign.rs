//! The campaign list and a campaign's page: its action queue, notices, pictures,
//! timeline and audit trail.

use super::layout::{page, path_segment};
use super::pictures::{accounts_svg, host_edges, host_graph_svg, AccountCluster};
use super::session::{take_flash, LoggedIn, Session};
use crate::rest::{campaign_audit, visible_campaign, visible_campaigns, visible_findings};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use takedown_model::{Action, ActionKind, ActionState, Subject};
use takedown_store::{kind_str, subject_key, Role};

pub(super) async fn campaign_list(State(state): State<AppState>, LoggedIn(s): LoggedIn) -> Response {
    let org = s.principal.org.clone();
    let rows = state
        .with(move |store| {
            let access = store.access(&org)?;
            let mut rows = Vec::new();
            for (c, owner) in visible_campaigns(store, &access)? {
                // Proposed actions the viewer may see: what waits for an approver.
                let waiting = store
                    .actions(&c.name)?
                    .iter()
                    .filter(|a| a.action.state == ActionState::Proposed)
                    .filter(|a| access.campaign_item(&c.id, owner.as_deref(), &a.action.id, c.tlp))
                    .count();
                rows.push((c, owner, waiting));
            }
            Ok(rows)
        })
        .await;
    match rows {
        Ok(rows) => {
            let body = html! {
                h2 { "Campaigns" }
                table id="campaigns" {
                    tr { th { "name" } th { "TLP" } th { "owner" } th { "created" } th { "waiting for approval" } }
                    @for (c, owner, waiting) in &rows {
                        tr {
                            td { a href={ "/ui/campaigns/" (path_segment(&c.name)) } { (c.name) } }
                            td class="tlp" { "TLP:" (c.tlp.as_str().to_uppercase()) }
                            td { (owner.as_deref().unwrap_or("-")) }
                            td { (c.created.format("%Y-%m-%d %H:%M")) }
                            td {
                                @match waiting {
                                    0 => { "—" }
                                    n => { (n) " action(s)" }
                                }
                            }
                        }
                    }
                }
                @if rows.is_empty() {
                    p { "No campaign this organisation may see." }
                }
            };
            page("campaigns", Some(&s), body).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// What the campaign page shows, read in one go under the store's lock.
struct CampaignView {
    campaign: takedown_model::Campaign,
    owner: Option<String>,
    findings: Vec<takedown_model::Finding>,
    actions: Vec<takedown_store::StoredAction>,
    notices: Vec<takedown_store::Notice>,
    audit: Vec<takedown_model::AuditEvent>,
}

pub(super) async fn campaign_page(
    State(state): State<AppState>,
    LoggedIn(s): LoggedIn,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let flash = take_flash(&state, &headers);
    let org = s.principal.org.clone();
    let loaded = state
        .with(move |store| {
            let access = store.access(&org)?;
            let (c, owner) = visible_campaign(store, &access, &name)?;
            let findings = visible_findings(store, &access, &c, owner.as_deref())?;
            // Actions and notices carry the campaign's level: they are its decisions.
            let actions: Vec<_> = store
                .actions(&c.name)?
                .into_iter()
                .filter(|a| access.campaign_item(&c.id, owner.as_deref(), &a.action.id, c.tlp))
                .collect();
            let notices = if access.campaign_item(&c.id, owner.as_deref(), &c.id, c.tlp) {
                store.notices(&c.name)?
            } else {
                Vec::new()
            };
            let audit = campaign_audit(store, &c)?;
            Ok(CampaignView { campaign: c, owner, findings, actions, notices, audit })
        })
        .await;
    let v = match loaded {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let c = &v.campaign;
    let body = html! {
        h2 id="campaign" { (c.name) }
        p {
            "TLP:" (c.tlp.as_str().to_uppercase()) " · owner " (v.owner.as_deref().unwrap_or("-")) " · "
            (c.description.as_deref().unwrap_or(""))
        }
        p class="nav" {
            a href="#actions" { "Actions" } " · " a href="#notices" { "Notices" } " · "
            a href="#accounts" { "Accounts" } " · " a href="#hosts" { "Hosts" } " · "
            a href="#timeline-h" { "Timeline" } " · " a href="#audit-h" { "Audit trail" }
        }
        @if let Some(text) = &flash {
            p class="flash" id="flash" { (text) }
        }
        (action_queue(&s, &v))
        (notices_sent(&v))
        (accounts(&v))
        (hosts(&v))
        (timeline(&v))
        h3 id="audit-h" { "Audit trail" }
        table id="audit" {
            tr { th { "#" } th { "when" } th { "who" } th { "verb" } th { "object" } th { "hash" } }
            @for e in &v.audit {
                tr {
                    td { (e.seq) }
                    td { (e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) }
                    td { (e.actor) }
                    td { (e.verb) }
                    td { (e.object) }
                    td { code { (&e.hash[..e.hash.len().min(12)]) } }
                }
            }
        }
    };
    page(&c.name, Some(&s), body).into_response()
}

/// The action queue: one row per action, with an Approve button on proposed ones
/// for an approver of the owner organisation, and an Abandon form (with a reason) on
/// ones a run left running. A destructive action the viewer proposed shows the
/// two-person rule instead of a button.
fn action_queue(s: &Session, v: &CampaignView) -> Markup {
    let p = &s.principal;
    let may_approve = p.role.allows(Role::Approver) && v.owner.as_deref() == Some(p.org.as_str());
    html! {
        h3 id="actions" { "Action queue" }
        @if v.actions.is_empty() {
            p { "No actions proposed yet (" code { "takedown plan --campaign NAME" } " proposes them)." }
        } @else {
            @if !may_approve {
                p class="note" {
                    @if p.role.allows(Role::Approver) {
                        "only " (v.owner.as_deref().unwrap_or("its owner"))
                        " (the owner) approves this campaign's actions"
                    } @else {
                        "your role (" (p.role) ") may not approve; an approver or admin may"
                    }
                }
            }
            table id="action-queue" {
                tr {
                    th { "kind" } th { "target" } th { "state" } th { "proposed by" } th { "approved by" }
                    th { "why" } th {}
                }
                @for stored in &v.actions {
                    (action_row(s, v, may_approve, &stored.action))
                }
            }
        }
    }
}

/// One action of the queue, with the form (or the note) that fits it.
fn action_row(s: &Session, v: &CampaignView, may_approve: bool, a: &Action) -> Markup {
    let mut reason: String = a.reason.chars().take(100).collect();
    if reason.len() < a.reason.len() {
        reason.push('…');
    }
    // File paths may be long enough to need breaking; addresses never.
    let target_class = if matches!(a.target, Subject::File { .. }) { "path" } else { "t" };
    let campaign = path_segment(&v.campaign.name);
    let id = path_segment(&a.id);
    html! {
        tr id=(a.id) {
            td {
                (kind_str(a.kind))
                @if a.kind.is_destructive() {
                    " " span class="destructive" title="needs two people" { "⚠" }
                }
            }
            td { code class=(target_class) { (subject_key(&a.target)) } }
            td { span class={ "st st-" (a.state.as_str()) } { (a.state.as_str()) } }
            td { (a.proposed_by) }
            td { (a.approved_by.as_deref().unwrap_or("—")) }
            td class="why" { (reason) }
            td {
                @if a.state == ActionState::Running && may_approve {
                    // A run that died leaves it here; only a person can say the run is over.
                    form method="post" action={ "/ui/campaigns/" (campaign) "/actions/" (id) "/abandon" } {
                        input type="hidden" name="csrf" value=(s.csrf);
                        input name="reason" required placeholder="why: the run that took it stopped" size="28";
                        " "
                        button class="abandon" data-action=(a.id) { "Abandon" }
                    }
                } @else if a.state == ActionState::Proposed && may_approve {
                    @if a.kind.is_destructive() && a.proposed_by == s.principal.user {
                        span class="note" {
                            "two-person rule: you proposed this destructive action; another approver must approve it"
                        }
                    } @else {
                        form method="post" action={ "/ui/campaigns/" (campaign) "/actions/" (id) "/approve" } {
                            input type="hidden" name="csrf" value=(s.csrf);
                            button class="approve" data-action=(a.id) data-kind=(kind_str(a.kind)) { "Approve" }
                        }
                    }
                }
            }
        }
    }
}

/// Notices: the notify actions, with what their delivery recorded.
fn notices_sent(v: &CampaignView) -> Markup {
    let notify: Vec<_> = v.actions.iter().filter(|a| a.action.kind == ActionKind::Notify).collect();
    // Notices sent outside a notify action (takedown run of an older plan).
    let unplanned = v.notices.iter().filter(|n| {
        !notify.iter().any(|a| {
            n.action_id.as_deref() == Some(a.action.id.as_str())
                || matches!(&a.action.target, Subject::Person { id, .. } if *id == n.person)
        })
    });
    html! {
        h3 id="notices" { "Notices" }
        @if notify.is_empty() && v.notices.is_empty() {
            p {
                "No notices planned (people reached by the fakes get one: "
                code { "takedown accounts exposure" } ")."
            }
        } @else {
            table id="notices-table" {
                tr {
                    th { "person" } th { "e-mail" } th { "action" } th { "notice" } th { "attempts" }
                    th { "message id / last answer" }
                }
                @for stored in &notify {
                    @let a = &stored.action;
                    @let (person, email) = match &a.target {
                        Subject::Person { id, email } => (id.clone(), email.clone().unwrap_or_default()),
                        other => (subject_key(other), String::new()),
                    };
                    @let n = v.notices.iter()
                        .find(|n| n.action_id.as_deref() == Some(a.id.as_str()) || n.person == person);
                    @let answer = n.and_then(|n| n.message_id.as_deref().or(n.last_result.as_deref()));
                    tr {
                        td { (person) }
                        td { (email) }
                        td { span class={ "st st-" (a.state.as_str()) } { (a.state.as_str()) } }
                        td { (n.map_or("not sent", |n| n.state.as_str())) }
                        td { (n.map_or(0, |n| n.attempts)) }
                        td { code { (answer.unwrap_or("")) } }
                    }
                }
                @for n in unplanned {
                    tr {
                        td { (n.person) }
                        td { (n.email) }
                        td { "—" }
                        td { (n.state) }
                        td { (n.attempts) }
                        td { code { (n.message_id.as_deref().or(n.last_result.as_deref()).unwrap_or("")) } }
                    }
                }
            }
        }
    }
}

/// The cluster of suspicious accounts, when account findings were filed.
fn accounts(v: &CampaignView) -> Markup {
    let cluster = AccountCluster::from_findings(&v.findings);
    html! {
        h3 id="accounts" { "Suspicious accounts around the known fakes" }
        @if cluster.is_empty() {
            p {
                "No account findings in this campaign (" code { "takedown accounts rank --campaign" } " files them)."
            }
        } @else {
            p {
                (cluster.seeds.len()) " known fake(s), " (cluster.ranked.len()) " ranked account(s), "
                (cluster.exposed.len()) " person(s) reached. Hover a node for its rank and score."
            }
            (accounts_svg(&cluster))
        }
    }
}

/// Attacker → victim, when capture findings were filed.
fn hosts(v: &CampaignView) -> Markup {
    let edges = host_edges(&v.findings);
    html! {
        h3 id="hosts" { "Hosts (attacker → victim, from captures)" }
        @if edges.is_empty() {
            p { "No capture findings in this campaign." }
        } @else {
            (host_graph_svg(&edges))
        }
    }
}

/// Up to this many timeline entries are shown unfolded.
const TIMELINE_OPEN: usize = 40;

/// Findings and audit events together, oldest first.
fn timeline(v: &CampaignView) -> Markup {
    let c = &v.campaign;
    let mut rows: Vec<(String, String, String)> = v
        .findings
        .iter()
        .map(|f| {
            let level = f.tlp.unwrap_or(c.tlp).as_str().to_uppercase();
            (
                f.observed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                format!("finding · {}", f.detector),
                format!("{} (TLP:{level})", f.summary),
            )
        })
        .collect();
    rows.extend(v.audit.iter().map(|e| {
        (
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            format!("audit · {}", e.verb),
            format!("{} by {}", e.object, e.actor),
        )
    }));
    rows.sort();
    // A long timeline is folded (no script: a details element) so that the audit
    // trail below stays in reach.
    html! {
        h3 id="timeline-h" { "Timeline" }
        details open[rows.len() <= TIMELINE_OPEN] {
            summary { (rows.len()) " entries: findings and audit events, oldest first" }
            table id="timeline" {
                tr { th { "when" } th { "what" } th { "detail" } }
                @for (at, what, detail) in &rows {
                    tr { td { (at) } td { (what) } td { (detail) } }
                }
            }
        }
    }
}
