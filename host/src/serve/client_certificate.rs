//! The served simulator asks every TLS client for a certificate, as kube-apiserver does
//! (Go's `tls.RequestClientCert`): a client may send none, and one that does must prove it
//! holds the certificate's key. Whether the certificate names anyone is not decided here: the
//! simulator's x509 authenticator checks it against the addressed cluster's own CA, as
//! kube-apiserver's does. So one listener serves every cluster, and the direct address too.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

#[derive(Debug)]
pub struct RequestClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl RequestClientCertificate {
    pub fn new(provider: &rustls::crypto::CryptoProvider) -> Arc<Self> {
        Arc::new(RequestClientCertificate { algorithms: provider.signature_verification_algorithms })
    }
}

impl ClientCertVerifier for RequestClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    /// Any certificate: the cluster's authenticator decides (see the module's comment).
    fn verify_client_cert(&self, _end_entity: &CertificateDer<'_>, _intermediates: &[CertificateDer<'_>], _now: UnixTime) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The certificate a TLS client presented, as the simulator takes it with each request.
pub fn presented(conn: &rustls::ServerConnection) -> Option<aksflow_simulator::kube::x509::PeerCertificate> {
    conn.peer_certificates().and_then(|c| c.first()).map(|c| aksflow_simulator::kube::x509::PeerCertificate(c.to_vec()))
}
