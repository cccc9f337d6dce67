// The ECharts build of the cockpit's one screen (cockpit-screen.js; static/vendor/echarts-screen.js):
// the regions' map coloured by a visual map, the ranked bars and the trend line, SVG renderer only.
import * as echarts from "echarts/core";
import { BarChart, LineChart, MapChart } from "echarts/charts";
import { GridComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, MapChart, GridComponent, TooltipComponent, VisualMapComponent, SVGRenderer]);
window.echarts = echarts;
