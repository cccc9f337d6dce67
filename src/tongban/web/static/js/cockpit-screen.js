/* tongban: the cockpit's one screen (驾驶舱一屏). The page is whole without this file: the children
 * are a table whose links drill down, the trail links back up, the form picks the indicator. Here,
 * after the first paint: the map of the children coloured by the figure (shapes from
 * /api/v1/cockpit/map/{region}), their ranked bars and the twelve months' trend. Clicking a region
 * or a bar goes to its screen (a plain navigation: the URL holds the state, so Back and a shared
 * link work); changing the indicator shows it at once. */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) { return; }
  var data;
  try { data = JSON.parse(root.getAttribute("data-screen")); } catch (e) { return; }
  var hidden = root.getAttribute("data-label-hidden");
  var byCode = {};
  data.children.forEach(function (c) { byCode[c.code] = c; });

  var select = document.getElementById("screen-indicator");
  if (select && select.form) {
    select.addEventListener("change", function () { select.form.submit(); });
  }

  function go(child) {
    if (child && child.href) { window.location.assign(child.href); }
  }
  function label(c) { return c.suppressed ? hidden : c.shown; }
  function fontSize() { return parseFloat(getComputedStyle(document.documentElement).fontSize) || 16; }

  // one chart drawn as SVG in `el`, redrawn when the window is resized (tongban.track)
  function start(echarts, el) {
    var chart = echarts.init(el, null, { renderer: "svg" });
    window.tongban.track(chart);
    return chart;
  }

  function bars(echarts, el) {
    var list = data.children;
    el.style.height = Math.max(240, list.length * 30 + 60) + "px";
    var chart = start(echarts, el);
    var size = fontSize();
    chart.setOption({
      animation: false,
      textStyle: { fontSize: size * 0.85 },
      grid: { left: 8, right: 90, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "item", formatter: function (p) { return list[p.dataIndex].name + ": " + label(list[p.dataIndex]); } },
      xAxis: { type: "value", show: false },
      yAxis: { type: "category", inverse: true, triggerEvent: true, data: list.map(function (c) { return c.name; }),
               axisLabel: { fontSize: size * 0.85 } },
      series: [{
        type: "bar", cursor: "pointer",
        data: list.map(function (c) {
          return c.suppressed || c.value === null ? { value: 0, itemStyle: { color: "#c4c8cc" } } : { value: c.value };
        }),
        itemStyle: { color: "#0b4f9c" },
        label: { show: true, position: "right", fontSize: size * 0.85,
                 formatter: function (p) { return label(list[p.dataIndex]); } }
      }]
    });
    // a bar, or its name on the axis (a hidden figure has no bar to click)
    chart.on("click", function (p) {
      if (p.componentType === "yAxis") {
        go(list.filter(function (c) { return c.name === p.value; })[0]);
      } else {
        go(list[p.dataIndex]);
      }
    });
    return chart;
  }

  function trend(echarts, el) {
    var chart = start(echarts, el);
    var size = fontSize();
    chart.setOption({
      animation: false,
      textStyle: { fontSize: size * 0.85 },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", formatter: function (ps) {
        var p = ps[0]; var t = data.trend[p.dataIndex];
        return t.month + ": " + (t.suppressed ? hidden : t.shown);
      } },
      xAxis: { type: "category", data: data.trend.map(function (t) { return t.month; }) },
      yAxis: { type: "value" },
      series: [{ type: "line", connectNulls: false, itemStyle: { color: "#0b4f9c" },
                 data: data.trend.map(function (t) { return t.value; }) }]
    });
    return chart;
  }

  function map(echarts, el) {
    var status = document.getElementById("screen-map-status");
    fetch(el.getAttribute("data-map"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (fc) {
        var name = "tongban-screen-" + data.region;
        echarts.registerMap(name, fc);
        var values = data.children.filter(function (c) { return !c.suppressed && c.value !== null; })
          .map(function (c) { return c.value; });
        var min = values.length ? Math.min.apply(null, values) : 0;
        var max = values.length ? Math.max.apply(null, values) : 1;
        var ends = { high: "", low: "" };  // the visual map's ends, as the figures are shown
        data.children.forEach(function (c) {
          if (!c.suppressed && c.value === max) { ends.high = c.shown; }
          if (!c.suppressed && c.value === min) { ends.low = c.shown; }
        });
        if (max === min) { max = min + 1; }
        var chart = start(echarts, el);
        chart.setOption({
          animation: false,
          tooltip: { trigger: "item", formatter: function (p) {
            var c = byCode[p.name];
            var f = fc.features.filter(function (x) { return x.properties.code === p.name; })[0];
            var n = f ? f.properties.name : p.name;
            return n + ": " + (c ? label(c) : "—") + (f && f.properties.demo ? " (" + root.getAttribute("data-label-demo") + ")" : "");
          } },
          visualMap: { min: min, max: max, calculable: false, orient: "horizontal", left: "center", bottom: 0,
                       itemHeight: 120, text: [ends.high, ends.low],
                       inRange: { color: ["#deebf7", "#6baed6", "#08519c"] } },
          series: [{
            type: "map", map: name, nameProperty: "code", roam: false, cursor: "pointer",
            label: { show: true, fontSize: fontSize() * 0.75, formatter: function (p) {
              var f = fc.features.filter(function (x) { return x.properties.code === p.name; })[0];
              return f ? f.properties.name : "";
            } },
            itemStyle: { areaColor: "#d9dcdf", borderColor: "#555", borderWidth: 0.8 },
            emphasis: { label: { show: true }, itemStyle: { areaColor: "#f4a259" } },
            data: fc.features.map(function (f) {
              var c = byCode[f.properties.code];
              var v = c && !c.suppressed && c.value !== null ? c.value : NaN;
              return { name: f.properties.code, value: v };
            })
          }]
        });
        chart.on("click", function (p) { go(byCode[p.name]); });
        el.setAttribute("data-ready", "1");
      })
      .catch(function () { if (status) { status.textContent = root.getAttribute("data-label-failed"); } });
  }

  window.tongban.charts(function (echarts) {
    var b = document.getElementById("screen-bars");
    var t = document.getElementById("screen-trend");
    var m = document.getElementById("screen-map");
    if (b) { bars(echarts, b).getDom().setAttribute("data-ready", "1"); }
    if (t) { trend(echarts, t).getDom().setAttribute("data-ready", "1"); }
    if (m) { map(echarts, m); }
  });
})();
