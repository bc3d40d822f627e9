//! The response being assembled, from the moment something answers (a plugin, the gateway, the
//! integration) until it is sent.

use crate::body::GatewayBody;
use crate::exchange::ResponseState;

/// The response being assembled: its head (and body, when in memory) as plugins see it, and,
/// when no plugin buffered or replaced it, the body still streaming from the backend.
pub(super) struct Answer {
    pub(super) response: ResponseState,
    pub(super) streaming_body: Option<GatewayBody>,
}

impl Answer {
    /// An answer whose body is in memory (a plugin's, the gateway's, a mock's, or buffered).
    pub(super) fn buffered(response: ResponseState) -> Self {
        Answer {
            response,
            streaming_body: None,
        }
    }
}
