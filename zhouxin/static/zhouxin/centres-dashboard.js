// Centre utilisation dashboards (中心使用情况): draws each <div data-centres-chart="centres|rooms|weekly|events"> from
// the JSON data island <script type="application/json" id="centres-dashboard-data"> (Django's json_script), so the
// page has no inline script (CSP: script-src 'self').  Every chart's numbers are also in a table on the page.
(() => {
  const PALETTE = ["#b5121b", "#1d4a86", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#c2185b"];
  const charts = [];

  const readData = () => {
    const island = document.getElementById("centres-dashboard-data");
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

  // Occupancy bars in the order of the table (first at the top), 0–100 %; long names shortened on a phone.
  const occupancy = (items, seriesName) => {
    const rows = [...items].reverse();
    const limit = narrow() ? 8 : 18;
    return {
      ...base(),
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" }, confine: true, valueFormatter: (value) => `${value}%`,
      },
      grid: { left: 8, right: 40, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", min: 0, max: (extent) => Math.max(100, Math.ceil(extent.max)), axisLabel: { formatter: "{value}%" } },
      yAxis: {
        type: "category",
        data: rows.map((r) => r.name),
        axisLabel: { formatter: (name) => (name.length > limit ? `${name.slice(0, limit)}…` : name) },
      },
      series: [{
        name: seriesName, type: "bar", data: rows.map((r) => r.value), barMaxWidth: 20,
        label: { show: true, position: "right", formatter: "{c}%" },
      }],
    };
  };

  const builders = {
    centres: (d) => occupancy(d.centres, d.labels.occupancy),
    rooms: (d) => occupancy(d.rooms, d.labels.occupancy),
    // Bookings and no-shows per week as bars (left axis), visitors as a line (right axis).
    weekly: (d) => ({
      ...base(),
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: narrow() ? 64 : 48, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.weeks },
      yAxis: [
        { type: "value", name: narrow() ? "" : d.labels.bookings, minInterval: 1 },
        { type: "value", name: narrow() ? "" : d.labels.visitors, minInterval: 1, splitLine: { show: false } },
      ],
      series: [
        { name: d.labels.bookings, type: "bar", data: d.bookings, barMaxWidth: 18 },
        { name: d.labels.no_shows, type: "bar", data: d.no_shows, barMaxWidth: 18 },
        { name: d.labels.visitors, type: "line", yAxisIndex: 1, data: d.visitors, symbolSize: 6, lineStyle: { width: 3 } },
      ],
    }),
    events: (d) => ({
      ...base(),
      legend: { top: 0 },
      xAxis: { type: "category", data: d.weeks },
      yAxis: [
        { type: "value", name: narrow() ? "" : d.labels.events, minInterval: 1 },
        { type: "value", name: narrow() ? "" : d.labels.attendance, minInterval: 1, splitLine: { show: false } },
      ],
      series: [
        { name: d.labels.events, type: "bar", data: d.events, barMaxWidth: 18 },
        { name: d.labels.attendance, type: "line", yAxisIndex: 1, data: d.attendance, symbolSize: 6, lineStyle: { width: 3 } },
      ],
    }),
  };

  const draw = (root) => {
    if (!window.echarts) return;
    const data = readData();
    if (!data) return;
    root.querySelectorAll("[data-centres-chart]").forEach((element) => {
      if (element.dataset.centresDrawn) return;
      const build = builders[element.dataset.centresChart];
      if (!build) return;
      // A bar per centre or room: a long street list gets a taller chart (CSSOM, allowed by the CSP).
      const bars = { centres: data.centres.length, rooms: data.rooms.length }[element.dataset.centresChart];
      if (bars) element.style.height = `${Math.max(300, bars * 30 + 48)}px`;
      const chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(build(data));
      element.dataset.centresDrawn = "1";
      charts.push({ chart, build });
    });
  };

  // Charts follow the width of the page; names are shortened again for the new width.
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
