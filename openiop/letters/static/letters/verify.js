// The QR code on an attendance letter opens /verify/#CODE: a fragment never reaches the
// server (no code in any access log). Copy it into the form, ready to check.
(function () {
  "use strict";
  var input = document.querySelector("[data-verify-code]");
  var code = decodeURIComponent((window.location.hash || "").slice(1)).trim();
  if (input && code && /^[0-9A-Za-z -]{12,20}$/.test(code) && !input.value) {
    input.value = code.toUpperCase();
    input.focus();
  }
})();
