//! The authenticated caller and the checks routes make on it.

use crate::config::GuardConfig;
use crate::error::GuardError;
use crate::projection::{self, IdentityRecord};
use crate::tokens::{TokenIdentity, revoked_by, verify_token};
use serde::{Deserialize, Serialize};
use spin_sdk::http::{Method, Request, Response};
use std::borrow::Cow;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// May sell products.
    Admin,
    /// A shopper (the default).
    Nadmin,
    /// The system user owning products deleted while referenced by orders.
    Anonymous,
}

impl Role {
    /// The wire name (`ADMIN`, `NADMIN`, `ANONYMOUS`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Nadmin => "NADMIN",
            Role::Anonymous => "ANONYMOUS",
        }
    }
}

/// Who is making the request, with their current role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user id.
    pub user_id: String,
    /// The role as the auth component currently records it.
    pub role: Role,
    /// The Clerk user id, when the user came from Clerk.
    pub clerk_id: Option<String>,
}

impl Principal {
    /// Allows only callers with `role` (role checks live here, not in handlers).
    pub fn require_role(&self, role: Role) -> Result<(), GuardError> {
        if self.role == role {
            Ok(())
        } else {
            Err(GuardError::Forbidden)
        }
    }
}

impl From<IdentityRecord> for Principal {
    fn from(r: IdentityRecord) -> Self {
        Principal {
            user_id: r.user_id,
            role: r.role,
            clerk_id: r.clerk_id,
        }
    }
}

/// Where a component asks auth to provision a Clerk user it has not seen yet (service
/// chaining; the path is unreachable from outside because no public route leads to it).
const PROVISION_URL: &str = "http://auth.spin.internal/internal/v1/clerk-users";

/// Authenticates requests for one component.
pub struct Guard {
    /// `None`: from the component's Spin variables, read per token (see `config.rs`).
    config: Option<GuardConfig>,
}

impl Guard {
    /// A guard with explicit settings.
    pub fn new(config: GuardConfig) -> Self {
        Self {
            config: Some(config),
        }
    }

    /// A guard configured from the component's Spin variables, read only when a token comes.
    pub fn from_variables() -> Self {
        Self { config: None }
    }

    /// The bearer token, if an `Authorization` header is present. A header that is present but
    /// not `Bearer <token>` counts as an invalid token.
    fn bearer(req: &Request) -> Result<Option<String>, GuardError> {
        let Some(value) = req.header("authorization") else {
            return Ok(None);
        };
        let value = value.as_str().unwrap_or_default().trim();
        match value.split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Ok(Some(token.trim().to_owned()))
            }
            _ => Err(GuardError::InvalidToken(
                "Authorization is not a bearer token".into(),
            )),
        }
    }

    /// Whose token the request carries, verified but not yet resolved to a principal: `None`
    /// without a token. For the auth component, which resolves identities from its own
    /// database (the projection's source) instead of the projection.
    pub fn identify(&self, req: &Request) -> Result<Option<TokenIdentity>, GuardError> {
        let Some(token) = Self::bearer(req)? else {
            return Ok(None);
        };
        let config = match &self.config {
            Some(config) => Cow::Borrowed(config),
            None => {
                let header = jsonwebtoken::decode_header(&token)
                    .map_err(|e| GuardError::InvalidToken(e.to_string()))?;
                Cow::Owned(GuardConfig::from_variables_for(header.alg)?)
            }
        };
        verify_token(&token, &config).map(Some)
    }

    /// The caller on a public route: `None` without a token, an error for a bad one (the
    /// contract: a present but invalid token is 401 on public routes too).
    pub async fn optional(&self, req: &Request) -> Result<Option<Principal>, GuardError> {
        match self.identify(req)? {
            Some(identity) => self.resolve(identity).await.map(Some),
            None => Ok(None),
        }
    }

    /// The caller on a protected route.
    pub async fn require(&self, req: &Request) -> Result<Principal, GuardError> {
        self.optional(req).await?.ok_or(GuardError::MissingToken)
    }

    async fn resolve(&self, identity: TokenIdentity) -> Result<Principal, GuardError> {
        let store = projection::open().map_err(|e| GuardError::Misconfigured(e.to_string()))?;
        let lookup = |r: Result<Option<IdentityRecord>, projection::StoreError>| {
            r.map_err(|e| GuardError::IdentityUnavailable(e.to_string()))
        };
        match identity {
            TokenIdentity::Own { user_id, issued_at } => {
                let record =
                    lookup(projection::user(&store, &user_id))?.ok_or(GuardError::UnknownUser)?;
                if revoked_by(issued_at, record.tokens_valid_after) {
                    return Err(GuardError::InvalidToken("revoked access token".into()));
                }
                Ok(record.into())
            }
            TokenIdentity::Clerk { clerk_id } => {
                match lookup(projection::user_by_clerk_id(&store, &clerk_id))? {
                    Some(record) => Ok(record.into()),
                    None => provision(&clerk_id).await,
                }
            }
        }
    }
}

/// Asks the auth component to create the user for a Clerk id seen for the first time; auth
/// makes this idempotent, so concurrent first requests end with one user.
async fn provision(clerk_id: &str) -> Result<Principal, GuardError> {
    let unavailable = |e: String| GuardError::IdentityUnavailable(e);
    let request = Request::builder()
        .method(Method::Post)
        .uri(format!("{PROVISION_URL}/{clerk_id}"))
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| unavailable(format!("{e:?}")))?;
    match *response.status() {
        200 | 201 => {
            let record: IdentityRecord =
                serde_json::from_slice(response.body()).map_err(|e| unavailable(e.to_string()))?;
            Ok(record.into())
        }
        // Clerk does not know this user (deleted or forged id): the token is no good.
        404 => Err(GuardError::UnknownUser),
        status => Err(unavailable(format!("auth answered {status}"))),
    }
}
