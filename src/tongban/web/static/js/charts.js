/* tongban: draw ECharts bar charts from a JSON data attribute (<div class="chart" data-chart='…'>).
 * The same figures are in a table next to each chart, so the page works without this file. */
(function () {
  "use strict";
  if (!document.querySelector("[data-chart]")) { return; }
  window.tongban.charts(function (echarts) {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var data;
      try { data = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
      var chart = echarts.init(el, null, { renderer: "svg" });
      window.tongban.track(chart);  // before setOption: it may finish at once
      var size = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
      chart.setOption({
        animation: false,
        textStyle: { fontSize: size },
        grid: { left: "3%", right: "4%", bottom: "3%", containLabel: true },
        tooltip: { trigger: "axis" },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.labels, axisLabel: { fontSize: size * 0.9 } },
        series: [{ name: data.title, type: "bar", data: data.values, itemStyle: { color: "#0b4f9c" },
                   label: { show: true, position: "right", fontSize: size * 0.9 } }]
      });
    });
  });
})();
