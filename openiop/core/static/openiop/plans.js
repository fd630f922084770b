// Treatment plans (issue 7): the signature pad on the tablet page, and the editor's
// library picker that prefills an intervention's description. Vanilla JS, no build.
(function () {
  "use strict";

  // --- Signature pad: pointer events cover touch, pen and mouse alike. -------------------
  function setUpPad(form) {
    var canvas = form.querySelector("[data-signature-pad]");
    var field = form.querySelector("[data-signature-image]");
    var clear = form.querySelector("[data-signature-clear]");
    if (!canvas || !field) return;
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var drawn = false;
    var last = null;

    function reset() {
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 3;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      drawn = false;
      field.value = "";
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - box.left) * canvas.width) / box.width,
        y: ((event.clientY - box.top) * canvas.height) / box.height,
      };
    }

    canvas.style.touchAction = "none"; // the finger draws; the page does not scroll
    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) canvas.setPointerCapture(event.pointerId);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = "#111";
      ctx.fill();
      drawn = true;
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      drawn = true;
    });
    function stop() {
      if (!drawing) return;
      drawing = false;
      if (drawn) field.value = canvas.toDataURL("image/png");
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);
    if (clear) clear.addEventListener("click", reset);
    form.addEventListener("submit", function () {
      if (drawn) field.value = canvas.toDataURL("image/png");
    });
    reset();
  }

  // --- Library picker: choosing a template fills the description (unless typed over). --
  function setUpPicker(select) {
    var form = select.form;
    var box = form && form.querySelector("[data-template-description]");
    if (!box) return;
    var filled = box.value;
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var text = option ? option.getAttribute("data-description") || "" : "";
      if (!box.value.trim() || box.value === filled) {
        box.value = text;
        filled = text;
      }
    });
  }

  document.querySelectorAll("[data-signature-form]").forEach(setUpPad);
  document.querySelectorAll("[data-template-select]").forEach(setUpPicker);
})();
