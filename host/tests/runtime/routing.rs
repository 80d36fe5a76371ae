use crate::helpers::TestApp;
use crate::routing_cases::{CASES, MANIFEST, check, check_chaining};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reach_the_component_spin_would_pick_with_spins_headers() {
    let app = TestApp::start(MANIFEST).await;
    for case in CASES {
        check(&app.client, &app.app.base_url(), case).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_components_are_reachable_only_by_chaining_from_allowed_callers() {
    let app = TestApp::start(MANIFEST).await;
    check_chaining(&app.client, &app.app.base_url()).await;
}
