//! The header rules of the plugin contract, on the host side: what a plugin may edit, and how
//! the headers cross into the sandbox (`header-block`).

use bytes::Bytes;
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use wasmgate_plugin_contract::edits;

use crate::plugin::bindings::{EditError, types};

/// A header name a plugin may edit, by the contract's rule (valid, and not one the gateway
/// manages: it fixes `content-length` when a body is replaced, and owns hop-by-hop headers).
fn header_name(name: &str) -> Result<HeaderName, EditError> {
    edits::check_header_name(name).map_err(EditError::Invalid)?;
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| EditError::Invalid(format!("`{name}` is not a valid header name")))
}

/// A header value from the bytes the guest sent, by the contract's rule, kept without a copy.
fn header_value(name: &str, value: Vec<u8>) -> Result<HeaderValue, EditError> {
    edits::check_header_value(name, &value).map_err(EditError::Invalid)?;
    HeaderValue::from_maybe_shared(Bytes::from(value))
        .map_err(|_| EditError::Invalid(format!("invalid value for header `{name}`")))
}

/// The first value of a header.
pub(super) fn first_value(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    headers.get(name).map(|v| v.as_bytes().to_vec())
}

/// Every value of a header, in order.
pub(super) fn all_values(headers: &HeaderMap, name: &str) -> Vec<Vec<u8>> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect()
}

/// The distinct header names.
pub(super) fn names(headers: &HeaderMap) -> Vec<String> {
    headers.keys().map(|k| k.as_str().to_owned()).collect()
}

/// Every header of `headers` as the contract's `header-block`: names and values back to back in
/// one byte list, with the end of each name and each value in a second.
pub(super) fn every_header(headers: &HeaderMap) -> types::HeaderBlock {
    let size = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let mut bytes = Vec::with_capacity(size);
    let mut ends = Vec::with_capacity(2 * headers.len());
    // A header block beyond 4 GiB cannot exist: the listeners cap a request's header bytes far
    // below it, and a plugin's edits are bounded by its memory.
    let end = |bytes: &[u8]| u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    for (name, value) in headers {
        bytes.extend_from_slice(name.as_str().as_bytes());
        ends.push(end(&bytes));
        bytes.extend_from_slice(value.as_bytes());
        ends.push(end(&bytes));
    }
    types::HeaderBlock { bytes, ends }
}

/// Replaces every value of a header with one value.
pub(super) fn set_header(
    headers: &mut HeaderMap,
    name: String,
    value: Vec<u8>,
) -> Result<(), EditError> {
    headers.insert(header_name(&name)?, header_value(&name, value)?);
    Ok(())
}

/// Adds a value to a header, keeping the existing ones.
pub(super) fn append_header(
    headers: &mut HeaderMap,
    name: String,
    value: Vec<u8>,
) -> Result<(), EditError> {
    headers.append(header_name(&name)?, header_value(&name, value)?);
    Ok(())
}

/// Removes every value of a header.
pub(super) fn remove_header(headers: &mut HeaderMap, name: String) -> Result<(), EditError> {
    headers.remove(header_name(&name)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue, header};

    use super::every_header;
    use crate::integration::is_connection_header;

    #[test]
    fn a_header_block_holds_every_value_in_order_with_its_ends() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/plain"));
        headers.append("x-tag", HeaderValue::from_static("a"));
        headers.append("x-tag", HeaderValue::from_static(""));
        let block = every_header(&headers);
        assert_eq!(block.bytes, b"accepttext/plainx-tagax-tag");
        assert_eq!(block.ends, [6, 16, 21, 22, 27, 27]);
        assert!(every_header(&HeaderMap::new()).ends.is_empty());
    }

    #[test]
    fn the_contract_manages_exactly_the_headers_the_gateway_never_forwards() {
        for name in wasmgate_plugin_contract::headers::MANAGED {
            let name = http::HeaderName::from_static(name);
            assert!(is_connection_header(&name), "{name}");
        }
        for name in ["content-type", "host", "x-forwarded-for", "cookie"] {
            assert!(!is_connection_header(&http::HeaderName::from_static(name)));
        }
    }
}
