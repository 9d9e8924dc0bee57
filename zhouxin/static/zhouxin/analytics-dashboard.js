// The dashboard (数据驾驶舱): draws each <div data-analytics-chart="ranking|treemap|volume|rates|categories"> from the
// JSON data island <script type="application/json" id="analytics-dashboard-data"> (Django's json_script), with the
// helpers of dashboard-charts.js (loaded before this file).  Every chart's numbers are also in a table on the page.
// A bar of the ranking or a rectangle of the treemap opens that area's dashboard (the table's links do the same).
(() => {
  const zx = window.zxCharts;
  if (!zx) return;
  const { base, narrow, plain } = zx;

  const percent = (value) => (value === null || value === undefined ? "—" : `${value}%`);

  // The treemap's colour for a composite score: red up to 60, amber at 80, green at 100; grey without one.
  const STOPS = [[60, [0xb5, 0x12, 0x1b]], [80, [0xb2, 0x6a, 0x00]], [100, [0x2e, 0x7d, 0x32]]];
  const hex = (rgb) => `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;
  const scoreColour = (score) => {
    if (score === null || score === undefined) return "#9e9e9e";
    if (score <= STOPS[0][0]) return hex(STOPS[0][1]);
    for (let i = 1; i < STOPS.length; i += 1) {
      const [hi, to] = STOPS[i];
      const [lo, from] = STOPS[i - 1];
      if (score <= hi) {
        const t = (score - lo) / (hi - lo);
        return hex(from.map((c, k) => c + (to[k] - c) * t));
      }
    }
    return hex(STOPS[STOPS.length - 1][1]);
  };

  const builders = {
    // Composite score of each child, best at the top, 0–100.
    ranking: (d) => {
      const bars = zx.ranking(d.ranking, d.labels.composite, 12);
      const rows = [...d.ranking].reverse();
      return {
        ...bars,
        tooltip: { ...bars.tooltip, valueFormatter: percent },
        grid: { ...bars.grid, right: 48 },
        xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}" } },
        series: [{
          ...bars.series[0],
          data: rows.map((r) => ({ value: r.value, url: r.url })),
          label: { show: true, position: "right", formatter: (p) => (p.value === null ? "—" : `${p.value}`) },
          cursor: "pointer",
        }],
      };
    },
    // Children sized by valid requests, coloured by composite score.
    treemap: (d) => ({
      ...plain(),
      tooltip: {
        confine: true,
        formatter: (p) => `${p.name}<br>${d.labels.volume}: ${p.value}<br>${d.labels.composite}: ${
          p.data.score === null ? d.labels.no_score : p.data.score}`,
      },
      series: [{
        name: d.labels.volume,
        type: "treemap",
        roam: false,
        nodeClick: false,
        breadcrumb: { show: false },
        width: "100%",
        height: "100%",
        top: 0,
        left: 0,
        label: { show: true, fontSize: 14, formatter: (p) => `${p.name}\n${p.value}` },
        itemStyle: { borderColor: "#ffffff", borderWidth: 2, gapWidth: 2 },
        data: d.treemap.map((c) => ({
          name: c.name, value: c.value, score: c.score, url: c.url, itemStyle: { color: scoreColour(c.score) },
        })),
      }],
    }),
    volume: (d) => ({
      ...base(),
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", name: narrow() ? "" : d.labels.count, minInterval: 1 },
      series: [{ name: d.labels.volume, type: "bar", data: d.volume, barMaxWidth: 28 }],
    }),
    rates: (d) => ({
      ...base(),
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: narrow() ? 64 : 48, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", confine: true, valueFormatter: percent },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: ["response", "resolution", "satisfaction", "composite"].map((key) => ({
        name: d.labels[key],
        type: "line",
        data: d[key],
        connectNulls: false,
        symbolSize: 7,
        lineStyle: key === "composite" ? { width: 3 } : { width: 2, type: "dashed" },
      })),
    }),
    categories: (d) => zx.ranking(d.categories, d.labels.volume, 10),
  };

  // A bar per child or category: a long list gets a taller chart (CSSOM, allowed by the CSP).
  const size = (element, key, data) => {
    const bars = { ranking: data.ranking.length, categories: data.categories.length }[key];
    if (bars) element.style.height = `${Math.max(300, bars * 28 + 48)}px`;
  };

  // Clicking a bar of the ranking or a rectangle of the treemap opens that area.
  const drillDown = () => {
    document.querySelectorAll('[data-analytics-chart="ranking"], [data-analytics-chart="treemap"]').forEach((el) => {
      const chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (!chart) return;
      chart.on("click", (params) => {
        const url = params.data && params.data.url;
        if (typeof url === "string" && url.startsWith("/") && !url.startsWith("//")) window.location.assign(url);
      });
    });
  };

  document.addEventListener("DOMContentLoaded", () => {
    zx.draw("analytics", builders, zx.readData("analytics-dashboard-data"), size);
    drillDown();
  });
})();
