//! Deployment tests (README "Deploy"): the app as an OCI artifact in a real registry run by
//! `spin up --from`, and the SpinKube manifests of `deploy/` checked against the SpinApp CRD and
//! the Kubernetes schemas and against `spin.toml`. They need the real Spin CLI, Debian's
//! `docker-registry`, `redis-server`, `curl` and Python 3 with `venv` (`.ci/run` installs them):
//! in CI (`CI` or `REEN_REQUIRE_SPIN=1`) a missing one fails the test, elsewhere the test is
//! skipped with a `SKIPPED` line on the terminal. The scale-out suite (two replicas behind nginx)
//! is part of the end-to-end suite, `tests/e2e/scale_out.rs`, so it runs on both hosts.

mod manifests;
mod oci;
mod support;
