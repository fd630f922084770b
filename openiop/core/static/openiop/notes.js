// Autosave for note drafts: a few seconds after typing stops, when a box loses focus, and
// when the page is hidden. A save the server refuses because someone else saved first is
// shown, never retried over their text. No inline script (the CSP forbids it).
(function () {
  var form = document.querySelector("form[data-autosave]");
  if (!form) { return; }
  var url = form.getAttribute("data-autosave");
  var version = form.querySelector("[data-version]");
  var status = form.querySelector("[data-autosave-status]");
  var timer = null;
  var dirty = false;
  var stopped = false;
  var conflicted = false;
  var inflight = null;
  var again = false;
  var submitting = false;

  function say(text) { if (status) { status.textContent = text; } }

  function save(keepalive) {
    if (!dirty || stopped) { return; }
    // One save at a time: a second one would carry the version from before the first
    // and be refused as a conflict with ourselves. It runs when the first is back.
    if (inflight) { again = true; return; }
    dirty = false;
    var data = new FormData(form);
    data.delete("action");
    inflight = fetch(url, {
      method: "POST", body: data, credentials: "same-origin", keepalive: !!keepalive,
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        dirty = true;
        say("Not saved: your sign-in has ended. Sign in again in another tab; this page keeps your text and saves when you are back.");
        return null;
      }
      return response.json().then(function (body) {
        if (response.ok) {
          version.value = body.version;
          say("Draft saved " + new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit", second: "2-digit" }) + ".");
        } else if (response.status === 409 && body.theirs) {
          // Show both texts: post the form as it is; the server refuses it again and
          // answers with their saved text beside yours, nothing overwritten.
          stopped = true;
          conflicted = true;
          say(body.error);
          submitting = true;
          form.submit();
        } else {
          say(body.error || "Not saved.");
        }
      });
    }).catch(function () {
      dirty = true;
      say("Not saved: no connection. Retrying…");
    }).then(function () {
      inflight = null;
      if (again) { again = false; save(false); }
    });
  }

  // Clicking Save or Sign takes the focus from a box first, which starts an autosave:
  // wait for it (and its new version), then post the form, or the post would carry the
  // version from before it and be refused as a colleague's conflict.
  form.addEventListener("submit", function (event) {
    if (submitting) { return; }
    clearTimeout(timer);
    stopped = true;
    if (!inflight) { return; }
    event.preventDefault();
    var submitter = event.submitter;
    inflight.then(function () {
      if (conflicted) { return; }
      if (submitter && submitter.name) {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = submitter.name;
        hidden.value = submitter.value;
        form.appendChild(hidden);
      }
      submitting = true;
      form.submit();
    });
  });

  form.addEventListener("input", function () {
    dirty = true;
    say("Typing…");
    clearTimeout(timer);
    timer = setTimeout(function () { save(false); }, 2000);
  });
  form.querySelectorAll("[data-section]").forEach(function (box) {
    box.addEventListener("blur", function () { save(false); });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(true); }
  });
  setInterval(function () { save(false); }, 5000);

  // Automatic sign-out (idle.js) asks for a last save before the session ends; it is
  // told whether everything typed reached the server (if not, idle.js keeps the text).
  function settle(tries) {
    if (tries > 0) { save(true); }
    if (!inflight) { return Promise.resolve(!dirty && !conflicted); }
    return inflight.then(function () { return settle(tries - 1); });
  }
  document.addEventListener("openiop:save-now", function (event) {
    if (event.detail && event.detail.wait) { event.detail.wait(form, settle(3)); }
  });
})();
