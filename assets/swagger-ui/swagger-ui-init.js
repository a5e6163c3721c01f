// Mounts Swagger UI on this Heimdall's OpenAPI document (named by the page). No
// inline script, so the page's Content-Security-Policy can forbid inline scripts.
// Credentials typed into "Authorize" are never persisted in browser storage.
(function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-document'),
    dom_id: '#swagger-ui',
    deepLinking: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
})();
