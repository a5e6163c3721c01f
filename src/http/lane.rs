//! The two REST lanes over one set of handlers. The admin lane
//! (`/v1/apps/{app}/…`) takes a root key or the app's key; the consumer-API admin
//! lane (`/{slug}/v1/…`) also takes the app's end users and machine clients, as far
//! as their permissions go. Both paths start with the app, so a handler generic over
//! the lane serves both; the guard admits principals by [`Lane::LANE`] and the
//! services check permissions.

use crate::{services::guard, state::AppState};

pub trait Lane: Send + Sync + 'static {
    /// Who the guard admits on this lane.
    const LANE: guard::Lane;

    /// The path prefix of this lane's resources of `app`, for `_links`.
    fn base(state: &AppState, app: &entity::app::Model) -> String;

    /// Where OAuth clients live below [`Lane::base`].
    const OAUTH_CLIENTS: &'static str;
}

/// `/v1/apps/{app}/…`: root key or the app's key.
pub struct AdminLane;

impl Lane for AdminLane {
    const LANE: guard::Lane = guard::Lane::Admin;

    fn base(state: &AppState, app: &entity::app::Model) -> String {
        format!("{}/v1/apps/{}", state.config.base_path, app.name)
    }

    const OAUTH_CLIENTS: &'static str = "oauth-clients";
}

/// `/{slug}/v1/…`: any principal of the app with the permissions.
pub struct ConsumerLane;

impl Lane for ConsumerLane {
    const LANE: guard::Lane = guard::Lane::Consumer;

    fn base(state: &AppState, app: &entity::app::Model) -> String {
        format!("{}/{}/v1", state.config.base_path, app.name)
    }

    const OAUTH_CLIENTS: &'static str = "oauth/clients";
}
