/* The print pages' buttons (no inline script: the console's CSP forbids it).
   Enter or the button prints; Esc goes back. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("print-button"), back = document.getElementById("print-back");
    if (button) button.addEventListener("click", function () { window.print(); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && back) { event.preventDefault(); window.location.assign(back.href); }
    });
  });
})();
