/* Quality score history as ECharts lines: every <figure data-quality-history='[[at, score], …]'>
 * gets a small chart; the table beside it stays for screen readers and browsers without JS. */
(function () {
  "use strict";
  var figures = Array.prototype.filter.call(document.querySelectorAll("[data-quality-history]"), function (el) {
    return JSON.parse(el.getAttribute("data-quality-history") || "[]").length > 0;
  });
  if (!figures.length) { return; }
  window.tongban.charts(function (echarts) {
    figures.forEach(function (el) {
      var points = JSON.parse(el.getAttribute("data-quality-history") || "[]");
      var box = document.createElement("div");
      box.className = "chart";
      box.setAttribute("aria-hidden", "true");
      el.insertBefore(box, el.firstChild);
      var chart = echarts.init(box, null, { renderer: "svg" });
      window.tongban.track(chart);  // before setOption: it may finish at once
      chart.setOption({
        animation: false,
        grid: { left: 40, right: 12, top: 12, bottom: 28 },
        xAxis: { type: "category", data: points.map(function (p) { return p[0]; }) },
        yAxis: { type: "value", min: 0, max: 100 },
        tooltip: { trigger: "axis" },
        series: [{ type: "line", data: points.map(function (p) { return p[1]; }), smooth: false }]
      });
    });
  });
})();
