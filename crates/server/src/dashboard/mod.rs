//! The dashboard: server-rendered HTML, no script. Log in with an API token (a
//! session cookie follows); forms carry a CSRF token. Every page reads through the
//! same TLP rule as REST and TAXII. Pages and pictures are maud templates: every
//! value from the store is escaped as it is written.

mod campaign;
mod forms;
mod layout;
mod pictures;
mod session;

pub(crate) use layout::STYLE;
pub use session::Sessions;

use crate::AppState;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use campaign::{campaign_list, campaign_page};
use forms::{abandon, approve, login, login_form, logout};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/", get(campaign_list))
        .route("/ui/campaigns/{name}", get(campaign_page))
        .route("/ui/campaigns/{name}/actions/{id}/approve", post(approve))
        .route("/ui/campaigns/{name}/actions/{id}/abandon", post(abandon))
        .layer(axum::middleware::map_response(crate::headers::dashboard))
}
