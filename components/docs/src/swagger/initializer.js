// Starts Swagger UI on this app's own OpenAPI document. The document's server is "/", so
// "Try it out" calls the origin that served this page, with its cookies (the refresh cookie).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api-gateway/documentation-json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // No badge from the public validator service: the page talks to this origin only.
    validatorUrl: null,
    withCredentials: true,
  });
});
