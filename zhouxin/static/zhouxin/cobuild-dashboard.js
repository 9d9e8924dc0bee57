// Co-building dashboard (共建看板): draws each <div data-cobuild-chart="monthly|categories|statuses|top_hours|top_projects">
// from the JSON data island <script type="application/json" id="cobuild-dashboard-data"> (Django's json_script),
// so the page has no inline script (CSP: script-src 'self').  Every chart's numbers are also in a table on the page.
(() => {
  const PALETTE = ["#b5121b", "#1d4a86", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#c2185b"];
  const charts = [];

  const readData = () => {
    const island = document.getElementById("cobuild-dashboard-data");
    if (!island) return null;
    try {
      return JSON.parse(island.textContent);
    } catch (_error) {
      return null;
    }
  };

  const narrow = () => window.matchMedia("(max-width: 575.98px)").matches;

  const base = () => ({
    color: PALETTE,
    aria: { enabled: true },
    animation: false,
    grid: { left: 8, right: 16, top: 48, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", confine: true },
  });

  // Horizontal bars with the largest at the top; long unit names are shortened on a phone.
  const ranking = (items, seriesName) => {
    const rows = [...items].reverse();
    const limit = narrow() ? 8 : 16;
    return {
      ...base(),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: {
        type: "category",
        data: rows.map((r) => r.name),
        axisLabel: { formatter: (name) => (name.length > limit ? `${name.slice(0, limit)}…` : name) },
      },
      series: [{ name: seriesName, type: "bar", data: rows.map((r) => r.value), barMaxWidth: 22 }],
    };
  };

  const builders = {
    // On a phone the legend takes two lines and the axis names would collide with it: the legend says it.
    monthly: (d) => ({
      ...base(),
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: narrow() ? 64 : 56, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.months },
      yAxis: [
        { type: "value", name: narrow() ? "" : d.labels.count, minInterval: 1 },
        { type: "value", name: narrow() ? "" : d.labels.hours, splitLine: { show: false } },
      ],
      series: [
        { name: d.labels.posted, type: "bar", data: d.posted, barMaxWidth: 20 },
        { name: d.labels.met, type: "bar", data: d.met, barMaxWidth: 20 },
        { name: d.labels.hours, type: "line", yAxisIndex: 1, data: d.hours, symbolSize: 6, lineStyle: { width: 3 } },
      ],
    }),
    categories: (d) => {
      const rows = [...d.categories].reverse();
      return {
        ...base(),
        legend: { top: 0 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: rows.map((c) => c.name) },
        series: [
          { name: d.labels.posted, type: "bar", data: rows.map((c) => c.posted), barMaxWidth: 18 },
          { name: d.labels.met, type: "bar", data: rows.map((c) => c.met), barMaxWidth: 18 },
        ],
      };
    },
    statuses: (d) => ({
      color: PALETTE,
      aria: { enabled: true },
      animation: false,
      tooltip: { trigger: "item", confine: true, formatter: (p) => `${p.name}: ${p.value}（${p.percent}%）` },
      legend: { bottom: 0 },
      series: [{
        name: d.labels.statuses,
        type: "pie",
        radius: ["38%", "66%"],
        center: ["50%", "45%"],
        label: { formatter: "{b}\n{c}" },
        data: d.statuses.filter((s) => s.value > 0),
      }],
    }),
    top_hours: (d) => ranking(d.top_hours, d.labels.hours),
    top_projects: (d) => ranking(d.top_projects, d.labels.projects),
  };

  const draw = (root) => {
    if (!window.echarts) return;
    const data = readData();
    if (!data) return;
    root.querySelectorAll("[data-cobuild-chart]").forEach((element) => {
      if (element.dataset.cobuildDrawn) return;
      const build = builders[element.dataset.cobuildChart];
      if (!build) return;
      const chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(build(data));
      element.dataset.cobuildDrawn = "1";
      charts.push({ chart, build });
    });
  };

  // Charts follow the width of the page (a phone turned sideways, a resized window); ranking labels
  // are shortened again for the new width.
  let pending = null;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      const data = readData();
      charts.forEach(({ chart, build }) => {
        if (data) chart.setOption(build(data), { notMerge: true });
        chart.resize();
      });
    }, 150);
  });
  document.addEventListener("DOMContentLoaded", () => draw(document));
})();
