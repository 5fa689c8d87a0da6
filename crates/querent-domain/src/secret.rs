use std::fmt;

/// A value that must never be shown: `Debug` and `Display` print `[redacted]`, and there is
/// deliberately no `Serialize` implementation, so a `Secret` cannot end up in a JSON
/// response or a log line by accident. It can be deserialised, so request bodies can carry
/// write-only secrets straight into one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Gives access to the value: call sites of this are where a secret is really used.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

impl From<String> for Secret<String> {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2".to_owned());
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert!(!format!("{:#?}", Some(&s)).contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn deserialises_from_plain_json() {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            password: Secret<String>,
        }
        let b: Body = serde_json::from_str(r#"{"password":"pw"}"#).unwrap();
        assert_eq!(b.password.expose(), "pw");
        assert!(!format!("{b:?}").contains("pw\""));
    }
}
