//! The two REST lanes over one set of handlers. The admin lane
//! (`/v1/apps/{app}/…`) takes a root key or the app's key; the consumer-API admin
//! lane (`/{slug}/v1/…`) also takes the app's end users and machine clients, as far
//! as their permissions go. Both paths start with the app, so a handler generic over
//! the lane serves both.

use std::future::Future;

use uuid::Uuid;

use crate::{
    auth::{AppAdmin, Principal, guard},
    error::{Error, Result},
    state::AppState,
};

pub trait Lane: Send + Sync + 'static {
    /// The capability for `required` permissions in the app named by the path.
    fn access(
        state: &AppState,
        principal: &Principal,
        app_ref: &str,
        required: &[&str],
        tenant: Option<Uuid>,
    ) -> impl Future<Output = Result<AppAdmin>> + Send;

    /// The path prefix of this lane's resources of `app`, for `_links`.
    fn base(state: &AppState, app: &entity::app::Model) -> String;

    /// Where OAuth clients live below [`Lane::base`].
    const OAUTH_CLIENTS: &'static str;
}

/// `/v1/apps/{app}/…`: root key or the app's key.
pub struct AdminLane;

impl Lane for AdminLane {
    async fn access(
        state: &AppState,
        principal: &Principal,
        app_ref: &str,
        _required: &[&str],
        _tenant: Option<Uuid>,
    ) -> Result<AppAdmin> {
        guard::app_admin(state, principal, app_ref).await
    }

    fn base(state: &AppState, app: &entity::app::Model) -> String {
        format!("{}/v1/apps/{}", state.config.base_path, app.name)
    }

    const OAUTH_CLIENTS: &'static str = "oauth-clients";
}

/// `/{slug}/v1/…`: any principal of the app with the permissions.
pub struct ConsumerLane;

impl Lane for ConsumerLane {
    async fn access(
        state: &AppState,
        principal: &Principal,
        slug: &str,
        required: &[&str],
        tenant: Option<Uuid>,
    ) -> Result<AppAdmin> {
        let app = state
            .apps
            .by_name(slug)
            .await?
            .ok_or_else(|| Error::not_found(format!("app '{slug}' not found")))?;
        guard::consumer_access(state, principal, app, required, tenant).await
    }

    fn base(state: &AppState, app: &entity::app::Model) -> String {
        format!("{}/{}/v1", state.config.base_path, app.name)
    }

    const OAUTH_CLIENTS: &'static str = "oauth/clients";
}
