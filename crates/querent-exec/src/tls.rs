//! TLS to target databases (rustls with the ring provider), per `ssl_mode`:
//!
//! | `ssl_mode` | TLS | certificate check |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` | when the server offers it, else plain | none |
//! | `require` | always | none (as libpq's `require`) |
//! | `verify-ca` | always | signed by the connection's CA (or a public CA) |
//! | `verify-full` | always | signed by that CA and naming the host connected to |
//!
//! PostgreSQL connects through [`PgTls`] (tokio-postgres's TLS traits over tokio-rustls);
//! MySQL and MariaDB through mysql_async's own rustls support, given the same choices
//! ([`mysql_ssl_opts`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use querent_domain::SslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

use crate::error::ExecError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The CA certificates of `ca_pem`, or the public roots when there is none.
fn roots(ca_pem: Option<&str>) -> Result<RootCertStore, ExecError> {
    let Some(pem) = ca_pem else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| {
            ExecError::InvalidTarget(format!("ca_certificate: not a PEM certificate: {e}"))
        })?;
        roots.add(cert).map_err(|e| {
            ExecError::InvalidTarget(format!("ca_certificate: not a usable CA certificate: {e}"))
        })?;
    }
    if roots.is_empty() {
        return Err(ExecError::InvalidTarget(
            "ca_certificate: holds no certificate".to_owned(),
        ));
    }
    Ok(roots)
}

/// The rustls client configuration for `ssl_mode`; `None` for `disable`.
pub(crate) fn client_config(
    ssl_mode: SslMode,
    ca_pem: Option<&str>,
) -> Result<Option<Arc<ClientConfig>>, ExecError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match ssl_mode {
        SslMode::Disable => return Ok(None),
        SslMode::Prefer | SslMode::Require => Arc::new(AnyCertificate(provider.clone())),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(ca_pem)?),
                provider.clone(),
            )
            .build()
            .map_err(|e| ExecError::InvalidTarget(format!("ca_certificate: {e}")))?;
            if ssl_mode == SslMode::VerifyCa {
                Arc::new(AnyName(webpki))
            } else {
                webpki
            }
        }
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ExecError::Connection(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

/// `prefer` and `require`: encryption without authentication, as libpq does — the
/// handshake's signatures are still checked, the certificate is not.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted CA; the name in the certificate is not
/// compared with the host.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// mysql_async's TLS options for `ssl_mode`; `None` for `disable` (and for `prefer`'s
/// plain fallback, chosen by the caller).
pub(crate) fn mysql_ssl_opts(
    ssl_mode: SslMode,
    ca_pem: Option<&str>,
) -> Result<Option<mysql_async::SslOpts>, ExecError> {
    let opts = mysql_async::SslOpts::default();
    Ok(match ssl_mode {
        SslMode::Disable => None,
        SslMode::Prefer | SslMode::Require => Some(opts.with_danger_accept_invalid_certs(true)),
        // mysql_async's way to skip only the name check recognises the error text of an
        // older rustls, so with this one it would refuse every certificate not naming the
        // host (checked by the tests): rather than half-check, verify-ca is refused.
        SslMode::VerifyCa => {
            return Err(ExecError::InvalidTarget(
                "ssl_mode: verify-ca is not available for MySQL/MariaDB targets; use verify-full \
                 (the certificate must name the host) or require"
                    .to_owned(),
            ));
        }
        SslMode::VerifyFull => {
            let opts = match ca_pem {
                Some(pem) => {
                    // Parsed here too, so a bad certificate is reported the same way for
                    // both engines.
                    roots(Some(pem))?;
                    opts.with_root_certs(vec![pem.as_bytes().to_vec().into()])
                        .with_disable_built_in_roots(true)
                }
                None => opts,
            };
            Some(opts)
        }
    })
}

/// tokio-postgres's TLS over rustls.
#[derive(Clone)]
pub(crate) struct PgTls(pub(crate) Arc<ClientConfig>);

impl<S> MakeTlsConnect<S> for PgTls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type TlsConnect = PgTlsConnect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<PgTlsConnect, Self::Error> {
        Ok(PgTlsConnect {
            config: self.0.clone(),
            name: ServerName::try_from(domain)?.to_owned(),
        })
    }
}

/// One connection's TLS handshake.
pub(crate) struct PgTlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for PgTlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PgTlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await
                .map(|s| PgTlsStream(Box::new(s)))
        })
    }
}

/// A TLS stream to a PostgreSQL server.
pub(crate) struct PgTlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for PgTlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for PgTlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for PgTlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM without channel binding (libpq's `channel_binding=prefer` falls back the
        // same way): binding needs the certificate's hash, which this build does not take.
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_choose_their_configuration() {
        assert!(client_config(SslMode::Disable, None).unwrap().is_none());
        for mode in [
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert!(client_config(mode, None).unwrap().is_some(), "{mode}");
        }
        let bad = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            client_config(SslMode::VerifyCa, Some(bad)),
            Err(ExecError::InvalidTarget(_))
        ));
        assert!(mysql_ssl_opts(SslMode::Disable, None).unwrap().is_none());
        let full = mysql_ssl_opts(SslMode::VerifyFull, None).unwrap().unwrap();
        assert!(!full.skip_domain_validation() && !full.accept_invalid_certs());
        assert!(matches!(
            mysql_ssl_opts(SslMode::VerifyCa, None),
            Err(ExecError::InvalidTarget(_))
        ));
        assert!(
            mysql_ssl_opts(SslMode::Require, None)
                .unwrap()
                .unwrap()
                .accept_invalid_certs()
        );
    }
}
