// The ECharts build of the places map (places-map.js; static/vendor/echarts-map.js): the map,
// lines and scatter series on a geo component, with a visual map and tooltips, SVG renderer only.
import * as echarts from "echarts/core";
import { LinesChart, MapChart, ScatterChart } from "echarts/charts";
import { GeoComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([LinesChart, MapChart, ScatterChart, GeoComponent, TooltipComponent, VisualMapComponent, SVGRenderer]);
window.echarts = echarts;
