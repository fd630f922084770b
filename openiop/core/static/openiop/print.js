// A "Print" button without inline script (the Content-Security-Policy forbids it).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
