//! `stats`: the admin console's dashboard figures for one app (root key, the app's
//! key, or a principal with `audit.read`).

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use super::{ContextExt, guards::Authenticated};
use crate::services::stats;

/// Sign-ins of one UTC day.
#[derive(SimpleObject)]
pub struct DayStats {
    /// `YYYY-MM-DD` (UTC).
    pub day: NaiveDate,
    /// Successful sign-ins (`user.signed_in`).
    pub sign_ins: u64,
    /// Refused sign-ins (`user.signin_failed`).
    pub failed_sign_ins: u64,
}

/// Tokens issued by one grant.
#[derive(SimpleObject)]
pub struct GrantStats {
    /// `sign_in`, `refresh_token`, `authorization_code` or `client_credentials`.
    pub grant: String,
    pub count: u64,
}

/// Webhook deliveries created in the range, by outcome.
#[derive(SimpleObject)]
pub struct WebhookStats {
    pub succeeded: u64,
    pub failed: u64,
    pub pending: u64,
    /// Succeeded over finished (succeeded + failed); null when none finished.
    pub success_rate: Option<f64>,
}

/// An app's activity over a time range.
#[derive(SimpleObject)]
pub struct Stats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every day of the range, oldest first, days without sign-ins included.
    pub days: Vec<DayStats>,
    /// Every grant, zeros included.
    pub tokens_issued: Vec<GrantStats>,
    pub webhooks: WebhookStats,
    /// Sessions neither revoked nor expired now.
    pub active_sessions: u64,
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// The app's activity in `[from, to)`: by default the last 30 days; at most 366.
    #[graphql(guard = "Authenticated")]
    async fn stats(
        &self,
        ctx: &Context<'_>,
        app: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Stats> {
        let access = super::app_access(ctx, app.as_deref()).await?;
        let found = stats::stats(ctx.state(), &access, from, to).await?;
        Ok(Stats {
            from: found.from,
            to: found.to,
            webhooks: WebhookStats {
                succeeded: found.webhooks_succeeded,
                failed: found.webhooks_failed,
                pending: found.webhooks_pending,
                success_rate: found.webhook_success_rate(),
            },
            active_sessions: found.active_sessions,
            days: found
                .days
                .into_iter()
                .map(|d| DayStats {
                    day: d.day,
                    sign_ins: d.sign_ins,
                    failed_sign_ins: d.failed_sign_ins,
                })
                .collect(),
            tokens_issued: found
                .tokens_issued
                .into_iter()
                .map(|(grant, count)| GrantStats {
                    grant: grant.to_owned(),
                    count,
                })
                .collect(),
        })
    }
}
