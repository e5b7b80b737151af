// Live updates for the CSR app without a framework: every element with
// data-poll is refreshed from that URL (server-rendered, escaped HTML) every
// data-interval milliseconds, unless the CSR is typing in a form.
(function () {
  "use strict";
  function typing() {
    var el = document.activeElement;
    return el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT");
  }
  function poll(target) {
    var url = target.getAttribute("data-poll");
    var every = parseInt(target.getAttribute("data-interval") || "5000", 10);
    var status = document.querySelector("[data-live-status]");
    function tick() {
      if (document.hidden || typing()) { return schedule(); }
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.redirected || !response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          if (target.innerHTML.trim() !== html.trim()) { target.innerHTML = html; }
          if (status) { status.textContent = "live"; status.className = "live"; }
        })
        .catch(function () { if (status) { status.textContent = "offline"; status.className = "live off"; } })
        .then(schedule);
    }
    function schedule() { window.setTimeout(tick, every); }
    schedule();
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
  });
})();
