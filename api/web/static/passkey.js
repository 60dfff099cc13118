// Strongroom: passkeys (WebAuthn). navigator.credentials cannot be
// reached without JavaScript, so this file does the browser's half of a
// passkey ceremony: it asks the vault to begin one (the challenge stays in
// the vault; the browser holds only an HttpOnly cookie naming it), asks the
// browser for the passkey, and puts the browser's answer in the form's
// hidden "passkey" field before sending the form as usual. Nothing here
// goes in a URL or in storage. Pages without JavaScript keep the
// authenticator app code.
(function () {
  "use strict";
  var PKC = window.PublicKeyCredential;
  if (!PKC || !PKC.parseRequestOptionsFromJSON || !PKC.parseCreationOptionsFromJSON || !navigator.credentials) {
    // A browser without WebAuthn's JSON methods (Chrome before 129,
    // Firefox before 119, Safari before 18.4): say why passkeys are not
    // offered, rather than nothing.
    // The code fields still work.
    document.querySelectorAll("[data-passkey]").forEach(function (section) {
      var status = section.querySelector("[data-passkey-status]");
      var go = section.querySelector("[data-passkey-go]");
      if (!status || !go) { return; }
      section.hidden = false;
      go.hidden = true;
      go.disabled = true;
      status.textContent = "This browser is too old to use passkeys here. Update it, or use another browser.";
    });
    return;
  }
  var csrf = document.querySelector('meta[name="csrf"]');
  csrf = csrf ? csrf.getAttribute("content") : "";

  // begin asks the vault to begin a ceremony; a refusal's sentence (the
  // vault's {"error": ...}) becomes the error's message, and an answer that
  // is not the vault's JSON (a proxy's page, a dropped connection) says
  // so plainly.
  function begin(url, fields) {
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    Object.keys(fields).forEach(function (k) { body.set(k, fields[k]); });
    var unclear = new Error("The vault did not answer as expected. Reload the page and try again.");
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }, cache: "no-store" }).catch(function () {
      throw unclear;
    }).then(function (r) {
      var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (!json || r.redirected) { throw unclear; }
      return r.json().catch(function () { throw unclear; }).then(function (j) {
        if (!r.ok) { throw new Error((j && typeof j.error === "string" && j.error) || unclear.message); }
        return j;
      });
    });
  }

  var begins = { login: "/ui/passkey/login/begin", passwordless: "/ui/passkey/passwordless/begin",
    reauth: "/ui/reauth/passkey/begin", export: "/ui/reauth/passkey/begin", register: "/ui/passkeys/begin" };

  function run(section, form, status) {
    var kind = section.getAttribute("data-passkey");
    status.textContent = "Follow your browser’s steps to use your passkey…";
    var fields = {};
    if (kind === "register") {
      var name = form.querySelector("[name=passkey_name]");
      fields.passkey_name = name ? name.value : "";
    }
    return begin(begins[kind], fields).then(function (opts) {
      if (kind === "register") {
        return navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(opts) });
      }
      return navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(opts) });
    }).then(function (cred) {
      form.querySelector("[data-passkey-answer]").value = JSON.stringify(cred.toJSON());
      status.textContent = "Checking your passkey…";
      HTMLFormElement.prototype.submit.call(form);
    }).catch(function (e) {
      status.textContent = (e && e.name === "NotAllowedError") ?
        "The passkey was not used (cancelled, timed out, or not one registered here). Try again, or use your code." :
        (e && e.message) || "The passkey could not be used. Try again, or use your code.";
    });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (section) {
    var form = section.tagName === "FORM" ? section : section.closest("form");
    var status = section.querySelector("[data-passkey-status]");
    var go = section.querySelector("[data-passkey-go]");
    if (!form || !status || !go) { return; }
    section.hidden = false;
    if (section.getAttribute("data-passkey") === "register") {
      form.addEventListener("submit", function (ev) { ev.preventDefault(); run(section, form, status); });
    } else {
      go.addEventListener("click", function () { run(section, form, status); });
    }
  });
})();
