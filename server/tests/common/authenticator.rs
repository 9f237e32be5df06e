//! A software passkey: 1Password's `passkey` crates as the browser (a WebAuthn client) and the
//! device (a CTAP2 authenticator with discoverable credentials and user verification), for
//! the passkey tests.

use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey::types::ctap2::{Aaguid, Ctap2Error};
use passkey::types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use passkey::types::Passkey;
use serde_json::Value;
use url::Url;

/// The member is there and verified (a fingerprint, a PIN) whenever asked.
struct Verified;

#[async_trait::async_trait]
impl UserValidationMethod for Verified {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        _presence: bool,
        _verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence: true,
            verification: true,
        })
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }
}

type SoftClient =
    Client<Option<Passkey>, Verified, RustCryptoBackend, public_suffix::PublicSuffixList, ()>;

/// A device with a browser and one passkey slot, on the app's origin (or another).
pub struct Device {
    client: SoftClient,
    origin: Url,
}

impl Device {
    /// A device whose pages are at `origin`.
    pub fn at(origin: &str) -> Self {
        let mut authenticator =
            Authenticator::new(Aaguid::new_empty(), None, Verified, RustCryptoBackend);
        authenticator.set_make_credentials_with_signature_counter(true);
        Self {
            client: Client::new(authenticator).allows_insecure_localhost(true),
            origin: Url::parse(origin).unwrap(),
        }
    }

    /// `navigator.credentials.create` with the server's options.
    pub async fn create(&mut self, options: Value) -> Value {
        let options: CredentialCreationOptions = serde_json::from_value(options).unwrap();
        let created = self
            .client
            .register(&self.origin, options, DefaultClientData)
            .await
            .unwrap();
        serde_json::to_value(created).unwrap()
    }

    /// `navigator.credentials.get` with the server's options.
    pub async fn get(&mut self, options: Value) -> Value {
        let options: CredentialRequestOptions = serde_json::from_value(options).unwrap();
        let got = self
            .client
            .authenticate(&self.origin, options, DefaultClientData)
            .await
            .unwrap();
        serde_json::to_value(got).unwrap()
    }

    /// The passkey this device holds.
    pub fn passkey(&self) -> Passkey {
        self.client.authenticator().store().clone().unwrap()
    }

    /// The same passkey on another device, on another origin.
    pub fn copy_at(&self, origin: &str) -> Device {
        let mut copy = Device::at(origin);
        *copy.client.authenticator_mut().store_mut() = Some(self.passkey());
        copy
    }
}
