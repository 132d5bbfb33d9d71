/* The console's little bit of JavaScript (no build step). Everything works
   without it; with it: the first field is focused, Esc cancels a form, the
   header's short-code box opens a scanned code at once, and pages refresh
   a list when the server says something changed (server-sent events). */
(function () {
  "use strict";
  var VSC = window.VSC = window.VSC || {};

  // the first field of the page's first form, unless one asked for focus
  function focusFirst() {
    if (document.querySelector("[autofocus]")) { document.querySelector("[autofocus]").focus(); return; }
    var field = document.querySelector("main form input:not([type=hidden]):not([disabled]), main form select, main form textarea");
    if (field) field.focus();
  }

  // Esc: leave the form for its cancel link (data-cancel)
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target && event.target.closest ? event.target.closest("form[data-cancel]") : null;
    form = form || document.querySelector("main form[data-cancel]");
    if (form && form.getAttribute("data-cancel")) { event.preventDefault(); window.location.assign(form.getAttribute("data-cancel")); }
  });

  // Ctrl+Enter submits from a textarea (Enter adds a line there)
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA" && event.target.form) {
      event.preventDefault(); event.target.form.requestSubmit();
    }
  });

  // a form with data-confirm asks first (a reset, a handover): no inline script needed
  document.addEventListener("submit", function (event) {
    var form = event.target, question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // the short-code box: a complete code (as a scanner types it) opens at once
  var CODE = /^\s*[A-Za-z]{2,5}-[A-Za-z0-9]{6}\s*$/;
  function shortCodeBox() {
    var box = document.querySelector("[data-short-code]");
    if (!box) return;
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      if (CODE.test(box.value)) timer = setTimeout(function () { box.form.submit(); }, 250);
    });
    // "/" or F2 jumps to the box from anywhere but a field
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (event.key === "F2" || (event.key === "/" && tag !== "input" && tag !== "textarea" && tag !== "select")) {
        event.preventDefault(); box.focus(); box.select();
      }
    });
  }

  // live updates: VSC.live(["FoundItemRegistered", ...], function (notice) {...})
  var listeners = [];
  var source = null;
  VSC.live = function (types, callback) {
    listeners.push({ types: types, callback: callback });
    connect();
  };
  function connect() {
    if (source || !window.EventSource || document.body.getAttribute("data-live") !== "on") return;
    source = new EventSource("/events/stream");
    source.onmessage = function () {};
    var seen = {};
    listeners.forEach(function (l) { l.types.forEach(function (t) { seen[t] = true; }); });
    Object.keys(seen).forEach(function (type) {
      source.addEventListener(type, function (event) {
        var notice; try { notice = JSON.parse(event.data); } catch (e) { return; }
        listeners.forEach(function (l) { if (l.types.indexOf(type) >= 0 || l.types.indexOf("*") >= 0) l.callback(notice); });
      });
    });
  }

  // refresh one element from the same URL (no full reload): <section id="x" data-live-list="Type1 Type2">
  VSC.refresh = function (element) {
    var url = element.getAttribute("data-live-url") || window.location.href;
    return fetch(url, { headers: { "X-Requested-With": "fetch-html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = element.id ? doc.getElementById(element.id) : null;
        if (!fresh) {
          var all = doc.querySelectorAll("[data-live-list]"), mine = document.querySelectorAll("[data-live-list]");
          fresh = all[Array.prototype.indexOf.call(mine, element)];
        }
        if (fresh) { element.innerHTML = fresh.innerHTML; element.classList.add("live-flash");
                     setTimeout(function () { element.classList.remove("live-flash"); }, 1600); }
      });
  };
  function liveLists() {
    document.querySelectorAll("[data-live-list]").forEach(function (element) {
      var types = element.getAttribute("data-live-list").split(/\s+/).filter(Boolean);
      var pending = null;
      VSC.live(types, function () {  // notices come in bursts: one refresh per burst
        clearTimeout(pending); pending = setTimeout(function () { VSC.refresh(element); }, 200);
      });
    });
  }

  // the idle lock: the terminal locks itself after data-idle-lock seconds
  // without input (nobody walking by reads the open page), and tells the
  // server while the person is busy without a request (a long form)
  function idleLock() {
    var seconds = parseFloat(document.body.getAttribute("data-idle-lock") || "0");
    if (!(seconds > 0)) return;
    var csrf = document.body.getAttribute("data-csrf");
    var last = Date.now(), told = Date.now(), busy = false, locking = false;
    ["keydown", "mousedown", "mousemove", "touchstart", "wheel", "input"].forEach(function (name) {
      document.addEventListener(name, function () { last = Date.now(); busy = true; }, { passive: true });
    });
    setInterval(function () {
      var now = Date.now();
      if (!locking && now - last >= seconds * 1000) {
        locking = true;
        var form = document.createElement("form");
        form.method = "post"; form.action = "/lock";
        [["csrf_token", csrf], ["action", "lock"]].forEach(function (pair) {
          var input = document.createElement("input");
          input.type = "hidden"; input.name = pair[0]; input.value = pair[1]; form.appendChild(input);
        });
        document.body.appendChild(form); form.submit();
      } else if (busy && now - told >= Math.min(60, seconds / 3) * 1000) {
        busy = false; told = now;
        fetch("/session/alive", { method: "POST", credentials: "same-origin",
                                  headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" } });
      }
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () { focusFirst(); shortCodeBox(); liveLists(); idleLock(); });
})();
