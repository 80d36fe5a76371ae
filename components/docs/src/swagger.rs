//! Swagger UI: our page (`swagger/index.html`, `swagger/initializer.js`) and the unmodified
//! files of the npm package `swagger-ui-dist` vendored under `vendor/` (see its README.md).

use spin_sdk::http::Response;

/// One file under `/api-gateway/documentation/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! vendored {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../vendor/swagger-ui-dist-5.36.0/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    vendored!("swagger-ui.css", "text/css; charset=utf-8"),
    vendored!("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    // Apache-2.0: the licence and notice travel with the files they cover.
    vendored!(
        "swagger-ui-bundle.js.LICENSE.txt",
        "text/plain; charset=utf-8"
    ),
    vendored!("LICENSE", "text/plain; charset=utf-8"),
    vendored!("NOTICE", "text/plain; charset=utf-8"),
    Asset {
        name: "swagger-initializer.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("swagger/initializer.js"),
    },
];

/// The page may load only what this component serves; Swagger UI styles its own elements
/// inline and draws some icons as `data:` images.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `GET /api-gateway/documentation`: revalidated on every use, so a deploy's new asset
/// versions are picked up.
pub fn index() -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-cache")
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("x-content-type-options", "nosniff")
        .body(include_str!("swagger/index.html"))
        .build()
}

/// `GET /api-gateway/documentation/{file}`, or `None` for a file we do not have. The page
/// asks for each file with `?v=<release>`, so a day of caching never mixes releases.
pub fn asset(file: &str) -> Option<Response> {
    let asset = ASSETS.iter().find(|a| a.name == file)?;
    Some(
        Response::builder()
            .status(200)
            .header("content-type", asset.content_type)
            .header("cache-control", "public, max-age=86400")
            .header("x-content-type-options", "nosniff")
            .body(asset.body.to_vec())
            .build(),
    )
}
