//! `interface request` of the contract: the request handle a stage call is lent (read at
//! every stage, edited at the request-side ones).

use bytes::Bytes;
use http::Method;
use wasmtime::component::Resource;

use wasmgate_plugin_contract::edits;

use super::headers::{
    all_values, append_header, every_header, first_value, names, remove_header, set_header,
};
use super::{HostState, read_body};
use crate::plugin::bindings::{BodyAccess, BodyError, EditError, types};

impl types::HostRequest for HostState {
    fn method(&mut self, _: Resource<types::Request>) -> String {
        self.call().exchange.request.method.to_string()
    }

    fn set_method(&mut self, _: Resource<types::Request>, method: String) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        edits::check_method(&method).map_err(EditError::Invalid)?;
        request.method = Method::from_bytes(method.as_bytes())
            .map_err(|_| EditError::Invalid(format!("`{method}` is not a valid HTTP method")))?;
        Ok(())
    }

    fn path(&mut self, _: Resource<types::Request>) -> String {
        self.call().exchange.request.path.clone()
    }

    fn set_path(&mut self, _: Resource<types::Request>, path: String) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        edits::check_path(&path).map_err(EditError::Invalid)?;
        request.path = path;
        Ok(())
    }

    fn query(&mut self, _: Resource<types::Request>) -> Option<String> {
        self.call().exchange.request.query.clone()
    }

    fn set_query(
        &mut self,
        _: Resource<types::Request>,
        query: Option<String>,
    ) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        if let Some(query) = &query {
            edits::check_query(query).map_err(EditError::Invalid)?;
        }
        request.query = query;
        Ok(())
    }

    fn query_param(&mut self, _: Resource<types::Request>, name: String) -> Option<String> {
        let query = self.call().exchange.request.query.as_deref()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.into_owned())
    }

    fn path_param(&mut self, _: Resource<types::Request>, name: String) -> Option<String> {
        let params = &self.call().exchange.request.path_params;
        params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, v)| v.clone())
    }

    fn path_params(&mut self, _: Resource<types::Request>) -> Vec<(String, String)> {
        self.call().exchange.request.path_params.clone()
    }

    fn header(&mut self, _: Resource<types::Request>, name: String) -> Option<Vec<u8>> {
        first_value(&self.call().exchange.request.headers, &name)
    }

    fn header_values(&mut self, _: Resource<types::Request>, name: String) -> Vec<Vec<u8>> {
        all_values(&self.call().exchange.request.headers, &name)
    }

    fn header_names(&mut self, _: Resource<types::Request>) -> Vec<String> {
        names(&self.call().exchange.request.headers)
    }

    fn headers(&mut self, _: Resource<types::Request>) -> types::HeaderBlock {
        every_header(&self.call().exchange.request.headers)
    }

    fn set_header(
        &mut self,
        _: Resource<types::Request>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        set_header(
            &mut self.editable_request()?.exchange.request.headers,
            name,
            value,
        )
    }

    fn append_header(
        &mut self,
        _: Resource<types::Request>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), EditError> {
        append_header(
            &mut self.editable_request()?.exchange.request.headers,
            name,
            value,
        )
    }

    fn remove_header(
        &mut self,
        _: Resource<types::Request>,
        name: String,
    ) -> Result<(), EditError> {
        remove_header(&mut self.editable_request()?.exchange.request.headers, name)
    }

    fn body(&mut self, _: Resource<types::Request>) -> Result<Vec<u8>, BodyError> {
        let call = self.call();
        let declared = call.body_access.contains(BodyAccess::REQUEST);
        read_body(call.exchange.request.body.as_ref(), declared)
    }

    fn set_body(&mut self, _: Resource<types::Request>, body: Vec<u8>) -> Result<(), EditError> {
        let request = &mut self.editable_request()?.exchange.request;
        request.body = Some(Bytes::from(body));
        request.body_replaced = true;
        Ok(())
    }

    fn drop(&mut self, _: Resource<types::Request>) -> wasmtime::Result<()> {
        Ok(())
    }
}
