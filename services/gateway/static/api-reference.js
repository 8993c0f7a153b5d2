// Starts Swagger UI on the API reference page (services/gateway/src/api-reference.ts) with what
// the gateway wrote in the page's data- attributes. A file, not an inline script, so that the
// page's CSP allows scripts from its own origin and nothing else (ADR 24).
'use strict';

(function startApiReference() {
  const root = document.getElementById('swagger-ui');
  const { documentUrl, clientId, redirectUrl, resource, scopes } = root.dataset;
  const tokenRequest = /(?:^|&)grant_type=authorization_code(?:&|$)/;
  const namesResource = /(?:^|&)resource=/;

  const ui = SwaggerUIBundle({
    domNode: root,
    url: documentUrl,
    oauth2RedirectUrl: redirectUrl,
    // No top bar: it would let anyone load another document into this page.
    layout: 'BaseLayout',
    deepLinking: false,
    // Configuration comes from the gateway alone, never from the page's URL.
    queryConfigEnabled: false,
    // No validator badge (it would call swagger.io).
    validatorUrl: null,
    // The token stays in memory: closing the tab forgets it.
    persistAuthorization: false,
    displayRequestDuration: true,
    // The code is exchanged naming the resource (RFC 8707), so that the token is the platform-wide
    // JWT every service accepts whatever scopes were ticked: with openid and no resource, auth
    // would answer with a token for its userinfo endpoint only.
    requestInterceptor(request) {
      if (String(request.method).toUpperCase() === 'POST' && typeof request.body === 'string' && tokenRequest.test(request.body) && !namesResource.test(request.body)) {
        request.body += `&resource=${encodeURIComponent(resource)}`;
      }
      return request;
    },
  });
  // Names for the few controls Swagger UI leaves without one (axe-core: select-name, button-name,
  // label-content-name-mismatch), kept as it re-renders.
  const nameControls = () => {
    for (const select of root.querySelectorAll('select#servers:not([aria-label])')) select.setAttribute('aria-label', 'Server');
    for (const button of root.querySelectorAll('button.close-modal:not([aria-label])')) button.setAttribute('aria-label', 'Close');
    // A parameter's list of values (an enum) is named after the parameter.
    for (const select of root.querySelectorAll('tr[data-param-name] select:not([aria-label])')) select.setAttribute('aria-label', select.closest('tr').dataset.paramName);
    // "Authorize" and "Logout" buttons whose aria-label hides the word on them.
    for (const button of root.querySelectorAll('.auth-btn-wrapper button[aria-label]')) button.removeAttribute('aria-label');
  };
  new MutationObserver(nameControls).observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-label'] });

  ui.initOAuth({
    clientId,
    appName: 'Paymesh API reference',
    usePkceWithAuthorizationCodeGrant: true,
    scopes: scopes.split(' ').filter((scope) => scope !== ''),
  });
})();
