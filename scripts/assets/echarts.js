// The ECharts build of the chart pages (scripts/build_assets.py bundles it with esbuild into
// static/vendor/echarts.js): only the charts and components they draw, SVG renderer only.
// Add a chart or component here when a page needs it (grep the static js for `type:`).
//   charts.js         bar, grid, tooltip            (services dashboard)
//   screening.js      bar, grid, tooltip, legend    (screening workbench)
//   quality-chart.js  line, grid, tooltip           (data catalogue quality history)
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);
window.echarts = echarts;
