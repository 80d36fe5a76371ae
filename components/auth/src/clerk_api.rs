//! The Clerk Backend API client: `GET {clerk_api_base}/v1/users/{id}` with the secret key.

use crate::config;
use crate::domain::clerk::{ClerkId, ClerkProfile};
use crate::errors::AuthError;
use spin_sdk::http::{Method, Request, Response};

/// Fetches a user; `None` when Clerk does not know the id.
pub async fn fetch_user(clerk_id: &ClerkId) -> Result<Option<ClerkProfile>, AuthError> {
    let (base, secret) = config::clerk_api()?;
    let request = Request::builder()
        .method(Method::Get)
        // ClerkId allows only [A-Za-z0-9_], so it needs no escaping in the path.
        .uri(format!("{base}/v1/users/{}", clerk_id.as_str()))
        .header("authorization", format!("Bearer {secret}"))
        .header("accept", "application/json")
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|e| AuthError::ClerkUnavailable(format!("{e:?}")))?;
    match *response.status() {
        200 => {
            let json: serde_json::Value = serde_json::from_slice(response.body())
                .map_err(|e| AuthError::ClerkUnavailable(format!("bad JSON: {e}")))?;
            let profile = ClerkProfile::from_json(json)
                .map_err(|e| AuthError::ClerkUnavailable(e.to_string()))?;
            Ok(Some(profile))
        }
        404 => Ok(None),
        status => Err(AuthError::ClerkUnavailable(format!(
            "GET user answered {status}"
        ))),
    }
}
