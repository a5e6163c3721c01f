//! The token-signing service: per-app signing keys, signing with the active key,
//! verifying any token of any app by `kid`, the JWKS, and rotation. Parsed keys are
//! cached per instance (parsing an RSA key costs more than a signature with it).
//! Caches are short-lived and invalidated on this instance's writes, so a rotation on
//! another instance is picked up within a minute.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::signing_key;
use moka::future::Cache;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::services::bus::{Bus, Change};
use crate::{
    clock::SharedClock,
    crypto::{
        self,
        jwt::{self, JwtError},
        keys::{self, PrivateKey, PublicKey, SigningAlg},
        vault::Vault,
    },
    db::Db,
    error::{Error, Result},
};

/// How long a retired key stays published (longer than any access token lives).
pub const RETIRED_KEY_PUBLICATION: chrono::Duration = chrono::Duration::days(7);
/// Clock skew tolerated for `nbf`/`iat` between instances.
pub const LEEWAY_SECONDS: i64 = 30;

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_RETIRED: &str = "retired";

/// A key ready to be stored: id, sealed private key, public JWK.
pub struct GeneratedKey {
    pub(crate) kid: String,
    alg: SigningAlg,
    sealed_private: String,
    public_jwk: Value,
}

/// The active key of an app, parsed.
pub struct Signer {
    pub kid: String,
    pub alg: SigningAlg,
    header: String,
    key: PrivateKey,
}

impl Signer {
    pub fn sign(&self, claims: &impl Serialize) -> Result<String> {
        jwt::sign(&self.header, &self.key, claims)
    }

    /// Signs under a header of another `typ` (RFC 9068 access tokens: `at+jwt`).
    /// Such tokens are refused where Heimdall's own `JWT` tokens are expected.
    pub fn sign_typed(&self, typ: &str, claims: &impl Serialize) -> Result<String> {
        jwt::sign(
            &jwt::encoded_header_typed(self.alg, &self.kid, typ),
            &self.key,
            claims,
        )
    }
}

/// A published key, parsed for verification.
pub struct Verifier {
    pub kid: String,
    pub app_id: Uuid,
    pub key: PublicKey,
    pub publish_until: Option<DateTime<Utc>>,
}

/// A token whose signature, algorithm, key and times checked out. The issuer and the
/// token's meaning are for the caller to check.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    pub app_id: Uuid,
    pub kid: String,
    pub claims: Map<String, Value>,
}

#[derive(Clone)]
pub struct SigningService {
    db: Db,
    vault: Vault,
    clock: SharedClock,
    signers: Cache<Uuid, Arc<Signer>>,
    verifiers: Cache<String, Arc<Verifier>>,
    jwks: Cache<Uuid, Arc<CachedJwks>>,
    /// Tokens whose signature already checked out, by SHA-256 of the token: services
    /// present the same token many times, and a signature check costs more than the
    /// rest of a request. Expiry and key publication are still checked on every use.
    verified: Cache<[u8; 32], Arc<VerifiedJwt>>,
    bus: Bus,
}

/// A serialised JWKS and the time (by the injected clock) at which it goes stale:
/// the moment the next retired key stops being published.
struct CachedJwks {
    doc: bytes::Bytes,
    stale_at: Option<DateTime<Utc>>,
}

impl SigningService {
    pub fn new(db: Db, vault: Vault, clock: SharedClock, bus: Bus) -> Self {
        Self {
            db,
            vault,
            clock,
            bus,
            signers: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            verifiers: Cache::builder()
                .max_capacity(50_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            jwks: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            verified: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    pub fn aad(kid: &str) -> String {
        format!("signing_key:{kid}")
    }

    /// Generates and seals a new key off the async runtime (RSA generation is slow).
    pub async fn generate(&self, alg: SigningAlg) -> Result<GeneratedKey> {
        let generated = tokio::task::spawn_blocking(move || keys::generate(alg))
            .await
            .map_err(Error::internal)??;
        let kid = crypto::random_id()?;
        let sealed_private = self.vault.seal(&generated.pkcs8, &Self::aad(&kid))?;
        Ok(GeneratedKey {
            kid,
            alg,
            sealed_private,
            public_jwk: generated.public_jwk,
        })
    }

    /// Stores a generated key as the app's active key (for a new app).
    pub async fn insert_active(
        &self,
        conn: &impl ConnectionTrait,
        app_id: Uuid,
        key: GeneratedKey,
    ) -> Result<signing_key::Model> {
        Ok(signing_key::ActiveModel {
            id: Set(key.kid),
            app_id: Set(app_id),
            alg: Set(key.alg.as_str().to_owned()),
            status: Set(STATUS_ACTIVE.to_owned()),
            private_key: Set(key.sealed_private),
            public_key: Set(key.public_jwk.to_string()),
            created_at: Set(self.clock.now()),
            retired_at: Set(None),
            publish_until: Set(None),
        }
        .insert(conn)
        .await?)
    }

    /// Retires the app's active key (still published for 7 days) and makes `key`
    /// active. Returns the retired kids, for [`Self::forget`] after commit.
    pub async fn rotate_in(
        &self,
        conn: &impl ConnectionTrait,
        app_id: Uuid,
        key: GeneratedKey,
    ) -> Result<Vec<String>> {
        let now = self.clock.now();
        let retired: Vec<String> = signing_key::Entity::find()
            .select_only()
            .column(signing_key::Column::Id)
            .filter(signing_key::Column::AppId.eq(app_id))
            .filter(signing_key::Column::Status.eq(STATUS_ACTIVE))
            .into_tuple()
            .all(conn)
            .await?;
        signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value(STATUS_RETIRED))
            .col_expr(signing_key::Column::RetiredAt, Expr::value(now))
            .col_expr(
                signing_key::Column::PublishUntil,
                Expr::value(now + RETIRED_KEY_PUBLICATION),
            )
            .filter(signing_key::Column::AppId.eq(app_id))
            .filter(signing_key::Column::Status.eq(STATUS_ACTIVE))
            .exec(conn)
            .await?;
        self.insert_active(conn, app_id, key)
            .await
            .map_err(|e| match e {
                Error::Conflict { .. } => {
                    Error::conflict("another key rotation for this app is in progress")
                }
                other => other,
            })?;
        Ok(retired)
    }

    /// Rotates to a new key of `alg` in its own transaction.
    pub async fn rotate(&self, app_id: Uuid, alg: SigningAlg) -> Result<signing_key::Model> {
        let generated = self.generate(alg).await?;
        let kid = generated.kid.clone();
        let txn = self.db.begin_write().await?;
        let retired = self.rotate_in(&txn, app_id, generated).await?;
        txn.commit().await?;
        self.forget(app_id, &retired).await;
        signing_key::Entity::find_by_id(kid)
            .one(&*self.db)
            .await?
            .ok_or_else(|| Error::internal("rotated key vanished"))
    }

    /// Drops cached state for an app after its keys changed, here and on every
    /// other instance.
    pub async fn forget(&self, app_id: Uuid, kids: &[String]) {
        self.apply(app_id, kids).await;
        self.bus.publish(Change::SigningKeys {
            app_id,
            kids: kids.to_vec(),
        });
    }

    pub fn flush(&self) {
        self.signers.invalidate_all();
        self.verifiers.invalidate_all();
        self.jwks.invalidate_all();
        self.verified.invalidate_all();
    }

    /// Another instance changed the app's keys.
    pub async fn apply(&self, app_id: Uuid, kids: &[String]) {
        if !kids.is_empty() {
            // Rare (rotation, app deletion): drop every cached verification.
            self.verified.invalidate_all();
        }
        self.signers.invalidate(&app_id).await;
        self.jwks.invalidate(&app_id).await;
        for kid in kids {
            self.verifiers.invalidate(kid).await;
        }
    }

    pub async fn kids_of(&self, app_id: Uuid) -> Result<Vec<String>> {
        Ok(signing_key::Entity::find()
            .select_only()
            .column(signing_key::Column::Id)
            .filter(signing_key::Column::AppId.eq(app_id))
            .into_tuple()
            .all(&*self.db)
            .await?)
    }

    /// Every key of the app, newest first.
    pub async fn list(&self, app_id: Uuid) -> Result<Vec<signing_key::Model>> {
        Ok(signing_key::Entity::find()
            .filter(signing_key::Column::AppId.eq(app_id))
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&*self.db)
            .await?)
    }

    /// The app's active signer.
    pub async fn signer(&self, app_id: Uuid) -> Result<Arc<Signer>> {
        let cached = self.signers.get(&app_id).await;
        crate::services::observe::cache("signers", cached.is_some());
        if let Some(signer) = cached {
            return Ok(signer);
        }
        let model = signing_key::Entity::find()
            .filter(signing_key::Column::AppId.eq(app_id))
            .filter(signing_key::Column::Status.eq(STATUS_ACTIVE))
            .one(&*self.db)
            .await?
            .ok_or_else(|| Error::internal(format!("app {app_id} has no active signing key")))?;
        let alg = SigningAlg::parse(&model.alg)
            .ok_or_else(|| Error::internal(format!("unknown key algorithm {}", model.alg)))?;
        let der = self.vault.open(&model.private_key, &Self::aad(&model.id))?;
        let signer = Arc::new(Signer {
            header: jwt::encoded_header(alg, &model.id),
            key: PrivateKey::from_pkcs8(alg, &der)?,
            kid: model.id,
            alg,
        });
        self.signers.insert(app_id, signer.clone()).await;
        Ok(signer)
    }

    /// Signs `claims` with the app's active key.
    pub async fn sign(&self, app_id: Uuid, claims: &impl Serialize) -> Result<String> {
        self.signer(app_id).await?.sign(claims)
    }

    async fn verifier(&self, kid: &str) -> Result<Option<Arc<Verifier>>> {
        if let Some(verifier) = self.verifiers.get(kid).await {
            return Ok(Some(verifier));
        }
        let Some(model) = signing_key::Entity::find_by_id(kid.to_owned())
            .one(&*self.db)
            .await?
        else {
            return Ok(None);
        };
        let alg = SigningAlg::parse(&model.alg)
            .ok_or_else(|| Error::internal(format!("unknown key algorithm {}", model.alg)))?;
        let jwk: Value = serde_json::from_str(&model.public_key).map_err(Error::internal)?;
        let key = PublicKey::from_jwk(alg, &jwk).map_err(Error::internal)?;
        let verifier = Arc::new(Verifier {
            kid: model.id,
            app_id: model.app_id,
            key,
            publish_until: model.publish_until,
        });
        self.verifiers
            .insert(kid.to_owned(), verifier.clone())
            .await;
        Ok(Some(verifier))
    }

    /// Verifies a token of any app: structure and header rules, a known and still
    /// published key, the key's own algorithm, the signature, `exp`/`nbf`/`iat`, and
    /// that `aid` names the key's app.
    /// A cache hit is answered with the cached `Arc`, not a copy of its claims.
    pub async fn verify(
        &self,
        token: &str,
    ) -> Result<std::result::Result<Arc<VerifiedJwt>, JwtError>> {
        let digest: Option<[u8; 32]> = crypto::sha256(token.as_bytes()).try_into().ok();
        if let Some(digest) = digest
            && let Some(hit) = self.verified.get(&digest).await
        {
            return Ok(self.recheck(&hit).await.map(|()| hit));
        }
        let verified = self.verify_uncached(token).await?.map(Arc::new);
        if let (Ok(verified), Some(digest)) = (&verified, digest) {
            self.verified.insert(digest, verified.clone()).await;
        }
        Ok(verified)
    }

    /// What may have changed since a cached token was verified: time and the key's
    /// publication.
    async fn recheck(&self, verified: &VerifiedJwt) -> std::result::Result<(), JwtError> {
        let now = self.clock.now();
        jwt::validate_times(&verified.claims, now.timestamp(), LEEWAY_SECONDS)?;
        match self.verifier(&verified.kid).await {
            Ok(Some(v)) if v.publish_until.is_none_or(|until| now < until) => Ok(()),
            Ok(Some(_)) => Err(JwtError(
                "token is signed with a key that is no longer published",
            )),
            _ => Err(JwtError("token is signed with an unknown key")),
        }
    }

    async fn verify_uncached(
        &self,
        token: &str,
    ) -> Result<std::result::Result<VerifiedJwt, JwtError>> {
        let unverified = match jwt::decode_unverified(token) {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let Some(kid) = unverified.kid.clone() else {
            return Ok(Err(JwtError("token has no kid")));
        };
        let Some(verifier) = self.verifier(&kid).await? else {
            return Ok(Err(JwtError("token is signed with an unknown key")));
        };
        let now = self.clock.now();
        if verifier.publish_until.is_some_and(|until| now >= until) {
            return Ok(Err(JwtError(
                "token is signed with a key that is no longer published",
            )));
        }
        let claims = match unverified.verify(&verifier.key) {
            Ok(claims) => claims,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = jwt::validate_times(&claims, now.timestamp(), LEEWAY_SECONDS) {
            return Ok(Err(e));
        }
        let aid = claims
            .get("aid")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok());
        if aid != Some(verifier.app_id) {
            return Ok(Err(JwtError("token does not belong to the key's app")));
        }
        Ok(Ok(VerifiedJwt {
            app_id: verifier.app_id,
            kid: verifier.kid.clone(),
            claims,
        }))
    }

    /// The claims of a token signed with one of `app_id`'s published keys, whatever
    /// its times say: an ID token presented as `id_token_hint` to RP-Initiated
    /// Logout may have expired (OpenID Connect RP-Initiated Logout 1.0 §2).
    pub async fn verify_hint(
        &self,
        token: &str,
        app_id: Uuid,
    ) -> Result<std::result::Result<Map<String, Value>, JwtError>> {
        let unverified = match jwt::decode_unverified(token) {
            Ok(u) => u,
            Err(e) => return Ok(Err(e)),
        };
        let Some(kid) = unverified.kid.clone() else {
            return Ok(Err(JwtError("token has no kid")));
        };
        let Some(verifier) = self.verifier(&kid).await? else {
            return Ok(Err(JwtError("token is signed with an unknown key")));
        };
        if verifier.app_id != app_id {
            return Ok(Err(JwtError("token is signed with an unknown key")));
        }
        Ok(unverified.verify(&verifier.key))
    }

    /// The app's JWKS document (active key and keys still published), serialised.
    pub async fn jwks(&self, app_id: Uuid) -> Result<bytes::Bytes> {
        let now = self.clock.now();
        if let Some(cached) = self.jwks.get(&app_id).await
            && cached.stale_at.is_none_or(|t| now < t)
        {
            return Ok(cached.doc.clone());
        }
        let models = signing_key::Entity::find()
            .filter(signing_key::Column::AppId.eq(app_id))
            .filter(
                Condition::any()
                    .add(signing_key::Column::Status.eq(STATUS_ACTIVE))
                    .add(signing_key::Column::PublishUntil.gt(now)),
            )
            .order_by_desc(signing_key::Column::CreatedAt)
            .all(&*self.db)
            .await?;
        let keys: Vec<Value> = models.iter().filter_map(public_jwk).collect();
        let doc = bytes::Bytes::from(json!({ "keys": keys }).to_string());
        let stale_at = models.iter().filter_map(|m| m.publish_until).min();
        self.jwks
            .insert(
                app_id,
                Arc::new(CachedJwks {
                    doc: doc.clone(),
                    stale_at,
                }),
            )
            .await;
        Ok(doc)
    }
}

/// The published JWK of a stored key (public parts only).
pub fn public_jwk(model: &signing_key::Model) -> Option<Value> {
    let alg = SigningAlg::parse(&model.alg)?;
    let jwk: Value = serde_json::from_str(&model.public_key).ok()?;
    Some(keys::published_jwk(&model.id, alg, &jwk))
}
