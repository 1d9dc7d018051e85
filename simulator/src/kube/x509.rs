//! Client-certificate authentication, as kube-apiserver's x509 authenticator does it: the
//! TLS layer only asks for a certificate and checks that the client holds its key; the
//! authenticator then verifies the chain against the cluster's client CA, for client
//! authentication, at the current time, and takes the user from the subject: `CN` is the
//! username, each `O` a group. [protocols.md §E.1]

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};

use super::rbac::{SYSTEM_AUTHENTICATED, UserInfo};

/// The leaf certificate (DER) a client presented in its TLS handshake, after the TLS layer
/// checked that the client holds its key. The transport puts it on each request of that
/// connection; nothing a client sends in a header can make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCertificate(pub Vec<u8>);

/// Why a presented certificate authenticates nobody (kube-apiserver then tries the token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("x509: the certificate is not DER X.509: {0}")]
    Malformed(String),
    #[error("x509: certificate signed by unknown authority, or not valid for client authentication now ({0})")]
    Untrusted(String),
    #[error("x509: the certificate's subject has no common name")]
    NoCommonName,
}

/// A certificate that chained to a CA once, by the CA's and the certificate's DER: the
/// user it names and the seconds it is valid from and to (both included, as webpki checks
/// them). A step presents the same client certificate on every call it makes; its
/// signature need not be checked again, only the time.
struct Verified {
    ca_der: Vec<u8>,
    user: UserInfo,
    not_before: i64,
    not_after: i64,
}

/// At most this many verified certificates are kept; past it the map starts again empty.
const VERIFIED_CAPACITY: usize = 256;

/// By the certificate's DER, with the CA it chained to (a certificate chains to one CA; one
/// verified against another replaces it).
static VERIFIED: LazyLock<Mutex<HashMap<Vec<u8>, Verified>>> = LazyLock::new(Default::default);

/// The user a certificate names, if it chains to `client_ca_der` and is valid at `now_secs`.
/// A certificate verified before against the same CA, and still within its validity, gives
/// the same user without its signature checked again; one outside it is verified afresh, so
/// every refusal is the verifier's own.
pub fn authenticate(client_ca_der: &[u8], leaf_der: &[u8], now_secs: i64) -> Result<UserInfo, CertificateError> {
    let remembered = |v: &Verified| v.ca_der == client_ca_der && (v.not_before..=v.not_after).contains(&now_secs);
    if let Some(v) = VERIFIED.lock().unwrap_or_else(|p| p.into_inner()).get(leaf_der).filter(|v| remembered(v)) {
        return Ok(v.user.clone());
    }
    let (user, not_before, not_after) = verify(client_ca_der, leaf_der, now_secs)?;
    let mut verified = VERIFIED.lock().unwrap_or_else(|p| p.into_inner());
    if verified.len() >= VERIFIED_CAPACITY {
        verified.clear();
    }
    verified.insert(leaf_der.to_vec(), Verified { ca_der: client_ca_der.to_vec(), user: user.clone(), not_before, not_after });
    Ok(user)
}

/// Is the pair remembered (tests)?
#[cfg(test)]
fn remembered(client_ca_der: &[u8], leaf_der: &[u8]) -> bool {
    VERIFIED.lock().unwrap().get(leaf_der).is_some_and(|v| v.ca_der == client_ca_der)
}

/// The full check: the chain, client-auth usage and time, then the subject; with the
/// certificate's validity (Unix seconds).
fn verify(client_ca_der: &[u8], leaf_der: &[u8], now_secs: i64) -> Result<(UserInfo, i64, i64), CertificateError> {
    let ca = CertificateDer::from(client_ca_der);
    let anchor = webpki::anchor_from_trusted_cert(&ca).map_err(|e| CertificateError::Malformed(format!("client CA: {e}")))?;
    let leaf = CertificateDer::from(leaf_der);
    let end_entity = webpki::EndEntityCert::try_from(&leaf).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    let now = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now_secs).unwrap_or(0)));
    end_entity
        .verify_for_usage(webpki::ALL_VERIFICATION_ALGS, &[anchor], &[], now, webpki::KeyUsage::client_auth(), None, None)
        .map_err(|e| CertificateError::Untrusted(format!("{e:?}")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf_der).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    let subject = cert.subject();
    let name = subject.iter_common_name().next().and_then(|cn| cn.as_str().ok()).ok_or(CertificateError::NoCommonName)?;
    let mut groups: Vec<String> = subject.iter_organization().filter_map(|o| o.as_str().ok()).map(String::from).collect();
    groups.push(SYSTEM_AUTHENTICATED.into());
    let validity = cert.validity();
    Ok((UserInfo { name: name.to_string(), groups }, validity.not_before.timestamp(), validity.not_after.timestamp()))
}

/// The DER of the first certificate in a PEM text.
#[cfg(test)]
pub(crate) fn first_der(pem: &str) -> Option<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes()).next()?.ok().map(|c| c.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Pki;

    const START: i64 = 1_767_225_600;

    fn der(pem: &str) -> Vec<u8> {
        first_der(pem).unwrap()
    }

    #[test]
    fn a_certificate_from_the_cluster_ca_names_its_user_and_groups() {
        let cluster = Pki::new(1, START).for_cluster("c:0");
        let cert = cluster.client("admin", "masterclient", "system:masters");
        let user = authenticate(&cluster.ca_der, &der(&cert.cert_pem), START + 60).unwrap();
        assert_eq!(user.name, "masterclient");
        assert_eq!(user.groups, ["system:masters", SYSTEM_AUTHENTICATED]);
    }

    #[test]
    fn another_ca_or_another_cluster_or_a_server_certificate_is_refused() {
        let sim = Pki::new(1, START);
        let cluster = sim.for_cluster("c:0");
        let rotated = sim.for_cluster("c:1");
        let from_sim = sim.client("admin", "masterclient", "system:masters");
        let before_rotation = cluster.client("admin", "masterclient", "system:masters");
        assert!(matches!(authenticate(&cluster.ca_der, &der(&from_sim.cert_pem), START + 60), Err(CertificateError::Untrusted(_))));
        assert!(matches!(authenticate(&rotated.ca_der, &der(&before_rotation.cert_pem), START + 60), Err(CertificateError::Untrusted(_))));
        let server = cluster.apiserver("c.hcp.eastus.azmk8s.io");
        assert!(matches!(authenticate(&cluster.ca_der, &der(&server.cert_pem), START + 60), Err(CertificateError::Untrusted(_))), "a server certificate is not for client auth");
    }

    #[test]
    fn outside_its_validity_or_not_der_it_is_refused() {
        let cluster = Pki::new(1, START).for_cluster("c:0");
        let cert = der(&cluster.client("admin", "masterclient", "system:masters").cert_pem);
        // Verified once, so remembered: the time is still checked on every use.
        authenticate(&cluster.ca_der, &cert, START + 60).unwrap();
        assert!(matches!(authenticate(&cluster.ca_der, &cert, START - 2 * 3600), Err(CertificateError::Untrusted(_))));
        assert!(matches!(authenticate(&cluster.ca_der, &cert, START + 3651 * 86_400), Err(CertificateError::Untrusted(_))));
        assert!(matches!(authenticate(&cluster.ca_der, b"not a certificate", START), Err(CertificateError::Malformed(_))));
    }

    /// The remembered validity is the verifier's own: at each edge, a remembered certificate
    /// is judged as a fresh verification judges it.
    #[test]
    fn a_remembered_certificate_is_judged_as_a_fresh_one_at_its_edges() {
        let cluster = Pki::new(3, START).for_cluster("c:0");
        let cert = der(&cluster.client("admin", "masterclient", "system:masters").cert_pem);
        let (_, not_before, not_after) = verify(&cluster.ca_der, &cert, START + 60).unwrap();
        authenticate(&cluster.ca_der, &cert, START + 60).unwrap();
        for at in [not_before - 1, not_before, not_before + 1, not_after - 1, not_after, not_after + 1] {
            assert_eq!(authenticate(&cluster.ca_der, &cert, at).is_ok(), verify(&cluster.ca_der, &cert, at).is_ok(), "at {at}");
        }
        assert!(authenticate(&cluster.ca_der, &cert, not_after + 1).is_err());
        let other = Pki::new(3, START).for_cluster("c:1");
        assert!(authenticate(&other.ca_der, &cert, START + 60).is_err(), "remembered for its own CA only");
        assert!(!remembered(&other.ca_der, &cert), "a refusal is not remembered");
    }

    #[test]
    fn each_verified_certificate_is_remembered() {
        let cluster = Pki::new(4, START).for_cluster("c:0");
        let admin = der(&cluster.client("admin", "masterclient", "system:masters").cert_pem);
        let user = der(&cluster.client("user", "someone", "team").cert_pem);
        authenticate(&cluster.ca_der, &admin, START + 60).unwrap();
        authenticate(&cluster.ca_der, &user, START + 60).unwrap();
        assert!(remembered(&cluster.ca_der, &admin) && remembered(&cluster.ca_der, &user), "the second does not push out the first");
        assert_eq!(authenticate(&cluster.ca_der, &user, START + 61).unwrap().name, "someone");
    }
}
