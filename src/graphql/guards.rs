//! Field guards. They call the same guard functions as the REST handlers; app-scoped
//! checks run in the resolver through `auth::guard`, which needs the app argument.

use async_graphql::{Context, Guard, Result};

use super::ContextExt;
use crate::auth::guard;

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
        guard::require_root(ctx.principal()?)?;
        Ok(())
    }
}
