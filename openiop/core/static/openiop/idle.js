// Automatic sign-out after inactivity (issue 8, point 5; ONC 45 CFR 170.315(d)(5)),
// without losing what was typed. The server decides when the session ends (core/idle.py);
// this script:
//   * tells the server about the user's activity (keys, typing, pointer, wheel) at most
//     once a minute, and asks it how long is left before warning (polling is not activity);
//   * shows a warning a minute before the end, with "Stay signed in";
//   * at the end asks autosaving forms (notes.js) to save now, parks every other changed
//     form on the server, then signs out and shows the login page;
//   * after the next sign-in, fills a page's parked form back in and says so.
// Tabs of one browser share the deadline through localStorage. No inline script (CSP).
(function () {
  "use strict";

  var body = document.body;
  var timeout = parseInt(body.getAttribute("data-idle-timeout"), 10);
  if (!timeout || timeout < 1) { return; }
  var urls = {
    keepalive: body.getAttribute("data-idle-keepalive"),
    park: body.getAttribute("data-idle-park"),
    restored: body.getAttribute("data-idle-restored"),
    logout: body.getAttribute("data-idle-logout")
  };
  var initial = parseInt(body.getAttribute("data-idle-remaining"), 10);
  if (isNaN(initial)) { initial = timeout; }

  var WARN = Math.min(60, Math.floor(timeout / 2)) * 1000; // warning before the end
  // End this early (more than one tick of the clock), so that the last saves arrive while
  // the session still accepts them.
  var LEAD = Math.min(5, Math.max(2, Math.floor(timeout / 10))) * 1000;
  var TELL_EVERY = Math.min(60, timeout / 2) * 1000; // activity reported at most this often
  var STORE = "openiop-idle-deadline";
  var END_KEY = "openiop-idle-end";
  var PARKING = "openiop-idle-parking-";
  var SENSITIVE = /password|passwd|csrf|token|secret|otp/i;
  var tab = Math.random().toString(36).slice(2);

  var deadline = Date.now() + initial * 1000;
  var lastTold = Date.now();
  var pending = false; // activity the server has not heard about
  var telling = null; // a keepalive in flight
  var polled = 0; // server asked on entering the warning (1) and before the end (2)
  var signedOut = false;
  var ending = false;
  var dialog = null;
  var timer = null;

  function csrf() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function post(url, fields, keepalive) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf());
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    return fetch(url, {
      method: "POST", body: data, credentials: "same-origin", keepalive: !!keepalive,
      headers: { "X-Requested-With": "fetch" }
    });
  }

  function isJson(response) {
    return (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
  }

  function share(value) {
    try { localStorage.setItem(STORE, String(value)); } catch (e) { /* private mode */ }
  }

  // --- the clock ---------------------------------------------------------------------

  function learn(seconds) {
    deadline = Date.now() + seconds * 1000;
    share(deadline);
  }

  // Tell the server about activity (poll: only ask the time left). Resolves with the
  // answer, or null when the server could not be reached.
  function tell(poll) {
    if (telling) { return telling; }
    if (!poll) { pending = false; lastTold = Date.now(); }
    telling = post(urls.keepalive, poll ? { poll: "1" } : {}, true).then(function (response) {
      if (response.redirected || !isJson(response)) { signedOut = true; return null; }
      return response.json().then(function (answer) { learn(answer.remaining); return answer; });
    }).catch(function () { return null; }).then(function (answer) {
      telling = null;
      return answer;
    });
    return telling;
  }

  function activity(event) {
    if (!event.isTrusted || ending || (dialog && dialog.open)) { return; }
    pending = true;
    if (Date.now() - lastTold >= TELL_EVERY) { tell(false); }
  }

  function tick() {
    if (ending) { return; }
    if (signedOut) { end(true); return; }
    var now = Date.now();
    // The page ends the session LEAD before the server would, so that its last saves
    // arrive while the session still accepts them.
    var left = deadline - LEAD - now;
    if (pending && (now - lastTold >= TELL_EVERY || left <= WARN)) { tell(false); return; }
    if (telling) { return; }
    if (left > WARN) { polled = 0; hideWarning(); return; }
    // Another tab or window may have been in use: ask the server before warning, and
    // again before ending.
    if (polled === 0 || (polled === 1 && left <= 0)) {
      polled += 1;
      tell(true).then(function () { tick(); });
      return;
    }
    if (left > 0) { showWarning(left); return; }
    end(now >= deadline);
  }

  // --- the warning ---------------------------------------------------------------------

  function buildDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "idle-dialog";
    dialog.setAttribute("aria-labelledby", "idle-dialog-title");
    dialog.setAttribute("aria-describedby", "idle-dialog-text");
    dialog.innerHTML =
      '<h2 id="idle-dialog-title">Are you still there?</h2>' +
      '<p id="idle-dialog-text">You will be signed out in <strong data-idle-countdown>60 seconds</strong> because nothing has happened on this page for a while.</p>' +
      '<p class="muted small" data-idle-note>Nothing is lost: what you have typed is kept for when you sign in again.</p>' +
      '<div class="actions"><button type="button" class="button" data-idle-stay>Stay signed in</button></div>';
    dialog.querySelector("[data-idle-stay]").addEventListener("click", stay);
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); stay(); });
    body.appendChild(dialog);
  }

  function showWarning(left) {
    if (!dialog) { buildDialog(); }
    var seconds = Math.max(1, Math.ceil(left / 1000));
    dialog.querySelector("[data-idle-countdown]").textContent =
      seconds + (seconds === 1 ? " second" : " seconds");
    if (!dialog.open) { dialog.showModal(); }
  }

  function hideWarning() {
    if (dialog && dialog.open && !ending) { dialog.close(); }
  }

  function stay() {
    if (ending) { return; }
    pending = true;
    tell(false).then(function () {
      if (deadline - LEAD - Date.now() > WARN) { polled = 0; hideWarning(); }
    });
  }

  // --- the end -------------------------------------------------------------------------

  function pathOf(url) {
    try { return new URL(url, location.href).pathname; } catch (e) { return ""; }
  }

  // Read through getAttribute: a field named "action" or "method" (a submit button's
  // name) hides the form's own properties.
  function actionOf(form) { return pathOf(form.getAttribute("action") || location.href); }
  function methodOf(form) { return (form.getAttribute("method") || "get").toLowerCase(); }

  function keepable(el) {
    if (!el.name || el.disabled || SENSITIVE.test(el.name)) { return false; }
    if (el.hasAttribute("data-no-park") || el.hasAttribute("data-signature-image")) { return false; }
    var type = (el.type || "").toLowerCase();
    return ["file", "password", "submit", "button", "reset", "image"].indexOf(type) === -1 &&
      el.tagName !== "BUTTON" && el.tagName !== "FIELDSET" && el.tagName !== "OUTPUT";
  }

  function changed(el) {
    var type = (el.type || "").toLowerCase();
    if (type === "checkbox" || type === "radio") { return el.checked !== el.defaultChecked; }
    if (el.tagName === "SELECT") {
      var chosen = Array.prototype.filter.call(el.options, function (o) { return o.defaultSelected; });
      if (!el.multiple && chosen.length === 0) { return el.selectedIndex > 0; }
      return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return el.value !== el.defaultValue;
  }

  function parkable(form) {
    return methodOf(form) === "post" && !form.hasAttribute("data-no-park") &&
      actionOf(form) !== pathOf(urls.logout);
  }

  function dirty(form) {
    return Array.prototype.some.call(form.elements, function (el) { return keepable(el) && changed(el); });
  }

  function contents(form, index) {
    var fields = [];
    var names = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!keepable(el)) { return; }
      if (names.indexOf(el.name) === -1) { names.push(el.name); }
      var type = (el.type || "").toLowerCase();
      if ((type === "checkbox" || type === "radio") && !el.checked) { return; }
      if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { fields.push([el.name, o.value]); });
        return;
      }
      fields.push([el.name, el.value]);
    });
    return { action: actionOf(form), index: index, fields: fields, names: names };
  }

  // Ask autosaving forms (notes.js) to save now. Resolves with the ones that did not.
  function saveAutosaves(late) {
    var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-autosave]"));
    if (!forms.length || late) { return Promise.resolve(forms); }
    var waits = [];
    document.dispatchEvent(new CustomEvent("openiop:save-now", {
      detail: { wait: function (form, promise) { waits.push({ form: form, promise: promise }); } }
    }));
    var unanswered = forms.filter(function (form) {
      return !waits.some(function (w) { return w.form === form; });
    });
    var limit = new Promise(function (resolve) { setTimeout(function () { resolve(false); }, 8000); });
    return Promise.all(waits.map(function (w) {
      return Promise.race([w.promise, limit]).catch(function () { return false; }).then(function (saved) {
        return saved ? null : w.form;
      });
    })).then(function (failed) {
      return unanswered.concat(failed.filter(Boolean));
    });
  }

  // Park every changed form (and autosaving ones that could not save) on the server.
  function parkForms(unsaved) {
    var forms = [];
    Array.prototype.forEach.call(document.forms, function (form, index) {
      if (!parkable(form) || !dirty(form)) { return; }
      if (form.hasAttribute("data-autosave") && unsaved.indexOf(form) === -1) { return; }
      forms.push(contents(form, index));
    });
    if (!forms.length) { return Promise.resolve(); }
    var payload = { path: location.pathname, forms: JSON.stringify(forms) };
    return new Promise(function (resolve) {
      (function attempt() {
        post(urls.park, payload, false).then(function () { resolve(); }).catch(function () {
          // No connection: the text stays on this page until the server can keep it.
          say("You have been signed out. The server cannot be reached; what you typed stays on this page and will be kept as soon as the connection is back.");
          setTimeout(attempt, 10000);
        });
      })();
    });
  }

  function say(text) {
    if (!dialog) { buildDialog(); }
    dialog.querySelector("#idle-dialog-title").textContent = "Signing you out";
    dialog.querySelector("#idle-dialog-text").textContent = text;
    var note = dialog.querySelector("[data-idle-note]");
    if (note) { note.remove(); }
    var actions = dialog.querySelector(".actions");
    if (actions) { actions.remove(); }
    if (!dialog.open) { dialog.showModal(); }
  }

  function othersParking() {
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var key = localStorage.key(i);
        if (key && key.indexOf(PARKING) === 0 && key !== PARKING + tab &&
            Date.now() - parseInt(localStorage.getItem(key), 10) < 15000) { return true; }
      }
    } catch (e) { /* private mode */ }
    return false;
  }

  // Other tabs of this browser park their forms too before the session ends.
  function waitForOthers(started) {
    return new Promise(function (resolve) {
      (function check() {
        var waited = Date.now() - started;
        if ((waited >= 700 && !othersParking()) || waited > 8000) { resolve(); return; }
        setTimeout(check, 200);
      })();
    });
  }

  function signOut() {
    var form = document.createElement("form");
    form.method = "post";
    form.action = urls.logout;
    form.hidden = true;
    [["csrfmiddlewaretoken", csrf()], ["next", location.pathname],
      ["minutes", String(Math.round(timeout / 60))]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    body.appendChild(form);
    form.submit();
  }

  function end(late) {
    if (ending) { return; }
    ending = true;
    clearInterval(timer);
    var started = Date.now();
    try {
      localStorage.setItem(PARKING + tab, String(started));
      localStorage.setItem(END_KEY, String(started));
    } catch (e) { /* private mode */ }
    say("Keeping what you typed, then signing you out…");
    saveAutosaves(late || signedOut).then(parkForms).then(function () {
      try { localStorage.removeItem(PARKING + tab); } catch (e) { /* private mode */ }
      return waitForOthers(started);
    }).then(signOut);
  }

  // --- giving a parked draft back ------------------------------------------------------

  function fire(el) {
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fill(form, saved) {
    var values = {};
    (saved.fields || []).forEach(function (pair) {
      (values[pair[0]] = values[pair[0]] || []).push(pair[1]);
    });
    var names = saved.names || [];
    var seen = {};
    var matched = 0;
    var filled = 0;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!keepable(el) || el.readOnly) { return; }
      var vals = values[el.name];
      if (vals === undefined && names.indexOf(el.name) === -1) { return; }
      vals = vals || [];
      matched += 1;
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") {
        var on = vals.indexOf(el.value) !== -1;
        if (el.checked !== on) { el.checked = on; filled += 1; fire(el); }
      } else if (el.tagName === "SELECT" && el.multiple) {
        var moved = false;
        Array.prototype.forEach.call(el.options, function (o) {
          var want = vals.indexOf(o.value) !== -1;
          if (o.selected !== want) { o.selected = want; moved = true; }
        });
        if (moved) { filled += 1; fire(el); }
      } else {
        var i = seen[el.name] || 0;
        seen[el.name] = i + 1;
        if (i < vals.length && el.value !== vals[i]) { el.value = vals[i]; filled += 1; fire(el); }
      }
    });
    return { matched: matched, filled: filled };
  }

  function score(form, saved, index) {
    var names = {};
    (saved.fields || []).forEach(function (pair) { names[pair[0]] = true; });
    var hits = Array.prototype.filter.call(form.elements, function (el) {
      return keepable(el) && names[el.name];
    }).length;
    if (!hits) { return 0; }
    return hits + (actionOf(form) === saved.action ? 1000 : 0) + (index === saved.index ? 1 : 0);
  }

  function restore() {
    var block = document.getElementById("openiop-parked-draft");
    if (!block) { return; }
    var draft;
    try { draft = JSON.parse(block.textContent); } catch (e) { return; }
    var forms = Array.prototype.slice.call(document.forms);
    var matched = 0;
    var first = null;
    (draft.forms || []).forEach(function (saved) {
      var best = null;
      var bestScore = 0;
      forms.forEach(function (form, index) {
        if (!parkable(form)) { return; }
        var s = score(form, saved, index);
        if (s > bestScore) { best = form; bestScore = s; }
      });
      if (!best) { return; }
      var result = fill(best, saved);
      matched += result.matched;
      if (result.filled && !first) { first = best; }
    });
    if (!matched) { return; } // not this page's form any more: keep it for later
    if (first) {
      var notice = document.createElement("div");
      notice.className = "notice info idle-restored";
      notice.setAttribute("role", "status");
      notice.textContent = "Restored what you were typing when you were signed out. Check it, then save.";
      first.parentNode.insertBefore(notice, first);
    }
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf());
    data.append("draft", String(draft.id));
    if (!(navigator.sendBeacon && navigator.sendBeacon(urls.restored, data))) {
      post(urls.restored, { draft: String(draft.id) }, true).catch(function () { /* offered again */ });
    }
  }

  // --- wiring --------------------------------------------------------------------------

  ["keydown", "input", "pointerdown", "wheel"].forEach(function (type) {
    document.addEventListener(type, activity, { capture: true, passive: true });
  });
  window.addEventListener("storage", function (event) {
    if (event.key === STORE && event.newValue) {
      var shared = parseInt(event.newValue, 10);
      if (shared > deadline) {
        deadline = shared;
        if (deadline - LEAD - Date.now() > WARN) { polled = 0; hideWarning(); }
      }
    } else if (event.key === END_KEY && event.newValue && deadline - LEAD - Date.now() <= WARN) {
      end(Date.now() >= deadline); // another tab is ending the session: keep this tab's work too
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { tick(); } // e.g. after the computer slept
  });
  share(deadline);
  timer = setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", restore); // after the other scripts' listeners
})();
