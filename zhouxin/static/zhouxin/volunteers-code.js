// The organiser's check-in code (志愿活动 签到码): fetch a fresh code every few seconds, so a
// code photographed and passed around stops working soon.  Without this file the page still
// shows a code; reloading the page gives a new one.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("zx-vol-qr");
  if (!box) return;
  const status = document.getElementById("zx-vol-qr-status");
  const seconds = Math.max(10, parseInt(box.dataset.refresh, 10) || 30);
  const parser = new DOMParser();

  async function refresh() {
    try {
      const response = await fetch(box.dataset.url, {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      const doc = parser.parseFromString(data.svg, "image/svg+xml");
      const svg = doc.documentElement;
      if (!svg || svg.nodeName.toLowerCase() !== "svg") throw new Error("bad svg");
      box.replaceChildren(document.importNode(svg, true));
      if (status) status.textContent = "";
    } catch (error) {
      if (status) status.textContent = box.dataset.msgFailed || "";
    }
  }

  window.setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
});
