//! The simulator's certificates: its own CA per seed (the issuer of the served simulator's
//! TLS certificates, and the `certificate-authority-data` of kubeconfigs that name its
//! address), and each cluster's own CA ([`Pki::for_cluster`]), which issues that cluster's API
//! server certificate and its kubeconfigs' client certificates. Keys are Ed25519 derived from
//! the seed and Ed25519 signatures are deterministic, so the same seed gives the same PEM
//! bytes. A served CA (RSA, also deterministic) is narrower: name constraints and days of
//! validity.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rand::{RngCore, SeedableRng};

use crate::kept::kept;
use sha2::{Digest, Sha256};
use rand_chacha::ChaCha20Rng;
use rcgen::{BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType, SerialNumber};

use crate::config::ServedCertificates;

/// Separates the PKI's random streams from the ids' and the signing key's.
const PKI_STREAM: u64 = 0x706b_6900; // "pki"

/// RFC 8410's PKCS#8 v1 wrapping of a 32-byte Ed25519 seed (a fixed prefix).
const ED25519_PKCS8_PREFIX: [u8; 16] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// A certificate with its key, both PEM.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

pub struct Pki {
    seed: u64,
    /// RSA keys (PKCS#8) for the CA and for leaf certificates, when browsers must accept the
    /// chain (Chromium does not take Ed25519); RSA PKCS#1 v1.5 signatures are deterministic too.
    rsa: Option<(Vec<u8>, Vec<u8>)>,
    window: Window,
    ca_params: CertificateParams,
    ca_key: KeyPair,
    pub ca: Issued,
    /// The CA certificate (DER), the trust anchor a presented client certificate must chain to.
    pub ca_der: Vec<u8>,
    /// Separates a cluster's keys and serials from the simulator's and other clusters'.
    scope: String,
    /// Certificates are a function of the seed and what they certify: each is made once and
    /// kept (the clusters' CAs, and what a CA issued, by its purpose and subject).
    clusters: Mutex<HashMap<String, Arc<Pki>>>,
    issued: Mutex<HashMap<String, Issued>>,
}

/// Certificates kept at once per map.
const MAX_KEPT: usize = 256;

/// A purpose's own random generator: SHA-256 of the seed, the domain and the purpose, so two
/// purposes (two clusters' keys) never share one, as a short string hash could let them.
fn rng_for(seed: u64, domain: u64, purpose: &str) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(domain.to_le_bytes());
    h.update(purpose.as_bytes());
    ChaCha20Rng::from_seed(h.finalize().into())
}

fn key_for(seed: u64, purpose: &str) -> KeyPair {
    let mut rng = rng_for(seed, PKI_STREAM, purpose);
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&secret);
    KeyPair::try_from(der.as_slice()).expect("a valid Ed25519 PKCS#8 key")
}

fn serial(seed: u64, purpose: &str) -> SerialNumber {
    let mut rng = rng_for(seed, PKI_STREAM ^ 0x5e71, purpose);
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[0] &= 0x7f; // positive
    SerialNumber::from(b.to_vec())
}

/// When a PKI's certificates are valid: from an hour before `start_secs`, for `days`.
#[derive(Clone, Copy)]
struct Window {
    start_secs: i64,
    days: i64,
}

/// In process, certificates are valid from the run's start for ten years: the virtual clock
/// never reaches their end.
const IN_PROCESS_DAYS: i64 = 3650;

fn validity(p: &mut CertificateParams, w: Window) {
    let start = time::OffsetDateTime::from_unix_timestamp(w.start_secs - 3600).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    p.not_before = start;
    p.not_after = start + time::Duration::days(w.days);
}

/// The subtrees a served CA may certify: each name, or each address alone.
fn permitted(names: &[String]) -> NameConstraints {
    let permitted_subtrees = names
        .iter()
        .map(|n| match n.parse::<std::net::IpAddr>() {
            Ok(ip) => GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(ip, if ip.is_ipv4() { 32 } else { 128 })),
            Err(_) => GeneralSubtree::DnsName(n.clone()),
        })
        .collect();
    NameConstraints { permitted_subtrees, excluded_subtrees: vec![] }
}

fn rsa_key(pkcs8: &[u8]) -> KeyPair {
    // rcgen picks RSA with SHA-256 for an RSA PKCS#8 key.
    KeyPair::try_from(pkcs8).expect("a valid RSA PKCS#8 key")
}

impl Pki {
    pub fn new(seed: u64, start_secs: i64) -> Self {
        Self::build(seed, Window { start_secs, days: IN_PROCESS_DAYS }, None, None)
    }

    /// [`Pki::new`], shared by every simulator in the process with this seed and start: a
    /// suite runs the same seeds again and again, and their certificates never differ.
    pub fn in_process(seed: u64, start_secs: i64) -> Arc<Self> {
        static PKIS: OnceLock<Mutex<HashMap<(u64, i64), Arc<Pki>>>> = OnceLock::new();
        kept(PKIS.get_or_init(Default::default), MAX_KEPT, (seed, start_secs), || Arc::new(Self::new(seed, start_secs)))
    }

    /// A served simulator's PKI: its CA and leaf keys are these RSA keys (PKCS#8 DER), and
    /// the CA certifies only `served.names`, for `served.days`.
    pub fn new_served(seed: u64, served: &ServedCertificates, ca_key: Vec<u8>, leaf_key: Vec<u8>) -> Self {
        Self::build(seed, Window { start_secs: served.start_secs, days: served.days }, Some((ca_key, leaf_key)), Some(permitted(&served.names)))
    }

    fn build(seed: u64, window: Window, rsa: Option<(Vec<u8>, Vec<u8>)>, constraints: Option<NameConstraints>) -> Self {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "aksflow simulator CA");
        dn.push(DnType::OrganizationName, "aksflow");
        Self::with_ca(seed, String::new(), dn, window, rsa, constraints)
    }

    fn with_ca(seed: u64, scope: String, dn: DistinguishedName, window: Window, rsa: Option<(Vec<u8>, Vec<u8>)>, constraints: Option<NameConstraints>) -> Self {
        let ca_key = match &rsa {
            Some((ca, _)) => rsa_key(ca),
            None => key_for(seed, &format!("{scope}ca")),
        };
        let mut p = CertificateParams::default();
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        p.serial_number = Some(serial(seed, &format!("{scope}ca")));
        p.name_constraints = constraints;
        validity(&mut p, window);
        let cert = p.self_signed(&ca_key).expect("self-signing the CA");
        let ca = Issued { cert_pem: cert.pem(), key_pem: ca_key.serialize_pem() };
        let ca_der = cert.der().to_vec();
        Pki { seed, rsa, window, ca_params: p, ca_key, ca, ca_der, scope, clusters: Default::default(), issued: Default::default() }
    }

    /// A cluster's own PKI, as AKS gives every cluster: a CA (`CN=ca`, Ed25519 from the seed
    /// and `cluster_key`) that issues its API server's certificate and its client
    /// certificates, valid for as long as this PKI's. A new `cluster_key` (a new cluster, or
    /// one whose certificates were rotated) gives a new CA.
    pub fn for_cluster(&self, cluster_key: &str) -> Pki {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "ca");
        Self::with_ca(self.seed, format!("cluster:{cluster_key}:"), dn, self.window, None, None)
    }

    /// [`Pki::for_cluster`], made once and kept.
    pub fn cluster(&self, cluster_key: &str) -> Arc<Pki> {
        kept(&self.clusters, MAX_KEPT, cluster_key.to_string(), || Arc::new(self.for_cluster(cluster_key)))
    }

    fn issue(&self, purpose: &str, mut p: CertificateParams) -> Issued {
        let purpose = format!("{}{purpose}", self.scope);
        let purpose = purpose.as_str();
        let key = match &self.rsa {
            Some((_, leaf)) => rsa_key(leaf),
            None => key_for(self.seed, purpose),
        };
        p.serial_number = Some(serial(self.seed, purpose));
        validity(&mut p, self.window);
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = p.signed_by(&key, &issuer).expect("signing with the CA");
        Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
    }

    /// A client certificate (`O=system:masters, CN=masterclient` for admin kubeconfigs).
    pub fn client(&self, purpose: &str, common_name: &str, organization: &str) -> Issued {
        kept(&self.issued, MAX_KEPT, format!("client\0{purpose}\0{common_name}\0{organization}"), || self.make_client(purpose, common_name, organization))
    }

    fn make_client(&self, purpose: &str, common_name: &str, organization: &str) -> Issued {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, organization);
        dn.push(DnType::CommonName, common_name);
        p.distinguished_name = dn;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(purpose, p)
    }

    /// An AKS API server's certificate (`CN=apiserver`): its FQDN and the in-cluster names.
    pub fn apiserver(&self, fqdn: &str) -> Issued {
        let names: Vec<String> = [fqdn, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"].iter().map(|s| s.to_string()).collect();
        self.server_named("apiserver", &names)
    }

    /// A TLS server certificate for these DNS names and IP addresses.
    pub fn server(&self, names: &[String]) -> Issued {
        self.server_named(names.first().map(String::as_str).unwrap_or("aksflow"), names)
    }

    fn server_named(&self, common_name: &str, names: &[String]) -> Issued {
        kept(&self.issued, MAX_KEPT, format!("server\0{common_name}\0{}", names.join("\0")), || self.make_server(common_name, names))
    }

    fn make_server(&self, common_name: &str, names: &[String]) -> Issued {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        p.distinguished_name = dn;
        p.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(n.clone().try_into().expect("a valid DNS name")),
            })
            .collect();
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(&format!("server:{}", names.join(",")), p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_certificates() {
        let a = Pki::new(1, 1_767_225_600);
        let b = Pki::new(1, 1_767_225_600);
        let c = Pki::new(2, 1_767_225_600);
        assert_eq!(a.ca.cert_pem, b.ca.cert_pem);
        assert_ne!(a.ca.cert_pem, c.ca.cert_pem);
        let x = a.client("admin:c1", "masterclient", "system:masters");
        let y = b.client("admin:c1", "masterclient", "system:masters");
        assert_eq!(x.cert_pem, y.cert_pem);
        assert!(x.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(x.key_pem.contains("PRIVATE KEY"));
    }

    #[test]
    fn what_is_kept_is_what_would_be_made_again() {
        let (a, b) = (Pki::in_process(3, 1_767_225_600), Pki::in_process(3, 1_767_225_600));
        assert!(Arc::ptr_eq(&a, &b), "one PKI per seed and start in a process");
        assert!(!Arc::ptr_eq(&a, &Pki::in_process(3, 1_767_225_601)));
        let cluster = a.cluster("c:0:0");
        assert!(Arc::ptr_eq(&cluster, &a.cluster("c:0:0")));
        assert_eq!(cluster.ca.cert_pem, a.for_cluster("c:0:0").ca.cert_pem);
        let kept = cluster.client("admin", "masterclient", "system:masters");
        assert_eq!(kept.cert_pem, cluster.make_client("admin", "masterclient", "system:masters").cert_pem);
        assert_ne!(kept.cert_pem, cluster.client("admin", "masterclient", "other").cert_pem, "the subject is part of the key");
        let names = ["x.example".to_string()];
        assert_eq!(cluster.server(&names).cert_pem, cluster.make_server("x.example", &names).cert_pem);
    }

    fn serial_of(pem: &str) -> Vec<u8> {
        let der = rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes()).map(|c: rustls_pki_types::CertificateDer| c.to_vec()).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        cert.tbs_certificate.raw_serial().to_vec()
    }

    #[test]
    fn serials_are_positive_and_purposes_that_are_anagrams_get_different_ones() {
        let p = Pki::new(1, 1_767_225_600);
        for i in 0..64 {
            let serial = serial_of(&p.client(&format!("c{i}"), "x", "y").cert_pem);
            assert!(serial[0] & 0x80 == 0, "a DER INTEGER serial is positive: {serial:02x?}");
        }
        assert_ne!(serial_of(&p.client("ab", "x", "y").cert_pem), serial_of(&p.client("ba", "x", "y").cert_pem));
    }

    #[test]
    fn clusters_whose_names_a_short_hash_would_confuse_get_different_cas() {
        // `aaan` and `aac0` have the same `h * 31 + b` hash; made at the same instant in the
        // same group, a hash-derived CA would be one CA for both clusters.
        let sim = Pki::new(1, 1_767_225_600);
        let key = |name: &str| format!("/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/{name}:0:0");
        let (a, b) = (sim.for_cluster(&key("aaan")), sim.for_cluster(&key("aac0")));
        assert_ne!(a.ca.cert_pem, b.ca.cert_pem);
        let a_admin = a.client("admin", "masterclient", "system:masters");
        let der = crate::kube::x509::first_der(&a_admin.cert_pem).unwrap();
        assert!(crate::kube::x509::authenticate(&b.ca_der, &der, 1_767_225_600 + 60).is_err(), "one cluster's certificate is nobody at the other");
    }

    #[test]
    fn a_seeds_certificates_do_not_move_between_versions() {
        // Pinned: the same seed must give the same CA (its serial and key) in every release.
        let ca = Pki::new(1, 1_767_225_600);
        assert_eq!(hex(&serial_of(&ca.ca.cert_pem)), PINNED_CA_SERIAL);
        assert_eq!(hex(&key_for(1, "ca").public_key_raw()[..8]), PINNED_CA_KEY_PREFIX);
        // And another seed's: the seed is part of what every key is derived from.
        assert_eq!(hex(&key_for(u64::MAX, "ca").public_key_raw()[..8]), PINNED_MAX_SEED_KEY_PREFIX);
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    const PINNED_CA_SERIAL: &str = "7ddd52904d7f3ad96b1012e7778c29d8";
    const PINNED_MAX_SEED_KEY_PREFIX: &str = "c4ce78fcbf8b7e8d";
    const PINNED_CA_KEY_PREFIX: &str = "9bf0ee04387f4d50";

    #[test]
    fn each_cluster_has_its_own_ca_and_the_same_key_gives_the_same_one() {
        let sim = Pki::new(1, 1_767_225_600);
        let a = sim.for_cluster("/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/a:0");
        let a_again = Pki::new(1, 1_767_225_600).for_cluster("/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/a:0");
        let rotated = sim.for_cluster("/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/a:1");
        assert_eq!(a.ca.cert_pem, a_again.ca.cert_pem);
        assert_ne!(a.ca.cert_pem, sim.ca.cert_pem);
        assert_ne!(a.ca.cert_pem, rotated.ca.cert_pem);
        // A cluster's leaf keys are its own, not the simulator's for the same purpose.
        assert_ne!(a.client("admin", "masterclient", "system:masters").key_pem, sim.client("admin", "masterclient", "system:masters").key_pem);
        assert_eq!(a.apiserver("a.hcp.eastus.azmk8s.io").cert_pem, a_again.apiserver("a.hcp.eastus.azmk8s.io").cert_pem);
    }
}
