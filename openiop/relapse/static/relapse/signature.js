// A signature pad without dependencies or inline script (the Content-Security-Policy
// forbids inline script). Usable by any page:
//
//   <canvas data-signature-pad data-target="id_signature" width="800" height="240"></canvas>
//   <input type="hidden" name="signature" id="id_signature">
//   <button type="button" data-signature-clear="ID_OF_THE_CANVAS">Clear</button>  (optional)
//
// Drawing with a finger, a pen or the mouse writes the drawing into the hidden input as a
// PNG data: URL when each stroke ends; Clear empties both. Without a Clear button that
// names the canvas, one is added after it. A value already in the input (a form shown
// again after an error) is drawn back onto the pad.
(function () {
  "use strict";

  function setUp(canvas) {
    var target = document.getElementById(canvas.getAttribute("data-target"));
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var last = null;
    var drawn = false;

    function style() {
      ctx.lineWidth = Math.max(2, canvas.width / 250);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#10243a";
    }
    style();

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      var source = event.touches && event.touches.length ? event.touches[0] : event;
      return {
        x: (source.clientX - rect.left) * (canvas.width / rect.width),
        y: (source.clientY - rect.top) * (canvas.height / rect.height),
      };
    }

    function start(event) {
      event.preventDefault();
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.fill();
      drawn = true;
      if (event.pointerId !== undefined && canvas.setPointerCapture) {
        canvas.setPointerCapture(event.pointerId);
      }
    }

    function move(event) {
      if (!drawing) return;
      event.preventDefault();
      var p = point(event);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
    }

    function end() {
      if (!drawing) return;
      drawing = false;
      if (target && drawn) target.value = canvas.toDataURL("image/png");
    }

    function clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      style();
      drawn = false;
      if (target) target.value = "";
    }

    if (window.PointerEvent) {
      canvas.addEventListener("pointerdown", start);
      canvas.addEventListener("pointermove", move);
      canvas.addEventListener("pointerup", end);
      canvas.addEventListener("pointercancel", end);
    } else {
      canvas.addEventListener("mousedown", start);
      canvas.addEventListener("mousemove", move);
      window.addEventListener("mouseup", end);
      canvas.addEventListener("touchstart", start, { passive: false });
      canvas.addEventListener("touchmove", move, { passive: false });
      canvas.addEventListener("touchend", end);
    }

    var buttons = canvas.id
      ? document.querySelectorAll('[data-signature-clear="' + canvas.id + '"]')
      : [];
    if (!buttons.length) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary small";
      button.textContent = "Clear";
      canvas.insertAdjacentElement("afterend", button);
      buttons = [button];
    }
    Array.prototype.forEach.call(buttons, function (b) {
      b.addEventListener("click", clear);
    });

    if (target && target.value.indexOf("data:image/png;base64,") === 0) {
      var image = new Image();
      image.onload = function () {
        ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
        drawn = true;
      };
      image.src = target.value;
    }
  }

  document.querySelectorAll("canvas[data-signature-pad]").forEach(setUp);
})();
