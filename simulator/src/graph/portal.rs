//! The Azure portal's "Grant admin consent" API at `main.iam.ad.ext.azure.com`, which
//! `az ad app permission admin-consent` calls (with a token for the portal's own app,
//! `74658136-…`) instead of Graph: `POST /api/RegisteredApplications/{appId}/Consent?onBehalfOfAll=true`.
//! The consent itself is the directory's (`Directory::admin_consent`); refusals use Graph's
//! error body. No public recording shows this API's answer body: clients only look for a
//! success status, and the simulator answers 204.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::error::GraphError;
use crate::router::Sim;
use crate::directory::Caller as Principal;
use crate::directory::well_known::AAD_PORTAL;
use crate::login::caller::{BearerError, Caller, FromToken};
use crate::login::tokens::AccessClaims;

/// Who asked, from a token for the portal's app.
pub struct PortalCaller(Principal);

impl FromToken for PortalCaller {
    const AUDIENCES: &'static [&'static str] = &[AAD_PORTAL];
    type Rejection = GraphError;

    fn reject(e: BearerError) -> GraphError {
        super::model::GraphCaller::reject(e)
    }

    fn internal() -> GraphError {
        super::model::GraphCaller::internal()
    }

    fn from_claims(claims: AccessClaims) -> Self {
        let is_app = claims.idtyp.as_deref() == Some("app");
        PortalCaller(Principal { tenant_id: claims.tid, object_id: claims.oid, is_app })
    }
}

pub(crate) fn routes() -> Router {
    Router::new().route("/api/RegisteredApplications/{app_id}/Consent", post(consent))
}

async fn consent(Sim(s): Sim, Path(app_id): Path<String>, Query(q): Query<HashMap<String, String>>, Caller(caller): Caller<PortalCaller>) -> Result<Response, GraphError> {
    if !q.get("onBehalfOfAll").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(GraphError::new(StatusCode::BAD_REQUEST, "Request_BadRequest", "Only tenant-wide consent (onBehalfOfAll=true) is granted here; consent for one user is given at sign-in."));
    }
    let now = s.clock.now_ms();
    let mut w = s.world();
    let w = &mut *w;
    w.directory.admin_consent(&mut w.ids, &caller.0, &app_id, now)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
