// Funds overview (经费报表): draws each <div data-funds-chart="communities|categories|monthly"> from the JSON
// data island <script type="application/json" id="funds-dashboard-data"> (Django's json_script), with the helpers
// of dashboard-charts.js (loaded before this file).  Every chart's numbers are also in a table on the page.
(() => {
  const zx = window.zxCharts;
  if (!zx) return;
  // Blue first: a community's budget is blue, its spending red.
  const PALETTE = [zx.PALETTE[1], zx.PALETTE[0], ...zx.PALETTE.slice(2)];
  const yuan = (value) => `¥${Number(value).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const short = (value) => (Math.abs(value) >= 10000 ? `${(value / 10000).toLocaleString("zh-CN")}万` : `${value}`);

  const builders = {
    // Budget and spending side by side for each community; long names are shortened on a phone.
    communities: (d) => ({
      ...zx.base(PALETTE),
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        confine: true,
        valueFormatter: (value) => yuan(value),
      },
      xAxis: {
        type: "category",
        data: d.communities,
        axisLabel: { interval: 0, rotate: d.communities.length > 6 ? 30 : 0, formatter: zx.shorten(8, 4) },
      },
      yAxis: { type: "value", axisLabel: { formatter: short } },
      series: [
        { name: d.labels.budget, type: "bar", data: d.budget, barMaxWidth: 22 },
        { name: d.labels.spent, type: "bar", data: d.spent, barMaxWidth: 22 },
      ],
    }),
    categories: (d) => ({
      ...zx.plain(PALETTE),
      tooltip: { trigger: "item", confine: true, formatter: (p) => `${p.name}: ${yuan(p.value)}（${p.percent}%）` },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        name: d.labels.categories,
        type: "pie",
        radius: ["38%", "64%"],
        center: ["50%", "44%"],
        label: { formatter: "{b}\n{d}%" },
        data: d.categories,
      }],
    }),
    monthly: (d) => ({
      ...zx.base(PALETTE),
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", confine: true, valueFormatter: (value) => yuan(value) },
      xAxis: { type: "category", data: d.months, boundaryGap: false },
      yAxis: { type: "value", axisLabel: { formatter: short } },
      series: [{
        name: d.labels.monthly, type: "line", data: d.monthly, symbolSize: 6, lineStyle: { width: 3 }, areaStyle: { opacity: 0.08 },
      }],
    }),
  };

  document.addEventListener("DOMContentLoaded", () => zx.draw("funds", builders, zx.readData("funds-dashboard-data")));
})();
