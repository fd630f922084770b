// The group note's helper: copy the first response written to every entry still empty,
// then the clinician adjusts each person's. The copies are ordinary typing for the
// autosave (notes.js listens to "input"). No inline script (the CSP forbids it).
(function () {
  var tools = document.querySelector("[data-fill-tools]");
  var button = document.querySelector("[data-fill-response]");
  if (!tools || !button) { return; }
  tools.hidden = false;
  button.addEventListener("click", function () {
    var boxes = Array.prototype.filter.call(
      document.querySelectorAll("textarea[data-response]"),
      function (box) { return !box.readOnly; }
    );
    var first = boxes.filter(function (box) { return box.value.trim() !== ""; })[0];
    if (!first) { first = boxes[0]; if (first) { first.focus(); } return; }
    boxes.forEach(function (box) {
      if (box.value.trim() === "") {
        box.value = first.value;
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  });
})();
