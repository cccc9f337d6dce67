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
  /* Move focus to an error summary so screen readers announce it after a failed form. */
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
