// Zhouxin shell behaviour.  No inline script anywhere: the CSP forbids it.
// Every page works without this file; it only adds the htmx niceties.
document.addEventListener("DOMContentLoaded", () => {
  const body = document.body;
  const token = document.querySelector('meta[name="csrf-token"]');

  body.addEventListener("htmx:configRequest", (event) => {
    if (token) event.detail.headers["X-CSRFToken"] = token.content;
  });

  // Tree: a toggle shows or hides its children; htmx loads them on the first click.
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-zx-tree-toggle]");
    if (!toggle) return;
    const target = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!target) return;
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    target.hidden = !open;
  });

  // Errors that htmx does not swap in (403, 404, 500, network) are said out loud.
  const live = document.getElementById("zx-live");
  let hideTimer = null;
  const announce = (text) => {
    if (!live || !text) return;
    live.textContent = text;
    live.hidden = false;
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => { live.hidden = true; }, 6000);
  };
  // The 503/413 pages of zhouxin/core/faults.py carry their message in [data-zx-message]
  // ("the database is unavailable", "refused: the audit log cannot be written").
  const faultMessage = (xhr) => {
    if (!xhr || !xhr.responseText) return "";
    const doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const node = doc.querySelector("[data-zx-message]");
    return node ? node.textContent.trim() : "";
  };
  body.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    const fault = status === 503 || status === 413 ? faultMessage(event.detail.xhr) : "";
    if (fault) announce(fault);
    else if (status === 403) announce(body.dataset.msgForbidden);
    else if (status === 404) announce(body.dataset.msgNotFound);
    else announce(body.dataset.msgError);
  });
  body.addEventListener("htmx:sendError", () => announce(body.dataset.msgOffline));
});
