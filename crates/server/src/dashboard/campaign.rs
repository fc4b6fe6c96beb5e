//! The campaign list and a campaign's page: its action queue, notices, pictures,
//! timeline and audit trail.

use super::layout::{esc, page, seg};
use super::pictures::{accounts_svg, host_edges, host_graph_svg, AccountCluster};
use super::session::{take_flash, LoggedIn, Session};
use crate::rest::{campaign_audit, visible_campaign, visible_campaigns, visible_findings};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use takedown_model::{ActionKind, ActionState, Subject};
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
            let mut body = String::from(
                "<h2>Campaigns</h2><table id=campaigns><tr><th>name<th>TLP<th>owner<th>created<th>waiting for approval</tr>",
            );
            for (c, owner, waiting) in &rows {
                let _ = write!(
                    body,
                    "<tr><td><a href=\"/ui/campaigns/{}\">{}</a><td class=tlp>TLP:{}<td>{}<td>{}<td>{}</tr>",
                    seg(&c.name),
                    esc(&c.name),
                    c.tlp.as_str().to_uppercase(),
                    esc(owner.as_deref().unwrap_or("-")),
                    c.created.format("%Y-%m-%d %H:%M"),
                    match waiting {
                        0 => "—".to_string(),
                        n => format!("{n} action(s)"),
                    }
                );
            }
            body.push_str("</table>");
            if rows.is_empty() {
                body.push_str("<p>No campaign this organisation may see.</p>");
            }
            page("campaigns", Some(&s), &body).into_response()
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
    let mut body = format!(
        "<h2 id=campaign>{}</h2><p>TLP:{} · owner {} · {}</p>\
         <p class=nav><a href=#actions>Actions</a> · <a href=#notices>Notices</a> · <a href=#accounts>Accounts</a> · \
         <a href=#hosts>Hosts</a> · <a href=#timeline-h>Timeline</a> · <a href=#audit-h>Audit trail</a></p>",
        esc(&c.name),
        c.tlp.as_str().to_uppercase(),
        esc(v.owner.as_deref().unwrap_or("-")),
        esc(c.description.as_deref().unwrap_or(""))
    );
    if let Some(text) = flash {
        let _ = write!(body, "<p class=flash id=flash>{}</p>", esc(&text));
    }
    action_queue(&mut body, &s, &v);
    notices_sent(&mut body, &v);
    body.push_str("<h3 id=accounts>Suspicious accounts around the known fakes</h3>");
    let cluster = AccountCluster::from_findings(&v.findings);
    if cluster.is_empty() {
        body.push_str(
            "<p>No account findings in this campaign (<code>takedown accounts rank --campaign</code> files them).</p>",
        );
    } else {
        let _ = write!(
            body,
            "<p>{} known fake(s), {} ranked account(s), {} person(s) reached. Hover a node for its rank and score.</p>",
            cluster.seeds.len(),
            cluster.ranked.len(),
            cluster.exposed.len()
        );
        body.push_str(&accounts_svg(&cluster));
    }
    body.push_str("<h3 id=hosts>Hosts (attacker → victim, from captures)</h3>");
    let edges = host_edges(&v.findings);
    if edges.is_empty() {
        body.push_str("<p>No capture findings in this campaign.</p>");
    } else {
        body.push_str(&host_graph_svg(&edges));
    }
    timeline(&mut body, &v);
    body.push_str(
        "<h3 id=audit-h>Audit trail</h3><table id=audit><tr><th>#<th>when<th>who<th>verb<th>object<th>hash</tr>",
    );
    for e in &v.audit {
        let _ = write!(
            body,
            "<tr><td>{}<td>{}<td>{}<td>{}<td>{}<td><code>{}</code></tr>",
            e.seq,
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            esc(&e.actor),
            esc(&e.verb),
            esc(&e.object),
            esc(&e.hash[..e.hash.len().min(12)])
        );
    }
    body.push_str("</table>");
    page(&c.name, Some(&s), &body).into_response()
}

/// The action queue: one row per action, with an Approve button on proposed ones
/// for an approver of the owner organisation, and an Abandon form (with a reason) on
/// ones a run left running. A destructive action the viewer proposed shows the
/// two-person rule instead of a button.
fn action_queue(body: &mut String, s: &Session, v: &CampaignView) {
    let p = &s.principal;
    let may_approve = p.role.allows(Role::Approver) && v.owner.as_deref() == Some(p.org.as_str());
    body.push_str("<h3 id=actions>Action queue</h3>");
    if v.actions.is_empty() {
        body.push_str("<p>No actions proposed yet (<code>takedown plan --campaign NAME</code> proposes them).</p>");
        return;
    }
    if !may_approve {
        let why = if p.role.allows(Role::Approver) {
            format!("only {} (the owner) approves this campaign's actions", v.owner.as_deref().unwrap_or("its owner"))
        } else {
            format!("your role ({}) may not approve; an approver or admin may", p.role)
        };
        let _ = write!(body, "<p class=note>{}</p>", esc(&why));
    }
    body.push_str(
        "<table id=action-queue><tr><th>kind<th>target<th>state<th>proposed by<th>approved by<th>why<th></tr>",
    );
    for stored in &v.actions {
        let a = &stored.action;
        let button = if a.state == ActionState::Running && may_approve {
            // A run that died leaves it here; only a person can say the run is over.
            format!(
                "<form method=post action=\"/ui/campaigns/{}/actions/{}/abandon\"><input type=hidden name=csrf value=\"{}\">\
                 <input name=reason required placeholder=\"why: the run that took it stopped\" size=28> \
                 <button class=abandon data-action=\"{}\">Abandon</button></form>",
                seg(&v.campaign.name),
                seg(&a.id),
                esc(&s.csrf),
                esc(&a.id)
            )
        } else if a.state != ActionState::Proposed || !may_approve {
            String::new()
        } else if a.kind.is_destructive() && a.proposed_by == p.user {
            "<span class=note>two-person rule: you proposed this destructive action; another approver must approve it</span>"
                .to_string()
        } else {
            format!(
                "<form method=post action=\"/ui/campaigns/{}/actions/{}/approve\"><input type=hidden name=csrf value=\"{}\">\
                 <button class=approve data-action=\"{}\" data-kind=\"{}\">Approve</button></form>",
                seg(&v.campaign.name),
                seg(&a.id),
                esc(&s.csrf),
                esc(&a.id),
                kind_str(a.kind)
            )
        };
        let mut reason: String = a.reason.chars().take(100).collect();
        if reason.len() < a.reason.len() {
            reason.push('…');
        }
        let _ = write!(
            body,
            "<tr id=\"{}\"><td>{}{}<td><code class={}>{}</code><td><span class=\"st st-{}\">{}</span><td>{}<td>{}<td class=why>{}<td>{}</tr>",
            esc(&a.id),
            kind_str(a.kind),
            if a.kind.is_destructive() { " <span class=destructive title=\"needs two people\">⚠</span>" } else { "" },
            // File paths may be long enough to need breaking; addresses never.
            if matches!(a.target, Subject::File { .. }) { "path" } else { "t" },
            esc(&subject_key(&a.target)),
            a.state.as_str(),
            a.state.as_str(),
            esc(&a.proposed_by),
            esc(a.approved_by.as_deref().unwrap_or("—")),
            esc(&reason),
            button
        );
    }
    body.push_str("</table>");
}

/// Notices: the notify actions, with what their delivery recorded.
fn notices_sent(body: &mut String, v: &CampaignView) {
    body.push_str("<h3 id=notices>Notices</h3>");
    let notify: Vec<_> = v.actions.iter().filter(|a| a.action.kind == ActionKind::Notify).collect();
    if notify.is_empty() && v.notices.is_empty() {
        body.push_str(
            "<p>No notices planned (people reached by the fakes get one: <code>takedown accounts exposure</code>).</p>",
        );
        return;
    }
    body.push_str(
        "<table id=notices-table><tr><th>person<th>e-mail<th>action<th>notice<th>attempts<th>message id / last answer</tr>",
    );
    for stored in &notify {
        let a = &stored.action;
        let (person, email) = match &a.target {
            Subject::Person { id, email } => (id.clone(), email.clone().unwrap_or_default()),
            other => (subject_key(other), String::new()),
        };
        let n = v.notices.iter().find(|n| n.action_id.as_deref() == Some(a.id.as_str()) || n.person == person);
        let _ = write!(
            body,
            "<tr><td>{}<td>{}<td><span class=\"st st-{}\">{}</span><td>{}<td>{}<td><code>{}</code></tr>",
            esc(&person),
            esc(&email),
            a.state.as_str(),
            a.state.as_str(),
            esc(n.map_or("not sent", |n| n.state.as_str())),
            n.map_or(0, |n| n.attempts),
            esc(n.and_then(|n| n.message_id.as_deref().or(n.last_result.as_deref())).unwrap_or(""))
        );
    }
    // Notices sent outside a notify action (takedown run of an older plan).
    for n in v.notices.iter().filter(|n| {
        !notify.iter().any(|a| {
            n.action_id.as_deref() == Some(a.action.id.as_str())
                || matches!(&a.action.target, Subject::Person { id, .. } if *id == n.person)
        })
    }) {
        let _ = write!(
            body,
            "<tr><td>{}<td>{}<td>—<td>{}<td>{}<td><code>{}</code></tr>",
            esc(&n.person),
            esc(&n.email),
            esc(&n.state),
            n.attempts,
            esc(n.message_id.as_deref().or(n.last_result.as_deref()).unwrap_or(""))
        );
    }
    body.push_str("</table>");
}

/// Up to this many timeline entries are shown unfolded.
const TIMELINE_OPEN: usize = 40;

/// Findings and audit events together, oldest first.
fn timeline(body: &mut String, v: &CampaignView) {
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
    let _ = write!(
        body,
        "<h3 id=timeline-h>Timeline</h3><details{}><summary>{} entries: findings and audit events, oldest first</summary>\
         <table id=timeline><tr><th>when<th>what<th>detail</tr>",
        if rows.len() <= TIMELINE_OPEN { " open" } else { "" },
        rows.len()
    );
    for (at, what, detail) in &rows {
        let _ = write!(body, "<tr><td>{}<td>{}<td>{}</tr>", esc(at), esc(what), esc(detail));
    }
    body.push_str("</table></details>");
}
