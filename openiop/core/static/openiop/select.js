// Select a read-only field's text when it gets focus (a link to copy), without inline
// script: the Content-Security-Policy forbids onfocus="" attributes.
document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
  field.addEventListener("focus", function () { field.select(); });
});
