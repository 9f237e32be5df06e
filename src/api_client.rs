//! The typed client of the login API. Every failure becomes a [`ClientError`], which
//! [`crate::messages`] turns into words; nothing here shows text from the server.

use gloo_net::http::{Request, Response};
use member_login_api::{organization_path, Organization, OrganizationKey, Problem, ProblemCode};
use serde::de::DeserializeOwned;

/// Why a call to the login API did not give the answer asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The API answered with a problem document carrying this code.
    #[error("the login API refused: {0:?}")]
    Problem(ProblemCode),
    /// No answer: offline, DNS, CORS, connection refused.
    #[error("the login API could not be reached")]
    Network,
    /// An answer that is not what the contract says (a proxy's error page, say).
    #[error("the login API answered with HTTP {0}")]
    Unexpected(u16),
}

/// Looks an Organization up by its ID or alias.
pub async fn find_organization(key: &OrganizationKey) -> Result<Organization, ClientError> {
    let response = Request::get(&organization_path(key))
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|_| ClientError::Network)?;
    read(response).await
}

/// The body on success, or the problem's code on failure.
async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ClientError> {
    let status = response.status();
    if response.ok() {
        return response
            .json()
            .await
            .map_err(|_| ClientError::Unexpected(status));
    }
    match response.json::<Problem>().await {
        Ok(problem) => Err(ClientError::Problem(problem.code)),
        Err(_) => Err(ClientError::Unexpected(status)),
    }
}
