// Centre utilisation dashboards (中心使用情况): draws each <div data-centres-chart="centres|rooms|weekly|events"> from
// the JSON data island <script type="application/json" id="centres-dashboard-data"> (Django's json_script), with the
// helpers of dashboard-charts.js (loaded before this file).  Every chart's numbers are also in a table on the page.
(() => {
  const zx = window.zxCharts;
  if (!zx) return;
  const { base, narrow } = zx;

  // Occupancy bars in the order of the table (first at the top), 0–100 %; long names shortened on a phone.
  const occupancy = (items, seriesName) => {
    const bars = zx.ranking(items, seriesName, 18);
    return {
      ...bars,
      tooltip: { ...bars.tooltip, valueFormatter: (value) => `${value}%` },
      grid: { ...bars.grid, right: 40 },
      xAxis: { type: "value", min: 0, max: (extent) => Math.max(100, Math.ceil(extent.max)), axisLabel: { formatter: "{value}%" } },
      series: [{ ...bars.series[0], barMaxWidth: 20, label: { show: true, position: "right", formatter: "{c}%" } }],
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

  // A bar per centre or room: a long street list gets a taller chart (CSSOM, allowed by the CSP).
  const size = (element, key, data) => {
    const bars = { centres: data.centres.length, rooms: data.rooms.length }[key];
    if (bars) element.style.height = `${Math.max(300, bars * 30 + 48)}px`;
  };

  document.addEventListener("DOMContentLoaded", () => zx.draw("centres", builders, zx.readData("centres-dashboard-data"), size));
})();
