// The hosted sign-in page's passkey button (docs/src/hosted-pages.md): asks
// Heimdall for a discoverable-credential request, runs navigator.credentials.get,
// and posts the assertion with the page's form. Served by Heimdall; the page's CSP
// allows only same-origin scripts.
(function () {
  "use strict";
  var form = document.getElementById("passkey-form");
  var button = document.getElementById("passkey-button");
  var failure = document.getElementById("passkey-error");
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
  }
  button.addEventListener("click", function () {
    if (!window.PublicKeyCredential) {
      fail("This browser does not support passkeys.");
      return;
    }
    fetch(form.getAttribute("data-start"), {
      method: "POST",
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("Passkeys cannot be used here right now.");
        }
        return response.json();
      })
      .then(function (body) {
        document.getElementById("passkey-id").value = body.id;
        var options = body.publicKey;
        options.challenge = fromB64url(options.challenge);
        (options.allowCredentials || []).forEach(function (c) {
          c.id = fromB64url(c.id);
        });
        return navigator.credentials.get({ publicKey: options });
      })
      .then(function (credential) {
        var response = credential.response;
        var json = {
          id: credential.id,
          rawId: toB64url(credential.rawId),
          type: credential.type,
          extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
          response: {
            authenticatorData: toB64url(response.authenticatorData),
            clientDataJSON: toB64url(response.clientDataJSON),
            signature: toB64url(response.signature),
            userHandle: response.userHandle ? toB64url(response.userHandle) : null
          }
        };
        document.getElementById("passkey-credential").value = JSON.stringify(json);
        form.submit();
      })
      .catch(function (error) {
        fail(error && error.message ? error.message : "The passkey could not be used.");
      });
  });
})();
