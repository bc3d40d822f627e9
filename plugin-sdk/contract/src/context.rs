//! The context keys with a meaning: those the gateway fills in (read-only to plugins) and those
//! the built-in plugins set for the plugins after them and the access log.

/// The prefix of the keys the gateway fills in; plugins may read them but not set or remove
/// them.
pub const GATEWAY_PREFIX: &str = "gateway.";
/// The request id, also in the gateway's error bodies and access log.
pub const REQUEST_ID: &str = "gateway.request-id";
/// The id of the matched route.
pub const ROUTE_ID: &str = "gateway.route-id";
/// The client's IP address.
pub const CLIENT_IP: &str = "gateway.client-ip";
/// The route's API version, when it has one.
pub const API_VERSION: &str = "gateway.api-version";
/// The W3C trace id of the request.
pub const TRACE_ID: &str = "gateway.trace-id";
/// The stage serving the request (`prod`, or `prod/canary` for its canary), when the config
/// declares stages.
pub const STAGE: &str = "gateway.stage";

/// TLS listeners: the protocol, `TLSv1.2` or `TLSv1.3`.
pub const TLS_PROTOCOL: &str = "gateway.tls.protocol";
/// TLS listeners: the server name the client asked for (SNI), when it sent one.
pub const TLS_SERVER_NAME: &str = "gateway.tls.sni";
/// Mutual TLS: the verified client certificate's subject.
pub const TLS_CLIENT_SUBJECT: &str = "gateway.tls.client.subject";
/// Mutual TLS: the client certificate's subject alternative names.
pub const TLS_CLIENT_SANS: &str = "gateway.tls.client.sans";
/// Mutual TLS: the client certificate's SHA-256 fingerprint.
pub const TLS_CLIENT_FINGERPRINT: &str = "gateway.tls.client.fingerprint_sha256";
/// Mutual TLS: the client certificate's serial number.
pub const TLS_CLIENT_SERIAL: &str = "gateway.tls.client.serial";

/// The authenticated caller, set by an authorizer (`jwt-authorizer`: the `sub` claim); in the
/// access log as `principal`.
pub const PRINCIPAL: &str = "auth.principal";
/// The caller's scopes, space-separated, set by an authorizer.
pub const SCOPES: &str = "auth.scopes";
/// The id of the accepted API key, set by `api-keys`; in the access log as `api_key_id`.
pub const API_KEY_ID: &str = "api-key.id";

/// Whether a plugin may set or remove `key`: every key but the gateway's own.
pub fn is_writable(key: &str) -> bool {
    !key.starts_with(GATEWAY_PREFIX)
}
