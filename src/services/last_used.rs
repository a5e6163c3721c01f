//! `last_used_at` of credentials and sessions, written at most once a minute per
//! row and instance: a hot credential costs one write a minute, not one per
//! request.

use std::time::Duration;

use moka::future::Cache;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{error::Result, state::AppState};

#[derive(Clone)]
pub struct LastUsed {
    recent: Cache<Uuid, ()>,
}

impl Default for LastUsed {
    fn default() -> Self {
        Self::new()
    }
}

impl LastUsed {
    pub fn new() -> Self {
        Self {
            recent: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    /// True at most once a minute per id.
    async fn due(&self, id: Uuid) -> bool {
        let entry = self.recent.entry(id).or_insert(()).await;
        entry.is_fresh()
    }

    /// Sets `column` to now on the row of `E` whose `key` is `id`, when due; the
    /// caller waits for the write.
    pub async fn record<E>(
        &self,
        state: &AppState,
        id: Uuid,
        key: E::Column,
        column: E::Column,
    ) -> Result<()>
    where
        E: EntityTrait,
    {
        if self.due(id).await {
            write::<E>(state, id, key, column).await?;
        }
        Ok(())
    }

    /// [`LastUsed::record`] in the background: the request does not wait, and a
    /// failed write is only a stale timestamp.
    pub async fn record_later<E>(
        &self,
        state: &AppState,
        id: Uuid,
        key: E::Column,
        column: E::Column,
    ) where
        E: EntityTrait,
        E::Column: Send + 'static,
    {
        if self.due(id).await {
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(error) = write::<E>(&state, id, key, column).await {
                    tracing::debug!(%error, "recording last use failed");
                }
            });
        }
    }
}

async fn write<E: EntityTrait>(
    state: &AppState,
    id: Uuid,
    key: E::Column,
    column: E::Column,
) -> Result<()> {
    let txn = state.db.begin_write().await?;
    E::update_many()
        .col_expr(column, Expr::value(state.now()))
        .filter(key.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
