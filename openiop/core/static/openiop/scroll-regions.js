// Keyboard access to tables that scroll sideways (WCAG 2.1.1; axe-core rule
// scrollable-region-focusable). A `.table-wrap` scrolls when its table is wider than the
// page (a phone, a half-width card); someone without a mouse can then scroll it only if it
// can take the focus. While it overflows it becomes focusable and a named region (named by
// the table's caption or the heading of its section); when it fits again, it is left as
// it was. A ResizeObserver follows window resizes and <details> opening. No inline script
// (CSP); the page works the same without this file.
(function () {
  "use strict";

  var MARK = "data-scroll-region";

  function nameOf(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    var section = wrap.closest("section, details, form, main");
    var heading = section && section.querySelector("h1, h2, h3, h4, summary");
    return heading && heading.textContent.trim() ? heading.textContent.trim() : "Table";
  }

  function update(wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls && !wrap.hasAttribute("tabindex")) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", nameOf(wrap) + " (scrolls sideways)");
      wrap.setAttribute(MARK, "");
    } else if (!scrolls && wrap.hasAttribute(MARK)) {
      ["tabindex", "role", "aria-label", MARK].forEach(function (name) {
        wrap.removeAttribute(name);
      });
    }
  }

  var wraps = document.querySelectorAll(".table-wrap");
  wraps.forEach(update);
  if ("ResizeObserver" in window) {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { update(entry.target); });
    });
    wraps.forEach(function (wrap) { observer.observe(wrap); });
  }
})();
