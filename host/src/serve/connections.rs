//! The served simulator's accept loop, hardened against clients that hold connections open:
//! a TLS handshake, a request's headers and an idle keep-alive each get a deadline; at most
//! `max` connections are open at once, and a new one past the cap closes the connection
//! that has been idle longest (never one with a request in flight); when `accept` fails
//! (out of descriptors) the loop frees one the same way and backs off instead of spinning.
//! Every socket has `TCP_NODELAY`: answers are small and must not wait for Nagle.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// The deadlines and the cap. `header_read` runs from the moment hyper waits for a request's
/// headers, so it also closes a kept-alive connection that sends no next request; `idle`
/// closes any connection with no request in flight for that long, whatever stage it is in.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub handshake: Duration,
    pub header_read: Duration,
    /// A request, its body read and its answer made: a client that trickles a body cannot
    /// hold a connection (busy, so never evicted) for ever.
    pub request: Duration,
    pub idle: Duration,
}

/// Descriptors kept back from the cap for the state database, files and outgoing sockets.
const RESERVED_DESCRIPTORS: usize = 64;

impl Default for Limits {
    fn default() -> Self {
        Limits { max_connections: cap_for(open_file_limit()), handshake: Duration::from_secs(10), header_read: Duration::from_secs(10), request: Duration::from_secs(30), idle: Duration::from_secs(30) }
    }
}

/// The cap under a descriptor limit: what is left after the reserve, within 16..=4096.
fn cap_for(nofile: usize) -> usize {
    nofile.saturating_sub(RESERVED_DESCRIPTORS).clamp(16, 4096)
}

fn open_file_limit() -> usize {
    let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes only into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0 { usize::try_from(r.rlim_cur).unwrap_or(usize::MAX) } else { 1024 }
}

/// One open connection, as the registry sees it.
struct Conn {
    /// Requests in flight.
    busy: AtomicUsize,
    /// When the last request finished (or the connection opened), from `Registry::start`.
    idle_since_ms: AtomicU64,
    close: Notify,
}

impl Conn {
    fn idle_for(&self, now_ms: u64) -> Option<u64> {
        (self.busy.load(Ordering::SeqCst) == 0).then(|| now_ms.saturating_sub(self.idle_since_ms.load(Ordering::SeqCst)))
    }
}

struct Registry {
    start: Instant,
    next_id: AtomicU64,
    open: Mutex<BTreeMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn add(&self) -> (u64, Arc<Conn>, usize) {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let conn = Arc::new(Conn { busy: AtomicUsize::new(0), idle_since_ms: AtomicU64::new(self.now_ms()), close: Notify::new() });
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.insert(id, conn.clone());
        (id, conn, open.len())
    }

    fn remove(&self, id: u64) {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    /// Closes some open connection, busy or not; false if none is open.
    fn close_any(&self) -> bool {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let Some(id) = open.keys().next().copied() else { return false };
        open.remove(&id).inspect(|c| c.close.notify_one()).is_some()
    }

    /// Closes the connection idle longest, other than `except`; false if every one is busy.
    fn evict_idlest(&self, except: Option<u64>) -> bool {
        let now = self.now_ms();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let idlest = open.iter().filter(|(id, _)| Some(**id) != except).filter_map(|(id, c)| c.idle_for(now).map(|t| (t, *id))).max();
        match idlest.and_then(|(_, id)| open.remove(&id)) {
            Some(c) => {
                c.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `router` on `listener` over TLS until `stop` changes.
pub async fn serve(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, certificates: Arc<super::proxy::Certificates>, router: axum::Router, limits: Limits, mut stop: watch::Receiver<bool>) {
    let registry = Arc::new(Registry { start: Instant::now(), next_id: AtomicU64::new(0), open: Mutex::new(BTreeMap::new()) });
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => {
                // Stopping closes every connection, not only the listener.
                while registry.close_any() {}
                return;
            }
            accepted = listener.accept() => accepted,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => {
                backoff = Duration::ZERO;
                tcp
            }
            Err(e) => {
                // Out of descriptors (or another passing failure): free the idlest connection
                // and wait before trying again, rather than spin on the same error.
                registry.evict_idlest(None);
                backoff = (backoff * 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
                tracing::debug!("accept failed ({e}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (id, conn, open) = registry.add();
        if open > limits.max_connections && !registry.evict_idlest(Some(id)) {
            // Every other connection has a request in flight: this one waits its turn closed.
            registry.remove(id);
            continue;
        }
        let (acceptor, certificates, router, registry) = (acceptor.clone(), certificates.clone(), router.clone(), registry.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = conn.close.notified() => {}
                _ = idle_watch(&registry, &conn, limits.idle) => {}
                _ = serve_one(tcp, acceptor, &certificates, router, &registry, &conn, limits) => {}
            }
            registry.remove(id);
        });
    }
}

/// Returns once the connection has been idle (no request in flight) for `idle`.
async fn idle_watch(registry: &Registry, conn: &Conn, idle: Duration) {
    let idle_ms = idle.as_millis() as u64;
    loop {
        let wait = match conn.idle_for(registry.now_ms()) {
            Some(t) if t >= idle_ms => return,
            Some(t) => idle_ms - t,
            None => idle_ms,
        };
        tokio::time::sleep(Duration::from_millis(wait.max(1))).await;
    }
}

async fn serve_one(tcp: tokio::net::TcpStream, acceptor: tokio_rustls::TlsAcceptor, certificates: &super::proxy::Certificates, router: axum::Router, registry: &Registry, conn: &Arc<Conn>, limits: Limits) {
    // A TLS client starts with a handshake record (0x16); anything else is a proxy client's
    // plain CONNECT.
    let mut first = [0u8; 1];
    if !matches!(tokio::time::timeout(limits.handshake, tcp.peek(&mut first)).await, Ok(Ok(1))) {
        return;
    }
    if first[0] == 0x16 {
        let Ok(Ok(tls)) = tokio::time::timeout(limits.handshake, acceptor.accept(tcp)).await else {
            return;
        };
        let peer = super::client_certificate::presented(tls.get_ref().1);
        serve_http(tls, peer, router, registry, conn, limits).await;
        return;
    }
    let Some((tunnel, target)) = super::proxy::accept_connect(tcp, certificates, limits.header_read).await else {
        return;
    };
    let acceptor = match certificates.acceptor(&target) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("no certificate for {}: {e}", target.host());
            return;
        }
    };
    let Ok(Ok(tls)) = tokio::time::timeout(limits.handshake, acceptor.accept(tunnel)).await else {
        return;
    };
    let peer = super::client_certificate::presented(tls.get_ref().1);
    serve_http(tls, peer, router, registry, conn, limits).await;
}

/// Serves `router` on an established TLS stream (the simulator routes by `Host`, so a
/// proxied request goes as it came). `peer`, the client's certificate, goes with each
/// request of the connection.
async fn serve_http<S>(
    tls: S,
    peer: Option<aksflow_simulator::kube::x509::PeerCertificate>,
    router: axum::Router,
    registry: &Registry,
    conn: &Arc<Conn>,
    limits: Limits,
)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let tracked = tower::service_fn({
        let conn = conn.clone();
        let (start, deadline) = (registry.start, limits.request);
        move |mut req: hyper::Request<hyper::body::Incoming>| {
            let (conn, router) = (conn.clone(), router.clone());
            if let Some(peer) = &peer {
                req.extensions_mut().insert(peer.clone());
            }
            conn.busy.fetch_add(1, Ordering::SeqCst);
            async move {
                let resp = match tokio::time::timeout(deadline, tower::ServiceExt::oneshot(router, req)).await {
                    Ok(Ok(resp)) => resp,
                    Ok(Err(never)) => match never {},
                    Err(_) => request_timeout(),
                };
                conn.idle_since_ms.store(start.elapsed().as_millis() as u64, Ordering::SeqCst);
                conn.busy.fetch_sub(1, Ordering::SeqCst);
                // An injected dropped connection: hyper closes the socket without an answer.
                if resp.extensions().get::<aksflow_simulator::faults::inject::Dropped>().is_some() {
                    return Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "connection dropped by an injected fault"));
                }
                Ok(resp)
            }
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read);
    let _ = builder.serve_connection(TokioIo::new(tls), hyper_util::service::TowerToHyperService::new(tracked)).await;
}

/// 408, and the connection closes: the client took too long to send its request.
fn request_timeout() -> axum::response::Response {
    use axum::response::IntoResponse;
    (http::StatusCode::REQUEST_TIMEOUT, [(http::header::CONNECTION, "close")], "the request took too long to arrive\n").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_descriptors_in_reserve() {
        assert_eq!(cap_for(1024), 960);
        assert_eq!(cap_for(100), 36);
        assert_eq!(cap_for(20), 16);
        assert_eq!(cap_for(1 << 20), 4096);
    }

    #[test]
    fn the_idlest_free_connection_is_evicted_never_a_busy_one() {
        let r = Registry { start: Instant::now() - Duration::from_secs(100), next_id: AtomicU64::new(0), open: Mutex::new(BTreeMap::new()) };
        let (a, ca, _) = r.add();
        let (b, cb, _) = r.add();
        ca.idle_since_ms.store(10, Ordering::SeqCst);
        ca.busy.store(1, Ordering::SeqCst);
        cb.idle_since_ms.store(50, Ordering::SeqCst);
        let (c, _, open) = r.add();
        assert_eq!(open, 3);
        assert!(r.evict_idlest(Some(c)));
        let left: Vec<u64> = r.open.lock().unwrap().keys().copied().collect();
        assert_eq!(left, vec![a, c], "b (idle) went; a is busy, though idle longer before");
        assert!(!r.evict_idlest(Some(c)), "only the busy one and the newcomer are left");
        let _ = b;
    }
}
