//! A fingerprint held on the stack: at most [`FINGERPRINT_LEN`] token classes, so reading one
//! per value and context allocates nothing.

use super::FINGERPRINT_LEN;

/// Up to [`FINGERPRINT_LEN`] token classes (ASCII letters and punctuation).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Print {
    classes: [u8; FINGERPRINT_LEN],
    len: usize,
}

impl Print {
    /// Appends a class; callers stop at [`FINGERPRINT_LEN`].
    pub(crate) fn push(&mut self, class: u8) {
        self.classes[self.len] = class;
        self.len += 1;
    }

    pub(crate) fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    pub(crate) fn last(&self) -> Option<u8> {
        self.as_bytes().last().copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.classes[..self.len]
    }

    /// The classes as text; only ASCII is ever pushed.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}
