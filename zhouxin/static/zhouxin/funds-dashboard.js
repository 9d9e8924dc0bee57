// Funds overview (经费报表): draws each <div data-funds-chart="communities|categories|monthly"> from the JSON
// data island <script type="application/json" id="funds-dashboard-data"> (Django's json_script), so the page has
// no inline script (CSP: script-src 'self').  Every chart's numbers are also in a table on the page.
(() => {
  const PALETTE = ["#1d4a86", "#b5121b", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#c2185b"];
  const charts = [];

  const readData = () => {
    const island = document.getElementById("funds-dashboard-data");
    if (!island) return null;
    try {
      return JSON.parse(island.textContent);
    } catch (_error) {
      return null;
    }
  };

  const narrow = () => window.matchMedia("(max-width: 575.98px)").matches;
  const yuan = (value) => `¥${Number(value).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const short = (value) => (Math.abs(value) >= 10000 ? `${(value / 10000).toLocaleString("zh-CN")}万` : `${value}`);

  const builders = {
    // Budget and spending side by side for each community; long names are shortened on a phone.
    communities: (d) => {
      const limit = narrow() ? 4 : 8;
      return {
        color: PALETTE,
        aria: { enabled: true },
        animation: false,
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
          axisLabel: {
            interval: 0,
            rotate: d.communities.length > 6 ? 30 : 0,
            formatter: (name) => (name.length > limit ? `${name.slice(0, limit)}…` : name),
          },
        },
        yAxis: { type: "value", axisLabel: { formatter: short } },
        series: [
          { name: d.labels.budget, type: "bar", data: d.budget, barMaxWidth: 22 },
          { name: d.labels.spent, type: "bar", data: d.spent, barMaxWidth: 22 },
        ],
      };
    },
    categories: (d) => ({
      color: PALETTE,
      aria: { enabled: true },
      animation: false,
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
      color: PALETTE,
      aria: { enabled: true },
      animation: false,
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", confine: true, valueFormatter: (value) => yuan(value) },
      xAxis: { type: "category", data: d.months, boundaryGap: false },
      yAxis: { type: "value", axisLabel: { formatter: short } },
      series: [{
        name: d.labels.monthly, type: "line", data: d.monthly, symbolSize: 6, lineStyle: { width: 3 }, areaStyle: { opacity: 0.08 },
      }],
    }),
  };

  const draw = (root) => {
    if (!window.echarts) return;
    const data = readData();
    if (!data) return;
    root.querySelectorAll("[data-funds-chart]").forEach((element) => {
      if (element.dataset.fundsDrawn) return;
      const build = builders[element.dataset.fundsChart];
      if (!build) return;
      const chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(build(data));
      element.dataset.fundsDrawn = "1";
      charts.push({ chart, build });
    });
  };

  // Charts follow the width of the page; labels are shortened again for the new width.
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
