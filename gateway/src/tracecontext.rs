//! W3C Trace Context (`traceparent`): accepted from the client or generated, and propagated to
//! the upstream with the same trace id and a new span id for the gateway's hop.
//!
//! When spans are exported (`[tracing]`, see [`crate::otel`]), the span id sent upstream is the
//! id of the gateway's CLIENT span for the integration call, so the backend's spans nest under
//! it; the sampled flag sent upstream is the gateway's sampling decision.

use http::HeaderValue;

/// A parsed or generated `traceparent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    /// 32 lower-case hex digits, not all zero.
    pub trace_id: String,
    /// 16 lower-case hex digits: the span this hop is a child of (or the new span).
    pub span_id: String,
    /// Trace flags, two hex digits (`01` = sampled).
    pub flags: String,
}

impl TraceParent {
    /// Parses a version-00 `traceparent` header (future versions: their first four fields);
    /// `None` when it is malformed, so a new trace is started instead.
    pub fn parse(value: &HeaderValue) -> Option<Self> {
        let text = value.to_str().ok()?.trim();
        let mut parts = text.split('-');
        let (version, trace_id, span_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let is_hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let valid = is_hex(version, 2)
            && version != "ff"
            && (version != "00" || parts.next().is_none())
            && is_hex(trace_id, 32)
            && trace_id.bytes().any(|b| b != b'0')
            && is_hex(span_id, 16)
            && span_id.bytes().any(|b| b != b'0')
            && is_hex(flags, 2);
        valid.then(|| TraceParent {
            trace_id: trace_id.to_owned(),
            span_id: span_id.to_owned(),
            flags: flags.to_owned(),
        })
    }

    /// A new trace with a random trace id, sampled.
    pub fn generate() -> Self {
        TraceParent {
            trace_id: lower_hex(uuid::Uuid::new_v4().as_bytes()),
            span_id: new_span_id(),
            flags: "01".into(),
        }
    }

    /// Whether the trace is sampled (flag `01`).
    pub fn sampled(&self) -> bool {
        u8::from_str_radix(&self.flags, 16).is_ok_and(|flags| flags & 1 == 1)
    }

    /// The same trace with the sampled flag set or cleared (other flags kept).
    pub fn with_sampled(mut self, sampled: bool) -> Self {
        let flags = u8::from_str_radix(&self.flags, 16).unwrap_or(0);
        let flags = if sampled { flags | 1 } else { flags & !1 };
        self.flags = format!("{flags:02x}");
        self
    }

    /// The same trace, with a new span id: the gateway's hop towards the upstream (and, when
    /// spans are exported, the id of the integration's CLIENT span).
    pub fn child(&self) -> Self {
        TraceParent {
            span_id: new_span_id(),
            ..self.clone()
        }
    }

    /// The header value, `00-<trace>-<span>-<flags>`.
    pub fn to_header(&self) -> HeaderValue {
        let mut text = String::with_capacity(55);
        for part in ["00-", &self.trace_id, "-", &self.span_id, "-", &self.flags] {
            text.push_str(part);
        }
        HeaderValue::try_from(text).expect("hex digits and dashes are a valid header value")
    }
}

/// 8 random bytes, hex, never all zero.
fn new_span_id() -> String {
    let random = uuid::Uuid::new_v4();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&random.as_bytes()[..8]);
    if bytes == [0; 8] {
        bytes[7] = 1;
    }
    lower_hex(&bytes)
}

/// `bytes` (at most 16) as lower-case hex, through a table into a stack buffer: ids are made
/// for every request, and `hex::encode` builds its string one `char` at a time.
fn lower_hex(bytes: &[u8]) -> String {
    let mut text = [0u8; 32];
    let text = &mut text[..bytes.len() * 2];
    hex::encode_to_slice(bytes, text).expect("the buffer holds two digits per byte");
    std::str::from_utf8(text)
        .expect("hex digits are ASCII")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_valid_traceparent_and_refuses_malformed_ones() {
        let value =
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let parsed = TraceParent::parse(&value).unwrap();
        assert_eq!(parsed.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ] {
            assert_eq!(
                TraceParent::parse(&HeaderValue::from_static(bad)),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn generated_ids_are_valid_lower_case_hex_that_parses_back() {
        assert_eq!(lower_hex(&[0x00, 0xab, 0x7f, 0xff]), "00ab7fff");
        for _ in 0..100 {
            let generated = TraceParent::generate();
            let parsed = TraceParent::parse(&generated.to_header()).expect("valid traceparent");
            assert_eq!(parsed.trace_id, generated.trace_id);
            assert_eq!(parsed.span_id, generated.span_id);
        }
    }

    #[test]
    fn a_child_keeps_the_trace_and_gets_a_new_span() {
        let parent = TraceParent::generate();
        let child = parent.child();
        assert_eq!(child.trace_id, parent.trace_id);
        assert_ne!(child.span_id, parent.span_id);
        assert_eq!(child.to_header().len(), 55);
    }

    #[test]
    fn reads_and_sets_the_sampled_flag_keeping_the_others() {
        let value =
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
        let parsed = TraceParent::parse(&value).unwrap();
        assert!(parsed.sampled());
        let unsampled = parsed.with_sampled(false);
        assert_eq!(
            (unsampled.sampled(), unsampled.flags.as_str()),
            (false, "02")
        );
        assert_eq!(unsampled.with_sampled(true).flags, "03");
        assert!(TraceParent::generate().sampled());
    }
}
