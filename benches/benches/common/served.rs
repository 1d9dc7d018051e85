//! A served simulator for the benches that measure it over HTTPS, and a client that trusts it.

use aksflow::serve::{ServeOptions, Served};

pub struct Bench {
    pub served: Served,
    pub http: reqwest::Client,
    /// The simulator's state directory: bind it (`dir: _dir`) to keep it until the bench ends.
    pub dir: tempfile::TempDir,
}

/// `aksflow sim serve` in process (seed 1) and a client keeping `in_flight` connections.
pub fn start(rt: &tokio::runtime::Runtime, in_flight: usize) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let served = rt
        .block_on(Served::start(ServeOptions {
            addr: "127.0.0.1:0".parse().unwrap(),
            seed: 1,
            state_dir: dir.path().join("sim"),
            key_cache: Some(std::env::temp_dir().join("aksflow-bench-cache")),
            exec_command: None,
            limits: Default::default(),
            era: Default::default(),
        faults: None,
        }))
        .unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&served.ca_path).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).pool_max_idle_per_host(in_flight).build().unwrap();
    Bench { served, http, dir }
}

/// Sends `batch` requests, `in_flight` at a time: each of `in_flight` tasks sends its share
/// one after another, each answer read whole and required to be a success.
pub fn fire(rt: &tokio::runtime::Runtime, in_flight: usize, batch: usize, request: impl Fn() -> reqwest::RequestBuilder) {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..in_flight {
            let requests: Vec<reqwest::RequestBuilder> = (0..batch / in_flight).map(|_| request()).collect();
            tasks.push(tokio::spawn(async move {
                for req in requests {
                    let r = req.send().await.expect("a response");
                    assert!(r.status().is_success(), "{}", r.status());
                    r.bytes().await.expect("a body");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    })
}
