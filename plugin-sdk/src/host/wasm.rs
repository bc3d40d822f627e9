//! The Wasm backend: thin wrappers over the gateway's imports, converting to the SDK's types.

use crate::__bindings::wasmgate::plugin::{clock, log as wit_log, types as wit};
use crate::log::Level;
use crate::{BodyError, EditError};

impl From<wit::EditError> for EditError {
    fn from(err: wit::EditError) -> Self {
        match err {
            wit::EditError::ReadOnly => EditError::ReadOnly,
            wit::EditError::Invalid(message) => EditError::Invalid(message),
        }
    }
}

impl From<wit::BodyError> for BodyError {
    fn from(err: wit::BodyError) -> Self {
        match err {
            wit::BodyError::NotDeclared => BodyError::NotDeclared,
            wit::BodyError::TooLarge(cap) => BodyError::TooLarge(cap),
            wit::BodyError::Unavailable(message) => BodyError::Unavailable(message),
        }
    }
}

/// The gateway's request handle, borrowed for one stage call.
pub(crate) struct RequestHandle<'a>(pub(crate) &'a wit::Request);

impl RequestHandle<'_> {
    pub(crate) fn method(&self) -> String {
        self.0.method()
    }
    pub(crate) fn set_method(&self, method: &str) -> Result<(), EditError> {
        Ok(self.0.set_method(method)?)
    }
    pub(crate) fn path(&self) -> String {
        self.0.path()
    }
    pub(crate) fn set_path(&self, path: &str) -> Result<(), EditError> {
        Ok(self.0.set_path(path)?)
    }
    pub(crate) fn query(&self) -> Option<String> {
        self.0.query()
    }
    pub(crate) fn set_query(&self, query: Option<&str>) -> Result<(), EditError> {
        Ok(self.0.set_query(query)?)
    }
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        self.0.query_param(name)
    }
    pub(crate) fn path_param(&self, name: &str) -> Option<String> {
        self.0.path_param(name)
    }
    pub(crate) fn path_params(&self) -> Vec<(String, String)> {
        self.0.path_params()
    }
    pub(crate) fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.0.header(name)
    }
    pub(crate) fn header_values(&self, name: &str) -> Vec<Vec<u8>> {
        self.0.header_values(name)
    }
    pub(crate) fn header_names(&self) -> Vec<String> {
        self.0.header_names()
    }
    pub(crate) fn headers(&self) -> Vec<(String, Vec<u8>)> {
        let block = self.0.headers();
        super::header_block::unpack(&block.bytes, &block.ends)
    }
    pub(crate) fn set_header(&self, name: &str, value: &[u8]) -> Result<(), EditError> {
        Ok(self.0.set_header(name, value)?)
    }
    pub(crate) fn append_header(&self, name: &str, value: &[u8]) -> Result<(), EditError> {
        Ok(self.0.append_header(name, value)?)
    }
    pub(crate) fn remove_header(&self, name: &str) -> Result<(), EditError> {
        Ok(self.0.remove_header(name)?)
    }
    pub(crate) fn body(&self) -> Result<Vec<u8>, BodyError> {
        Ok(self.0.body()?)
    }
    pub(crate) fn set_body(&self, body: &[u8]) -> Result<(), EditError> {
        Ok(self.0.set_body(body)?)
    }
}

/// The gateway's response handle, borrowed for one stage call.
pub(crate) struct ResponseHandle<'a>(pub(crate) &'a wit::Response);

impl ResponseHandle<'_> {
    pub(crate) fn status(&self) -> u16 {
        self.0.status()
    }
    pub(crate) fn set_status(&self, status: u16) -> Result<(), EditError> {
        Ok(self.0.set_status(status)?)
    }
    pub(crate) fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.0.header(name)
    }
    pub(crate) fn header_values(&self, name: &str) -> Vec<Vec<u8>> {
        self.0.header_values(name)
    }
    pub(crate) fn header_names(&self) -> Vec<String> {
        self.0.header_names()
    }
    pub(crate) fn headers(&self) -> Vec<(String, Vec<u8>)> {
        let block = self.0.headers();
        super::header_block::unpack(&block.bytes, &block.ends)
    }
    pub(crate) fn set_header(&self, name: &str, value: &[u8]) -> Result<(), EditError> {
        Ok(self.0.set_header(name, value)?)
    }
    pub(crate) fn append_header(&self, name: &str, value: &[u8]) -> Result<(), EditError> {
        Ok(self.0.append_header(name, value)?)
    }
    pub(crate) fn remove_header(&self, name: &str) -> Result<(), EditError> {
        Ok(self.0.remove_header(name)?)
    }
    pub(crate) fn body(&self) -> Result<Vec<u8>, BodyError> {
        Ok(self.0.body()?)
    }
    pub(crate) fn set_body(&self, body: &[u8]) -> Result<(), EditError> {
        Ok(self.0.set_body(body)?)
    }
}

/// The gateway's context handle, borrowed for one stage call.
pub(crate) struct ContextHandle<'a>(pub(crate) &'a wit::Context);

impl ContextHandle<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.0.get(key)
    }
    pub(crate) fn set(&self, key: &str, value: &str) -> Result<(), EditError> {
        Ok(self.0.set(key, value)?)
    }
    pub(crate) fn remove(&self, key: &str) -> Result<(), EditError> {
        Ok(self.0.remove(key)?)
    }
    pub(crate) fn keys(&self) -> Vec<String> {
        self.0.keys()
    }
}

fn wit_level(level: Level) -> wit_log::Level {
    match level {
        Level::Trace => wit_log::Level::Trace,
        Level::Debug => wit_log::Level::Debug,
        Level::Info => wit_log::Level::Info,
        Level::Warn => wit_log::Level::Warn,
        Level::Error => wit_log::Level::Error,
    }
}

pub(crate) fn log_enabled(level: Level) -> bool {
    wit_log::enabled(wit_level(level))
}

pub(crate) fn log_write(level: Level, message: &str, fields: &[(&str, &str)]) {
    wit_log::write(wit_level(level), message, fields);
}

pub(crate) fn now() -> (u64, u32) {
    let now = clock::now();
    (now.seconds, now.nanoseconds)
}

pub(crate) fn monotonic_nanos() -> u64 {
    clock::monotonic_nanos()
}
