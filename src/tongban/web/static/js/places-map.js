// The offline map of places (一张图): after first paint, load ECharts and the layers from this
// server (no tiles, no request off the machine), then draw the community cells coloured by the
// 15-minute service circle of the chosen category, the district outlines and the places.
(function () {
  "use strict";
  var box = document.getElementById("places-map");
  if (!box) { return; }
  var status = document.getElementById("map-status");
  var select = document.getElementById("map-layer");
  var layers = null;
  var chart = null;

  function say(text) { if (status) { status.textContent = text; } }

  // After the first paint: once the browser reports a paint (buffered, so one already done
  // counts), or after two animation frames and a second where paint timing is not reported.
  function afterPaint(fn) {
    var started = false;
    var go = function () { if (!started) { started = true; window.setTimeout(fn, 0); } };
    var watch = function () {
      if ("PerformanceObserver" in window && (PerformanceObserver.supportedEntryTypes || []).indexOf("paint") >= 0) {
        new PerformanceObserver(function (list, obs) {
          if (list.getEntries().length) { obs.disconnect(); go(); }
        }).observe({ type: "paint", buffered: true });
      }
      window.requestAnimationFrame(function () {
        window.requestAnimationFrame(function () { window.setTimeout(go, 1000); });
      });
    };
    if (document.readyState === "complete") { watch(); } else { window.addEventListener("load", watch); }
  }

  function loadScript(src, done) {
    if (typeof window.echarts !== "undefined") { done(); return; }
    var s = document.createElement("script");
    s.src = src;
    s.onload = done;
    s.onerror = function () { say(box.dataset.labelFailed); };
    document.head.appendChild(s);
  }

  function cells() {
    return layers.boundaries.features.filter(function (f) { return f.properties.level === "community"; });
  }

  function draw() {
    var category = select ? select.value : null;
    var circle = layers.service_circle.communities;
    var names = {};
    var data = cells().map(function (f) {
      var code = f.properties.code;
      names[code] = f.properties.name;
      var figure = (circle[code] || {})[category] || null;
      var share = figure && figure.share !== null ? Math.round(figure.share * 1000) / 10 : null;
      return { name: code, value: share, demo: f.properties.demo, households: figure ? figure.households : null };
    });
    var outlines = layers.boundaries.features.filter(function (f) { return f.properties.level === "district"; })
      .map(function (f) { return { name: f.properties.name, coords: f.geometry.coordinates[0] }; });
    var points = layers.places.filter(function (p) { return !category || p.category === category; })
      .map(function (p) { return { name: p.name, value: [p.lon, p.lat] }; });
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          if (p.seriesType === "map") {
            var d = p.data || {};
            var v = d.value === null || d.value === undefined ? box.dataset.labelWithheld : d.value + "%";
            return (names[p.name] || p.name) + "<br>" + box.dataset.labelShare + ": " + v +
              (d.demo ? "<br>(" + box.dataset.labelDemo + ")" : "");
          }
          return p.name;
        }
      },
      visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0,
                   text: ["100%", "0%"], inRange: { color: ["#fde2e1", "#f4a259", "#2a9d8f"] } },
      geo: { map: "tongban-places", nameProperty: "code", roam: true, label: { show: false },
             itemStyle: { borderColor: "#555", borderWidth: 0.6 } },
      series: [
        { type: "map", geoIndex: 0, nameProperty: "code", data: data },
        { type: "lines", coordinateSystem: "geo", polyline: true, silent: true,
          lineStyle: { color: "#222", width: 2, type: "dashed" }, data: outlines },
        { type: "scatter", coordinateSystem: "geo", name: box.dataset.labelPlaces, symbolSize: 7,
          itemStyle: { color: "#1d3557" }, data: points }
      ]
    }, true);
  }

  function start() {
    loadScript(box.dataset.echarts, function () {
      fetch(box.dataset.layers, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (json) {
          layers = json;
          window.echarts.registerMap("tongban-places", {
            type: "FeatureCollection",
            features: cells()
          });
          chart = window.echarts.init(box, null, { renderer: "svg" });
          if (window.tongban && window.tongban.track) { window.tongban.track(chart); }
          draw();
          box.setAttribute("data-ready", "1");
          say("");
          if (select) { select.addEventListener("change", draw); }
        })
        .catch(function () { say(box.dataset.labelFailed); });
    });
  }

  afterPaint(start);
})();
