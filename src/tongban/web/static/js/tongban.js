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

/* Charts (ECharts) load after the first paint, and only on a page that draws one: a page script
 * calls tongban.charts(function (echarts) { … }) and passes each chart it makes to
 * tongban.track(chart). The build to load is named by <meta name="tongban-echarts">. Every chart
 * sits next to a table of the same figures, so a page is whole before (or without) them.
 * window.tongbanCharts counts charts drawn and finished (`tongban bench pages` waits on it). */
(function () {
  "use strict";
  var tb = window.tongban = window.tongban || {};
  var stats = window.tongbanCharts = { drawn: 0, finished: 0, failed: false };
  var waiting = [];
  var state = "idle";

  function afterPaint(fn) {
    var done = false;
    var go = function () { if (!done) { done = true; window.setTimeout(fn, 0); } };
    var watch = function () {
      if ("PerformanceObserver" in window && (PerformanceObserver.supportedEntryTypes || []).indexOf("paint") >= 0) {
        new PerformanceObserver(function (list, obs) {
          if (list.getEntries().length) { obs.disconnect(); go(); }
        }).observe({ type: "paint", buffered: true });
      }
      window.requestAnimationFrame(function () { window.requestAnimationFrame(function () { window.setTimeout(go, 500); }); });
    };
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", watch); } else { watch(); }
  }

  function run() {
    var list = waiting;
    waiting = [];
    list.forEach(function (draw) {
      try { draw(window.echarts); } catch (e) { stats.failed = true; if (window.console) { console.warn(e); } }
    });
  }

  function load() {
    if (typeof window.echarts !== "undefined") { state = "ready"; run(); return; }
    var meta = document.querySelector('meta[name="tongban-echarts"]');
    if (!meta) { stats.failed = true; return; }
    var s = document.createElement("script");
    s.src = meta.getAttribute("content");
    s.onload = function () { state = "ready"; run(); };
    s.onerror = function () { stats.failed = true; };
    document.head.appendChild(s);
  }

  tb.charts = function (draw) {
    waiting.push(draw);
    if (state === "ready") { run(); } else if (state === "idle") { state = "loading"; afterPaint(load); }
  };
  tb.track = function (chart) {
    stats.drawn += 1;
    var counted = false;
    chart.on("finished", function () {
      if (counted) { return; }
      counted = true;
      stats.finished += 1;
      if (stats.finished >= stats.drawn) { stats.finishedAt = window.performance.now(); }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  };
  tb.afterPaint = afterPaint;
})();
