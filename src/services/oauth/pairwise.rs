//! Pairwise subject identifiers (OIDC Core §8; docs/src/oauth-extensions.md#pairwise-subject-identifiers).
//!
//! A client with `subject_type: "pairwise"` sees each user under an identifier of its
//! own sector: `base64url(HMAC-SHA256(salt, sector ‖ "\n" ‖ user id))`, 43 characters,
//! where the salt is the app's secret (random, sealed with the master key, so that
//! `heimdall rekey` re-seals it without changing a single identifier) and the sector is
//! the host of the client's `sector_identifier_uri` or of its redirect URIs, fixed when
//! the client is registered. Two clients of one sector see the same identifier; clients
//! of different sectors cannot correlate their users, and nobody without the salt can
//! compute the identifier from the user's id. Identifiers issued are remembered, so that
//! one coming back (an `id_token_hint`, a JWT access token presented to Heimdall) finds
//! its user.

use std::sync::Arc;

use entity::{oauth_client, oauth_pairwise_salt, oauth_pairwise_subject};
use moka::future::Cache;
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    crypto,
    error::{Error, Result},
    state::AppState,
};

pub const PUBLIC: &str = "public";
pub const PAIRWISE: &str = "pairwise";
/// The `subject_types_supported` of discovery.
pub const SUBJECT_TYPES: [&str; 2] = [PUBLIC, PAIRWISE];

/// Per-instance caches: each app's salt (it never changes) and the identifiers known
/// to be remembered already.
#[derive(Clone)]
pub struct PairwiseCache {
    salts: Cache<Uuid, Arc<Vec<u8>>>,
    remembered: Cache<(Uuid, String), ()>,
}

impl Default for PairwiseCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PairwiseCache {
    pub fn new() -> Self {
        Self {
            salts: Cache::builder().max_capacity(10_000).build(),
            remembered: Cache::builder().max_capacity(100_000).build(),
        }
    }
}

/// The associated data a salt is sealed under.
pub fn aad(app_id: Uuid) -> String {
    format!("oauth_pairwise_salt:{app_id}")
}

/// A client's subject settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSettings {
    pub subject_type: String,
    pub sector_identifier_uri: Option<String>,
    /// The sector of a pairwise client.
    pub sector: Option<String>,
}

impl SubjectSettings {
    pub fn of(client: &oauth_client::Model) -> Self {
        Self {
            subject_type: client.subject_type.clone(),
            sector_identifier_uri: client.sector_identifier_uri.clone(),
            sector: client.sector_identifier.clone(),
        }
    }
}

/// Validates `subject_type` and `sector_identifier_uri` for a client with
/// `redirect_uris`; `current` is the client being changed, whose pairwise sector may
/// not move (its users' identifiers would change). A `sector_identifier_uri` is
/// fetched: an https URL answering a JSON array of URIs that holds every redirect URI.
/// Errors name the field (`subject_type`, `sector_identifier_uri`, `redirect_uris`).
pub async fn validate(
    state: &AppState,
    subject_type: Option<&str>,
    sector_identifier_uri: Option<&str>,
    redirect_uris: &[String],
    current: Option<&oauth_client::Model>,
) -> Result<SubjectSettings> {
    let subject_type = match subject_type.map(str::trim).filter(|s| !s.is_empty()) {
        Some(t) if SUBJECT_TYPES.contains(&t) => t.to_owned(),
        Some(_) => {
            return Err(Error::invalid_field(
                "subject_type",
                "must be public or pairwise",
            ));
        }
        None => current.map_or_else(|| PUBLIC.to_owned(), |c| c.subject_type.clone()),
    };
    let field = "sector_identifier_uri";
    let sector_identifier_uri = match sector_identifier_uri.map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(super::remote::validate_document_url(state, field, raw).await?),
    };
    if let Some(uri) = &sector_identifier_uri {
        let unchanged = current.is_some_and(|c| {
            c.sector_identifier_uri.as_deref() == Some(uri.as_str())
                && super::clients::redirect_uris(c) == redirect_uris
        });
        if !unchanged {
            let listed = state
                .client_documents
                .fetch_json(uri)
                .await
                .map_err(|why| Error::invalid_field(field, why))?;
            let listed: Vec<&str> = listed
                .as_array()
                .ok_or_else(|| Error::invalid_field(field, "must answer a JSON array of URIs"))?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if let Some(missing) = redirect_uris.iter().find(|u| !listed.contains(&u.as_str())) {
                return Err(Error::invalid_field(
                    field,
                    format!(
                        "does not list the redirect URI {}",
                        missing.chars().take(200).collect::<String>()
                    ),
                ));
            }
        }
    }
    if subject_type != PAIRWISE {
        return Ok(SubjectSettings {
            subject_type,
            sector_identifier_uri,
            sector: None,
        });
    }
    let host_of = |uri: &str| {
        url::Url::parse(uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    };
    let sector = match &sector_identifier_uri {
        Some(uri) => host_of(uri).ok_or_else(|| Error::invalid_field(field, "has no host"))?,
        None => {
            let mut hosts: Vec<Option<String>> = redirect_uris.iter().map(|u| host_of(u)).collect();
            hosts.dedup();
            match hosts.as_slice() {
                [Some(host)] => host.clone(),
                _ => {
                    return Err(Error::invalid_field(
                        field,
                        "is required for a pairwise client whose redirect URIs do not share one \
                         host (OpenID Connect Core §8.1)",
                    ));
                }
            }
        }
    };
    if let Some(before) = current.and_then(|c| c.sector_identifier.as_deref())
        && current.is_some_and(|c| c.subject_type == PAIRWISE)
        && before != sector
    {
        return Err(Error::invalid_field(
            if sector_identifier_uri.is_some() {
                field
            } else {
                "redirect_uris"
            },
            format!(
                "would move the client's pairwise sector from {before} to {sector}, which \
                 changes every subject identifier its users have; register a new client"
            ),
        ));
    }
    Ok(SubjectSettings {
        subject_type,
        sector_identifier_uri,
        sector: Some(sector),
    })
}

/// The app's pairwise salt, created on first use (once, across instances).
async fn salt(state: &AppState, app_id: Uuid) -> Result<Arc<Vec<u8>>> {
    if let Some(salt) = state.pairwise.salts.get(&app_id).await {
        return Ok(salt);
    }
    let found = match oauth_pairwise_salt::Entity::find_by_id(app_id)
        .one(&*state.db)
        .await?
    {
        Some(row) => row,
        None => {
            let sealed = state.vault.seal(&crypto::random_bytes(32)?, &aad(app_id))?;
            let txn = state.db.begin_write().await?;
            oauth_pairwise_salt::Entity::insert(oauth_pairwise_salt::ActiveModel {
                id: Set(app_id),
                sealed_salt: Set(sealed),
                created_at: Set(state.now()),
            })
            .on_conflict_do_nothing()
            .exec(&txn)
            .await?;
            txn.commit().await?;
            // Another instance may have won: read what was kept.
            oauth_pairwise_salt::Entity::find_by_id(app_id)
                .one(&*state.db)
                .await?
                .ok_or_else(|| Error::internal("pairwise salt missing after insert"))?
        }
    };
    let salt = Arc::new(state.vault.open(&found.sealed_salt, &aad(app_id))?);
    state.pairwise.salts.insert(app_id, salt.clone()).await;
    Ok(salt)
}

/// The identifier of `user_id` in `sector` (no storage).
fn compute(salt: &[u8], sector: &str, user_id: Uuid) -> String {
    crypto::b64url(&crypto::hmac_sha256(
        salt,
        format!("{sector}\n{user_id}").as_bytes(),
    ))
}

/// The `sub` `client` sees for `user_id`: the user's id, or the pairwise identifier
/// (remembered, see the module docs).
pub async fn subject(
    state: &AppState,
    client: &oauth_client::Model,
    user_id: Uuid,
) -> Result<String> {
    if client.subject_type != PAIRWISE {
        return Ok(user_id.to_string());
    }
    let sector = client
        .sector_identifier
        .as_deref()
        .ok_or_else(|| Error::internal("pairwise client without a sector"))?;
    let salt = salt(state, client.app_id).await?;
    let subject = compute(&salt, sector, user_id);
    let key = (client.app_id, subject.clone());
    if !state.pairwise.remembered.contains_key(&key) {
        let txn = state.db.begin_write().await?;
        oauth_pairwise_subject::Entity::insert(oauth_pairwise_subject::ActiveModel {
            app_id: Set(client.app_id),
            subject: Set(subject.clone()),
            user_id: Set(user_id),
            sector: Set(sector.to_owned()),
            created_at: Set(state.now()),
        })
        .on_conflict_do_nothing()
        .exec(&txn)
        .await?;
        txn.commit().await?;
        state.pairwise.remembered.insert(key, ()).await;
    }
    Ok(subject)
}

/// The `sub` of a client id (the OAuth client's `id`), for answers that know only that.
pub async fn subject_for_client_id(
    state: &AppState,
    app_id: Uuid,
    client_id: Uuid,
    user_id: Uuid,
) -> Result<String> {
    match super::clients::find(state, app_id, &client_id.to_string()).await? {
        Some(client) => subject(state, &client, user_id).await,
        None => Ok(user_id.to_string()),
    }
}

/// The user a `sub` names at `app_id`: a user id, or a pairwise identifier Heimdall
/// issued. `None`: neither.
pub async fn resolve(state: &AppState, app_id: Uuid, sub: &str) -> Result<Option<Uuid>> {
    if let Ok(id) = Uuid::parse_str(sub) {
        return Ok(Some(id));
    }
    if sub.len() != 43 {
        return Ok(None);
    }
    Ok(
        oauth_pairwise_subject::Entity::find_by_id((app_id, sub.to_owned()))
            .one(&*state.db)
            .await?
            .map(|row| row.user_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_differ_by_sector_and_salt_and_are_43_characters() {
        let user = Uuid::new_v4();
        let a = compute(b"salt-one", "rp.example", user);
        assert_eq!(a.len(), 43);
        assert_eq!(a, compute(b"salt-one", "rp.example", user));
        assert_ne!(a, compute(b"salt-one", "other.example", user));
        assert_ne!(a, compute(b"salt-two", "rp.example", user));
        assert_ne!(a, compute(b"salt-one", "rp.example", Uuid::new_v4()));
        assert!(Uuid::parse_str(&a).is_err());
    }
}
