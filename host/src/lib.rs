//! aksflow: the Entra ID + AKS workflow as a pipeline of sandboxed WebAssembly steps, run
//! against Azure or the built-in simulator.
//!
//! The host is where the two worlds meet: [`engine`] compiles and sandboxes step components,
//! [`cloud`] routes their calls (grant check, operator auth, transport, retries, transcript),
//! [`flow`] reads and checks flow files, and [`runner`] runs them as a DAG.


/// mimalloc for every binary that links the host (aksflow, its tests and benches): a flow
/// allocates and frees many small JSON values, and glibc's allocator was a sixth of a flow's
/// time (issue 16's profile). Built with `no_thp`: mimalloc does not ask the kernel for
/// transparent huge pages (`madvise`), so where the kernel gives them only on request (its
/// usual `madvise` mode, as here) a suite's short-lived heaps stay in 4 KiB pages, and 1,000
/// flows peak at 92-96 MB instead of 150-156 MB, for the same CPU. A kernel set to `always`
/// still gives them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod atomic_file;
pub mod retired_files;
pub mod bindings;
pub mod caps;
pub mod clock;
pub mod cli;
pub mod cloud;
pub mod engine;
pub mod faults;
pub mod flow;
pub mod identities;
pub mod kubelogin;
pub mod limits;
pub mod persona;
pub mod plugins;
pub mod redact;
pub mod report;
pub mod runner;
pub mod sandbox;
pub mod serve;
pub mod scaffold;
pub mod suite;
pub mod transcript;
