//! The native backend: the in-memory request, response and context of [`testing`](crate::testing),
//! applying the gateway's rules (declared body access, read-only stages and `gateway.` keys, valid
//! edits).

use wasmgate_plugin_contract::{context, edits};

use crate::testing::{FakeContext, FakeHeaders, FakeRequest, FakeResponse};
use crate::{BodyError, EditError};

/// A fake the plugin may edit (request-side stages) or only read.
pub(crate) enum Access<'a, T> {
    Write(&'a mut T),
    Read(&'a T),
}

impl<T> Access<'_, T> {
    fn get(&self) -> &T {
        match self {
            Access::Write(target) => target,
            Access::Read(target) => target,
        }
    }

    fn get_mut(&mut self) -> Result<&mut T, EditError> {
        match self {
            Access::Write(target) => Ok(target),
            Access::Read(_) => Err(EditError::ReadOnly),
        }
    }
}

fn invalid(message: String) -> EditError {
    EditError::Invalid(message)
}

/// The contract's rule for a header edit; `value` is `None` for a removal.
fn check_header(name: &str, value: Option<&[u8]>) -> Result<(), EditError> {
    edits::check_header_name(name).map_err(invalid)?;
    if let Some(value) = value {
        edits::check_header_value(name, value).map_err(invalid)?;
    }
    Ok(())
}

fn read_body(body: &[u8], cap: Option<u64>, declared: bool) -> Result<Vec<u8>, BodyError> {
    match cap {
        _ if !declared => Err(BodyError::NotDeclared),
        Some(cap) if body.len() as u64 > cap => Err(BodyError::TooLarge(cap)),
        _ => Ok(body.to_vec()),
    }
}

/// `application/x-www-form-urlencoded` decoding of one query component.
fn decode_query_component(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn header_names(headers: &FakeHeaders) -> Vec<String> {
    headers.names().into_iter().map(str::to_owned).collect()
}

fn every_header(headers: &FakeHeaders) -> Vec<(String, Vec<u8>)> {
    let mut every = Vec::new();
    for name in headers.names() {
        for value in headers.get_all(name) {
            every.push((name.to_owned(), value.to_vec()));
        }
    }
    every
}

fn header_values(headers: &FakeHeaders, name: &str) -> Vec<Vec<u8>> {
    headers
        .get_all(name)
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect()
}

/// A fake request, borrowed for one stage call.
pub(crate) struct RequestHandle<'a> {
    request: Access<'a, FakeRequest>,
    body_declared: bool,
}

impl<'a> RequestHandle<'a> {
    pub(crate) fn new(request: Access<'a, FakeRequest>, body_declared: bool) -> Self {
        RequestHandle {
            request,
            body_declared,
        }
    }

    pub(crate) fn method(&self) -> String {
        self.request.get().method.clone()
    }
    pub(crate) fn set_method(&mut self, method: &str) -> Result<(), EditError> {
        let request = self.request.get_mut()?;
        edits::check_method(method).map_err(invalid)?;
        request.method = method.to_owned();
        Ok(())
    }
    pub(crate) fn path(&self) -> String {
        self.request.get().path.clone()
    }
    pub(crate) fn set_path(&mut self, path: &str) -> Result<(), EditError> {
        let request = self.request.get_mut()?;
        edits::check_path(path).map_err(invalid)?;
        request.path = path.to_owned();
        Ok(())
    }
    pub(crate) fn query(&self) -> Option<String> {
        self.request.get().query.clone()
    }
    pub(crate) fn set_query(&mut self, query: Option<&str>) -> Result<(), EditError> {
        let request = self.request.get_mut()?;
        if let Some(query) = query {
            edits::check_query(query).map_err(invalid)?;
        }
        request.query = query.map(str::to_owned);
        Ok(())
    }
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        let query = self.request.get().query.as_deref()?;
        query
            .split('&')
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .find(|(key, _)| decode_query_component(key) == name)
            .map(|(_, value)| decode_query_component(value))
    }
    pub(crate) fn path_param(&self, name: &str) -> Option<String> {
        let params = &self.request.get().path_params;
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }
    pub(crate) fn path_params(&self) -> Vec<(String, String)> {
        self.request.get().path_params.clone()
    }
    pub(crate) fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.request.get().headers.get(name).map(<[u8]>::to_vec)
    }
    pub(crate) fn header_values(&self, name: &str) -> Vec<Vec<u8>> {
        header_values(&self.request.get().headers, name)
    }
    pub(crate) fn header_names(&self) -> Vec<String> {
        header_names(&self.request.get().headers)
    }
    pub(crate) fn headers(&self) -> Vec<(String, Vec<u8>)> {
        every_header(&self.request.get().headers)
    }
    pub(crate) fn set_header(&mut self, name: &str, value: &[u8]) -> Result<(), EditError> {
        let request = self.request.get_mut()?;
        check_header(name, Some(value))?;
        request.headers.set(name, value);
        Ok(())
    }
    pub(crate) fn append_header(&mut self, name: &str, value: &[u8]) -> Result<(), EditError> {
        let request = self.request.get_mut()?;
        check_header(name, Some(value))?;
        request.headers.append(name, value);
        Ok(())
    }
    pub(crate) fn remove_header(&mut self, name: &str) -> Result<(), EditError> {
        let request = self.request.get_mut()?;
        check_header(name, None)?;
        request.headers.remove(name);
        Ok(())
    }
    pub(crate) fn body(&self) -> Result<Vec<u8>, BodyError> {
        let request = self.request.get();
        read_body(&request.body, request.body_cap, self.body_declared)
    }
    pub(crate) fn set_body(&mut self, body: &[u8]) -> Result<(), EditError> {
        self.request.get_mut()?.body = body.to_vec();
        Ok(())
    }
}

/// A fake response, borrowed for one stage call.
pub(crate) struct ResponseHandle<'a> {
    response: Access<'a, FakeResponse>,
    body_declared: bool,
}

impl<'a> ResponseHandle<'a> {
    pub(crate) fn new(response: Access<'a, FakeResponse>, body_declared: bool) -> Self {
        ResponseHandle {
            response,
            body_declared,
        }
    }

    pub(crate) fn status(&self) -> u16 {
        self.response.get().status
    }
    pub(crate) fn set_status(&mut self, status: u16) -> Result<(), EditError> {
        let response = self.response.get_mut()?;
        edits::check_status(status).map_err(invalid)?;
        response.status = status;
        Ok(())
    }
    pub(crate) fn header(&self, name: &str) -> Option<Vec<u8>> {
        self.response.get().headers.get(name).map(<[u8]>::to_vec)
    }
    pub(crate) fn header_values(&self, name: &str) -> Vec<Vec<u8>> {
        header_values(&self.response.get().headers, name)
    }
    pub(crate) fn header_names(&self) -> Vec<String> {
        header_names(&self.response.get().headers)
    }
    pub(crate) fn headers(&self) -> Vec<(String, Vec<u8>)> {
        every_header(&self.response.get().headers)
    }
    pub(crate) fn set_header(&mut self, name: &str, value: &[u8]) -> Result<(), EditError> {
        let response = self.response.get_mut()?;
        check_header(name, Some(value))?;
        response.headers.set(name, value);
        Ok(())
    }
    pub(crate) fn append_header(&mut self, name: &str, value: &[u8]) -> Result<(), EditError> {
        let response = self.response.get_mut()?;
        check_header(name, Some(value))?;
        response.headers.append(name, value);
        Ok(())
    }
    pub(crate) fn remove_header(&mut self, name: &str) -> Result<(), EditError> {
        let response = self.response.get_mut()?;
        check_header(name, None)?;
        response.headers.remove(name);
        Ok(())
    }
    pub(crate) fn body(&self) -> Result<Vec<u8>, BodyError> {
        let response = self.response.get();
        read_body(&response.body, response.body_cap, self.body_declared)
    }
    pub(crate) fn set_body(&mut self, body: &[u8]) -> Result<(), EditError> {
        self.response.get_mut()?.body = body.to_vec();
        Ok(())
    }
}

/// A fake context, borrowed for one stage call.
pub(crate) struct ContextHandle<'a>(pub(crate) Access<'a, FakeContext>);

impl ContextHandle<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.0.get().entries.get(key).cloned()
    }
    pub(crate) fn set(&mut self, key: &str, value: &str) -> Result<(), EditError> {
        let context = self.0.get_mut()?;
        if !context::is_writable(key) {
            return Err(EditError::ReadOnly);
        }
        context.entries.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
    pub(crate) fn remove(&mut self, key: &str) -> Result<(), EditError> {
        let context = self.0.get_mut()?;
        if !context::is_writable(key) {
            return Err(EditError::ReadOnly);
        }
        context.entries.remove(key);
        Ok(())
    }
    pub(crate) fn keys(&self) -> Vec<String> {
        self.0.get().entries.keys().cloned().collect()
    }
}
