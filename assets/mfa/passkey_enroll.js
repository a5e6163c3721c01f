// The account page's "Add a passkey" button (docs/src/hosted-pages.md): asks
// Heimdall for a registration (the page's form with its CSRF token), runs
// navigator.credentials.create, and posts the authenticator's answer with the
// page's form. Served by Heimdall; the page's CSP allows only same-origin scripts.
(function () {
  "use strict";
  var form = document.getElementById("passkey-enroll-form");
  var button = document.getElementById("passkey-enroll-button");
  var failure = document.getElementById("passkey-enroll-error");
  if (!form || !button) {
    return;
  }
  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes.buffer;
  }
  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fail(message) {
    failure.textContent = message;
    failure.hidden = false;
    button.disabled = false;
  }
  button.addEventListener("click", function () {
    if (!window.PublicKeyCredential) {
      fail("This browser does not support passkeys.");
      return;
    }
    button.disabled = true;
    failure.hidden = true;
    var params = new URLSearchParams();
    params.set("csrf_token", form.elements["csrf_token"].value);
    params.set("name", form.elements["name"].value);
    fetch(form.getAttribute("data-start"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: params.toString()
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("A passkey cannot be added right now.");
        }
        return response.json();
      })
      .then(function (body) {
        document.getElementById("passkey-enroll-id").value = body.id;
        var options = body.publicKey;
        options.challenge = fromB64url(options.challenge);
        options.user.id = fromB64url(options.user.id);
        (options.excludeCredentials || []).forEach(function (c) {
          c.id = fromB64url(c.id);
        });
        return navigator.credentials.create({ publicKey: options });
      })
      .then(function (credential) {
        var response = credential.response;
        var json = {
          id: credential.id,
          rawId: toB64url(credential.rawId),
          type: credential.type,
          extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
          response: {
            attestationObject: toB64url(response.attestationObject),
            clientDataJSON: toB64url(response.clientDataJSON),
            transports: response.getTransports ? response.getTransports() : []
          }
        };
        document.getElementById("passkey-enroll-credential").value = JSON.stringify(json);
        form.submit();
      })
      .catch(function (error) {
        fail(error && error.message ? error.message : "The passkey could not be added.");
      });
  });
})();
