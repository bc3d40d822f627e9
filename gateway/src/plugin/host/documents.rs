//! `interface documents` of the contract: the documents the operator attached to the plugin
//! (files or URLs, refreshed by the gateway), read by name.

use super::HostState;
use crate::plugin::bindings::documents;
use crate::plugin::documents::DocumentUnavailable;

fn document_error(name: String, error: DocumentUnavailable) -> documents::DocumentError {
    match error {
        DocumentUnavailable::Unknown => documents::DocumentError::Unknown(name),
        DocumentUnavailable::NotFetched(reason) => documents::DocumentError::Unavailable(reason),
    }
}

impl documents::Host for HostState {
    fn get(&mut self, name: String) -> Result<documents::Document, documents::DocumentError> {
        match self.capabilities.documents.get(&name) {
            Ok(document) => Ok(documents::Document {
                version: document.version,
                content: document.content.to_vec(),
            }),
            Err(error) => Err(document_error(name, error)),
        }
    }

    fn version(&mut self, name: String) -> Result<u64, documents::DocumentError> {
        match self.capabilities.documents.get(&name) {
            Ok(document) => Ok(document.version),
            Err(error) => Err(document_error(name, error)),
        }
    }

    fn request_refresh(&mut self, name: String) {
        self.capabilities.documents.request_refresh(&name);
    }
}
