//! Signature verification: picks the keys a token may be checked against (by `kid` and
//! algorithm, from the inline keys and the JWKS document) and verifies the signature.

use crate::keys::Algorithm;

use crate::error::InvalidToken;
use crate::jwks::DocumentKeys;
use crate::keys::KeySet;
use crate::token::Token;

/// Verifies token signatures.
#[derive(Debug)]
pub(crate) struct Verifier {
    /// The algorithms accepted at all.
    pub(crate) algorithms: Vec<Algorithm>,
    /// The keys of the config.
    pub(crate) inline: KeySet,
    /// The keys of the JWKS document, if one is configured.
    pub(crate) document: Option<DocumentKeys>,
}

impl Verifier {
    /// Verifies the token's signature with a key that has its `kid` (or no `kid`) and accepts
    /// its algorithm.
    ///
    /// A `kid` no key has asks the gateway to refresh the JWKS document (it may have rotated;
    /// the gateway rate-limits refreshes); the token then fails unless a key without `kid`
    /// verifies it. Later requests see the refreshed keys.
    pub(crate) fn verify(&self, token: &Token<'_>) -> Result<(), InvalidToken> {
        if !self.algorithms.contains(&token.alg) {
            return Err(InvalidToken::AlgorithmNotAllowed(token.alg));
        }
        let document = self.document.as_ref().map(DocumentKeys::current);
        let kid = token.kid.as_deref();
        let candidates: Vec<_> = self
            .inline
            .matching(kid)
            .chain(document.iter().flat_map(|keys| keys.matching(kid)))
            .collect();
        let named =
            kid.is_some_and(|kid| candidates.iter().any(|key| key.kid.as_deref() == Some(kid)));
        if let Some(document) = &self.document
            && kid.is_some()
            && !named
        {
            document.request_refresh();
        }
        if candidates.is_empty() {
            return Err(match kid {
                Some(_) => InvalidToken::UnknownKeyId,
                None => InvalidToken::NoKeyForAlgorithm(token.alg),
            });
        }
        let usable: Vec<_> = candidates
            .into_iter()
            .filter(|key| key.algorithms.contains(&token.alg))
            .collect();
        if usable.is_empty() {
            return Err(match kid {
                Some(_) => InvalidToken::KeyAlgorithmMismatch(token.alg),
                None => InvalidToken::NoKeyForAlgorithm(token.alg),
            });
        }
        if usable.iter().any(|key| token.verifies_with(key)) {
            Ok(())
        } else {
            Err(InvalidToken::BadSignature)
        }
    }
}
