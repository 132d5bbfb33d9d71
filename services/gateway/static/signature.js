/* The signature pad (签名): plain <canvas>, pointer events (finger, pen or
   mouse), no library. On submit the drawing goes as a PNG data URL in the
   hidden field "signature"; the gateway sends only its SHA-256 on (the
   contract's image_ref). Nothing drawn: the form is not sent. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var pad = document.getElementById("signature-pad");
    if (!pad) return;
    var form = pad.closest("form"), image = document.getElementById("signature-image");
    var error = document.getElementById("e-signature"), clear = document.getElementById("signature-clear");
    var pen = pad.getContext("2d"), drawing = false, drawn = false, last = null;

    function blank() {
      pen.fillStyle = "#fff"; pen.fillRect(0, 0, pad.width, pad.height);
      pen.strokeStyle = "#111"; pen.lineWidth = 3; pen.lineCap = "round"; pen.lineJoin = "round";
      drawn = false; image.value = "";
    }
    function at(event) {  // the pointer in the canvas's own pixels (it is scaled by CSS)
      var box = pad.getBoundingClientRect();
      return { x: (event.clientX - box.left) * pad.width / box.width, y: (event.clientY - box.top) * pad.height / box.height };
    }
    pad.addEventListener("pointerdown", function (event) {
      event.preventDefault(); drawing = true; last = at(event);
      error.hidden = true; pad.removeAttribute("aria-invalid");
      if (pad.setPointerCapture) pad.setPointerCapture(event.pointerId);
      pen.beginPath(); pen.arc(last.x, last.y, pen.lineWidth / 2, 0, 2 * Math.PI); pen.fillStyle = "#111"; pen.fill();
      drawn = true;
    });
    pad.addEventListener("pointermove", function (event) {
      if (!drawing) return;
      event.preventDefault();
      var point = at(event);
      pen.beginPath(); pen.moveTo(last.x, last.y); pen.lineTo(point.x, point.y); pen.stroke();
      last = point;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      pad.addEventListener(name, function () { drawing = false; });
    });
    if (clear) clear.addEventListener("click", function () { blank(); pad.focus(); });
    form.addEventListener("submit", function (event) {
      if (!drawn) {
        event.preventDefault(); event.stopImmediatePropagation();
        error.textContent = pad.getAttribute("data-empty"); error.hidden = false;
        pad.setAttribute("aria-invalid", "true");
        return;
      }
      image.value = pad.toDataURL("image/png");
    }, true);
    pad.tabIndex = 0;
    blank();
  });
})();
