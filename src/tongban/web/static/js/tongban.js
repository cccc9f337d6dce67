/* tongban (通办): progressive enhancement only; every page works without this file.
 * htmx requests carry the CSRF token from <meta name="csrf-token"> (also set by hx-headers on
 * <body>), so an element with its own hx-headers cannot drop it by accident. */
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && !event.detail.headers["X-CSRF-Token"]) {
      event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });
  /* A 422 answer to an htmx request carries the field with its message: show it (htmx
   * otherwise leaves error responses unswapped). */
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  /* A print button (data-print): wired here, as the Content-Security-Policy refuses onclick=. */
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  /* Move focus to an error summary so screen readers announce it after a failed form. */
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
