//! The `jti` replay cache (client assertions of RFC 7523), shared by every instance
//! through the database: the first use of a `jti` claims it until the JWT expires.

use chrono::{DateTime, Utc};
use entity::oauth_jti;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};

use crate::{crypto, error::Result, state::AppState};

/// Claims `jti` for `purpose` and `issuer` until `expires_at`. `false`: a replay.
pub async fn claim(
    state: &AppState,
    purpose: &str,
    issuer: &str,
    jti: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool> {
    let key = crypto::sha256_hex(format!("{purpose}\n{issuer}\n{jti}").as_bytes());
    let now = state.now();
    let txn = state.db.begin_write().await?;
    // An expired claim of the same key no longer counts; once in a while every
    // expired row goes.
    let sweep_all = crypto::random_bytes(1).is_ok_and(|b| b[0] < 4);
    let mut sweep = oauth_jti::Entity::delete_many().filter(oauth_jti::Column::ExpiresAt.lte(now));
    if !sweep_all {
        sweep = sweep.filter(oauth_jti::Column::Key.eq(key.clone()));
    }
    sweep.exec(&txn).await?;
    let inserted = oauth_jti::Entity::insert(oauth_jti::ActiveModel {
        key: Set(key),
        expires_at: Set(expires_at),
    })
    .on_conflict(
        OnConflict::column(oauth_jti::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(inserted == 1)
}
