//! `[admin]`: the admin listener's address and the token that guards it.
//!
//! The token is a secret: messages say how long it is, never what it is.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::super::model::AdminSettings;
use super::super::surface::{AdminSection, ListenerSection};
use super::Checker;

/// `127.0.0.1:9901`: where the admin listener binds when `[admin]` names no address.
const DEFAULT_ADDRESS: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9901);

/// The shortest token accepted, in characters.
const MIN_TOKEN_CHARS: usize = 16;

const TOKEN_HELP: &str = "generate one with `openssl rand -hex 32`";

impl Checker<'_> {
    /// The admin settings, and the token file when there is one (a file to watch).
    pub(super) fn admin(
        &mut self,
        s: &AdminSection,
        listeners: &[ListenerSection],
    ) -> (AdminSettings, Option<PathBuf>) {
        let address = match &s.address {
            None => Some(DEFAULT_ADDRESS),
            Some(value) => self.admin_address(value),
        };
        if let Some(address) = address {
            self.admin_address_is_free(address, s.address.as_ref(), listeners);
        }
        if let (Some(_), Some(file)) = (&s.token, &s.token_file) {
            let help = "set one of them: `token` holds the token, `token_file` names a file \
                        holding it";
            let message = "`token` and `token_file` are both set".to_owned();
            self.error(file.span(), "admin.token_file", message, Some(help.into()));
        }
        let inline = s.token.as_ref().and_then(|token| {
            self.token(
                token.get_ref(),
                token.span(),
                "admin.token",
                "the admin token",
            )
        });
        let file = s
            .token_file
            .as_ref()
            .and_then(|f| Some((f, self.file_path(f, "admin.token_file")?)));
        let from_file = file.as_ref().and_then(|(f, path)| self.token_file(f, path));
        let token = inline.or(from_file);
        let has_token = s.token.is_some() || s.token_file.is_some();
        if let (Some(value), Some(address), false) = (&s.address, address, has_token)
            && !address.ip().to_canonical().is_loopback()
        {
            let message = format!("admin address `{address}` is not loopback: it needs a token");
            let help = "set `token` (at least 16 characters) or `token_file` in `[admin]`, or \
                        bind a loopback address, e.g. `127.0.0.1:9901`";
            self.error(value.span(), "admin.address", message, Some(help.into()));
        }
        let settings = AdminSettings {
            address: address.unwrap_or(DEFAULT_ADDRESS),
            token,
        };
        (settings, file.map(|(_, path)| path))
    }

    fn admin_address(&mut self, value: &Spanned<String>) -> Option<SocketAddr> {
        let parsed = value.get_ref().parse::<SocketAddr>();
        if parsed.is_err() {
            let help = "write an IP address and a port, e.g. `127.0.0.1:9901` or `[::1]:9901` \
                        (host names are not resolved)";
            let message = format!("invalid admin address `{}`", value.get_ref());
            self.error(value.span(), "admin.address", message, Some(help.into()));
        }
        parsed.ok()
    }

    /// The admin listener may not take a traffic listener's address (port 0 aside). The error
    /// points at `admin.address`, or at the listener when the admin address is the default.
    fn admin_address_is_free(
        &mut self,
        address: SocketAddr,
        value: Option<&Spanned<String>>,
        listeners: &[ListenerSection],
    ) {
        if address.port() == 0 {
            return;
        }
        let taken = listeners
            .iter()
            .enumerate()
            .find(|(_, l)| l.address.get_ref().parse::<SocketAddr>() == Ok(address));
        let Some((i, listener)) = taken else { return };
        match value {
            Some(value) => {
                let message = format!("admin address `{address}` is a listener's address");
                let help = format!("listeners[{i}] binds it already; use another port");
                self.error(value.span(), "admin.address", message, Some(help));
            }
            None => {
                let message =
                    format!("listener address `{address}` is the admin listener's address");
                let help = "the admin listener binds it by default: use another port, or set \
                            `address` in `[admin]`";
                let key = format!("listeners[{i}].address");
                self.error(listener.address.span(), &key, message, Some(help.into()));
            }
        }
    }

    /// The token in `token_file`, without trailing whitespace.
    fn token_file(&mut self, value: &Spanned<String>, path: &Path) -> Option<String> {
        let key = "admin.token_file";
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let what = format!("the admin token in `{}`", value.get_ref());
                self.token(text.trim_end(), value.span(), key, &what)
            }
            Err(e) => {
                let message = format!("cannot read the admin token file `{}`: {e}", path.display());
                let help = "the path is relative to the config file's directory; the file holds \
                            the token alone";
                self.error(value.span(), key, message, Some(help.into()));
                None
            }
        }
    }

    /// A token: at least 16 characters, all visible ASCII (it travels in an HTTP header).
    fn token(
        &mut self,
        token: &str,
        span: std::ops::Range<usize>,
        key: &str,
        what: &str,
    ) -> Option<String> {
        let chars = token.chars().count();
        let problem = if chars < MIN_TOKEN_CHARS {
            let message = format!("{what} is too short ({chars} characters)");
            Some((message, format!("use at least 16 characters; {TOKEN_HELP}")))
        } else if !token.chars().all(|c| c.is_ascii_graphic()) {
            let message = format!("{what} has a space, a control or a non-ASCII character");
            let help = format!("it is sent in an HTTP header: use visible ASCII; {TOKEN_HELP}");
            Some((message, help))
        } else {
            None
        };
        let Some((message, help)) = problem else {
            return Some(token.to_owned());
        };
        self.error(span, key, message, Some(help));
        None
    }
}

#[cfg(test)]
mod tests;
