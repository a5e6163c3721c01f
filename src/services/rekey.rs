//! `heimdall rekey` (docs/src/production.md#re-keying-the-master-key): after a
//! master-key rotation, moves everything the previous keys protect under the current
//! `HEIMDALL_MASTER_KEY`, so that `HEIMDALL_MASTER_KEY_PREVIOUS` can be dropped.
//!
//! - Sealed values (signing keys, provider secrets, webhook secrets, TOTP seeds,
//!   HS256 client secrets, queued mail, federation verifiers, retained hash keys,
//!   pairwise-identifier salts)
//!   are opened and sealed again under the current key, in batches, one
//!   conditional update per row (`WHERE id = … AND column = <the old value>`): a
//!   row changed meanwhile by a running instance is left as that instance wrote it.
//!   Rows already under the current key are skipped, so an interrupted run resumes
//!   where it stopped when started again.
//! - Keyed hashes cannot be recomputed: the secrets they hash are not stored. The
//!   hash sub-key of each previous master key (never the master key itself) is kept
//!   instead, sealed under the current key in `retained_hash_keys`, and every
//!   instance loads those at start (see [`with_retained_hash_keys`]). A leaked
//!   retired master key then opens nothing in the database; the hash sub-key alone
//!   only recognises secrets of 256 random bits.

use chrono::Utc;
use entity::{
    federation_state, identity_provider, mail_outbox, mfa_factor, oauth_client,
    oauth_pairwise_salt, retained_hash_key, signing_key, webhook_endpoint,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use serde::Serialize;

use crate::{
    crypto::vault::{HASH_KEY_PURPOSE, MasterKeys, Vault},
    db::Db,
    error::{Error, Result},
    state::AppState,
};

/// What a run did to one sealed column.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ColumnReport {
    pub column: String,
    /// Sealed again under the current key.
    pub resealed: u64,
    /// Changed by someone else between reading and writing (left as written).
    pub skipped: u64,
    /// Could not be opened (sealed under a key not configured here).
    pub failed: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub master_key_id: String,
    pub columns: Vec<ColumnReport>,
    /// Ids of previous master keys whose hash sub-key is now kept in the database.
    pub retained_hash_keys: Vec<String>,
}

impl Report {
    pub fn failed(&self) -> u64 {
        self.columns.iter().map(|c| c.failed).sum()
    }
}

fn retained_aad(id: &str) -> String {
    format!("retained_hash_key:{id}")
}

/// Adds the hash sub-keys kept by earlier re-keys to `master` (called at start,
/// before the state is built). A kept key that cannot be opened is an error: the
/// master key configured is not the one the re-key ran under.
pub async fn with_retained_hash_keys(db: &Db, master: MasterKeys) -> Result<MasterKeys> {
    let rows = retained_hash_key::Entity::find().all(&**db).await?;
    if rows.is_empty() {
        return Ok(master);
    }
    let vault = Vault::new(&master);
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        keys.push(vault.open(&row.sealed_key, &retained_aad(&row.id)).map_err(|_| {
            Error::internal(format!(
                "the hash key of retired master key {} cannot be opened: is HEIMDALL_MASTER_KEY the key `heimdall rekey` ran under?",
                row.id
            ))
        })?);
    }
    Ok(master.with_retained_hash_keys(keys))
}

/// One sealed column: how to read it, bind it to its row and write it back.
macro_rules! reseal {
    ($state:expr, $report:expr, $batch:expr, $prefix:expr,
     $entity:ident, $label:expr, $column:ident, |$row:ident| $value:expr, |$arow:ident| $aad:expr) => {{
        let mut column = ColumnReport {
            column: $label.to_owned(),
            ..Default::default()
        };
        let mut after = None;
        loop {
            let mut select = $entity::Entity::find()
                .filter($entity::Column::$column.is_not_null())
                .filter($entity::Column::$column.not_like(format!("{}%", $prefix)))
                .order_by_asc($entity::Column::Id)
                .limit($batch);
            if let Some(last) = after.clone() {
                select = select.filter($entity::Column::Id.gt(last));
            }
            let rows = select.all(&*$state.db).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            let txn = $state.db.begin_write().await?;
            for $row in &rows {
                let old: Option<&str> = $value;
                let Some(old) = old else { continue };
                let aad = {
                    let $arow = $row;
                    $aad
                };
                let plain = match $state.vault.open(old, &aad) {
                    Ok(plain) => plain,
                    Err(_) => {
                        column.failed += 1;
                        continue;
                    }
                };
                let sealed = $state.vault.seal(&plain, &aad)?;
                let done = $entity::Entity::update_many()
                    .col_expr($entity::Column::$column, Expr::value(sealed))
                    .filter($entity::Column::Id.eq($row.id.clone()))
                    .filter($entity::Column::$column.eq(old))
                    .exec(&txn)
                    .await?;
                if done.rows_affected == 1 {
                    column.resealed += 1;
                } else {
                    column.skipped += 1;
                }
            }
            txn.commit().await?;
        }
        $report.columns.push(column);
    }};
}

/// Re-keys everything (see the module docs). `batch` rows per transaction.
#[allow(clippy::clone_on_copy)] // Ids are `Uuid` in most tables, `String` in one.
pub async fn run(state: &AppState, master: &MasterKeys, batch: u64) -> Result<Report> {
    let batch = batch.clamp(1, 10_000);
    let current = master.current().id().to_owned();
    let prefix = format!("v1.{current}.");
    let mut report = Report {
        master_key_id: current.clone(),
        ..Default::default()
    };

    // Hash sub-keys of the previous master keys first: from here on, dropping
    // HEIMDALL_MASTER_KEY_PREVIOUS loses no secret.
    for previous in master.previous() {
        let id = previous.id().to_owned();
        if id == current {
            continue;
        }
        let exists = retained_hash_key::Entity::find_by_id(id.clone())
            .one(&*state.db)
            .await?
            .is_some();
        if !exists {
            let sealed = state
                .vault
                .seal(&previous.derive(HASH_KEY_PURPOSE), &retained_aad(&id))?;
            let txn = state.db.begin_write().await?;
            retained_hash_key::Entity::insert(retained_hash_key::ActiveModel {
                id: sea_orm::ActiveValue::Set(id.clone()),
                sealed_key: sea_orm::ActiveValue::Set(sealed),
                created_at: sea_orm::ActiveValue::Set(Utc::now()),
            })
            .on_conflict_do_nothing()
            .exec(&txn)
            .await?;
            txn.commit().await?;
        }
        report.retained_hash_keys.push(id);
    }

    reseal!(
        state,
        report,
        batch,
        prefix,
        retained_hash_key,
        "retained_hash_keys.sealed_key",
        SealedKey,
        |row| Some(row.sealed_key.as_str()),
        |r| retained_aad(&r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        signing_key,
        "signing_keys.private_key",
        PrivateKey,
        |row| Some(row.private_key.as_str()),
        |r| crate::services::signing::SigningService::aad(&r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        identity_provider,
        "identity_providers.secret",
        Secret,
        |row| row.secret.as_deref(),
        |r| crate::services::federation::providers::aad(r.app_id, r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        webhook_endpoint,
        "webhook_endpoints.sealed_secret",
        SealedSecret,
        |row| Some(row.sealed_secret.as_str()),
        |r| crate::services::webhooks::aad(r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        webhook_endpoint,
        "webhook_endpoints.previous_sealed_secret",
        PreviousSealedSecret,
        |row| row.previous_sealed_secret.as_deref(),
        |r| crate::services::webhooks::aad(r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        mfa_factor,
        "mfa_factors.secret",
        Secret,
        |row| row.secret.as_deref(),
        |r| crate::services::mfa::totp::aad(r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        oauth_pairwise_salt,
        "oauth_pairwise_salts.sealed_salt",
        SealedSalt,
        |row| Some(row.sealed_salt.as_str()),
        |r| crate::services::oauth::pairwise::aad(r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        oauth_client,
        "oauth_clients.sealed_secret",
        SealedSecret,
        |row| row.sealed_secret.as_deref(),
        |r| crate::services::oauth::clients::aad(r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        mail_outbox,
        "mail_outbox.payload",
        Payload,
        |row| Some(row.payload.as_str()),
        |r| crate::services::mail::outbox::aad(r.id)
    );
    reseal!(
        state,
        report,
        batch,
        prefix,
        federation_state,
        "federation_states.code_verifier",
        CodeVerifier,
        |row| row.code_verifier.as_deref(),
        |r| crate::services::federation::flow::verifier_aad(r.id)
    );
    Ok(report)
}
