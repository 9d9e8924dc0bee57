// What the ECharts dashboards share (cobuild-dashboard.js, funds-dashboard.js, centres-dashboard.js): window.zxCharts.
// A page loads vendor/echarts/echarts.min.js, then this file, then its dashboard script (all `defer`, in that
// order).  Each dashboard draws its <div data-NAME-chart="KEY"> from a JSON data island (Django's json_script),
// so no page carries an inline script (CSP: script-src 'self'); every chart's numbers are also in a table.
(() => {
  const PALETTE = ["#b5121b", "#1d4a86", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f", "#5d4037", "#c2185b"];

  // The data island <script type="application/json" id="…">, parsed; null when it is missing or broken.
  const readData = (id) => {
    const island = document.getElementById(id);
    if (!island) return null;
    try {
      return JSON.parse(island.textContent);
    } catch (_error) {
      return null;
    }
  };

  const narrow = () => window.matchMedia("(max-width: 575.98px)").matches;

  // An axis label formatter: names longer than `wide` characters (`phone` on a phone) end in "…".
  const shorten = (wide, phone) => {
    const limit = narrow() ? phone : wide;
    return (name) => (name.length > limit ? `${name.slice(0, limit)}…` : name);
  };

  // What every chart has: the palette, ECharts' description for screen readers (aria), no animation.
  const plain = (color = PALETTE) => ({ color, aria: { enabled: true }, animation: false });

  // A chart with axes.
  const base = (color = PALETTE) => ({
    ...plain(color),
    grid: { left: 8, right: 16, top: 48, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", confine: true },
  });

  // Horizontal bars, the first item at the top; long names are shortened (to 8 characters on a phone).
  const ranking = (items, seriesName, limit = 16) => {
    const rows = [...items].reverse();
    return {
      ...base(),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { formatter: shorten(limit, 8) } },
      series: [{ name: seriesName, type: "bar", data: rows.map((r) => r.value), barMaxWidth: 22 }],
    };
  };

  // Draws each <div data-NAME-chart="KEY"> once with the options builders[KEY](data); prepare(element, KEY, data),
  // if given, runs just before.  Charts follow the width of the page (a phone turned sideways, a resized
  // window): their options are built again, so that names are shortened for the new width.
  const draw = (name, builders, data, prepare) => {
    if (!window.echarts || !data) return;
    const charts = [];
    document.querySelectorAll(`[data-${name}-chart]`).forEach((element) => {
      if (element.getAttribute(`data-${name}-drawn`)) return;
      const key = element.getAttribute(`data-${name}-chart`);
      const build = builders[key];
      if (!build) return;
      if (prepare) prepare(element, key, data);
      const chart = window.echarts.init(element, null, { renderer: "canvas" });
      chart.setOption(build(data));
      element.setAttribute(`data-${name}-drawn`, "1");
      charts.push({ chart, build });
    });
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        charts.forEach(({ chart, build }) => {
          chart.setOption(build(data), { notMerge: true });
          chart.resize();
        });
      }, 150);
    });
  };

  window.zxCharts = { PALETTE, readData, narrow, shorten, plain, base, ranking, draw };
})();
