//! Access tokens: compact JWS with HS256 (HMAC-SHA256, computed by the vault through the
//! [`Crypto`] port), signed with a key derived from the master key (HKDF, purpose
//! `querent-jwt-v1`); the master key's id is the
//! `kid` header, so tokens signed before a key rotation are recognised (and refused once the
//! old key is gone). Verification is strict: the header must say exactly `alg: HS256` (so
//! `none` and every other algorithm are refused before any signature check), the signature
//! is compared in constant time, and `exp`/`iss` are enforced.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use querent_domain::ports::Crypto;
use querent_domain::{ErrorCode, TokenFamilyId};
use serde::{Deserialize, Serialize};

use crate::ServiceError;

const PURPOSE: &str = "querent-jwt-v1";
const ISSUER: &str = "querent";

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
}

/// The claims Querent puts in an access token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// Issuer, always `querent`.
    pub iss: String,
    /// Subject: `user:<uuid>` or `client:<uuid>`.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Token id.
    pub jti: String,
    /// For users: the account's token epoch when issued (bumped by password change and
    /// logout-all, which kills older tokens at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ep: Option<i64>,
    /// For users: the refresh-token family (one per login) the token was issued from, so
    /// that revoking the family (logout, refresh-token reuse) also refuses its access
    /// tokens. Absent on API-client tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<TokenFamilyId>,
}

fn now_secs() -> i64 {
    querent_domain::now_millis() / 1000
}

/// Signs claims without a token family; returns the compact token.
pub fn sign(crypto: &dyn Crypto, sub: String, ttl_secs: i64, epoch: Option<i64>) -> String {
    sign_in_family(crypto, sub, ttl_secs, epoch, None)
}

/// Signs claims, naming the refresh-token family the token belongs to; returns the compact
/// token.
pub fn sign_in_family(
    crypto: &dyn Crypto,
    sub: String,
    ttl_secs: i64,
    epoch: Option<i64>,
    family: Option<TokenFamilyId>,
) -> String {
    let (kid, _) = crypto.mac(PURPOSE, b"");
    let header = Header {
        alg: "HS256".into(),
        typ: Some("JWT".into()),
        kid: Some(kid),
    };
    let iat = now_secs();
    let claims = Claims {
        iss: ISSUER.into(),
        sub,
        iat,
        exp: iat + ttl_secs,
        jti: uuid::Uuid::now_v7().simple().to_string(),
        ep: epoch,
        fam: family,
    };
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
    let c = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{h}.{c}");
    let (_, tag) = crypto.mac(PURPOSE, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag))
}

fn invalid(detail: &str) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidToken, detail)
}

/// Verifies a compact token and returns its claims.
pub fn verify(crypto: &dyn Crypto, token: &str) -> Result<Claims, ServiceError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("malformed token"));
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("malformed token header"))?;
    if header.alg != "HS256" {
        return Err(invalid("token algorithm not accepted"));
    }
    let kid = header.kid.ok_or_else(|| invalid("token has no key id"))?;
    let sig = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| invalid("malformed token signature"))?;
    let signing_input = &token[..h.len() + 1 + c.len()];
    if !crypto.verify_mac(&kid, PURPOSE, signing_input.as_bytes(), &sig) {
        return Err(invalid("token signature is invalid or its key is unknown"));
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| invalid("malformed token claims"))?;
    if claims.iss != ISSUER {
        return Err(invalid("token issuer not accepted"));
    }
    if claims.exp <= now_secs() {
        return Err(ServiceError::new(
            ErrorCode::TokenExpired,
            "access token expired; refresh it or log in again",
        ));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_vault::Keyring;

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn round_trip() {
        let k = Keyring::generate_in_memory().unwrap();
        let t = sign(&k, "user:x".into(), 60, Some(3));
        let c = verify(&k, &t).unwrap();
        assert_eq!((c.sub.as_str(), c.ep, c.fam), ("user:x", Some(3), None));
        let fam = TokenFamilyId::new();
        let t = sign_in_family(&k, "user:x".into(), 60, Some(3), Some(fam));
        assert_eq!(verify(&k, &t).unwrap().fam, Some(fam));
    }

    #[test]
    fn refuses_expired_tampered_none_and_foreign_tokens() {
        let k = Keyring::generate_in_memory().unwrap();
        let expired = sign(&k, "user:x".into(), -1, None);
        assert_eq!(
            verify(&k, &expired).unwrap_err().code,
            ErrorCode::TokenExpired
        );

        let t = sign(&k, "user:x".into(), 60, None);
        let parts: Vec<&str> = t.split('.').collect();
        let forged_claims = b64(
            &serde_json::json!({"iss":"querent","sub":"user:admin","iat":0,"exp":i64::MAX,"jti":"x"}),
        );
        let tampered = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(
            verify(&k, &tampered).unwrap_err().code,
            ErrorCode::InvalidToken
        );

        let none = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg":"none","typ":"JWT"})),
            forged_claims
        );
        assert_eq!(verify(&k, &none).unwrap_err().code, ErrorCode::InvalidToken);
        let none_kid = format!(
            "{}.{}.",
            b64(&serde_json::json!({"alg":"none","kid": k.mac(PURPOSE, b"").0})),
            forged_claims
        );
        assert_eq!(
            verify(&k, &none_kid).unwrap_err().code,
            ErrorCode::InvalidToken
        );

        let other = Keyring::generate_in_memory().unwrap();
        assert_eq!(
            verify(&other, &t).unwrap_err().code,
            ErrorCode::InvalidToken
        );
        assert_eq!(verify(&k, "a.b").unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(verify(&k, "").unwrap_err().code, ErrorCode::InvalidToken);
    }
}
