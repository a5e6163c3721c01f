//! Field guards: authentication, and root-only fields. App-scoped capabilities are
//! granted in the resolver (`services::guard` needs the app argument) and the
//! services check permissions.

use async_graphql::{Context, Guard, Result};

use super::ContextExt;
use crate::services::guard;

/// Any authenticated principal.
pub struct Authenticated;

impl Guard for Authenticated {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        ctx.principal()?;
        Ok(())
    }
}

/// A root key.
pub struct RootOnly;

impl Guard for RootOnly {
    async fn check(&self, ctx: &Context<'_>) -> Result<()> {
        guard::root(ctx.principal()?)?;
        Ok(())
    }
}
