//! `interface crypto` of the contract: keys imported into the instance's resource table, verified with
//! [`wasmgate_crypto`] (ring) on the host; digests and constant-time comparison.
//!
//! Granted with `grants = ["crypto"]` and checked twice, as the other capabilities are: a
//! component importing it without the grant never loads, and every call checks again (a call
//! without it traps). A handle the instance's table does not hold traps the call as well.

use wasmgate_crypto::{DigestAlgorithm, KeyError, KeyFormat, SignatureAlgorithm, VerifyingKey};
use wasmtime::component::Resource;

use super::HostState;
use crate::config::Capability;
use crate::plugin::bindings::crypto;

/// The most keys one instance may hold at once (a JWKS document rarely has more than ten).
pub(crate) const MAX_KEYS_PER_INSTANCE: u32 = 1024;

impl HostState {
    fn require_crypto(&self) -> wasmtime::Result<()> {
        if self.capabilities.granted(Capability::Crypto) {
            Ok(())
        } else {
            wasmtime::bail!(
                "plugin `{}` was not granted `crypto`",
                self.capabilities.plugin
            )
        }
    }
}

impl crypto::Host for HostState {
    fn digest(
        &mut self,
        algorithm: crypto::DigestAlgorithm,
        data: Vec<u8>,
    ) -> wasmtime::Result<Vec<u8>> {
        self.require_crypto()?;
        let algorithm = match algorithm {
            crypto::DigestAlgorithm::Sha256 => DigestAlgorithm::Sha256,
            crypto::DigestAlgorithm::Sha384 => DigestAlgorithm::Sha384,
            crypto::DigestAlgorithm::Sha512 => DigestAlgorithm::Sha512,
        };
        Ok(wasmgate_crypto::digest(algorithm, &data))
    }

    fn constant_time_equal(&mut self, a: Vec<u8>, b: Vec<u8>) -> wasmtime::Result<bool> {
        self.require_crypto()?;
        Ok(wasmgate_crypto::constant_time_eq(&a, &b))
    }
}

impl crypto::HostKey for HostState {
    fn import(
        &mut self,
        format: crypto::KeyFormat,
        material: Vec<u8>,
    ) -> wasmtime::Result<Result<Resource<VerifyingKey>, crypto::KeyError>> {
        self.require_crypto()?;
        if self.crypto_keys >= MAX_KEYS_PER_INSTANCE {
            return Ok(Err(crypto::KeyError::TooManyKeys(MAX_KEYS_PER_INSTANCE)));
        }
        let format = match format {
            crypto::KeyFormat::Pem => KeyFormat::Pem,
            crypto::KeyFormat::Der => KeyFormat::Der,
            crypto::KeyFormat::Jwk => KeyFormat::Jwk,
            crypto::KeyFormat::HmacSecret => KeyFormat::HmacSecret,
        };
        let key = match VerifyingKey::import(format, &material) {
            Ok(key) => key,
            Err(error) => return Ok(Err(wit_key_error(error))),
        };
        let handle = self.table().push(key)?;
        self.crypto_keys += 1;
        Ok(Ok(handle))
    }

    fn algorithms(
        &mut self,
        key: Resource<VerifyingKey>,
    ) -> wasmtime::Result<Vec<crypto::SignatureAlgorithm>> {
        let key = self.table().get(&key)?;
        Ok(key
            .algorithms()
            .iter()
            .map(|&alg| wit_algorithm(alg))
            .collect())
    }

    fn verify(
        &mut self,
        key: Resource<VerifyingKey>,
        algorithm: crypto::SignatureAlgorithm,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> wasmtime::Result<bool> {
        let key = self.table().get(&key)?;
        Ok(key.verify(host_algorithm(algorithm), &message, &signature))
    }

    fn drop(&mut self, key: Resource<VerifyingKey>) -> wasmtime::Result<()> {
        self.table().delete(key)?;
        self.crypto_keys = self.crypto_keys.saturating_sub(1);
        Ok(())
    }
}

fn wit_key_error(error: KeyError) -> crypto::KeyError {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    match error {
        KeyError::Malformed(reason) => crypto::KeyError::Malformed(reason),
        KeyError::NotAPublicKey(label) => crypto::KeyError::NotAPublicKey(label),
        KeyError::RsaSize(bits) => crypto::KeyError::RsaSize(count(bits)),
        KeyError::SecretTooShort(bytes) => crypto::KeyError::SecretTooShort(count(bytes)),
        KeyError::UnsupportedKeyType(what) => crypto::KeyError::UnsupportedKeyType(what),
        KeyError::UnsupportedCurve(what) => crypto::KeyError::UnsupportedCurve(what),
        KeyError::Invalid(kind) => crypto::KeyError::Invalid(kind),
        KeyError::TooManyKeys(count) => crypto::KeyError::TooManyKeys(count),
    }
}

fn host_algorithm(algorithm: crypto::SignatureAlgorithm) -> SignatureAlgorithm {
    use crypto::SignatureAlgorithm as Wit;
    match algorithm {
        Wit::Hs256 => SignatureAlgorithm::Hs256,
        Wit::Hs384 => SignatureAlgorithm::Hs384,
        Wit::Hs512 => SignatureAlgorithm::Hs512,
        Wit::Rs256 => SignatureAlgorithm::Rs256,
        Wit::Rs384 => SignatureAlgorithm::Rs384,
        Wit::Rs512 => SignatureAlgorithm::Rs512,
        Wit::Ps256 => SignatureAlgorithm::Ps256,
        Wit::Ps384 => SignatureAlgorithm::Ps384,
        Wit::Ps512 => SignatureAlgorithm::Ps512,
        Wit::Es256 => SignatureAlgorithm::Es256,
        Wit::Es384 => SignatureAlgorithm::Es384,
        Wit::Eddsa => SignatureAlgorithm::EdDsa,
    }
}

fn wit_algorithm(algorithm: SignatureAlgorithm) -> crypto::SignatureAlgorithm {
    use crypto::SignatureAlgorithm as Wit;
    match algorithm {
        SignatureAlgorithm::Hs256 => Wit::Hs256,
        SignatureAlgorithm::Hs384 => Wit::Hs384,
        SignatureAlgorithm::Hs512 => Wit::Hs512,
        SignatureAlgorithm::Rs256 => Wit::Rs256,
        SignatureAlgorithm::Rs384 => Wit::Rs384,
        SignatureAlgorithm::Rs512 => Wit::Rs512,
        SignatureAlgorithm::Ps256 => Wit::Ps256,
        SignatureAlgorithm::Ps384 => Wit::Ps384,
        SignatureAlgorithm::Ps512 => Wit::Ps512,
        SignatureAlgorithm::Es256 => Wit::Es256,
        SignatureAlgorithm::Es384 => Wit::Es384,
        SignatureAlgorithm::EdDsa => Wit::Eddsa,
    }
}
