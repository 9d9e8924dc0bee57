// Co-building dashboard (共建看板): draws each <div data-cobuild-chart="monthly|categories|statuses|top_hours|top_projects">
// from the JSON data island <script type="application/json" id="cobuild-dashboard-data"> (Django's json_script),
// with the helpers of dashboard-charts.js (loaded before this file).  Every chart's numbers are also in a table.
(() => {
  const zx = window.zxCharts;
  if (!zx) return;
  const { base, narrow, plain, ranking } = zx;

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
      ...plain(),
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
    // Units by volunteer hours and by projects, the largest at the top.
    top_hours: (d) => ranking(d.top_hours, d.labels.hours),
    top_projects: (d) => ranking(d.top_projects, d.labels.projects),
  };

  document.addEventListener("DOMContentLoaded", () => zx.draw("cobuild", builders, zx.readData("cobuild-dashboard-data")));
})();
