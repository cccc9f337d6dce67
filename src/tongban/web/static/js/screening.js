/* The screening page's bar chart (ECharts): not enrolled per street and policy. The table
 * beside it holds the same figures, so the page works without this file. */
(function () {
  "use strict";
  var el = document.getElementById("screening-chart");
  var data = document.getElementById("screening-chart-data");
  if (!el || !data) { return; }
  var chart = JSON.parse(data.textContent || "{}");
  if (!chart.regions || !chart.regions.length) { el.style.display = "none"; return; }
  window.tongban.charts(function (echarts) {
    var c = echarts.init(el, null, { renderer: "svg" });
    window.tongban.track(c);  // before setOption: it may finish at once
    c.setOption({
      animation: false,
      tooltip: { trigger: "axis" }, legend: { top: 0 },
      grid: { left: 40, right: 10, bottom: 40, top: 40 },
      xAxis: { type: "category", data: chart.regions }, yAxis: { type: "value", minInterval: 1 },
      series: chart.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; })
    });
  });
})();
