// 吹哨报到: keep the countdown badges counting without reloading the page.
// Each pending badge carries its deadline (data-zx-due, ISO 8601); the words come from the
// page's JSON data island #zx-countdown-text (translated on the server).  No inline script.
(() => {
  const SOON_MS = 30 * 60 * 1000;
  let words = null;

  const format = (template, values) => template.replace(/%\((\w+)\)d/g, (_, key) => String(values[key]));

  const span = (ms) => {
    const minutes = Math.max(0, Math.floor(ms / 60000));
    const d = Math.floor(minutes / 1440);
    const h = Math.floor((minutes % 1440) / 60);
    const m = minutes % 60;
    if (d) return format(words.days, { d, h });
    if (h) return format(words.hours, { h, m });
    if (m) return format(words.minutes, { m });
    return words.lessThanMinute;
  };

  const tick = () => {
    if (!words) return;
    const now = Date.now();
    document.querySelectorAll("[data-zx-due]").forEach((badge) => {
      const due = Date.parse(badge.dataset.zxDue);
      if (Number.isNaN(due)) return;
      const left = due - now;
      badge.classList.remove("zx-due--pending", "zx-due--soon", "zx-due--overdue");
      if (left <= 0) {
        badge.classList.add("zx-due--overdue");
        badge.textContent = words.over.replace("%(span)s", span(-left));
      } else {
        badge.classList.add(left <= SOON_MS ? "zx-due--soon" : "zx-due--pending");
        badge.textContent = words.left.replace("%(span)s", span(left));
      }
    });
  };

  document.addEventListener("DOMContentLoaded", () => {
    const island = document.getElementById("zx-countdown-text");
    if (!island) return;
    try {
      words = JSON.parse(island.textContent);
    } catch (error) {
      return;
    }
    tick();
    setInterval(tick, 30000);
    // A panel swapped in by htmx brings fresh badges.
    document.body.addEventListener("htmx:afterSwap", tick);
  });
})();
