//! Every message the app shows for an error, in one place, keyed by what went wrong.

use member_login_api::{OrganizationInputError, ProblemCode};

use crate::api_client::ClientError;

pub fn organization_input(error: OrganizationInputError) -> &'static str {
    match error {
        OrganizationInputError::Empty => "Enter your Organization ID or alias.",
        OrganizationInputError::Malformed => {
            "Enter an Organization ID like 0f6d2c48-5a1e-4c3b-9e7d-2b8a4f1c6e30, \
             or an alias of 2 to 32 lower-case letters."
        }
    }
}

pub fn client_error(error: &ClientError) -> &'static str {
    match error {
        ClientError::Problem(ProblemCode::OrganizationNotFound) => {
            "We could not find that Organization. Check the ID or alias your administrator gave you."
        }
        ClientError::Problem(ProblemCode::InvalidOrganization) => {
            organization_input(OrganizationInputError::Malformed)
        }
        ClientError::Network => {
            "We could not reach the server. Check your connection and try again."
        }
        ClientError::Problem(_) | ClientError::Unexpected(_) => {
            "Something went wrong on our side. Please try again in a moment."
        }
    }
}
