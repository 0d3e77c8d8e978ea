//! Error messages that quote values, and their value-free form.
//!
//! The engines (`json6902`, `strategic`, `kustomize_smp`) never format a value into an error
//! message directly: they build the message through a [`Quote`], once showing values and once
//! withholding them, and keep both ([`Quoted`]). Which form reaches the user is decided in one
//! place, `apply`, which knows the patched object: values of a Secret are never shown.

use std::fmt;

/// What a withheld value is replaced with.
pub(crate) const HIDDEN: &str = "<hidden>";

/// Renders the values an error message quotes, or withholds them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quote {
    hide: bool,
}

impl Quote {
    /// Whether values are withheld, for messages that read better reworded than placeheld.
    pub(crate) fn hides(self) -> bool {
        self.hide
    }

    /// The value rendered by `show`, or [`HIDDEN`].
    pub(crate) fn value(self, show: impl FnOnce() -> String) -> String {
        if self.hide { HIDDEN.to_owned() } else { show() }
    }
}

/// A message with, if it quotes any value, the same message with the values withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    full: String,
    redacted: Option<String>,
}

impl Quoted {
    /// A message that quotes no value.
    pub(crate) fn plain(message: impl Into<String>) -> Self {
        Self {
            full: message.into(),
            redacted: None,
        }
    }

    /// Builds the message twice: showing values and withholding them.
    pub(crate) fn new(build: impl Fn(Quote) -> String) -> Self {
        let full = build(Quote { hide: false });
        let redacted = build(Quote { hide: true });
        Self {
            redacted: (redacted != full).then_some(redacted),
            full,
        }
    }

    /// The message with values.
    pub(crate) fn full(&self) -> &str {
        &self.full
    }

    /// The message without values; `None` if it quotes none.
    pub(crate) fn redacted(&self) -> Option<&str> {
        self.redacted.as_deref()
    }

    /// The message, with or without values.
    pub(crate) fn render(&self, hide: bool) -> &str {
        match &self.redacted {
            Some(r) if hide => r,
            _ => &self.full,
        }
    }
}

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// An error whose message may quote values of the patched object or of the patch.
pub(crate) trait Redact: fmt::Display {
    /// The message with every quoted value withheld; `None` if it quotes none (then the
    /// `Display` text is already value-free).
    fn redacted(&self) -> Option<String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_keeps_a_redacted_form_only_when_values_are_quoted() {
        let q = Quoted::new(|q| format!("expected {}", q.value(|| "\"x\"".into())));
        assert_eq!(q.full(), "expected \"x\"");
        assert_eq!(q.redacted(), Some("expected <hidden>"));
        assert_eq!(q.render(true), "expected <hidden>");
        assert_eq!(q.render(false), "expected \"x\"");
        let plain = Quoted::new(|_| "path not found".into());
        assert_eq!(plain, Quoted::plain("path not found"));
        assert_eq!(plain.render(true), "path not found");
    }
}
