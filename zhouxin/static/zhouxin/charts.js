// ECharts driver for the three-rates pages.  Each chart is an element
//   <div class="zx-chart" data-zx-chart="volume|rates|categories|treemap" data-zx-source="ID">
// reading its numbers from the JSON data island <script type="application/json" id="ID">
// (Django's json_script), so the page carries no inline script (CSP: script-src 'self').
(() => {
  const RED = "#b5121b";
  const PALETTE = [RED, "#1d4a86", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#c2185b"];
  const charts = [];

  const readData = (id) => {
    const island = document.getElementById(id);
    if (!island) return null;
    try {
      return JSON.parse(island.textContent);
    } catch (_error) {
      return null;
    }
  };

  const base = () => ({
    color: PALETTE,
    aria: { enabled: true },
    animation: false,
    grid: { left: 48, right: 24, top: 40, bottom: 40, containLabel: true },
    tooltip: { trigger: "axis" },
  });

  const builders = {
    volume: (d) => ({
      ...base(),
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", name: d.labels.count, minInterval: 1 },
      series: [{ name: d.labels.volume, type: "bar", data: d.volume, barMaxWidth: 28 }],
    }),
    rates: (d) => ({
      ...base(),
      legend: { top: 0 },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", name: d.labels.percent, min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : `${v}%`) },
      series: ["response", "resolution", "satisfaction", "composite"].map((key) => ({
        name: d.labels[key],
        type: "line",
        data: d[key],
        connectNulls: false,
        symbolSize: 7,
        lineStyle: key === "composite" ? { width: 3 } : { width: 2, type: "dashed" },
      })),
    }),
    categories: (d) => {
      const items = [...d.categories].reverse(); // largest at the top of a horizontal bar chart
      return {
        ...base(),
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "value", name: d.labels.count, minInterval: 1 },
        yAxis: { type: "category", data: items.map((c) => c.name) },
        series: [{ name: d.labels.volume, type: "bar", data: items.map((c) => c.value), barMaxWidth: 22 }],
      };
    },
    treemap: (d) => ({
      color: PALETTE,
      aria: { enabled: true },
      animation: false,
      tooltip: { formatter: (p) => `${p.name}: ${p.value}` },
      series: [{
        name: d.labels.categories,
        type: "treemap",
        roam: false,
        nodeClick: false,
        breadcrumb: { show: false },
        label: { show: true, formatter: "{b}\n{c}" },
        data: d.categories.map((c) => ({ name: c.name, value: c.value })),
      }],
    }),
  };

  const draw = (root) => {
    if (!window.echarts) return;
    root.querySelectorAll("[data-zx-chart]").forEach((element) => {
      if (element.dataset.zxDrawn) return;
      const build = builders[element.dataset.zxChart];
      const data = readData(element.dataset.zxSource);
      if (!build || !data) return;
      const chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(build(data));
      element.dataset.zxDrawn = "1";
      charts.push(chart);
    });
  };

  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => charts.forEach((chart) => chart.resize()), 150);
  });
  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:afterSwap", (event) => draw(event.detail.target || document));
})();
