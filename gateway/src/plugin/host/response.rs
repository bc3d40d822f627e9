//! `interface response` of the contract: the response handle lent at the response-side
//! stages (edited at integration and method response).

use bytes::Bytes;
use http::StatusCode;
use wasmtime::component::Resource;

use wasmgate_plugin_contract::edits;

use super::headers::{
    all_values, append_header, every_header, first_value, names, remove_header, set_header,
};
use super::{HostState, read_body};
use crate::plugin::bindings::{BodyAccess, BodyError, EditError, types};

impl types::HostResponse for HostState {
    fn status(&mut self, _: Resource<types::Response>) -> u16 {
        self.response().map_or(0, |r| r.status.as_u16())
    }

    fn set_status(&mut self, _: Resource<types::Response>, status: u16) -> Result<(), EditError> {
        let response = self.editable_response()?;
        edits::check_status(status).map_err(EditError::Invalid)?;
        response.status = StatusCode::from_u16(status)
            .map_err(|_| EditError::Invalid(format!("{status} is not a valid status")))?;
        Ok(())
    }

    fn header(&mut self, _: Resource<types::Response>, name: String) -> Option<Vec<u8>> {
        first_value(&self.response()?.headers, &name)
    }

    fn header_values(&mut self, _: Resource<types::Response>, name: String) -> Vec<Vec<u8>> {
        self.response()
            .map(|r| all_values(&r.headers, &name))
            .unwrap_or_default()
    }

    fn header_names(&mut self, _: Resource<types::Response>) -> Vec<String> {
        self.response()
            .map(|r| names(&r.headers))
            .unwrap_or_default()
    }

    fn headers(&mut self, _: Resource<types::Response>) -> types::HeaderBlock {
        match self.response() {
            Some(response) => every_header(&response.headers),
            None => types::HeaderBlock {
                bytes: Vec::new(),
                ends: Vec::new(),
            },
        }
    }

    fn set_header(
        &mut self,
        _: Resource<types::Response>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        set_header(&mut self.editable_response()?.headers, name, value)
    }

    fn append_header(
        &mut self,
        _: Resource<types::Response>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        append_header(&mut self.editable_response()?.headers, name, value)
    }

    fn remove_header(
        &mut self,
        _: Resource<types::Response>,
        name: String,
    ) -> Result<(), EditError> {
        remove_header(&mut self.editable_response()?.headers, name)
    }

    fn body(&mut self, _: Resource<types::Response>) -> Result<Vec<u8>, BodyError> {
        let call = self.call();
        let declared = call.body_access.contains(BodyAccess::RESPONSE);
        read_body(
            call.exchange
                .response
                .as_ref()
                .and_then(|r| r.body.as_ref()),
            declared,
        )
    }

    fn set_body(&mut self, _: Resource<types::Response>, body: Vec<u8>) -> Result<(), EditError> {
        let response = self.editable_response()?;
        response.body = Some(Bytes::from(body));
        response.body_replaced = true;
        Ok(())
    }

    fn drop(&mut self, _: Resource<types::Response>) -> wasmtime::Result<()> {
        Ok(())
    }
}
