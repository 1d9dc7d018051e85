//! What a kubeconfig says about TLS, carried with each cluster call to the transport: the
//! CA the API server's certificate must chain to (trusted alone, as kubectl does) and the
//! client certificate to present. Over HTTPS the transport builds a client for exactly these;
//! in process, where there is no handshake, it makes the same two checks a handshake would
//! (see [`InProcessHandshake`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A request extension on `kube` calls.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct KubeTls {
    /// PEM: the CA (or bundle) the server's certificate must chain to; `None`: the system's.
    pub certificate_authority: Option<String>,
    /// PEM: a client certificate and its key, concatenated. A secret.
    pub client_identity: Option<String>,
}

impl std::fmt::Debug for KubeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeTls")
            .field("certificate_authority", &self.certificate_authority.is_some())
            .field("client_identity", &self.client_identity.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What to do when the API server's certificate is not from the kubeconfig's CA (in process
/// and over HTTPS alike).
pub const NOT_THIS_CLUSTERS_CA: &str = "the API server's certificate is not issued by the CA in the kubeconfig's certificate-authority-data (a kubeconfig of another cluster, or from before its certificates were rotated? get the credentials again)";
/// What to do when the kubeconfig names no CA and nothing trusted issued the server's.
pub const NO_AUTHORITY: &str = "the kubeconfig gives no certificate-authority-data, and the system's roots do not hold the cluster's CA (get the credentials again: AKS puts its CA in every kubeconfig)";

/// Why a kubeconfig's TLS settings cannot be used, or the server's certificate is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("the kubeconfig's certificate-authority-data holds no PEM certificate: {0}")]
    BadAuthority(String),
    #[error("the kubeconfig's client certificate and key are not usable: {0}")]
    BadIdentity(String),
    #[error("invalid peer certificate: UnknownIssuer: {}", NOT_THIS_CLUSTERS_CA)]
    UnknownIssuer,
    #[error("invalid peer certificate: UnknownIssuer: {}", NO_AUTHORITY)]
    NoAuthority,
}

/// Each `-----BEGIN …-----` … `-----END …-----` block of a PEM text, as written (the
/// redactor learns a key's block alone as well as the whole identity).
pub fn pem_blocks(pem: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find("-----BEGIN ") {
        let Some(end) = rest[start..].find("-----END ") else { break };
        let Some(close) = rest[start + end + "-----END ".len()..].find("-----") else { break };
        let stop = start + end + "-----END ".len() + close + "-----".len();
        blocks.push(&rest[start..stop]);
        rest = &rest[stop..];
    }
    blocks
}

/// The DER certificates of a PEM bundle (at least one).
pub fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<_, _>>().map_err(|e| TlsError::BadAuthority(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::BadAuthority("no `BEGIN CERTIFICATE` block".into()));
    }
    Ok(certs)
}

/// The client certificate (DER) of an identity PEM, after checking that its key is the
/// certificate's: what rustls refuses before a handshake when they differ.
pub fn client_certificate(identity_pem: &str) -> Result<Vec<u8>, TlsError> {
    let bad = |e: String| TlsError::BadIdentity(e);
    let cert = CertificateDer::pem_slice_iter(identity_pem.as_bytes()).next().ok_or_else(|| bad("no `BEGIN CERTIFICATE` block".into()))?.map_err(|e| bad(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(identity_pem.as_bytes()).map_err(|e| bad(format!("no private key: {e}")))?;
    let provider = rustls::crypto::ring::default_provider();
    let der = cert.to_vec();
    rustls::sign::CertifiedKey::from_der(vec![cert], key, &provider).map_err(|e| bad(e.to_string()))?;
    Ok(der)
}

/// In process, the checks of a TLS handshake without one: the server's certificate must
/// come from a CA in the kubeconfig's bundle (its issuer, which the simulator names, is
/// compared with each bundle certificate), and a client certificate must match its key.
/// Answers are kept: a flow calls the same cluster many times.
#[derive(Default)]
pub struct InProcessHandshake {
    identities: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

/// Identities kept at once.
const MAX_KEPT: usize = 64;

impl InProcessHandshake {
    /// `issuer_pem`: the CA that issued the certificate the server at this address presents.
    /// The client certificate (DER) to show the server, if one was given.
    /// Without a CA the system's roots would decide, and no simulator CA is among them.
    pub fn check(&self, tls: &KubeTls, issuer_pem: &str) -> Result<Option<Arc<Vec<u8>>>, TlsError> {
        let bundle = tls.certificate_authority.as_deref().ok_or(TlsError::NoAuthority)?;
        let issuer = certificates(issuer_pem).map_err(|_| TlsError::UnknownIssuer)?;
        if !certificates(bundle)?.iter().any(|c| c.as_ref() == issuer[0].as_ref()) {
            return Err(TlsError::UnknownIssuer);
        }
        let Some(identity) = &tls.client_identity else {
            return Ok(None);
        };
        if let Some(der) = self.identities.lock().unwrap_or_else(|p| p.into_inner()).get(identity) {
            return Ok(Some(der.clone()));
        }
        let der = Arc::new(client_certificate(identity)?);
        let mut kept = self.identities.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(identity.clone(), der.clone());
        Ok(Some(der))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aksflow_simulator::pki::Pki;

    fn pki() -> (Pki, Pki) {
        let sim = Pki::new(3, 1_767_225_600);
        let cluster = sim.for_cluster("c:0");
        (sim, cluster)
    }

    fn identity(p: &Pki) -> String {
        let c = p.client("admin", "masterclient", "system:masters");
        format!("{}{}", c.cert_pem, c.key_pem)
    }

    #[test]
    fn the_kubeconfig_ca_must_be_the_servers_issuer() {
        let (sim, cluster) = pki();
        let h = InProcessHandshake::default();
        let with_ca = |ca: &str| KubeTls { certificate_authority: Some(ca.to_string()), client_identity: None };
        assert_eq!(h.check(&with_ca(&cluster.ca.cert_pem), &cluster.ca.cert_pem), Ok(None));
        assert_eq!(h.check(&with_ca(&sim.ca.cert_pem), &cluster.ca.cert_pem), Err(TlsError::UnknownIssuer));
        // A bundle holding the issuer among others is trusted, as by any TLS client.
        let bundle = format!("{}{}", sim.ca.cert_pem, cluster.ca.cert_pem);
        assert_eq!(h.check(&with_ca(&bundle), &cluster.ca.cert_pem), Ok(None));
        assert!(matches!(h.check(&with_ca("not pem"), &cluster.ca.cert_pem), Err(TlsError::BadAuthority(_))));
        // No CA given: the system's roots, which no simulator CA is among.
        assert_eq!(h.check(&KubeTls::default(), &cluster.ca.cert_pem), Err(TlsError::NoAuthority));
    }

    #[test]
    fn an_identitys_blocks_are_found_one_by_one() {
        let (_, cluster) = pki();
        let id = cluster.client("admin", "masterclient", "system:masters");
        let both = format!("{}{}", id.cert_pem, id.key_pem);
        assert_eq!(pem_blocks(&both), [id.cert_pem.trim_end(), id.key_pem.trim_end()]);
        assert!(pem_blocks("no pem here").is_empty());
        assert!(pem_blocks("-----BEGIN X-----\nunterminated").is_empty());
    }

    #[test]
    fn debug_output_says_what_is_set_and_never_the_identity() {
        let (_, cluster) = pki();
        let tls = KubeTls { certificate_authority: Some(cluster.ca.cert_pem.clone()), client_identity: Some(identity(&cluster)) };
        let shown = format!("{tls:?}");
        assert!(shown.contains("certificate_authority: true") && shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains("PRIVATE KEY") && !shown.contains("BEGIN CERTIFICATE"), "{shown}");
    }

    #[test]
    fn identities_kept_are_bounded() {
        let (_, cluster) = pki();
        let h = InProcessHandshake::default();
        let ca = Some(cluster.ca.cert_pem.clone());
        for i in 0..MAX_KEPT {
            h.identities.lock().unwrap().insert(format!("old{i}"), Arc::new(vec![]));
        }
        h.check(&KubeTls { certificate_authority: ca.clone(), client_identity: Some(identity(&cluster)) }, &cluster.ca.cert_pem).unwrap();
        assert_eq!(h.identities.lock().unwrap().len(), 1, "at the cap, the kept identities start again");
        let other = cluster.client("user", "masterclient", "system:masters");
        h.check(&KubeTls { certificate_authority: ca, client_identity: Some(format!("{}{}", other.cert_pem, other.key_pem)) }, &cluster.ca.cert_pem).unwrap();
        assert_eq!(h.identities.lock().unwrap().len(), 2, "below the cap, they accumulate");
    }

    #[test]
    fn a_client_certificate_is_shown_only_with_its_own_key() {
        let (sim, cluster) = pki();
        let h = InProcessHandshake::default();
        let good = identity(&cluster);
        let ca = Some(cluster.ca.cert_pem.clone());
        let der = h.check(&KubeTls { certificate_authority: ca.clone(), client_identity: Some(good.clone()) }, &cluster.ca.cert_pem).unwrap().unwrap();
        assert_eq!(der.as_slice(), certificates(&good).unwrap()[0].as_ref());
        let other_key = sim.client("admin", "masterclient", "system:masters").key_pem;
        let mismatched = format!("{}{}", cluster.client("admin", "masterclient", "system:masters").cert_pem, other_key);
        assert!(matches!(h.check(&KubeTls { certificate_authority: ca.clone(), client_identity: Some(mismatched) }, &cluster.ca.cert_pem), Err(TlsError::BadIdentity(_))));
        let no_key = cluster.client("admin", "masterclient", "system:masters").cert_pem;
        assert!(matches!(h.check(&KubeTls { certificate_authority: ca, client_identity: Some(no_key) }, &cluster.ca.cert_pem), Err(TlsError::BadIdentity(_))));
    }
}
