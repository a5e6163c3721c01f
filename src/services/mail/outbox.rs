//! The mail outbox: a rendered mail is sealed into `mail_outbox` in the caller's
//! transaction, with its delivery state (attempts, next attempt, last error).

use chrono::Duration;
use entity::mail_outbox;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use uuid::Uuid;

use super::{MailDraft, MailKind};
use crate::{
    db,
    error::{Error, Result},
    state::AppState,
};

/// Delivery attempts before a mail is abandoned.
pub const MAX_ATTEMPTS: i32 = 6;

pub const STATUS_PENDING: &str = "pending";
pub const STATUS_SENT: &str = "sent";
pub const STATUS_FAILED: &str = "failed";

/// Seconds to wait before attempt `attempt + 1`: 30 s, 1, 2, 4, 8 min (… bounded).
pub fn backoff(attempt: i32) -> Duration {
    let exponent = attempt.clamp(1, 10) - 1;
    Duration::seconds(30 * (1_i64 << exponent)).min(Duration::hours(1))
}

/// The associated data a mail's payload is sealed with.
pub fn aad(id: Uuid) -> String {
    format!("heimdall/mail/{id}")
}

/// Renders `mail` with the configured templates and queues it in the caller's
/// transaction. Call [`super::MailService::wake`] after the commit. Does nothing
/// when SMTP is not configured.
pub async fn enqueue(
    conn: &impl ConnectionTrait,
    state: &AppState,
    app_id: Uuid,
    kind: MailKind,
    user_id: Option<Uuid>,
    mail: &MailDraft,
) -> Result<Option<Uuid>> {
    if !state.mail.enabled() {
        return Ok(None);
    }
    let mail = mail.render(&state.templates).map_err(Error::internal)?;
    let id = db::new_id();
    let plaintext = serde_json::to_vec(&mail).map_err(Error::internal)?;
    let now = state.now();
    mail_outbox::ActiveModel {
        id: Set(id),
        app_id: Set(app_id),
        kind: Set(kind.as_str().to_owned()),
        user_id: Set(user_id),
        payload: Set(state.vault.seal(&plaintext, &aad(id))?),
        status: Set(STATUS_PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(50), Duration::hours(1));
    }
}
